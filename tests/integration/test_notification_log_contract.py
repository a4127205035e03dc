"""The `NotificationLog` contract, proved once for every store that implements it.

The local runner keeps the log in SQLite and the Lambdas in DynamoDB; both must refuse a
second email for one account and night in exactly the same way, and both must let a claim
lapse after its lease, so that a run killed while sending never loses an email.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from balance_guard.aws.dynamo import DynamoNotificationLog
from balance_guard.domain.notification import SentRecord
from balance_guard.notify.send_log import (
    NotificationLog,
    SendStatus,
    SqliteNotificationLog,
)
from balance_guard.report.model import EmailRecord
from tests.integration.test_aws_handlers import TABLE, create_table

AUG1 = date(2026, 8, 1)
AUG2 = date(2026, 8, 2)
EMAIL = EmailRecord(to=["admin@example.com"], subject="Building: title", message_id="<1@x>")
LEASE_S = 60.0
AWS_TEST_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


class Clock:
    """Seconds since the epoch, moved by hand: leases lapse without sleeping."""

    def __init__(self) -> None:
        self.now = 1_785_560_000.0

    def __call__(self) -> float:
        return self.now

    def at(self, seconds: float) -> datetime:
        return datetime.fromtimestamp(seconds, UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["sqlite", "dynamodb"])
def log(request: pytest.FixtureRequest, tmp_path: Path, clock: Clock,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[NotificationLog]:
    if request.param == "sqlite":
        yield SqliteNotificationLog(tmp_path / "state.sqlite", lease_seconds=LEASE_S,
                                    clock=clock)
        return
    for name, value in AWS_TEST_ENV.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client: Any = boto3.client("dynamodb")
        create_table(client)
        yield DynamoNotificationLog(client, TABLE, lease_seconds=LEASE_S, clock=clock)


def test_recording_the_same_account_and_date_twice_is_a_no_op(log: NotificationLog) -> None:
    first = [SentRecord("MIN_BALANCE_NOT_SET:cad", AUG1, "")]

    assert log.record("acct_1", AUG1, "run-a", [EMAIL], first) is True
    again = [SentRecord("MIN_BALANCE_NOT_SET:cad", AUG1, "other")]
    assert log.record("acct_1", AUG1, "run-b", [], again) is False

    assert log.already_sent("acct_1", AUG1)
    assert log.sent_emails("acct_1", AUG1) == [EMAIL]
    assert log.history("acct_1") == {"MIN_BALANCE_NOT_SET:cad": first[0]}


def test_already_sent_is_per_account_and_date(log: NotificationLog) -> None:
    log.record("acct_1", AUG1, "run-a", [EMAIL], [])

    assert not log.already_sent("acct_1", AUG2)
    assert not log.already_sent("acct_2", AUG1)
    assert log.history("acct_2") == {}


def test_a_claim_blocks_a_second_sender_until_released(log: NotificationLog) -> None:
    assert log.claim("acct_1", AUG1, "run-a")
    assert not log.claim("acct_1", AUG1, "run-b")  # a concurrent retry
    assert log.already_sent("acct_1", AUG1)
    assert log.sent_emails("acct_1", AUG1) == []  # claimed is not sent
    log.release("acct_1", AUG1)
    assert not log.already_sent("acct_1", AUG1)
    assert log.claim("acct_1", AUG1, "run-b")


def test_a_sent_email_cannot_be_released_or_claimed_again(log: NotificationLog) -> None:
    assert log.claim("acct_1", AUG1, "run-a")
    assert log.record("acct_1", AUG1, "run-a", [EMAIL], [])

    log.release("acct_1", AUG1)

    assert log.already_sent("acct_1", AUG1)
    assert not log.claim("acct_1", AUG1, "run-b")


def test_a_late_rerun_of_an_older_date_does_not_make_a_finding_look_older(
    log: NotificationLog,
) -> None:
    log.record("acct_1", AUG2, "run-b", [EMAIL], [SentRecord("RESERVE_HELD:usd", AUG2, "x")])

    log.record("acct_1", AUG1, "run-a", [EMAIL], [SentRecord("RESERVE_HELD:usd", AUG1, "y"),
                                                    SentRecord("PREFUND_USED:usd", AUG1, "")])

    assert log.history("acct_1") == {
        "RESERVE_HELD:usd": SentRecord("RESERVE_HELD:usd", AUG2, "x"),
        "PREFUND_USED:usd": SentRecord("PREFUND_USED:usd", AUG1, ""),
    }


def test_a_claim_holds_for_its_lease_then_lapses_and_is_taken_over(
    log: NotificationLog, clock: Clock,
) -> None:
    start = clock.now
    assert log.status("acct_1", AUG1) == SendStatus("open")
    assert log.claim("acct_1", AUG1, "run-a")
    assert log.status("acct_1", AUG1) == SendStatus("sending", "run-a",
                                                    clock.at(start + LEASE_S))

    clock.now = start + LEASE_S - 0.5  # run-a may still be sending
    assert not log.claim("acct_1", AUG1, "run-b")
    assert log.already_sent("acct_1", AUG1)

    clock.now = start + LEASE_S  # run-a died between its claim and its record
    assert log.status("acct_1", AUG1) == SendStatus("lapsed", "run-a",
                                                    clock.at(start + LEASE_S))
    assert not log.already_sent("acct_1", AUG1)
    assert log.claim("acct_1", AUG1, "run-b")
    assert not log.claim("acct_1", AUG1, "run-c")  # a lapsed claim is taken over once
    assert log.status("acct_1", AUG1) == SendStatus("sending", "run-b",
                                                    clock.at(clock.now + LEASE_S))

    assert log.record("acct_1", AUG1, "run-b", [EMAIL], [])
    clock.now += 100 * LEASE_S  # a sent email never lapses
    assert log.status("acct_1", AUG1) == SendStatus("sent", "run-b", emails=(EMAIL,))
    assert not log.claim("acct_1", AUG1, "run-d")


def test_a_run_releases_only_its_own_claim(log: NotificationLog, clock: Clock) -> None:
    assert log.claim("acct_1", AUG1, "run-a")
    clock.now += LEASE_S
    assert log.claim("acct_1", AUG1, "run-b")  # run-a was only slow, and gives up now

    log.release("acct_1", AUG1, "run-a")
    assert log.status("acct_1", AUG1).run_id == "run-b"
    log.release("acct_1", AUG1, "run-b")
    assert log.status("acct_1", AUG1).state == "open"


def test_the_slow_claimant_and_its_successor_record_once(
    log: NotificationLog, clock: Clock,
) -> None:
    second = EMAIL.model_copy(update={"message_id": "<2@x>"})
    assert log.claim("acct_1", AUG1, "run-a")
    clock.now += LEASE_S
    assert log.claim("acct_1", AUG1, "run-b")

    assert log.record("acct_1", AUG1, "run-a", [EMAIL], [])
    assert not log.record("acct_1", AUG1, "run-b", [second], [])
    assert log.sent_emails("acct_1", AUG1) == [EMAIL]
