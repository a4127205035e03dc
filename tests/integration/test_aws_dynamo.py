"""The DynamoDB adapters against moto: state store, notification log and run ledger."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from balance_guard.adapters.stripe_models import StripeAccount
from balance_guard.aws import dynamo
from balance_guard.aws.dynamo import (
    DynamoNotificationLog,
    DynamoStateStore,
    RunLedger,
    RunRecord,
    StateTooLargeError,
)
from balance_guard.domain.ledger import AccountState
from balance_guard.domain.notification import SentRecord
from balance_guard.report import AccountReport, EmailRecord
from tests.integration.test_aws_handlers import TABLE, create_table

AUG1 = date(2026, 8, 1)
AUG2 = date(2026, 8, 2)
EMAIL = EmailRecord(to=["admin@example.com"], subject="Building: title", message_id="<1@x>")
RUN_ID = "2026-08-01T06:00:00Z-3f2a"


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        create_table(dynamodb)
        yield dynamodb


def state_with(nights: int) -> AccountState:
    """A state whose size grows with `nights` of prefunding levels, hard to compress."""
    def level(i: int) -> int:
        return int(hashlib.sha256(str(i).encode()).hexdigest()[:15], 16)

    return AccountState(
        last_as_of=AUG1, cursor=1_785_600_000,
        prefund_history={date.fromordinal(AUG1.toordinal() - i): {"cad": level(i)}
                         for i in range(nights)},
    )


def items(client: Any, prefix: str) -> list[str]:
    response = client.query(
        TableName=TABLE, KeyConditionExpression="pk = :pk AND begins_with(sk, :p)",
        ExpressionAttributeValues={":pk": {"S": "ACCOUNT#acct_1"}, ":p": {"S": prefix}})
    return [item["sk"]["S"] for item in response["Items"]]


# -- state store ------------------------------------------------------------------------------


def test_an_unknown_account_starts_with_an_empty_state(client: Any) -> None:
    assert DynamoStateStore(client, TABLE).load("acct_1") == AccountState()


def test_a_state_is_read_back_as_saved(client: Any) -> None:
    store = DynamoStateStore(client, TABLE)
    state = state_with(50)

    store.save("acct_1", state)

    assert store.load("acct_1") == state
    assert store.load("acct_2") == AccountState()


def test_a_state_too_big_for_one_item_is_split_then_joined_again(
    client: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(dynamo, "INLINE_LIMIT", 2_000)
    store = DynamoStateStore(client, TABLE)
    big = state_with(600)

    store.save("acct_1", big)
    chunks = items(client, "STATE#")
    assert len(chunks) > 1
    assert store.load("acct_1") == big

    small = state_with(3)
    store.save("acct_1", small)
    assert store.load("acct_1") == small
    assert items(client, "STATE#") == []  # the old chunks went with the big state


def test_a_state_beyond_every_chunk_is_refused_and_the_old_one_kept(
    client: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(dynamo, "INLINE_LIMIT", 500)
    store = DynamoStateStore(client, TABLE)
    store.save("acct_1", state_with(2))

    with pytest.raises(StateTooLargeError):
        store.save("acct_1", state_with(2_000))
    assert store.load("acct_1") == state_with(2)


# -- notification log -------------------------------------------------------------------------


def test_recording_the_same_account_and_date_twice_is_a_no_op(client: Any) -> None:
    log = DynamoNotificationLog(client, TABLE)
    first = [SentRecord("MIN_BALANCE_NOT_SET:cad", AUG1, "")]

    assert log.record("acct_1", AUG1, "run-a", [EMAIL], first) is True
    again = [SentRecord("MIN_BALANCE_NOT_SET:cad", AUG1, "other")]
    assert log.record("acct_1", AUG1, "run-b", [], again) is False

    assert log.already_sent("acct_1", AUG1)
    assert log.sent_emails("acct_1", AUG1) == [EMAIL]
    assert log.history("acct_1") == {"MIN_BALANCE_NOT_SET:cad": first[0]}


def test_already_sent_is_per_account_and_date(client: Any) -> None:
    log = DynamoNotificationLog(client, TABLE)
    log.record("acct_1", AUG1, "run-a", [EMAIL], [])

    assert not log.already_sent("acct_1", AUG2)
    assert not log.already_sent("acct_2", AUG1)
    assert log.history("acct_2") == {}


def test_a_claim_blocks_a_second_sender_until_released(client: Any) -> None:
    log = DynamoNotificationLog(client, TABLE)

    assert log.claim("acct_1", AUG1, "run-a")
    assert not log.claim("acct_1", AUG1, "run-b")  # a concurrent retry
    assert log.already_sent("acct_1", AUG1)
    assert log.sent_emails("acct_1", AUG1) == []  # claimed is not sent
    log.release("acct_1", AUG1)
    assert not log.already_sent("acct_1", AUG1)
    assert log.claim("acct_1", AUG1, "run-b")


def test_a_sent_email_cannot_be_released_or_claimed_again(client: Any) -> None:
    log = DynamoNotificationLog(client, TABLE)
    assert log.claim("acct_1", AUG1, "run-a")
    assert log.record("acct_1", AUG1, "run-a", [EMAIL], [])

    log.release("acct_1", AUG1)

    assert log.already_sent("acct_1", AUG1)
    assert not log.claim("acct_1", AUG1, "run-b")


def test_a_late_rerun_of_an_older_date_does_not_make_a_finding_look_older(client: Any) -> None:
    log = DynamoNotificationLog(client, TABLE)
    log.record("acct_1", AUG2, "run-b", [EMAIL], [SentRecord("RESERVE_HELD:usd", AUG2, "x")])

    log.record("acct_1", AUG1, "run-a", [EMAIL], [SentRecord("RESERVE_HELD:usd", AUG1, "y"),
                                                    SentRecord("PREFUND_USED:usd", AUG1, "")])

    assert log.history("acct_1") == {
        "RESERVE_HELD:usd": SentRecord("RESERVE_HELD:usd", AUG2, "x"),
        "PREFUND_USED:usd": SentRecord("PREFUND_USED:usd", AUG1, ""),
    }


# -- run ledger -------------------------------------------------------------------------------


def accounts(*ids: str) -> list[StripeAccount]:
    return [StripeAccount.model_validate({"id": i, "business_profile": {"name": f"Tower {i}"},
                                          "email": f"{i}@example.com"}) for i in ids]


def report(account_id: str, status: str = "ok") -> AccountReport:
    return AccountReport.model_validate({"account_id": account_id, "name": f"Tower {account_id}",
                                         "locale": "en", "status": status})


def started(ledger: RunLedger, *ids: str) -> None:
    ledger.start(RunRecord(run_id=RUN_ID, as_of=AUG1, started=datetime(2026, 8, 1, 6, tzinfo=UTC),
                           expected=len(ids), stripe_requests=2), accounts(*ids))


def test_a_run_remembers_its_accounts_as_listed(client: Any) -> None:
    ledger = RunLedger(client, TABLE)
    started(ledger, "acct_b", "acct_a")

    run = ledger.run(RUN_ID)
    assert run is not None
    assert (run.expected, run.done, run.stripe_requests, run.as_of) == (2, 0, 2, AUG1)
    assert ledger.account(RUN_ID, "acct_a") == accounts("acct_a")[0]
    assert ledger.account(RUN_ID, "acct_zzz") is None
    assert ledger.account("another-run", "acct_a") is None
    assert [(r.account_id, r.name, r.report) for r in ledger.results(RUN_ID)] == [
        ("acct_b", "Tower acct_b", None), ("acct_a", "Tower acct_a", None)]


def test_an_account_is_counted_done_once_however_often_it_finishes(client: Any) -> None:
    ledger = RunLedger(client, TABLE)
    started(ledger, "acct_a", "acct_b")

    assert ledger.finish(RUN_ID, "acct_a", report("acct_a", "critical"), 5).done == 1
    assert ledger.finish(RUN_ID, "acct_a", report("acct_a", "ok"), 9).done == 1
    progress = ledger.finish(RUN_ID, "acct_b", report("acct_b"), 4)

    assert (progress.done, progress.expected, progress.complete) == (2, 2, True)
    results = ledger.results(RUN_ID)
    assert [r.report.status if r.report else None for r in results] == ["critical", "ok"]
    assert [r.stripe_requests for r in results] == [5, 4]


def test_the_digest_is_claimed_once_and_can_be_given_back(client: Any) -> None:
    ledger = RunLedger(client, TABLE)
    started(ledger, "acct_a")

    assert ledger.claim_digest(RUN_ID)
    assert not ledger.claim_digest(RUN_ID)
    ledger.release_digest(RUN_ID)
    assert ledger.claim_digest(RUN_ID)
    assert not ledger.claim_digest("no-such-run")


def test_a_report_too_big_for_an_item_is_kept_without_its_extra_notices(
    client: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(dynamo, "INLINE_LIMIT", 3_000)
    ledger = RunLedger(client, TABLE)
    started(ledger, "acct_a")
    noisy = report("acct_a").model_copy(update={
        "notices": [f"skipped malformed charge ch_{i:08d}{i * 7919:09d}" for i in range(500)]})

    ledger.finish(RUN_ID, "acct_a", noisy, 5)

    [result] = ledger.results(RUN_ID)
    assert result.report is not None
    assert len(result.report.notices) == dynamo.NOTICES_KEPT + 1
    assert result.report.notices[-1] == "300 more notices not kept"


class Conflicting:
    """The moto client, whose first transactions conflict with another writer's."""

    def __init__(self, client: Any, conflicts: int) -> None:
        self.client = client
        self.conflicts = conflicts

    def transact_write_items(self, **kwargs: Any) -> Any:
        if self.conflicts:
            self.conflicts -= 1
            raise ClientError({"Error": {"Code": "TransactionCanceledException",
                                         "Message": "Transaction cancelled"},
                               "CancellationReasons": [{"Code": "None"},
                                                       {"Code": "TransactionConflict"}]},
                              "TransactWriteItems")
        return self.client.transact_write_items(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def test_a_transaction_conflict_on_the_run_counter_is_retried(client: Any) -> None:
    pauses: list[float] = []
    ledger = RunLedger(Conflicting(client, conflicts=2), TABLE, sleep=pauses.append)
    started(ledger, "acct_a")

    assert ledger.finish(RUN_ID, "acct_a", report("acct_a"), 5).done == 1
    assert len(pauses) == 2


def test_a_conflict_that_never_ends_is_raised(client: Any) -> None:
    ledger = RunLedger(Conflicting(client, conflicts=100), TABLE, sleep=lambda _: None)
    started(ledger, "acct_a")

    with pytest.raises(ClientError, match="TransactionCanceled"):
        ledger.finish(RUN_ID, "acct_a", report("acct_a"), 5)
