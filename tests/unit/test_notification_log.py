"""What only the SQLite notification log must do: survive a restart beside the state.

The contract every notification log keeps is in
tests/integration/test_notification_log_contract.py.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from balance_guard.adapters.notification_log import SqliteNotificationLog
from balance_guard.adapters.state_store import SqliteStateStore
from balance_guard.domain.ledger import AccountState
from balance_guard.domain.notification import SentRecord
from balance_guard.report import EmailRecord

AUG1 = date(2026, 8, 1)
EMAIL = EmailRecord(to=["admin@example.com"], subject="Building: title", message_id="<1@x>")


def test_the_log_survives_a_restart_and_shares_the_state_file(tmp_path: Path) -> None:
    path = tmp_path / "state" / "state.sqlite"
    store = SqliteStateStore(path)
    store.save("acct_1", AccountState())
    with SqliteNotificationLog(path) as log:
        log.record("acct_1", AUG1, "run-a", [EMAIL], [SentRecord("K", AUG1)])

    with SqliteNotificationLog(path) as reopened:
        assert reopened.already_sent("acct_1", AUG1)
        assert reopened.history("acct_1") == {"K": SentRecord("K", AUG1)}
    assert store.load("acct_1") == AccountState()
    store.close()
