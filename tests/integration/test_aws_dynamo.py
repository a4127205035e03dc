"""The DynamoDB adapters against moto: state store, notification log and run ledger."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from balance_guard.aws.dynamo import (
    QUEUED,
    QUEUING,
    RECORDING,
    DynamoNotificationLog,
    DynamoStateStore,
    Lease,
    LeaseLostError,
    ReportTooLargeError,
    RunLedger,
    RunRecord,
    StateTooLargeError,
    UnprocessedWritesError,
    _common,
)
from balance_guard.aws.dynamo import ledger as run_ledger
from balance_guard.aws.dynamo import state as account_state
from balance_guard.domain.findings import Finding, RuleCode
from balance_guard.domain.ledger import AccountState
from balance_guard.domain.policy import Policy
from balance_guard.notify.notifier import Notifier
from balance_guard.notify.send_log import CLAIM_LEASE_ENV, ClaimLeaseError
from balance_guard.report.model import AccountReport, EmailRecord
from balance_guard.stripe.models import StripeAccount
from tests.integration.test_aws_handlers import TABLE, create_table
from tests.unit.test_notify import EN, RecordingSender
from tests.unit.test_notify import account as notify_account

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
    monkeypatch.setattr(account_state, "INLINE_LIMIT", 2_000)
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
    monkeypatch.setattr(account_state, "INLINE_LIMIT", 500)
    store = DynamoStateStore(client, TABLE)
    store.save("acct_1", state_with(2))

    with pytest.raises(StateTooLargeError):
        store.save("acct_1", state_with(2_000))
    assert store.load("acct_1") == state_with(2)


# -- notification log -------------------------------------------------------------------------
# What every notification log does is proved with SQLite's in test_notification_log_contract.py.


def test_a_redelivery_reports_the_email_an_earlier_delivery_sent(client: Any) -> None:
    """The first delivery sent the email, then failed on its ledger write: SQS delivers the
    message again, and that account's report must still count the email."""
    sender = RecordingSender()
    log = DynamoNotificationLog(client, TABLE, lease_seconds=300)
    notifier = Notifier(sender, log, Policy())
    kwargs: dict[str, Any] = {"account_email": "o@example.com", "settings": EN, "as_of": AUG1,
                              "run_id": RUN_ID}

    first = notifier.notify_account(notify_account(), **kwargs)
    redelivered = notifier.notify_account(notify_account(), **kwargs)

    assert len(sender.sent) == 1
    assert redelivered.emails == first.emails == log.sent_emails("acct_1", AUG1)
    assert redelivered.sent_now == []  # for the EmailsSent metric: nothing new


def test_a_claim_from_before_leases_has_lapsed(client: Any) -> None:
    client.put_item(TableName=TABLE, Item={
        "pk": {"S": "ACCOUNT#acct_1"}, "sk": {"S": "SENT#2026-08-01"},
        "send_state": {"S": "sending"}, "run_id": {"S": "old"}})
    log = DynamoNotificationLog(client, TABLE, lease_seconds=300)

    assert log.status("acct_1", AUG1).state == "lapsed"
    assert log.claim("acct_1", AUG1, RUN_ID)
    assert log.status("acct_1", AUG1).state == "sending"
    assert not log.claim("acct_1", AUG1, "another")


