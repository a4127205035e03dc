"""What was emailed to whom and when: the memory behind "never cry wolf, never send twice".

Locally the log lives in the same SQLite file as the rest of the state, in its own tables;
on AWS a DynamoDB table implements the same Protocol (`claim` is a conditional put there).

Sending is claimed before it starts and recorded once done, so a second run of the same
date, or a concurrent retry, does not email the same account twice on one run date. A claim
is a lease: a run killed between the claim and the record (SIGKILL, a Lambda timeout) leaves
a `sending` claim that lapses after `claim_lease_seconds()`, and the next attempt takes it
over and sends again. A crash at the worst instant costs at most one duplicate per email in
flight, and never loses one.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from types import TracebackType
from typing import Literal, Protocol

from balance_guard.config import ConfigError
from balance_guard.domain.notification import SentRecord
from balance_guard.report.model import EmailRecord

CLAIM_LEASE_ENV = "BALANCE_GUARD_CLAIM_LEASE_SECONDS"
DEFAULT_CLAIM_LEASE_S = 300.0  # far longer than one email takes, short enough for a rerun
MIN_CLAIM_LEASE_S = 1.0
MAX_CLAIM_LEASE_S = 86_400.0  # a claim that outlives the night would block its reruns

Clock = Callable[[], float]  # seconds since the epoch, like time.time


class ClaimLeaseError(ConfigError, ValueError):
    """BALANCE_GUARD_CLAIM_LEASE_SECONDS is not a usable number of seconds."""


def claim_lease_seconds(env: Mapping[str, str] | None = None) -> float:
    """How long a `sending` claim holds before another attempt may take it over:
    BALANCE_GUARD_CLAIM_LEASE_SECONDS, else DEFAULT_CLAIM_LEASE_S. Raises ClaimLeaseError."""
    env = os.environ if env is None else env
    text = env.get(CLAIM_LEASE_ENV, "").strip()
    if not text:
        return DEFAULT_CLAIM_LEASE_S
    try:
        value = float(text)
    except ValueError:
        raise ClaimLeaseError(
            f"{CLAIM_LEASE_ENV} must be a number of seconds (got {text[:20]!r})") from None
    if not (math.isfinite(value) and MIN_CLAIM_LEASE_S <= value <= MAX_CLAIM_LEASE_S):
        raise ClaimLeaseError(
            f"{CLAIM_LEASE_ENV} must be between {MIN_CLAIM_LEASE_S:g} and "
            f"{MAX_CLAIM_LEASE_S:g} seconds (got {text[:20]!r})")
    return value


SendState = Literal["open", "sending", "lapsed", "sent"]


@dataclass(frozen=True)
class SendStatus:
    """Where one account's email for one run date stands.

    `open`: never claimed, or the claim was given back. `sending`: claimed by `run_id`, whose
    lease holds until `lease_until`. `lapsed`: claimed by `run_id`, which stopped before
    recording it (the email may or may not have gone out); `claim` takes it over. `sent`:
    `emails` went out, sent by `run_id`.
    """

    state: SendState
    run_id: str = ""
    lease_until: datetime | None = None
    emails: tuple[EmailRecord, ...] = ()


OPEN = SendStatus("open")


def send_status(state: str, run_id: str, lease_until: float, emails: str | None,
                now: float) -> SendStatus:
    """A stored send as a SendStatus: `emails` is the JSON list, `lease_until` seconds since
    the epoch (0 for a claim stored before leases, which has lapsed)."""
    if state == "sent":
        records = tuple(EmailRecord.model_validate(e) for e in json.loads(emails or "[]"))
        return SendStatus("sent", run_id, emails=records)
    until = datetime.fromtimestamp(lease_until, UTC)
    return SendStatus("sending" if lease_until > now else "lapsed", run_id, until)


class NotificationLog(Protocol):
    def history(self, account_id: str) -> dict[str, SentRecord]:
        """Per finding key, what was last sent about it to this account."""
        ...

    def status(self, account_id: str, as_of: date) -> SendStatus:
        """Where this account's email for this run date stands, in one read."""
        ...

    def already_sent(self, account_id: str, as_of: date) -> bool:
        """Whether this account's email for this run date went out (or is going out, under
        a claim whose lease holds)."""
        ...

    def claim(self, account_id: str, as_of: date, run_id: str) -> bool:
        """Reserve the right to send this account's email for this run date, for one lease;
        False when it is sent or someone holds a claim that has not lapsed."""
        ...

    def release(self, account_id: str, as_of: date, run_id: str | None = None) -> None:
        """Give a claim back when nothing was sent, so a later retry may send; with
        `run_id`, only that run's claim."""
        ...

    def record(
        self, account_id: str, as_of: date, run_id: str, emails: Sequence[EmailRecord],
        findings: Sequence[SentRecord],
    ) -> bool:
        """Remember what was sent; a second record of the same (account, date) is a no-op
        and returns False."""
        ...

    def sent_emails(self, account_id: str, as_of: date) -> list[EmailRecord]:
        """The emails recorded as sent to this account for this run date, by any run."""
        ...


