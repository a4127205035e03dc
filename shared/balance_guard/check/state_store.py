"""Where each account's memory between nights lives (`AccountState`).

Locally that is one SQLite file; on AWS the DynamoDB table implements the same Protocol.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path
from typing import Protocol

from pydantic import ValidationError

from balance_guard.config import ConfigError
from balance_guard.domain.ledger import AccountState

log = logging.getLogger(__name__)


class StateStore(Protocol):
    def load(self, account_id: str) -> AccountState: ...

    def save(self, account_id: str, state: AccountState) -> None: ...


class StateFileError(ConfigError):
    """The state file cannot be used; the message names it (exit code 2)."""


class SqliteStateStore:
    """One row per account, the state as JSON; safe to share between worker threads.

    Raises StateFileError when `path` is not a state file this store can open: garbage,
    truncated, a directory, or in a place that cannot be written.
    """

    def __init__(self, path: Path | str) -> None:
        try:
            if str(path) != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), check_same_thread=False,
                                       isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS account_state ("
                " account_id TEXT PRIMARY KEY, state TEXT NOT NULL)"
            )
            # A file cut short can still open and answer for its first pages: check it all
            # (milliseconds for a platform's state) rather than lose accounts' memory.
            verdict = self._db.execute("PRAGMA quick_check").fetchone()
        except (sqlite3.Error, OSError) as error:
            raise StateFileError(f"state file {path}: cannot be used ({error})") from None
        if verdict is None or verdict[0] != "ok":
            problem = verdict[0] if verdict else "no answer"
            raise StateFileError(f"state file {path}: cannot be used ({str(problem)[:120]})")
        self._lock = threading.Lock()

    def load(self, account_id: str) -> AccountState:
        with self._lock:
            row = self._db.execute(
                "SELECT state FROM account_state WHERE account_id = ?", (account_id,)
            ).fetchone()
        if not row:
            return AccountState()
        try:
            return AccountState.model_validate_json(row[0])
        except ValidationError:
            # A state that no longer parses costs one full re-read, not a failed account
            # every night; PREFUND_USED skips a night for lack of a previous level.
            log.warning("unreadable state for %s: starting afresh", account_id)
            return AccountState()

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
