"""The AWS run's memory in one DynamoDB table: state store, notification log, run ledger.

Single-table design, string keys `pk` / `sk`, TTL attribute `ttl`:

    pk                          sk               item
    ACCOUNT#<acct>              STATE            AccountState (zlib JSON; STATE#<n> chunks if big)
    ACCOUNT#<acct>              SENT#<as_of>     that run date's email: `sending`, then `sent`
    ACCOUNT#<acct>              FINDING#<key>    when a finding was last emailed, and its cause
    RUN#<run_id>                RUN              as_of, start, expected / done counts, digest claim
    RUN#<run_id>                ACCOUNT#<acct>   the account as listed; once checked, its report
    IDEMPOTENCY#check_account   <hash>           Powertools Idempotency records (see handlers)

Every write that must happen once is a conditional write: an email's claim, an account
counted as done (in one transaction with the run's counter), the digest's claim.
"""

from __future__ import annotations

import json
import random
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from balance_guard.adapters.stripe_models import StripeAccount
from balance_guard.domain.ledger import AccountState
from balance_guard.domain.notification import SentRecord
from balance_guard.report import AccountReport, EmailRecord

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, TransactWriteItemTypeDef

    Item = dict[str, AttributeValueTypeDef]

# DynamoDB items stop at 400 KB: state and reports are stored compressed, and a state that
# still does not fit (an account with tens of thousands of refundable charges) is split.
INLINE_LIMIT = 350_000
MAX_CHUNKS = 10  # a transaction carries at most 4 MB
BATCH_WRITE_LIMIT = 25
NOTICES_KEPT = 200
RUN_TTL_DAYS = 35  # the run's items; its report lives on in S3
SENT_TTL_DAYS = 400  # which date was emailed; findings' history has no expiry
TRANSACTION_ATTEMPTS = 6
CONDITION_FAILED = "ConditionalCheckFailedException"


class StateTooLargeError(Exception):
    """An account's state does not fit in DynamoDB even split into chunks."""


def _s(value: str) -> AttributeValueTypeDef:
    return {"S": value}


def _n(value: int) -> AttributeValueTypeDef:
    return {"N": str(value)}


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
        """BatchWriteItem in groups of 25, retrying what DynamoDB leaves unprocessed."""
        for start in range(0, len(requests), BATCH_WRITE_LIMIT):
            pending: list[Any] = list(requests[start:start + BATCH_WRITE_LIMIT])
            for attempt in range(8):
                response = self.client.batch_write_item(RequestItems={self.table: pending})
                pending = list(response.get("UnprocessedItems", {}).get(self.table, []))
                if not pending:
                    break
                sleep(min(2.0, 0.05 * 2**attempt) * random.uniform(0.5, 1.0))
            if pending:
                raise RuntimeError(f"DynamoDB left {len(pending)} writes unprocessed")


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
    retry) racing for the same account and date cannot both send."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._table = _Table(client, table)

    def history(self, account_id: str) -> dict[str, SentRecord]:
        records: dict[str, SentRecord] = {}
        for item in self._table.query_prefix(_account_pk(account_id), "FINDING#"):
            key = (_str(item, "sk") or "").removeprefix("FINDING#")
            day = _str(item, "last_sent")
            if day:
                records[key] = SentRecord(key, date.fromisoformat(day),
                                          _str(item, "fingerprint") or "")
        return records

    def already_sent(self, account_id: str, as_of: date) -> bool:
        return self._table.get(_sent_key(account_id, as_of), "pk") is not None

    def claim(self, account_id: str, as_of: date, run_id: str) -> bool:
        table = self._table
        try:
            table.client.put_item(
                TableName=table.table,
                Item={**_sent_key(account_id, as_of), "send_state": _s(SENDING),
                      "run_id": _s(run_id), "ttl": _expires(SENT_TTL_DAYS)},
                ConditionExpression="attribute_not_exists(pk)")
        except ClientError as error:
            if _failed_condition(error):
                return False
            raise
        return True

    def release(self, account_id: str, as_of: date) -> None:
        table = self._table
        try:
            table.client.delete_item(
                TableName=table.table, Key=_sent_key(account_id, as_of),
                ConditionExpression="send_state = :sending",
                ExpressionAttributeValues={":sending": _s(SENDING)})
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
        # Findings first: should the Lambda stop right here, the date stays claimed (nothing
        # is sent twice) and the history already says what the admin was told.
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
        item = self._table.get(_sent_key(account_id, as_of))
        if item is None or _str(item, "send_state") != SENT:
            return []
        return [EmailRecord.model_validate(e) for e in json.loads(_str(item, "emails") or "[]")]


# -- run ledger -------------------------------------------------------------------------------

RUN = "RUN"


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    as_of: date
    started: datetime
    expected: int
    done: int = 0
    stripe_requests: int = 0  # plan_run's own: the platform check and the account listing


@dataclass(frozen=True)
class RunProgress:
    done: int
    expected: int

    @property
    def complete(self) -> bool:
        return self.done >= self.expected


@dataclass(frozen=True)
class AccountResult:
    account_id: str
    name: str
    report: AccountReport | None  # None while (or when) the account's check has not finished
    stripe_requests: int


def _run_pk(run_id: str) -> str:
    return f"RUN#{run_id}"


def _display_name(account: StripeAccount) -> str:
    profile = account.business_profile
    return (profile.name if profile and profile.name else None) or account.id


