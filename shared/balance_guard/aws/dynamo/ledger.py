"""One nightly run on AWS, in the state table: the `RUN` item of partition `RUN#<run_id>`
(as_of, phase, expected / done counts, the planning lease, the digest's claim) and one
`ACCOUNT#<acct>` item per account of the run, under `RUN#<run_id>#<shard>` — the account as
listed, then its report once checked.

A run's accounts are spread over SHARDS partitions (`<shard>` = a hash of the account id),
so that plan_run's burst of 10,000 writes does not land on one partition key. Every write
that must happen once is conditional: the planning lease, an account counted as done (in
one transaction with the run's counter), the digest's claim.

Owns `RunLedger` and the records it hands out.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from balance_guard.aws.dynamo._common import (
    INLINE_LIMIT,
    Backoff,
    Table,
    attributes,
    expires,
    failed_condition,
    key,
    pack,
    retry,
    unpack,
)
from balance_guard.report.model import AccountReport
from balance_guard.stripe.models import StripeAccount

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

    from balance_guard.aws.dynamo._common import Item, Record

NOTICES_KEPT = 200
FINDINGS_KEPT = 50  # when even a report without positions and notices is too big
RELEASES_KEPT = 100
RUN_TTL_DAYS = 35  # the run's items; its report lives on in S3
TRANSACTION_ATTEMPTS = 6
# Thousands of accounts count on one run item: concurrent transactions on it conflict now
# and then, and are tried again after a short random pause (0.02 to 0.1 s, doubling).
TRANSACTION_BACKOFF = Backoff(TRANSACTION_ATTEMPTS, first=0.1, jitter=(0.2, 1.0))
RUN = "RUN"
SHARDS = 16  # partitions a run's account items are spread over
# A digest claimed this long ago whose invoke was never recorded is up for grabs again: its
# claimant died between the claim and the invoke.
DIGEST_CLAIM_STALE = timedelta(minutes=15)
# A run's planning goes through three phases, in this order (a run written by an earlier
# version has no phase: it is QUEUED).
RECORDING = "recording"  # the RUN item exists; its accounts are being written
QUEUING = "queuing"  # every account is recorded; their check messages are being sent
QUEUED = "queued"  # every check message was sent (or its account finished as not queued)


class ReportTooLargeError(Exception):
    """An account's report does not fit in an item even trimmed to its essentials."""


class LeaseLostError(Exception):
    """Another attempt took over the run's planning (this one's lease had expired)."""


@dataclass(frozen=True)
class Lease:
    """Who plans a run right now, and until when: one attempt at a time writes its accounts
    and sends its messages, and the next may take over once the lease expires."""

    token: str
    until: datetime


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    as_of: date
    started: datetime
    expected: int
    done: int = 0
    stripe_requests: int = 0  # plan_run's own: the platform check and the account listing
    phase: str = QUEUED
    queued: int = 0  # messages were sent for every account whose seq is below this


@dataclass(frozen=True)
class RunProgress:
    done: int
    expected: int
    phase: str = QUEUED

    @property
    def complete(self) -> bool:
        """Every account of the run is done (a run still recording its accounts is not)."""
        return self.phase != RECORDING and self.done >= self.expected


@dataclass(frozen=True)
class AccountResult:
    account_id: str
    name: str
    report: AccountReport | None  # None while (or when) the account's check has not finished
    stripe_requests: int


@dataclass(frozen=True)
class Pending:
    """An account of the run whose check message may still have to be sent."""

    seq: int
    account_id: str
    name: str


@dataclass(frozen=True)
class Opened:
    """What `RunLedger.open` found: the run as it is now, and whether this caller holds its
    planning lease (and created it)."""

    run: RunRecord
    held: bool
    created: bool


@dataclass
class _Layout:
    shards: dict[str, int] = field(default_factory=dict)


def _run_pk(run_id: str) -> str:
    return f"RUN#{run_id}"


def _shard_of(account_id: str, shards: int) -> int:
    return int.from_bytes(hashlib.sha256(account_id.encode()).digest()[:4], "big") % shards


def _run_account_pk(run_id: str, account_id: str, shards: int) -> str:
    # Run ids never hold a "#", so a shard's partition cannot be another run's RUN item.
    if not shards:  # a run recorded before sharding: everything under the run's partition
        return _run_pk(run_id)
    return f"{_run_pk(run_id)}#{_shard_of(account_id, shards):02d}"


