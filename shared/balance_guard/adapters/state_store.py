"""Where each account's memory between nights lives (`AccountState`).

Locally that is one SQLite file; on AWS the DynamoDB table implements the same Protocol.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Protocol

from balance_guard.domain.ledger import AccountState


class StateStore(Protocol):
    def load(self, account_id: str) -> AccountState: ...

    def save(self, account_id: str, state: AccountState) -> None: ...


class SqliteStateStore:
    """One row per account, the state as JSON; safe to share between worker threads."""

    def __init__(self, path: Path | str) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS account_state ("
                " account_id TEXT PRIMARY KEY, state TEXT NOT NULL)"
            )

    def load(self, account_id: str) -> AccountState:
        with self._lock:
            row = self._db.execute(
                "SELECT state FROM account_state WHERE account_id = ?", (account_id,)
            ).fetchone()
        return AccountState.model_validate_json(row[0]) if row else AccountState()

    def save(self, account_id: str, state: AccountState) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO account_state (account_id, state) VALUES (?, ?)"
                " ON CONFLICT(account_id) DO UPDATE SET state = excluded.state",
                (account_id, state.model_dump_json()),
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()