_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS notification_sends ("
    " account_id TEXT NOT NULL, as_of TEXT NOT NULL, run_id TEXT NOT NULL,"
    " state TEXT NOT NULL CHECK (state IN ('sending', 'sent')),"
    " emails TEXT NOT NULL DEFAULT '[]',"
    " lease_until REAL NOT NULL DEFAULT 0,"
    " PRIMARY KEY (account_id, as_of))",
    "CREATE TABLE IF NOT EXISTS notification_findings ("
    " account_id TEXT NOT NULL, finding_key TEXT NOT NULL, last_sent TEXT NOT NULL,"
    " fingerprint TEXT NOT NULL DEFAULT '',"
    " PRIMARY KEY (account_id, finding_key))",
)
# A state file from before leases: its claims get lease_until 0, so they have lapsed.
_ADD_LEASE = "ALTER TABLE notification_sends ADD COLUMN lease_until REAL NOT NULL DEFAULT 0"


class SqliteNotificationLog:
    """`NotificationLog` in SQLite; safe to share between the runner's worker threads, and
    between processes on the same file. `lease_seconds` defaults to `claim_lease_seconds()`;
    `clock` is for tests."""

    def __init__(self, path: Path | str, *, lease_seconds: float | None = None,
                 clock: Clock = time.time) -> None:
        self.lease_seconds = claim_lease_seconds() if lease_seconds is None else lease_seconds
        self._clock = clock
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None,
                                   timeout=30)
        self._lock = threading.Lock()
        with self._lock:
            for statement in _SCHEMA:
                self._db.execute(statement)
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(notification_sends)")}
            if "lease_until" not in columns:
                try:
                    self._db.execute(_ADD_LEASE)
                except sqlite3.OperationalError as error:  # another process added it first
                    if "duplicate column" not in str(error):
                        raise

    def history(self, account_id: str) -> dict[str, SentRecord]:
        with self._lock:
            rows = self._db.execute(
                "SELECT finding_key, last_sent, fingerprint FROM notification_findings"
                " WHERE account_id = ?", (account_id,),
            ).fetchall()
        return {key: SentRecord(key, date.fromisoformat(day), fp) for key, day, fp in rows}

    def status(self, account_id: str, as_of: date) -> SendStatus:
        with self._lock:
            row = self._db.execute(
                "SELECT state, run_id, lease_until, emails FROM notification_sends"
                " WHERE account_id = ? AND as_of = ?", (account_id, as_of.isoformat()),
            ).fetchone()
        if row is None:
            return OPEN
        state, run_id, lease_until, emails = row
        return send_status(state, run_id, lease_until, emails, now=self._clock())

    def already_sent(self, account_id: str, as_of: date) -> bool:
        return self.status(account_id, as_of).state in ("sending", "sent")

    def claim(self, account_id: str, as_of: date, run_id: str) -> bool:
        now = self._clock()
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO notification_sends (account_id, as_of, run_id, state, lease_until)"
                " VALUES (?, ?, ?, 'sending', ?)"
                " ON CONFLICT (account_id, as_of) DO UPDATE"
                " SET run_id = excluded.run_id, lease_until = excluded.lease_until"
                " WHERE notification_sends.state = 'sending'"
                " AND notification_sends.lease_until <= ?",
                (account_id, as_of.isoformat(), run_id, now + self.lease_seconds, now),
            )
        return cursor.rowcount == 1

    def release(self, account_id: str, as_of: date, run_id: str | None = None) -> None:
        query = ("DELETE FROM notification_sends"
                 " WHERE account_id = ? AND as_of = ? AND state = 'sending'")
        params: tuple[str, ...] = (account_id, as_of.isoformat())
        if run_id is not None:
            query += " AND run_id = ?"
            params += (run_id,)
        with self._lock:
            self._db.execute(query, params)

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
        return list(self.status(account_id, as_of).emails)

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