def _account_partitions(run_id: str, shards: int) -> list[str]:
    if not shards:
        return [_run_pk(run_id)]
    return [f"{_run_pk(run_id)}#{i:02d}" for i in range(shards)]


def _display_name(account: StripeAccount) -> str:
    profile = account.business_profile
    return (profile.name if profile and profile.name else None) or account.id


def _packed_report(report: AccountReport) -> bytes:
    """The report, compressed, trimmed until it fits in an item: first its positions and
    extra notices go, then all but its first findings and releases. Raises
    ReportTooLargeError when even that does not fit."""
    blob = pack(report.model_dump_json())
    if len(blob) <= INLINE_LIMIT:
        return blob
    for trimmed in _trimmed(report):
        blob = pack(trimmed.model_dump_json())
        if len(blob) <= INLINE_LIMIT:
            return blob
    raise ReportTooLargeError(
        f"the report of {report.account_id[:80]} is {len(blob)} bytes compressed even "
        f"trimmed, over {INLINE_LIMIT}")


def _trimmed(report: AccountReport) -> Iterator[AccountReport]:
    dropped = len(report.notices) - NOTICES_KEPT
    yield report.model_copy(update={
        "positions": [],
        "notices": [*report.notices[:NOTICES_KEPT],
                    *([f"{dropped} more notices not kept"] if dropped > 0 else [])],
    })
    cut = (f"report trimmed to fit the run's table: {len(report.findings)} findings, "
           f"{len(report.reserve_releases)} releases, {len(report.notices)} notices in all")
    yield report.model_copy(update={
        "name": report.name[:200],
        "positions": [],
        "notices": [*[n[:300] for n in report.notices[:20]], cut],
        "findings": report.findings[:FINDINGS_KEPT],
        "reserve_releases": report.reserve_releases[:RELEASES_KEPT],
        "error": report.error[:500] if report.error else None,
    })


