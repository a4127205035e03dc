"""The AWS run's memory in one DynamoDB table: state store, notification log, run ledger.

Single-table design, string keys `pk` / `sk`, TTL attribute `ttl`:

    pk                          sk               item
    ACCOUNT#<acct>              STATE            AccountState (zlib JSON; STATE#<n> chunks if big)
    ACCOUNT#<acct>              SENT#<as_of>     that date's email: a leased `sending`, then `sent`
    ACCOUNT#<acct>              FINDING#<key>    when a finding was last emailed, and its cause
    RUN#<run_id>                RUN              as_of, phase, expected / done counts, claims
    RUN#<run_id>#<shard>        ACCOUNT#<acct>   the account as listed; once checked, its report
    IDEMPOTENCY#check_account   <hash>           Powertools Idempotency records (see handlers)

A run's accounts are spread over SHARDS partitions (`<shard>` = a hash of the account id),
so that plan_run's burst of 10,000 writes does not land on one partition key.

Every write that must happen once is a conditional write: an email's claim, an account
counted as done (in one transaction with the run's counter), the digest's claim, the
planning lease.
"""

from __future__ import annotations

import hashlib
import json
import random
import secrets
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from balance_guard.domain.ledger import AccountState
from balance_guard.domain.notification import SentRecord
from balance_guard.notify.send_log import (
    Clock,
    SendStatus,
    claim_lease_seconds,
    send_status,
)
from balance_guard.report.model import AccountReport, EmailRecord
from balance_guard.stripe.models import StripeAccount

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, TransactWriteItemTypeDef

    Item = dict[str, AttributeValueTypeDef]

# DynamoDB items stop at 400 KB: state and reports are stored compressed, and a state that
# still does not fit (an account with tens of thousands of refundable charges) is split.
INLINE_LIMIT = 350_000
MAX_CHUNKS = 10  # a transaction carries at most 4 MB
BATCH_WRITE_LIMIT = 25
WRITE_ATTEMPTS = 8  # per BatchWriteItem group: about 5 s of backoff before giving up
WRITE_BACKOFF_S = (0.05, 2.0)  # first pause, longest pause (full jitter below each)
THROTTLED = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException",
                       "RequestLimitExceeded", "InternalServerError"})
NOTICES_KEPT = 200
FINDINGS_KEPT = 50  # when even a report without positions and notices is too big
RELEASES_KEPT = 100
RUN_TTL_DAYS = 35  # the run's items; its report lives on in S3
SENT_TTL_DAYS = 400  # which date was emailed; findings' history has no expiry
TRANSACTION_ATTEMPTS = 6
CONDITION_FAILED = "ConditionalCheckFailedException"


class StateTooLargeError(Exception):
    """An account's state does not fit in DynamoDB even split into chunks."""


class ReportTooLargeError(Exception):
    """An account's report does not fit in an item even trimmed to its essentials."""


class UnprocessedWritesError(Exception):
    """DynamoDB kept some writes of a BatchWriteItem unprocessed after every retry."""


def _s(value: str) -> AttributeValueTypeDef:
    return {"S": value}


def _n(value: int) -> AttributeValueTypeDef:
    return {"N": str(value)}


def _seconds(value: float) -> AttributeValueTypeDef:
    """A moment as seconds since the epoch, to the millisecond."""
    return {"N": f"{value:.3f}"}


def _b(value: bytes) -> AttributeValueTypeDef:
    return {"B": value}


def _key(pk: str, sk: str) -> Item:
    return {"pk": _s(pk), "sk": _s(sk)}


def _pack(text: str) -> bytes:
    return zlib.compress(text.encode("utf-8"), 6)


def _unpack(blob: bytes) -> str:
    return zlib.decompress(blob).decode("utf-8")


def _expires(days: int, now: datetime | None = None) -> AttributeValueTypeDef:
    return _n(int(((now or datetime.now(UTC)) + timedelta(days=days)).timestamp()))


