"""The SQLite notification log: what was sent, and never twice for one account and date."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from balance_guard.adapters.notification_log import SqliteNotificationLog
from balance_guard.adapters.state_store import SqliteStateStore
from balance_guard.domain.ledger import AccountState
from balance_guard.domain.notification import SentRecord
from balance_guard.report import EmailRecord

AUG1 = date(2026, 8, 1)
AUG2 = date(2026, 8, 2)
EMAIL = EmailRecord(to=["admin@example.com"], subject="Building: title", message_id="<1@x>")


def test_recording_the_same_account_and_date_twice_is_a_no_op(tmp_path: Path) -> None:
    log = SqliteNotificationLog(tmp_path / "state.sqlite")
    first = [SentRecord("MIN_BALANCE_NOT_SET:cad", AUG1, "")]

    assert log.record("acct_1", AUG1, "run-a", [EMAIL], first) is True
    again = [SentRecord("MIN_BALANCE_NOT_SET:cad", AUG1, "other")]
    assert log.record("acct_1", AUG1, "run-b", [], again) is False

    assert log.already_sent("acct_1", AUG1)
    assert log.sent_emails("acct_1", AUG1) == [EMAIL]
    assert log.history("acct_1") == {"MIN_BALANCE_NOT_SET:cad": first[0]}


def test_already_sent_is_per_account_and_date(tmp_path: Path) -> None:
    log = SqliteNotificationLog(tmp_path / "state.sqlite")
    log.record("acct_1", AUG1, "run-a", [EMAIL], [])

    assert not log.already_sent("acct_1", AUG2)
    assert not log.already_sent("acct_2", AUG1)
    assert log.history("acct_2") == {}


def test_a_claim_blocks_a_second_sender_until_released(tmp_path: Path) -> None:
    log = SqliteNotificationLog(tmp_path / "state.sqlite")

    assert log.claim("acct_1", AUG1, "run-a")
    assert not log.claim("acct_1", AUG1, "run-b")  # a concurrent retry
    assert log.already_sent("acct_1", AUG1)
    log.release("acct_1", AUG1)
    assert not log.already_sent("acct_1", AUG1)
    assert log.claim("acct_1", AUG1, "run-b")


def test_a_sent_email_cannot_be_released_or_claimed_again(tmp_path: Path) -> None:
    log = SqliteNotificationLog(tmp_path / "state.sqlite")
    assert log.claim("acct_1", AUG1, "run-a")
    assert log.record("acct_1", AUG1, "run-a", [EMAIL], [])

    log.release("acct_1", AUG1)

    assert log.already_sent("acct_1", AUG1)
    assert not log.claim("acct_1", AUG1, "run-b")


def test_a_late_rerun_of_an_older_date_does_not_move_last_sent_back(tmp_path: Path) -> None:
    log = SqliteNotificationLog(tmp_path / "state.sqlite")
    log.record("acct_1", AUG2, "run-b", [EMAIL], [SentRecord("K", AUG2, "new")])
    log.record("acct_1", AUG1, "run-a", [EMAIL], [SentRecord("K", AUG1, "old")])

    assert log.history("acct_1") == {"K": SentRecord("K", AUG2, "new")}


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