def _iso(moment: datetime) -> str:
    """UTC, one fixed format, so that ISO strings compare in time order in conditions."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class RunLedger:
    """One nightly run on AWS: which accounts it covers, which are done, their reports.

    Planning a run is resumable: `open` creates the RUN item (or takes over a run whose last
    planner died), `record_accounts` writes its accounts, `pending` / `mark_queued` /
    `close_queuing` follow the sending of their check messages.
    """

    def __init__(
        self, client: DynamoDBClient, table: str, sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._table = Table(client, table)
        self._sleep = sleep
        self._layout = _Layout()

    # -- planning ---------------------------------------------------------------------------

    def open(self, run: RunRecord, lease: Lease, now: datetime | None = None) -> Opened:
        """Create the run (phase RECORDING, held by `lease`), or find it: the lease is taken
        over when its planner's lease has expired and the run is not fully queued yet."""
        table = self._table
        moment = now or datetime.now(UTC)
        try:
            table.client.put_item(
                TableName=table.table, ConditionExpression="attribute_not_exists(pk)",
                Item=key(_run_pk(run.run_id), RUN) | attributes({
                    "as_of": run.as_of.isoformat(), "started": run.started.isoformat(),
                    "expected": 0, "done": 0, "stripe_requests": 0, "phase": RECORDING,
                    "queued": 0, "shards": SHARDS, "lease_token": lease.token,
                    "lease_until": _iso(lease.until),
                    "ttl": expires(RUN_TTL_DAYS, run.started)}))
        except ClientError as error:
            if not failed_condition(error):
                raise
        else:
            self._layout.shards[run.run_id] = SHARDS
            return Opened(replace(run, phase=RECORDING), held=True, created=True)
        held = table.conditional_update(
            key(_run_pk(run.run_id), RUN), "SET #token = :token, #until = :until",
            "attribute_exists(#phase) AND #phase <> :queued"
            " AND (attribute_not_exists(#until) OR #until < :now)",
            {"#token": "lease_token", "#until": "lease_until", "#phase": "phase"},
            {":token": lease.token, ":until": _iso(lease.until),
             ":queued": QUEUED, ":now": _iso(moment)})
        current = self.run(run.run_id)
        if current is None:  # expired between the two calls: as good as never created
            raise LeaseLostError(f"run {run.run_id} vanished while being opened")
        return Opened(current, held=held, created=False)

    def record_accounts(
        self, run_id: str, lease: Lease, accounts: Sequence[StripeAccount],
        rejected: Sequence[AccountReport] = (), stripe_requests: int = 0, *,
        fresh: bool = True,
    ) -> RunRecord:
        """Write every account of the run, then move it to QUEUING with its counts.

        `rejected` are accounts Stripe sent malformed: they are recorded already finished
        (with their failed report), and counted in `expected` and `done` at once. A planner
        that takes over a recording (`fresh=False`) first removes the accounts an earlier
        attempt recorded that this listing no longer has.
        """
        shards = self.shards(run_id)
        run = self.run(run_id)
        if run is None:
            raise LeaseLostError(f"no run {run_id} to record accounts in")
        ttl = expires(RUN_TTL_DAYS, run.started)
        listed = _unique(accounts, rejected)
        writes: list[dict[str, Any]] = []
        if not fresh:
            keep = {account_id for account_id, _ in listed}
            writes += [{"DeleteRequest": {"Key": key(pk, sk)}}
                       for pk, sk in self._account_keys(run_id, shards)
                       if sk.removeprefix("ACCOUNT#") not in keep]
        now = datetime.now(UTC).isoformat()
        for seq, (account_id, entry) in enumerate(listed):
            values: dict[str, object] = {"seq": seq, "ttl": ttl}
            if isinstance(entry, AccountReport):
                values |= {"name": entry.name, "report": _packed_report(entry),
                           "stripe_requests": 0, "finished_at": now}
            else:
                values |= {"name": _display_name(entry), "account": entry.model_dump_json()}
            item = key(_run_account_pk(run_id, account_id, shards),
                       f"ACCOUNT#{account_id}") | attributes(values)
            writes.append({"PutRequest": {"Item": item}})
        self._table.write_all(writes, self._sleep)
        finished = sum(isinstance(entry, AccountReport) for _, entry in listed)
        moved = self._table.conditional_update(
            key(_run_pk(run_id), RUN),
            "SET #phase = :queuing, #expected = :expected, #done = :done, #queued = :zero"
            " ADD #requests :requests",
            "#token = :token AND #phase = :recording",
            {"#phase": "phase", "#expected": "expected", "#done": "done", "#queued": "queued",
             "#requests": "stripe_requests", "#token": "lease_token"},
            {":queuing": QUEUING, ":recording": RECORDING,
             ":expected": len(listed), ":done": finished,
             ":zero": 0, ":requests": stripe_requests, ":token": lease.token})
        if not moved:
            raise LeaseLostError(f"another attempt took over the planning of run {run_id}")
        recorded = self.run(run_id)
        assert recorded is not None
        return recorded

    def pending(self, run_id: str, from_seq: int = 0) -> list[Pending]:
        """The accounts, in listing order from `from_seq`, that are not finished yet."""
        rows: list[Pending] = []
        for record in self._account_items(run_id, "sk, #seq, #name, #at",
                                          {"#seq": "seq", "#name": "name", "#at": "finished_at"}):
            seq = record.integer("seq")
            if seq >= from_seq and "finished_at" not in record:
                account_id = (record.text("sk") or "").removeprefix("ACCOUNT#")
                rows.append(Pending(seq, account_id, record.text("name") or account_id))
        return sorted(rows, key=lambda row: row.seq)

    def mark_queued(self, run_id: str, lease: Lease, upto: int) -> None:
        """Every account whose seq is below `upto` has had its message sent."""
        if not self._table.conditional_update(
            key(_run_pk(run_id), RUN), "SET #queued = :upto", "#token = :token",
            {"#queued": "queued", "#token": "lease_token"},
            {":upto": upto, ":token": lease.token},
        ):
            raise LeaseLostError(f"another attempt took over the planning of run {run_id}")

    def close_queuing(self, run_id: str, lease: Lease) -> None:
        """Every message is sent: the run is QUEUED and its lease is let go."""
        if not self._table.conditional_update(
            key(_run_pk(run_id), RUN), "SET #phase = :queued REMOVE #token, #until",
            "#token = :token",
            {"#phase": "phase", "#token": "lease_token", "#until": "lease_until"},
            {":queued": QUEUED, ":token": lease.token},
        ):
            raise LeaseLostError(f"another attempt took over the planning of run {run_id}")

    def release_lease(self, run_id: str, lease: Lease) -> None:
        """Let the next attempt take over now rather than when the lease expires."""
        self._table.conditional_update(
            key(_run_pk(run_id), RUN), "REMOVE #token, #until", "#token = :token",
            {"#token": "lease_token", "#until": "lease_until"}, {":token": lease.token})

    def start(
        self, run: RunRecord, accounts: Sequence[StripeAccount],
        rejected: Sequence[AccountReport] = (),
    ) -> None:
        """Record a run and its accounts in one go, as QUEUED (for callers that send their
        messages themselves, and tests)."""
        lease = Lease(token=secrets.token_hex(8), until=datetime.now(UTC) + timedelta(minutes=15))
        opened = self.open(run, lease)
        if not opened.held:
            raise LeaseLostError(f"run {run.run_id} is already being planned")
        self.record_accounts(run.run_id, lease, accounts, rejected, run.stripe_requests,
                             fresh=opened.created)
        self.close_queuing(run.run_id, lease)

    # -- reading ----------------------------------------------------------------------------

    def shards(self, run_id: str) -> int:
        """How many partitions the run's accounts are spread over (0: the run's own, for a
        run recorded before sharding). Read once per run and container."""
        known = self._layout.shards.get(run_id)
        if known is not None:
            return known
        record = self._table.get(key(_run_pk(run_id), RUN), "shards")
        if record is None:
            return SHARDS  # no such run (yet): not remembered
        shards = record.integer("shards")
        self._layout.shards[run_id] = shards
        return shards

    def run(self, run_id: str) -> RunRecord | None:
        record = self._table.get(key(_run_pk(run_id), RUN))
        if record is None:
            return None
        return RunRecord(
            run_id=run_id, as_of=date.fromisoformat(record.text("as_of") or ""),
            started=datetime.fromisoformat(record.text("started") or ""),
            expected=record.integer("expected"), done=record.integer("done"),
            stripe_requests=record.integer("stripe_requests"),
            phase=record.text("phase") or QUEUED, queued=record.integer("queued"),
        )

    def account(self, run_id: str, account_id: str) -> StripeAccount | None:
        """The account as plan_run listed it; None when it is not part of that run (or was
        listed malformed)."""
        record = self._table.get(self._account_key(run_id, account_id), "account")
        raw = record.text("account") if record else None
        return StripeAccount.model_validate_json(raw) if raw else None

    def progress(self, run_id: str) -> RunProgress:
        record = self._table.get(key(_run_pk(run_id), RUN), "done", "expected", "phase")
        if record is None:
            raise KeyError(f"no run {run_id}")
        return RunProgress(done=record.integer("done"), expected=record.integer("expected"),
                           phase=record.text("phase") or QUEUED)

    def results(self, run_id: str) -> list[AccountResult]:
        """Every account of the run, in the order plan_run listed them."""
        rows: list[tuple[int, AccountResult]] = []
        for record in self._account_items(
            run_id, "sk, #seq, #name, #report, #requests",
            {"#seq": "seq", "#name": "name", "#report": "report",
             "#requests": "stripe_requests"},
        ):
            blob = record.blob("report")
            report = AccountReport.model_validate_json(unpack(blob)) if blob else None
            account_id = (record.text("sk") or "").removeprefix("ACCOUNT#")
            rows.append((record.integer("seq"), AccountResult(
                account_id=account_id, name=record.text("name") or account_id, report=report,
                stripe_requests=record.integer("stripe_requests"))))
        return [result for _, result in sorted(rows, key=lambda row: row[0])]

    def _account_key(self, run_id: str, account_id: str) -> Item:
        return key(_run_account_pk(run_id, account_id, self.shards(run_id)),
                    f"ACCOUNT#{account_id}")

    def _account_items(self, run_id: str, projection: str,
                       names: dict[str, str]) -> Iterator[Record]:
        for partition in _account_partitions(run_id, self.shards(run_id)):
            yield from self._table.query_prefix(partition, "ACCOUNT#",
                                                ProjectionExpression=projection,
                                                ExpressionAttributeNames=names)

    def _account_keys(self, run_id: str, shards: int) -> Iterator[tuple[str, str]]:
        """The (pk, sk) of every account item the run has."""
        for partition in _account_partitions(run_id, shards):
            for record in self._table.query_prefix(partition, "ACCOUNT#",
                                                   ProjectionExpression="pk, sk"):
                yield record.text("pk") or "", record.text("sk") or ""

    # -- checking ---------------------------------------------------------------------------

    def finish(
        self, run_id: str, account_id: str, report: AccountReport, stripe_requests: int,
    ) -> RunProgress:
        """Store an account's report and count it done, in one transaction; an account
        already finished (a duplicate delivery), or not in the run, is neither stored nor
        counted again."""
        run_key = key(_run_pk(run_id), RUN)
        items: list[TransactWriteItemTypeDef] = [
            {"Update": {
                "TableName": self._table.table, "Key": self._account_key(run_id, account_id),
                "UpdateExpression": "SET #report = :report, #requests = :requests, #at = :at",
                "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(#at)",
                "ExpressionAttributeNames": {"#report": "report", "#requests": "stripe_requests",
                                             "#at": "finished_at"},
                "ExpressionAttributeValues": attributes({
                    ":report": _packed_report(report), ":requests": stripe_requests,
                    ":at": datetime.now(UTC).isoformat()}),
            }},
            {"Update": {
                "TableName": self._table.table, "Key": run_key,
                "UpdateExpression": "ADD #done :one",
                "ConditionExpression": "attribute_exists(pk)",
                "ExpressionAttributeNames": {"#done": "done"},
                "ExpressionAttributeValues": attributes({":one": 1}),
            }},
        ]
        conflict: ClientError | None = None

        def commit() -> bool:
            nonlocal conflict
            try:
                self._table.client.transact_write_items(TransactItems=items)
            except ClientError as error:
                reasons = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
                if reasons and reasons[0] == "ConditionalCheckFailed":
                    return True  # already finished: counted once, by whoever came first
                if "TransactionConflict" not in reasons:
                    raise
                conflict = error
                return False
            return True

        if not retry(commit, TRANSACTION_BACKOFF, self._sleep):
            assert conflict is not None
            raise conflict
        return self.progress(run_id)

    # -- the digest -------------------------------------------------------------------------

    def claim_digest(self, run_id: str, claimant: str, now: datetime | None = None) -> bool:
        """True for exactly one caller per run: the one that triggers the digest.

        A claim whose invoke was never recorded (`digest_started`) can be taken again by the
        same claimant (a redelivery of the message whose handler died), or by anyone once it
        is DIGEST_CLAIM_STALE old.
        """
        moment = now or datetime.now(UTC)
        return self._table.conditional_update(
            key(_run_pk(run_id), RUN), "SET #claimed = :now, #by = :me",
            "attribute_exists(pk) AND (attribute_not_exists(#claimed) OR"
            " (attribute_not_exists(#started) AND (#claimed < :stale OR #by = :me)))",
            {"#claimed": "digest_claimed_at", "#by": "digest_claimed_by",
             "#started": "digest_started_at"},
            {":now": _iso(moment), ":me": claimant,
             ":stale": _iso(moment - DIGEST_CLAIM_STALE)},
        )

    def digest_started(self, run_id: str) -> None:
        """The claimant's invoke went through: the claim is final."""
        self._table.conditional_update(
            key(_run_pk(run_id), RUN), "SET #started = :now", "attribute_exists(pk)",
            {"#started": "digest_started_at"}, {":now": _iso(datetime.now(UTC))})

    def release_digest(self, run_id: str, claimant: str) -> None:
        """Give the claim back when the digest could not be triggered, so a retry can."""
        self._table.conditional_update(
            key(_run_pk(run_id), RUN), "REMOVE #claimed, #by",
            "attribute_exists(pk) AND #by = :me AND attribute_not_exists(#started)",
            {"#claimed": "digest_claimed_at", "#by": "digest_claimed_by",
             "#started": "digest_started_at"}, {":me": claimant},
        )


def _unique(
    accounts: Iterable[StripeAccount], rejected: Iterable[AccountReport],
) -> list[tuple[str, StripeAccount | AccountReport]]:
    """The run's accounts once each, listed ones first, in Stripe's order."""
    seen: dict[str, StripeAccount | AccountReport] = {}
    for account in accounts:
        seen.setdefault(account.id, account)
    for report in rejected:
        seen.setdefault(report.account_id, report)
    return list(seen.items())
