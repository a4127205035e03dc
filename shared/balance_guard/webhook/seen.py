"""Event ids already received: Stripe may deliver an event more than once, and a signed
request can be replayed within the signature's tolerance; either way one event starts at
most one re-check.

`SeenEvents` is the interface; locally a small SQLite table implements it (in the state
file, beside the other tables), on AWS a DynamoDB table can (`first_sight` a conditional
put with a TTL). Ids are kept for `RETENTION_S`, longer than Stripe's three days of retries.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

RETENTION_S = 7 * 86_400
_PRUNE_EVERY = 500  # inserts between two prunes: the table stays small without a timer

Clock = Callable[[], float]


class SeenEvents(Protocol):
    def first_sight(self, event_id: str) -> bool:
        """Remember `event_id`; False when it was already remembered (atomic)."""
        ...

    def forget(self, event_id: str) -> None:
        """Undo `first_sight`, when the event could not be taken in after all (so that
        Stripe's retry of it is taken)."""
        ...


class SqliteSeenEvents:
    """`SeenEvents` in SQLite, safe across threads and processes on the same file."""

    def __init__(self, path: Path | str, *, retention_s: float = RETENTION_S,
                 clock: Clock = time.time) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None,
                                   timeout=30)
        self._lock = threading.Lock()
        self._clock = clock
        self._retention_s = retention_s
        self._inserts = 0
        with self._lock:
            self._db.execute("CREATE TABLE IF NOT EXISTS webhook_events ("
                             " event_id TEXT PRIMARY KEY, seen_at REAL NOT NULL)")

    def first_sight(self, event_id: str) -> bool:
        now = self._clock()
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO webhook_events (event_id, seen_at) VALUES (?, ?)"
                " ON CONFLICT (event_id) DO NOTHING", (event_id, now))
            self._inserts += 1
            if self._inserts % _PRUNE_EVERY == 0:
                self._db.execute("DELETE FROM webhook_events WHERE seen_at < ?",
                                 (now - self._retention_s,))
        return cursor.rowcount == 1

    def forget(self, event_id: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM webhook_events WHERE event_id = ?", (event_id,))

    def close(self) -> None:
        with self._lock:
            self._db.close()