def _packed_report(report: AccountReport) -> bytes:
    blob = _pack(report.model_dump_json())
    if len(blob) <= INLINE_LIMIT:
        return blob
    dropped = len(report.notices) - NOTICES_KEPT
    kept = report.model_copy(update={
        "positions": [],
        "notices": [*report.notices[:NOTICES_KEPT],
                    *([f"{dropped} more notices not kept"] if dropped > 0 else [])],
    })
    return _pack(kept.model_dump_json())


class RunLedger:
    """One nightly run on AWS: which accounts it covers, which are done, their reports."""

    def __init__(
        self, client: DynamoDBClient, table: str, sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._table = _Table(client, table)
        self._sleep = sleep

    def start(self, run: RunRecord, accounts: Sequence[StripeAccount]) -> None:
        """Record the run and every account it will check, before any check is queued."""
        table = self._table
        table.client.put_item(
            TableName=table.table, ConditionExpression="attribute_not_exists(pk)",
            Item={**_key(_run_pk(run.run_id), RUN), "as_of": _s(run.as_of.isoformat()),
                  "started": _s(run.started.isoformat()), "expected": _n(run.expected),
                  "done": _n(0), "stripe_requests": _n(run.stripe_requests),
                  "ttl": _expires(RUN_TTL_DAYS, run.started)})
        ttl = _expires(RUN_TTL_DAYS, run.started)
        table.write_all([
            {"PutRequest": {"Item": {
                **_key(_run_pk(run.run_id), f"ACCOUNT#{account.id}"), "seq": _n(seq),
                "name": _s(_display_name(account)), "account": _s(account.model_dump_json()),
                "ttl": ttl}}}
            for seq, account in enumerate(accounts)
        ], self._sleep)

    def run(self, run_id: str) -> RunRecord | None:
        item = self._table.get(_key(_run_pk(run_id), RUN))
        if item is None:
            return None
        return RunRecord(
            run_id=run_id, as_of=date.fromisoformat(_str(item, "as_of") or ""),
            started=datetime.fromisoformat(_str(item, "started") or ""),
            expected=_int(item, "expected"), done=_int(item, "done"),
            stripe_requests=_int(item, "stripe_requests"),
        )

    def account(self, run_id: str, account_id: str) -> StripeAccount | None:
        """The account as plan_run listed it; None when it is not part of that run."""
        item = self._table.get(_key(_run_pk(run_id), f"ACCOUNT#{account_id}"), "account")
        raw = _str(item, "account") if item else None
        return StripeAccount.model_validate_json(raw) if raw else None

    def progress(self, run_id: str) -> RunProgress:
        item = self._table.get(_key(_run_pk(run_id), RUN))
        if item is None:
            raise KeyError(f"no run {run_id}")
        return RunProgress(done=_int(item, "done"), expected=_int(item, "expected"))

    def finish(
        self, run_id: str, account_id: str, report: AccountReport, stripe_requests: int,
    ) -> RunProgress:
        """Store an account's report and count it done, in one transaction; an account
        already finished (a duplicate delivery) is neither stored nor counted again."""
        pk = _run_pk(run_id)
        items: list[TransactWriteItemTypeDef] = [
            {"Update": {
                "TableName": self._table.table, "Key": _key(pk, f"ACCOUNT#{account_id}"),
                "UpdateExpression": "SET #report = :report, #requests = :requests, #at = :at",
                "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(#at)",
                "ExpressionAttributeNames": {"#report": "report", "#requests": "stripe_requests",
                                             "#at": "finished_at"},
                "ExpressionAttributeValues": {
                    ":report": _b(_packed_report(report)), ":requests": _n(stripe_requests),
                    ":at": _s(datetime.now(UTC).isoformat())},
            }},
            {"Update": {
                "TableName": self._table.table, "Key": _key(pk, RUN),
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

    def results(self, run_id: str) -> list[AccountResult]:
        """Every account of the run, in the order plan_run listed them."""
        rows: list[tuple[int, AccountResult]] = []
        for item in self._table.query_prefix(
            _run_pk(run_id), "ACCOUNT#",
            ProjectionExpression="sk, #seq, #name, #report, #requests",
            ExpressionAttributeNames={"#seq": "seq", "#name": "name", "#report": "report",
                                      "#requests": "stripe_requests"},
        ):
            blob = item.get("report", {}).get("B")
            report = AccountReport.model_validate_json(_unpack(blob)) if blob else None
            account_id = (_str(item, "sk") or "").removeprefix("ACCOUNT#")
            rows.append((_int(item, "seq"), AccountResult(
                account_id=account_id, name=_str(item, "name") or account_id, report=report,
                stripe_requests=_int(item, "stripe_requests"))))
        return [result for _, result in sorted(rows, key=lambda row: row[0])]

    def claim_digest(self, run_id: str) -> bool:
        """True for exactly one caller per run: the one that triggers the digest."""
        return self._table.conditional_update(
            _key(_run_pk(run_id), RUN), "SET #claimed = :now",
            "attribute_exists(pk) AND attribute_not_exists(#claimed)",
            {"#claimed": "digest_claimed_at"}, {":now": _s(datetime.now(UTC).isoformat())},
        )

    def release_digest(self, run_id: str) -> None:
        """Give the claim back when the digest could not be triggered, so a retry can."""
        self._table.conditional_update(
            _key(_run_pk(run_id), RUN), "REMOVE #claimed", "attribute_exists(pk)",
            {"#claimed": "digest_claimed_at"},
        )
