"""What only the SQLite notification log must do: survive a restart beside the state, take
over claims written before leases; and how the claims' lease is configured.

The contract every notification log keeps is in
tests/integration/test_notification_log_contract.py.
"""

from __future__ import annotations

import argparse
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from balance_guard.check.state_store import SqliteStateStore
from balance_guard.config import ConfigError
from balance_guard.domain.ledger import AccountState
from balance_guard.domain.notification import SentRecord
from balance_guard.domain.policy import Policy
from balance_guard.notify.delivery import build_notifier
from balance_guard.notify.send_log import (
    CLAIM_LEASE_ENV,
    DEFAULT_CLAIM_LEASE_S,
    ClaimLeaseError,
    SqliteNotificationLog,
    claim_lease_seconds,
)
from balance_guard.report.model import EmailRecord

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


def test_a_sending_claim_from_before_leases_has_lapsed_and_is_taken_over(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.sqlite"
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE notification_sends (account_id TEXT NOT NULL,"
                " as_of TEXT NOT NULL, run_id TEXT NOT NULL, state TEXT NOT NULL"
                " CHECK (state IN ('sending', 'sent')), emails TEXT NOT NULL DEFAULT '[]',"
                " PRIMARY KEY (account_id, as_of))")
    old.execute("INSERT INTO notification_sends VALUES ('acct_1', '2026-08-01', 'old', 'sending',"
                " '[]'), ('acct_2', '2026-08-01', 'old', 'sent', ?)",
                (f"[{EMAIL.model_dump_json()}]",))
    old.commit()
    old.close()

    with SqliteNotificationLog(path, lease_seconds=60) as log:
        assert log.status("acct_1", AUG1).state == "lapsed"
        assert not log.already_sent("acct_1", AUG1)
        assert log.claim("acct_1", AUG1, "new")
        assert log.status("acct_1", AUG1).state == "sending"
        assert log.sent_emails("acct_2", AUG1) == [EMAIL]
        assert not log.claim("acct_2", AUG1, "new")
    with SqliteNotificationLog(path) as reopened:  # the column is added once
        assert reopened.status("acct_1", AUG1).run_id == "new"


def test_the_lease_is_300_seconds_unless_configured() -> None:
    assert claim_lease_seconds({}) == DEFAULT_CLAIM_LEASE_S == 300
    assert claim_lease_seconds({CLAIM_LEASE_ENV: ""}) == 300
    assert claim_lease_seconds({CLAIM_LEASE_ENV: " 1 "}) == 1
    assert claim_lease_seconds({CLAIM_LEASE_ENV: "2.5"}) == 2.5


@pytest.mark.parametrize("value", ["0", "0.5", "-3", "abc", "nan", "inf", "1e9", "5 min"])
def test_a_bad_lease_is_one_line_naming_the_variable(value: str) -> None:
    with pytest.raises(ClaimLeaseError) as raised:
        claim_lease_seconds({CLAIM_LEASE_ENV: value})
    assert isinstance(raised.value, ValueError)
    assert isinstance(raised.value, ConfigError)  # the CLI's exit 2, one line
    message = str(raised.value)
    assert message.startswith(f"{CLAIM_LEASE_ENV} must be ")
    assert "\n" not in message


def test_a_bad_lease_stops_the_local_run_before_it_starts(tmp_path: Path) -> None:
    args = argparse.Namespace(ses=False, outbox=tmp_path / "outbox", report_html=None,
                              report_json=None)
    with pytest.raises(ConfigError, match=CLAIM_LEASE_ENV):
        build_notifier(args, Policy(), tmp_path / "state.sqlite", env={CLAIM_LEASE_ENV: "0"})


def test_the_lease_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(CLAIM_LEASE_ENV, "7")
    with SqliteNotificationLog(tmp_path / "state.sqlite") as log:
        assert log.lease_seconds == 7
    monkeypatch.setenv(CLAIM_LEASE_ENV, "never")
    with pytest.raises(ClaimLeaseError):
        SqliteNotificationLog(tmp_path / "state.sqlite")
