"""What was emailed to whom and when: the memory behind "never cry wolf, never send twice".

Locally the log lives in the same SQLite file as the rest of the state, in its own tables;
on AWS a DynamoDB table implements the same Protocol (`claim` is a conditional put there).

Sending is claimed before it starts and recorded once done, so a second run of the same
date, or a retry after a crash in the middle of sending, never emails the same account
twice on one run date: at most once, rather than at least once.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import Protocol

from balance_guard.domain.notification import SentRecord
from balance_guard.report import EmailRecord


class NotificationLog(Protocol):
    def history(self, account_id: str) -> dict[str, SentRecord]:
        """Per finding key, what was last sent about it to this account."""
        ...

    def already_sent(self, account_id: str, as_of: date) -> bool:
        """Whether this account's email for this run date went out (or is going out)."""
        ...

    def claim(self, account_id: str, as_of: date, run_id: str) -> bool:
        """Reserve the right to send this account's email for this run date; False when
        someone already has it."""
        ...

    def release(self, account_id: str, as_of: date) -> None:
        """Give a claim back when nothing was sent, so a later retry may send."""
        ...

    def record(
        self, account_id: str, as_of: date, run_id: str, emails: Sequence[EmailRecord],
        findings: Sequence[SentRecord],
    ) -> bool:
        """Remember what was sent; a second record of the same (account, date) is a no-op
        and returns False."""
        ...

    def sent_emails(self, account_id: str, as_of: date) -> list[EmailRecord]:
        ...


_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS notification_sends ("
    " account_id TEXT NOT NULL, as_of TEXT NOT NULL, run_id TEXT NOT NULL,"
    " state TEXT NOT NULL CHECK (state IN ('sending', 'sent')),"
    " emails TEXT NOT NULL DEFAULT '[]',"
    " PRIMARY KEY (account_id, as_of))",
    "CREATE TABLE IF NOT EXISTS notification_findings ("
    " account_id TEXT NOT NULL, finding_key TEXT NOT NULL, last_sent TEXT NOT NULL,"
    " fingerprint TEXT NOT NULL DEFAULT '',"
    " PRIMARY KEY (account_id, finding_key))",
)


class SqliteNotificationLog:
    """`NotificationLog` in SQLite; safe to share between the runner's worker threads."""

    def __init__(self, path: Path | str) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None,
                                   timeout=30)
        self._lock = threading.Lock()
        with self._lock:
            for statement in _SCHEMA:
                self._db.execute(statement)

    def history(self, account_id: str) -> dict[str, SentRecord]:
        with self._lock:
            rows = self._db.execute(
                "SELECT finding_key, last_sent, fingerprint FROM notification_findings"
                " WHERE account_id = ?", (account_id,),
            ).fetchall()
        return {key: SentRecord(key, date.fromisoformat(day), fp) for key, day, fp in rows}

    def already_sent(self, account_id: str, as_of: date) -> bool:
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM notification_sends WHERE account_id = ? AND as_of = ?",
                (account_id, as_of.isoformat()),
            ).fetchone()
        return row is not None

    def claim(self, account_id: str, as_of: date, run_id: str) -> bool:
        with self._lock:
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO notification_sends (account_id, as_of, run_id, state)"
                " VALUES (?, ?, ?, 'sending')",
                (account_id, as_of.isoformat(), run_id),
            )
        return cursor.rowcount == 1

    def release(self, account_id: str, as_of: date) -> None:
        with self._lock:
            self._db.execute(
                "DELETE FROM notification_sends"
                " WHERE account_id = ? AND as_of = ? AND state = 'sending'",
                (account_id, as_of.isoformat()),
            )

    def record(
        self, account_id: str, as_of: date, run_id: str, emails: Sequence[EmailRecord],
        findings: Sequence[SentRecord],
    ) -> bool:
        day = as_of.isoformat()
        payload = json.dumps([e.model_dump(mode="json") for e in emails])
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute(
                    "SELECT state FROM notification_sends WHERE account_id = ? AND as_of = ?",
                    (account_id, day),
                ).fetchone()
                if row is not None and row[0] == "sent":
                    self._db.execute("ROLLBACK")
                    return False
                self._db.execute(
                    "INSERT INTO notification_sends (account_id, as_of, run_id, state, emails)"
                    " VALUES (?, ?, ?, 'sent', ?)"
                    " ON CONFLICT (account_id, as_of) DO UPDATE"
                    " SET state = 'sent', emails = excluded.emails, run_id = excluded.run_id",
                    (account_id, day, run_id, payload),
                )
                # A late re-run of an older date must not make a finding look less recent.
                self._db.executemany(
                    "INSERT INTO notification_findings"
                    " (account_id, finding_key, last_sent, fingerprint) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (account_id, finding_key) DO UPDATE"
                    " SET last_sent = excluded.last_sent, fingerprint = excluded.fingerprint"
                    " WHERE excluded.last_sent >= notification_findings.last_sent",
                    [(account_id, r.key, r.last_sent.isoformat(), r.fingerprint)
                     for r in findings],
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return True

    def sent_emails(self, account_id: str, as_of: date) -> list[EmailRecord]:
        with self._lock:
            row = self._db.execute(
                "SELECT emails FROM notification_sends"
                " WHERE account_id = ? AND as_of = ? AND state = 'sent'",
                (account_id, as_of.isoformat()),
            ).fetchone()
        if row is None:
            return []
        return [EmailRecord.model_validate(e) for e in json.loads(row[0])]

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> SqliteNotificationLog:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