def test_the_lease_comes_from_the_environment(
    client: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(CLAIM_LEASE_ENV, "1")
    assert DynamoNotificationLog(client, TABLE).lease_seconds == 1
    monkeypatch.setenv(CLAIM_LEASE_ENV, "0")
    with pytest.raises(ClaimLeaseError, match=CLAIM_LEASE_ENV):
        DynamoNotificationLog(client, TABLE)


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


def test_the_digest_is_claimed_once_and_can_be_given_back_by_its_claimant(client: Any) -> None:
    ledger = RunLedger(client, TABLE)
    started(ledger, "acct_a")

    assert ledger.claim_digest(RUN_ID, "message:1")
    assert not ledger.claim_digest(RUN_ID, "message:2")
    ledger.release_digest(RUN_ID, "message:2")  # not its claim: nothing happens
    assert not ledger.claim_digest(RUN_ID, "message:3")
    ledger.release_digest(RUN_ID, "message:1")
    assert ledger.claim_digest(RUN_ID, "message:2")
    assert not ledger.claim_digest("no-such-run", "message:1")


def test_a_claim_whose_invoke_was_never_recorded_can_be_taken_again(client: Any) -> None:
    """The claimant died between the claim and the invoke: the redelivery of its own message
    takes the claim back at once; anyone else only once the claim is stale."""
    ledger = RunLedger(client, TABLE)
    started(ledger, "acct_a")
    now = datetime.now(UTC)

    assert ledger.claim_digest(RUN_ID, "message:1", now)
    assert ledger.claim_digest(RUN_ID, "message:1", now + timedelta(minutes=1))  # redelivered
    assert not ledger.claim_digest(RUN_ID, "message:2", now + timedelta(minutes=5))
    assert ledger.claim_digest(RUN_ID, "message:2", now + timedelta(minutes=17))  # stale

    ledger.digest_started(RUN_ID)  # the invoke went through: final for everyone
    assert not ledger.claim_digest(RUN_ID, "message:2", now + timedelta(minutes=18))
    assert not ledger.claim_digest(RUN_ID, "message:3", now + timedelta(days=1))
    ledger.release_digest(RUN_ID, "message:2")
    assert not ledger.claim_digest(RUN_ID, "message:3", now + timedelta(days=1))


class Serialized:
    """The moto client with one call at a time, as DynamoDB applies each conditional write to
    an item atomically (moto's backend itself has no lock)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.client, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            with self.lock:
                return method(*args, **kwargs)

        return call


def test_racing_claimants_have_exactly_one_winner(client: Any) -> None:
    ledger = RunLedger(Serialized(client), TABLE)
    started(ledger, "acct_a")
    racers = 16
    barrier = threading.Barrier(racers)
    wins: list[str] = []

    def race(who: str) -> None:
        barrier.wait()
        if ledger.claim_digest(RUN_ID, who):
            wins.append(who)

    threads = [threading.Thread(target=race, args=(f"message:{i}",)) for i in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(wins) == 1


def test_a_run_spreads_its_accounts_over_several_partitions(client: Any) -> None:
    ledger = RunLedger(client, TABLE)
    ids = [f"acct_{i:04d}" for i in range(64)]
    started(ledger, *ids)

    keys = client.scan(TableName=TABLE, ProjectionExpression="pk, sk")["Items"]
    partitions = {k["pk"]["S"] for k in keys if k["sk"]["S"].startswith("ACCOUNT#")}
    assert len(partitions) > 8  # 64 accounts over 16 shards
    assert all(p.startswith(f"RUN#{RUN_ID}#") for p in partitions)
    assert [r.account_id for r in ledger.results(RUN_ID)] == ids  # listing order kept
    assert ledger.account(RUN_ID, "acct_0042") == accounts("acct_0042")[0]
    assert RunLedger(client, TABLE).finish(RUN_ID, "acct_0042", report("acct_0042"), 5).done == 1


def test_a_run_recorded_before_sharding_is_still_read_and_finished(client: Any) -> None:
    client.put_item(TableName=TABLE, Item={
        "pk": {"S": f"RUN#{RUN_ID}"}, "sk": {"S": "RUN"}, "as_of": {"S": "2026-08-01"},
        "started": {"S": "2026-08-01T06:00:00+00:00"}, "expected": {"N": "1"},
        "done": {"N": "0"}, "stripe_requests": {"N": "2"}})
    client.put_item(TableName=TABLE, Item={
        "pk": {"S": f"RUN#{RUN_ID}"}, "sk": {"S": "ACCOUNT#acct_a"}, "seq": {"N": "0"},
        "name": {"S": "Tower acct_a"}, "account": {"S": accounts("acct_a")[0].model_dump_json()}})
    ledger = RunLedger(client, TABLE)

    assert ledger.account(RUN_ID, "acct_a") == accounts("acct_a")[0]
    progress = ledger.finish(RUN_ID, "acct_a", report("acct_a"), 4)
    assert (progress.done, progress.expected, progress.complete) == (1, 1, True)
    [result] = ledger.results(RUN_ID)
    assert result.report is not None


def test_malformed_accounts_are_recorded_finished_and_counted(client: Any) -> None:
    ledger = RunLedger(client, TABLE)
    bad = report("acct_bad", "error").model_copy(update={"error": "malformed"})
    ledger.start(RunRecord(run_id=RUN_ID, as_of=AUG1, started=datetime.now(UTC), expected=0),
                 accounts("acct_a"), [bad, report("acct_a", "error")])  # a duplicate id

    progress = ledger.progress(RUN_ID)
    assert (progress.done, progress.expected, progress.complete) == (1, 2, False)
    assert ledger.account(RUN_ID, "acct_bad") is None  # nothing to check
    assert [(r.account_id, r.report.error if r.report else None)
            for r in ledger.results(RUN_ID)] == [("acct_a", None), ("acct_bad", "malformed")]
    assert ledger.finish(RUN_ID, "acct_bad", report("acct_bad"), 1).done == 1  # not again
    assert [p.account_id for p in ledger.pending(RUN_ID)] == ["acct_a"]


def lease(token: str, minutes: int = 15) -> Lease:
    return Lease(token=token, until=datetime.now(UTC) + timedelta(minutes=minutes))


def test_planning_is_leased_to_one_attempt_and_taken_over_when_it_expires(client: Any) -> None:
    ledger = RunLedger(client, TABLE)
    run = RunRecord(run_id=RUN_ID, as_of=AUG1, started=datetime.now(UTC), expected=0)
    first = ledger.open(run, lease("first"))
    assert (first.held, first.created, first.run.phase) == (True, True, RECORDING)
    assert not ledger.progress(RUN_ID).complete  # 0 of 0, but still recording

    second = ledger.open(run, lease("second"))
    assert (second.held, second.created) == (False, False)
    ledger.record_accounts(RUN_ID, lease("first"), accounts("acct_a", "acct_b"))
    with pytest.raises(LeaseLostError):
        ledger.mark_queued(RUN_ID, lease("second"), 1)

    later = datetime.now(UTC) + timedelta(minutes=20)  # the first attempt died
    third = ledger.open(run, lease("third", minutes=40), now=later)
    assert (third.held, third.run.phase, third.run.expected) == (True, QUEUING, 2)
    with pytest.raises(LeaseLostError):
        ledger.close_queuing(RUN_ID, lease("first"))
    ledger.mark_queued(RUN_ID, lease("third"), 1)
    assert [p.account_id for p in ledger.pending(RUN_ID, ledger.run(RUN_ID).queued)] == [
        "acct_b"]  # type: ignore[union-attr]
    ledger.close_queuing(RUN_ID, lease("third"))
    assert ledger.run(RUN_ID).phase == QUEUED  # type: ignore[union-attr]
    assert not ledger.open(run, lease("fourth"), now=later + timedelta(days=1)).held


def test_a_recording_taken_over_drops_accounts_the_new_listing_lacks(client: Any) -> None:
    ledger = RunLedger(client, TABLE)
    run = RunRecord(run_id=RUN_ID, as_of=AUG1, started=datetime.now(UTC), expected=0)
    ledger.open(run, lease("first"))
    # the first attempt wrote its accounts, then died before moving the run on
    ledger._table.write_all([{"PutRequest": {"Item": {
        "pk": {"S": f"RUN#{RUN_ID}#{run_ledger._shard_of(i, run_ledger.SHARDS):02d}"},
        "sk": {"S": f"ACCOUNT#{i}"}, "seq": {"N": str(n)}, "name": {"S": i},
        "account": {"S": accounts(i)[0].model_dump_json()}}}}
        for n, i in enumerate(["acct_a", "acct_gone"])])
    ledger.release_lease(RUN_ID, lease("first"))

    second = ledger.open(run, lease("second"))
    assert second.held
    ledger.record_accounts(RUN_ID, lease("second"), accounts("acct_a", "acct_new"),
                           fresh=False)

    assert [r.account_id for r in ledger.results(RUN_ID)] == ["acct_a", "acct_new"]
    assert ledger.progress(RUN_ID).expected == 2


class Unprocessing:
    """The moto client, except BatchWriteItem: its writes are kept in `written` (moto is too
    slow for 10,000 items), and its first `times` calls process only `keep` of their writes,
    or refuse the call as throttled."""

    def __init__(self, client: Any, times: int, keep: int = 5, throttle: bool = False) -> None:
        self.client = client
        self.times = times
        self.keep = keep
        self.throttle = throttle
        self.written: list[dict[str, Any]] = []

    def batch_write_item(self, RequestItems: dict[str, list[Any]]) -> Any:  # noqa: N803
        [(table, writes)] = RequestItems.items()
        assert len(writes) <= 25
        taken = writes
        if self.times:
            self.times -= 1
            if self.throttle:
                raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException",
                                             "Message": "slow down"}}, "BatchWriteItem")
            taken = writes[:self.keep]
        self.written += taken
        rest = writes[len(taken):]
        return {"UnprocessedItems": {table: rest} if rest else {}}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


@pytest.mark.parametrize("throttle", [False, True])
def test_ten_thousand_accounts_are_written_through_unprocessed_items_and_throttling(
    client: Any, throttle: bool,
) -> None:
    pauses: list[float] = []
    flaky = Unprocessing(client, times=3, throttle=throttle)
    ledger = RunLedger(flaky, TABLE, sleep=pauses.append)
    ids = [f"acct_{i:05d}" for i in range(10_000)]

    ledger.start(RunRecord(run_id=RUN_ID, as_of=AUG1, started=datetime.now(UTC), expected=0),
                 accounts(*ids))

    assert ledger.progress(RUN_ID).expected == 10_000
    keys = [(w["PutRequest"]["Item"]["pk"]["S"], w["PutRequest"]["Item"]["sk"]["S"])
            for w in flaky.written]
    assert sorted(sk for _, sk in keys) == sorted(f"ACCOUNT#{i}" for i in ids)  # each once
    per_partition = [sum(1 for pk, _ in keys if pk == partition) for partition in
                     {pk for pk, _ in keys}]
    assert len(per_partition) == run_ledger.SHARDS  # no hot partition key
    assert max(per_partition) < 2 * 10_000 / run_ledger.SHARDS
    assert len(pauses) == 3
    assert all(0 < p <= _common.WRITE_BACKOFF_S[1] for p in pauses)


def test_writes_that_stay_unprocessed_end_in_a_clear_error(client: Any) -> None:
    pauses: list[float] = []
    table = _common.Table(Unprocessing(client, times=100, keep=0), TABLE)
    writes = [{"PutRequest": {"Item": {"pk": {"S": f"x{i}"}, "sk": {"S": "y"}}}}
              for i in range(30)]

    with pytest.raises(UnprocessedWritesError, match="25 of 30 writes unprocessed after 8"):
        table.write_all(writes, sleep=pauses.append)
    assert len(pauses) == _common.WRITE_ATTEMPTS - 1
    assert max(pauses) <= _common.WRITE_BACKOFF_S[1]
    assert pauses[-1] > pauses[0]  # backing off


def test_a_report_too_big_for_an_item_is_kept_without_its_extra_notices(
    client: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(run_ledger, "INLINE_LIMIT", 3_000)
    ledger = RunLedger(client, TABLE)
    started(ledger, "acct_a")
    noisy = report("acct_a").model_copy(update={
        "notices": [f"skipped malformed charge ch_{i:08d}{i * 7919:09d}" for i in range(500)]})

    ledger.finish(RUN_ID, "acct_a", noisy, 5)

    [result] = ledger.results(RUN_ID)
    assert result.report is not None
    assert len(result.report.notices) == run_ledger.NOTICES_KEPT + 1
    assert result.report.notices[-1] == "300 more notices not kept"


def bulky_findings(count: int) -> list[Finding]:
    return [Finding.of(RuleCode.RESERVE_HELD, currency="usd", amount=i,
                       note=hashlib.sha256(str(i).encode()).hexdigest() * 4)
            for i in range(count)]


def test_a_report_still_too_big_after_trimming_is_cut_to_its_essentials(
    client: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(run_ledger, "INLINE_LIMIT", 12_000)
    ledger = RunLedger(client, TABLE)
    started(ledger, "acct_a")
    huge = report("acct_a", "info").model_copy(update={"findings": bulky_findings(400)})
    assert len(_common.pack(huge.model_dump_json())) > 12_000

    ledger.finish(RUN_ID, "acct_a", huge, 5)

    [result] = ledger.results(RUN_ID)
    assert result.report is not None
    assert len(result.report.findings) == run_ledger.FINDINGS_KEPT
    assert result.report.notices[-1].startswith("report trimmed to fit the run's table: 400")


def test_a_report_that_cannot_fit_at_all_is_refused(
    client: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(run_ledger, "INLINE_LIMIT", 1_000)
    ledger = RunLedger(client, TABLE)
    started(ledger, "acct_a")
    huge = report("acct_a", "info").model_copy(update={"findings": bulky_findings(400)})

    with pytest.raises(ReportTooLargeError):
        ledger.finish(RUN_ID, "acct_a", huge, 5)
    assert ledger.progress(RUN_ID).done == 0


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
