"""The `NotificationLog` contract, proved once for every store that implements it.

The local runner keeps the log in SQLite and the Lambdas in DynamoDB; both must refuse a
second email for one account and night in exactly the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from balance_guard.adapters.notification_log import NotificationLog, SqliteNotificationLog
from balance_guard.aws.dynamo import DynamoNotificationLog
from balance_guard.domain.notification import SentRecord
from balance_guard.report import EmailRecord
from tests.integration.test_aws_handlers import TABLE, create_table

AUG1 = date(2026, 8, 1)
AUG2 = date(2026, 8, 2)
EMAIL = EmailRecord(to=["admin@example.com"], subject="Building: title", message_id="<1@x>")
AWS_TEST_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture(params=["sqlite", "dynamodb"])
def log(request: pytest.FixtureRequest, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[NotificationLog]:
    if request.param == "sqlite":
        yield SqliteNotificationLog(tmp_path / "state.sqlite")
        return
    for name, value in AWS_TEST_ENV.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client: Any = boto3.client("dynamodb")
        create_table(client)
        yield DynamoNotificationLog(client, TABLE)


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