def _int(item: Item, name: str, default: int = 0) -> int:
    value = item.get(name, {}).get("N")
    return int(value) if value is not None else default


def _str(item: Item, name: str) -> str | None:
    return item.get(name, {}).get("S")


def _failed_condition(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == CONDITION_FAILED


class _Table:
    """The few calls every adapter needs, on one table."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self.client = client
        self.table = table

    def get(self, key: Item, *attributes: str) -> Item | None:
        """The item (only `attributes` of it, when given), read consistently."""
        if attributes:
            names = {f"#a{i}": name for i, name in enumerate(attributes)}
            response = self.client.get_item(
                TableName=self.table, Key=key, ConsistentRead=True,
                ProjectionExpression=", ".join(names), ExpressionAttributeNames=names)
        else:
            response = self.client.get_item(TableName=self.table, Key=key, ConsistentRead=True)
        return response.get("Item")

    def query_prefix(self, pk: str, prefix: str, **options: Any) -> Iterator[Item]:
        """Every item of a partition whose sort key starts with `prefix`, page after page."""
        params: dict[str, Any] = {
            "TableName": self.table, "ConsistentRead": True,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": _s(pk), ":prefix": _s(prefix)},
            **options,
        }
        while True:
            page = self.client.query(**params)
            yield from page["Items"]
            last = page.get("LastEvaluatedKey")
            if not last:
                return
            params["ExclusiveStartKey"] = last

    def conditional_update(self, key: Item, update: str, condition: str,
                           names: dict[str, str], values: Item | None = None) -> bool:
        """True when written, False when the condition did not hold."""
        params: dict[str, Any] = {
            "TableName": self.table, "Key": key, "UpdateExpression": update,
            "ConditionExpression": condition, "ExpressionAttributeNames": names,
        }
        if values:
            params["ExpressionAttributeValues"] = values
        try:
            self.client.update_item(**params)
        except ClientError as error:
            if _failed_condition(error):
                return False
            raise
        return True

    def write_all(self, requests: Sequence[dict[str, Any]],
                  sleep: Callable[[float], None] = time.sleep) -> None:
        """BatchWriteItem in groups of 25. What DynamoDB leaves unprocessed (or refuses as
        throttled) is sent again after a growing, jittered pause, WRITE_ATTEMPTS times at most;
        then UnprocessedWritesError says how many writes are missing."""
        first, longest = WRITE_BACKOFF_S
        for start in range(0, len(requests), BATCH_WRITE_LIMIT):
            pending: list[Any] = list(requests[start:start + BATCH_WRITE_LIMIT])
            for attempt in range(WRITE_ATTEMPTS):
                try:
                    response = self.client.batch_write_item(RequestItems={self.table: pending})
                    pending = list(response.get("UnprocessedItems", {}).get(self.table, []))
                except ClientError as error:
                    if error.response.get("Error", {}).get("Code") not in THROTTLED:
                        raise
                if not pending:
                    break
                if attempt < WRITE_ATTEMPTS - 1:
                    sleep(min(longest, first * 2**attempt) * random.uniform(0.5, 1.0))
            if pending:
                raise UnprocessedWritesError(
                    f"DynamoDB left {len(pending)} of {len(requests)} writes unprocessed after "
                    f"{WRITE_ATTEMPTS} attempts (group starting at write {start}): the table is "
                    "throttled; the caller may be retried")


# -- account state ----------------------------------------------------------------------------

STATE = "STATE"


def _account_pk(account_id: str) -> str:
    return f"ACCOUNT#{account_id}"


def _chunk_sk(index: int) -> str:
    return f"{STATE}#{index:04d}"


class DynamoStateStore:
    """`StateStore` on DynamoDB: one item per account, its state compressed JSON."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._table = _Table(client, table)

    def load(self, account_id: str) -> AccountState:
        pk = _account_pk(account_id)
        item = self._table.get(_key(pk, STATE))
        if item is None:
            return AccountState()
        if "data" in item:
            blob = item["data"]["B"]
        else:
            count = _int(item, "chunks")
            parts = list(self._table.query_prefix(pk, f"{STATE}#"))[:count]
            blob = b"".join(p["data"]["B"] for p in parts)
        return AccountState.model_validate_json(_unpack(blob))

    def save(self, account_id: str, state: AccountState) -> None:
        pk = _account_pk(account_id)
        blob = _pack(state.model_dump_json())
        table = self._table
        if len(blob) <= INLINE_LIMIT:
            response = table.client.put_item(
                TableName=table.table, ReturnValues="ALL_OLD",
                Item={**_key(pk, STATE), "data": _b(blob), "chunks": _n(0)})
            stale = _int(response.get("Attributes", {}), "chunks")
            if stale:  # the state shrank back under the limit: its old chunks go
                table.write_all([{"DeleteRequest": {"Key": _key(pk, _chunk_sk(i))}}
                                 for i in range(stale)])
            return
        parts = [blob[i:i + INLINE_LIMIT] for i in range(0, len(blob), INLINE_LIMIT)]
        if len(parts) > MAX_CHUNKS:
            raise StateTooLargeError(
                f"the state of {account_id} is {len(blob)} bytes compressed, over "
                f"{MAX_CHUNKS * INLINE_LIMIT}")
        old = table.get(_key(pk, STATE), "chunks")
        stale = _int(old, "chunks") if old else 0
        # One transaction: a reader sees the old state or the new one, never half of each.
        items: list[TransactWriteItemTypeDef] = [
            {"Put": {"TableName": table.table,
                     "Item": {**_key(pk, STATE), "chunks": _n(len(parts))}}}]
        for i, part in enumerate(parts):
            items.append({"Put": {"TableName": table.table,
                                  "Item": {**_key(pk, _chunk_sk(i)), "data": _b(part)}}})
        for i in range(len(parts), stale):
            items.append({"Delete": {"TableName": table.table, "Key": _key(pk, _chunk_sk(i))}})
        table.client.transact_write_items(TransactItems=items)


# -- notification log -------------------------------------------------------------------------

SENDING = "sending"
SENT = "sent"


def _sent_key(account_id: str, as_of: date) -> Item:
    return _key(_account_pk(account_id), f"SENT#{as_of.isoformat()}")


class DynamoNotificationLog:
    """`NotificationLog` on DynamoDB: the claim is a conditional put, so two Lambdas (or a
    retry) racing for the same account and date cannot both send. A claim is a lease
    (`lease_until`, seconds since the epoch): one that lapsed, its Lambda killed before the
    record, is taken over by the next delivery. `lease_seconds` defaults to
    `claim_lease_seconds()`; `clock` is for tests."""

    def __init__(self, client: DynamoDBClient, table: str, *,
                 lease_seconds: float | None = None, clock: Clock = time.time) -> None:
        self._table = _Table(client, table)
        self.lease_seconds = claim_lease_seconds() if lease_seconds is None else lease_seconds
        self._clock = clock

    def history(self, account_id: str) -> dict[str, SentRecord]:
        records: dict[str, SentRecord] = {}
        for item in self._table.query_prefix(_account_pk(account_id), "FINDING#"):
            key = (_str(item, "sk") or "").removeprefix("FINDING#")
            day = _str(item, "last_sent")
            if day:
                records[key] = SentRecord(key, date.fromisoformat(day),
                                          _str(item, "fingerprint") or "")
        return records

    def status(self, account_id: str, as_of: date) -> SendStatus:
        item = self._table.get(_sent_key(account_id, as_of))
        if item is None:
            return SendStatus("open")
        state = _str(item, "send_state") or SENDING
        # A claim written before leases has no lease_until: it has lapsed.
        until = float(item.get("lease_until", {}).get("N") or 0)
        return send_status(state, _str(item, "run_id") or "", until, _str(item, "emails"),
                           now=self._clock())

    def already_sent(self, account_id: str, as_of: date) -> bool:
        return self.status(account_id, as_of).state in (SENDING, SENT)

    def claim(self, account_id: str, as_of: date, run_id: str) -> bool:
        table = self._table
        now = self._clock()
        try:
            table.client.put_item(
                TableName=table.table,
                Item={**_sent_key(account_id, as_of), "send_state": _s(SENDING),
                      "run_id": _s(run_id), "lease_until": _seconds(now + self.lease_seconds),
                      "ttl": _expires(SENT_TTL_DAYS)},
                ConditionExpression="attribute_not_exists(pk) OR (#state = :sending AND"
                                    " (attribute_not_exists(#until) OR #until <= :now))",
                ExpressionAttributeNames={"#state": "send_state", "#until": "lease_until"},
                ExpressionAttributeValues={":sending": _s(SENDING), ":now": _seconds(now)})
        except ClientError as error:
            if _failed_condition(error):
                return False
            raise
        return True

    def release(self, account_id: str, as_of: date, run_id: str | None = None) -> None:
        table = self._table
        condition = "send_state = :sending"
        values: Item = {":sending": _s(SENDING)}
        if run_id is not None:
            condition += " AND run_id = :run"
            values[":run"] = _s(run_id)
        try:
            table.client.delete_item(
                TableName=table.table, Key=_sent_key(account_id, as_of),
                ConditionExpression=condition, ExpressionAttributeValues=values)
        except ClientError as error:
            if not _failed_condition(error):
                raise

    def record(
        self, account_id: str, as_of: date, run_id: str, emails: Sequence[EmailRecord],
        findings: Sequence[SentRecord],
    ) -> bool:
        key = _sent_key(account_id, as_of)
        current = self._table.get(key, "send_state")
        if current is not None and _str(current, "send_state") == SENT:
            return False
        # Findings first: should the Lambda stop right here, the history already says what the
        # admin was told, so once the claim lapses only a critical email is sent again.
        day = as_of.isoformat()
        for finding in findings:
            # A late re-run of an older date must not make a finding look less recent.
            self._table.conditional_update(
                _key(_account_pk(account_id), f"FINDING#{finding.key}"),
                "SET #last = :day, #fp = :fp",
                "attribute_not_exists(#last) OR #last <= :day",
                {"#last": "last_sent", "#fp": "fingerprint"},
                {":day": _s(finding.last_sent.isoformat()), ":fp": _s(finding.fingerprint)},
            )
        payload = json.dumps([e.model_dump(mode="json") for e in emails])
        return self._table.conditional_update(
            key, "SET #state = :sent, #emails = :emails, #run = :run, #ttl = :ttl, #day = :day",
            "attribute_not_exists(pk) OR #state <> :sent",
            {"#state": "send_state", "#emails": "emails", "#run": "run_id", "#ttl": "ttl",
             "#day": "as_of"},
            {":sent": _s(SENT), ":emails": _s(payload), ":run": _s(run_id),
             ":ttl": _expires(SENT_TTL_DAYS), ":day": _s(day)},
        )

    def sent_emails(self, account_id: str, as_of: date) -> list[EmailRecord]:
        return list(self.status(account_id, as_of).emails)


# -- run ledger -------------------------------------------------------------------------------

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
    blob = _pack(report.model_dump_json())
    if len(blob) <= INLINE_LIMIT:
        return blob
    for trimmed in _trimmed(report):
        blob = _pack(trimmed.model_dump_json())
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
        self._table = _Table(client, table)
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
                Item={**_key(_run_pk(run.run_id), RUN), "as_of": _s(run.as_of.isoformat()),
                      "started": _s(run.started.isoformat()), "expected": _n(0),
                      "done": _n(0), "stripe_requests": _n(0), "phase": _s(RECORDING),
                      "queued": _n(0), "shards": _n(SHARDS), "lease_token": _s(lease.token),
                      "lease_until": _s(_iso(lease.until)),
                      "ttl": _expires(RUN_TTL_DAYS, run.started)})
        except ClientError as error:
            if not _failed_condition(error):
                raise
        else:
            self._layout.shards[run.run_id] = SHARDS
            return Opened(replace(run, phase=RECORDING), held=True, created=True)
        held = table.conditional_update(
            _key(_run_pk(run.run_id), RUN), "SET #token = :token, #until = :until",
            "attribute_exists(#phase) AND #phase <> :queued"
            " AND (attribute_not_exists(#until) OR #until < :now)",
            {"#token": "lease_token", "#until": "lease_until", "#phase": "phase"},
            {":token": _s(lease.token), ":until": _s(_iso(lease.until)),
             ":queued": _s(QUEUED), ":now": _s(_iso(moment))})
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
        ttl = _expires(RUN_TTL_DAYS, run.started)
        listed = _unique(accounts, rejected)
        writes: list[dict[str, Any]] = []
        if not fresh:
            keep = {account_id for account_id, _ in listed}
            writes += [{"DeleteRequest": {"Key": key}}
                       for key in self._account_keys(run_id, shards)
                       if (_str(key, "sk") or "").removeprefix("ACCOUNT#") not in keep]
        now = _s(datetime.now(UTC).isoformat())
        for seq, (account_id, entry) in enumerate(listed):
            item: Item = {**_key(_run_account_pk(run_id, account_id, shards),
                                 f"ACCOUNT#{account_id}"), "seq": _n(seq), "ttl": ttl}
            if isinstance(entry, AccountReport):
                item |= {"name": _s(entry.name), "report": _b(_packed_report(entry)),
                         "stripe_requests": _n(0), "finished_at": now}
            else:
                item |= {"name": _s(_display_name(entry)),
                         "account": _s(entry.model_dump_json())}
            writes.append({"PutRequest": {"Item": item}})
        self._table.write_all(writes, self._sleep)
        finished = sum(isinstance(entry, AccountReport) for _, entry in listed)
        moved = self._table.conditional_update(
            _key(_run_pk(run_id), RUN),
            "SET #phase = :queuing, #expected = :expected, #done = :done, #queued = :zero"
            " ADD #requests :requests",
            "#token = :token AND #phase = :recording",
            {"#phase": "phase", "#expected": "expected", "#done": "done", "#queued": "queued",
             "#requests": "stripe_requests", "#token": "lease_token"},
            {":queuing": _s(QUEUING), ":recording": _s(RECORDING),
             ":expected": _n(len(listed)), ":done": _n(finished),
             ":zero": _n(0), ":requests": _n(stripe_requests), ":token": _s(lease.token)})
        if not moved:
            raise LeaseLostError(f"another attempt took over the planning of run {run_id}")
        recorded = self.run(run_id)
        assert recorded is not None
        return recorded

    def pending(self, run_id: str, from_seq: int = 0) -> list[Pending]:
        """The accounts, in listing order from `from_seq`, that are not finished yet."""
        rows: list[Pending] = []
        for item in self._account_items(run_id, "sk, #seq, #name, #at",
                                        {"#seq": "seq", "#name": "name", "#at": "finished_at"}):
            seq = _int(item, "seq")
            if seq >= from_seq and "finished_at" not in item:
                account_id = (_str(item, "sk") or "").removeprefix("ACCOUNT#")
                rows.append(Pending(seq, account_id, _str(item, "name") or account_id))
        return sorted(rows, key=lambda row: row.seq)

    def mark_queued(self, run_id: str, lease: Lease, upto: int) -> None:
        """Every account whose seq is below `upto` has had its message sent."""
        if not self._table.conditional_update(
            _key(_run_pk(run_id), RUN), "SET #queued = :upto", "#token = :token",
            {"#queued": "queued", "#token": "lease_token"},
            {":upto": _n(upto), ":token": _s(lease.token)},
        ):
            raise LeaseLostError(f"another attempt took over the planning of run {run_id}")

    def close_queuing(self, run_id: str, lease: Lease) -> None:
        """Every message is sent: the run is QUEUED and its lease is let go."""
        if not self._table.conditional_update(
            _key(_run_pk(run_id), RUN), "SET #phase = :queued REMOVE #token, #until",
            "#token = :token",
            {"#phase": "phase", "#token": "lease_token", "#until": "lease_until"},
            {":queued": _s(QUEUED), ":token": _s(lease.token)},
        ):
            raise LeaseLostError(f"another attempt took over the planning of run {run_id}")

    def release_lease(self, run_id: str, lease: Lease) -> None:
        """Let the next attempt take over now rather than when the lease expires."""
        self._table.conditional_update(
            _key(_run_pk(run_id), RUN), "REMOVE #token, #until", "#token = :token",
            {"#token": "lease_token", "#until": "lease_until"}, {":token": _s(lease.token)})

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
        item = self._table.get(_key(_run_pk(run_id), RUN), "shards")
        if item is None:
            return SHARDS  # no such run (yet): not remembered
        shards = _int(item, "shards")
        self._layout.shards[run_id] = shards
        return shards

    def run(self, run_id: str) -> RunRecord | None:
        item = self._table.get(_key(_run_pk(run_id), RUN))
        if item is None:
            return None
        return RunRecord(
            run_id=run_id, as_of=date.fromisoformat(_str(item, "as_of") or ""),
            started=datetime.fromisoformat(_str(item, "started") or ""),
            expected=_int(item, "expected"), done=_int(item, "done"),
            stripe_requests=_int(item, "stripe_requests"),
            phase=_str(item, "phase") or QUEUED, queued=_int(item, "queued"),
        )

    def account(self, run_id: str, account_id: str) -> StripeAccount | None:
        """The account as plan_run listed it; None when it is not part of that run (or was
        listed malformed)."""
        item = self._table.get(self._account_key(run_id, account_id), "account")
        raw = _str(item, "account") if item else None
        return StripeAccount.model_validate_json(raw) if raw else None

    def progress(self, run_id: str) -> RunProgress:
        item = self._table.get(_key(_run_pk(run_id), RUN), "done", "expected", "phase")
        if item is None:
            raise KeyError(f"no run {run_id}")
        return RunProgress(done=_int(item, "done"), expected=_int(item, "expected"),
                           phase=_str(item, "phase") or QUEUED)

    def results(self, run_id: str) -> list[AccountResult]:
        """Every account of the run, in the order plan_run listed them."""
        rows: list[tuple[int, AccountResult]] = []
        for item in self._account_items(
            run_id, "sk, #seq, #name, #report, #requests",
            {"#seq": "seq", "#name": "name", "#report": "report",
             "#requests": "stripe_requests"},
        ):
            blob = item.get("report", {}).get("B")
            report = AccountReport.model_validate_json(_unpack(blob)) if blob else None
            account_id = (_str(item, "sk") or "").removeprefix("ACCOUNT#")
            rows.append((_int(item, "seq"), AccountResult(
                account_id=account_id, name=_str(item, "name") or account_id, report=report,
                stripe_requests=_int(item, "stripe_requests"))))
        return [result for _, result in sorted(rows, key=lambda row: row[0])]

    def _account_key(self, run_id: str, account_id: str) -> Item:
        return _key(_run_account_pk(run_id, account_id, self.shards(run_id)),
                    f"ACCOUNT#{account_id}")

    def _account_items(self, run_id: str, projection: str,
                       names: dict[str, str]) -> Iterator[Item]:
        for partition in _account_partitions(run_id, self.shards(run_id)):
            yield from self._table.query_prefix(partition, "ACCOUNT#",
                                                ProjectionExpression=projection,
                                                ExpressionAttributeNames=names)

    def _account_keys(self, run_id: str, shards: int) -> Iterator[Item]:
        for partition in _account_partitions(run_id, shards):
            for item in self._table.query_prefix(partition, "ACCOUNT#",
                                                 ProjectionExpression="pk, sk"):
                yield {"pk": item["pk"], "sk": item["sk"]}

    # -- checking ---------------------------------------------------------------------------

    def finish(
        self, run_id: str, account_id: str, report: AccountReport, stripe_requests: int,
    ) -> RunProgress:
        """Store an account's report and count it done, in one transaction; an account
        already finished (a duplicate delivery), or not in the run, is neither stored nor
        counted again."""
        run_key = _key(_run_pk(run_id), RUN)
        items: list[TransactWriteItemTypeDef] = [
            {"Update": {
                "TableName": self._table.table, "Key": self._account_key(run_id, account_id),
                "UpdateExpression": "SET #report = :report, #requests = :requests, #at = :at",
                "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(#at)",
                "ExpressionAttributeNames": {"#report": "report", "#requests": "stripe_requests",
                                             "#at": "finished_at"},
                "ExpressionAttributeValues": {
                    ":report": _b(_packed_report(report)), ":requests": _n(stripe_requests),
                    ":at": _s(datetime.now(UTC).isoformat())},
            }},
            {"Update": {
                "TableName": self._table.table, "Key": run_key,
                "UpdateExpression": "ADD #done :one",
                "ConditionExpression": "attribute_exists(pk)",
                "ExpressionAttributeNames": {"#done": "done"},
                "ExpressionAttributeValues": {":one": _n(1)},
            }},
        ]
        for attempt in range(TRANSACTION_ATTEMPTS):
            try:
                self._table.client.transact_write_items(TransactItems=items)
                break
            except ClientError as error:
                reasons = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
                if reasons and reasons[0] == "ConditionalCheckFailed":
                    break  # already finished: counted once, by whoever came first
                # Thousands of accounts count on one run item: concurrent transactions on it
                # conflict now and then, and are retried after a short random pause.
                if "TransactionConflict" not in reasons or attempt == TRANSACTION_ATTEMPTS - 1:
                    raise
                self._sleep(random.uniform(0.02, 0.1) * 2**attempt)
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
            _key(_run_pk(run_id), RUN), "SET #claimed = :now, #by = :me",
            "attribute_exists(pk) AND (attribute_not_exists(#claimed) OR"
            " (attribute_not_exists(#started) AND (#claimed < :stale OR #by = :me)))",
            {"#claimed": "digest_claimed_at", "#by": "digest_claimed_by",
             "#started": "digest_started_at"},
            {":now": _s(_iso(moment)), ":me": _s(claimant),
             ":stale": _s(_iso(moment - DIGEST_CLAIM_STALE))},
        )

    def digest_started(self, run_id: str) -> None:
        """The claimant's invoke went through: the claim is final."""
        self._table.conditional_update(
            _key(_run_pk(run_id), RUN), "SET #started = :now", "attribute_exists(pk)",
            {"#started": "digest_started_at"}, {":now": _s(_iso(datetime.now(UTC)))})

    def release_digest(self, run_id: str, claimant: str) -> None:
        """Give the claim back when the digest could not be triggered, so a retry can."""
        self._table.conditional_update(
            _key(_run_pk(run_id), RUN), "REMOVE #claimed, #by",
            "attribute_exists(pk) AND #by = :me AND attribute_not_exists(#started)",
            {"#claimed": "digest_claimed_at", "#by": "digest_claimed_by",
             "#started": "digest_started_at"}, {":me": _s(claimant)},
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
