"""What every adapter of the state table shares: its keys, the conversion between Python
values and DynamoDB attributes, the one retry policy, and the few calls they all make.

Conversion is boto3's own (`TypeSerializer` / `TypeDeserializer`); `Record` only turns the
Decimals it returns into the ints and floats the adapters work with. Imports boto3 and
the standard library only; the table-role modules (`state`, `send_log`, `ledger`) build on it.
"""

from __future__ import annotations

import math
import random
import time
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

    Item = dict[str, AttributeValueTypeDef]

# DynamoDB items stop at 400 KB: state and reports are stored compressed, and a state that
# still does not fit (an account with tens of thousands of refundable charges) is split.
INLINE_LIMIT = 350_000
BATCH_WRITE_LIMIT = 25
WRITE_ATTEMPTS = 8  # per BatchWriteItem group: about 5 s of backoff before giving up
WRITE_BACKOFF_S = (0.05, 2.0)  # first pause, longest pause (full jitter below each)
THROTTLED = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException",
                       "RequestLimitExceeded", "InternalServerError"})
CONDITION_FAILED = "ConditionalCheckFailedException"


class UnprocessedWritesError(Exception):
    """DynamoDB kept some writes of a BatchWriteItem unprocessed after every retry."""


# -- the retry policy ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Backoff:
    """How many times a call is tried, and the pause between two tries: `first` doubled at
    each try, capped at `longest`, times a random factor drawn from `jitter` so that Lambdas
    throttled together do not all come back at the same instant."""

    attempts: int
    first: float
    longest: float = math.inf
    jitter: tuple[float, float] = (0.5, 1.0)

    def pause(self, attempt: int) -> float:
        """The pause after the failed try number `attempt` (from 0)."""
        return min(self.longest, self.first * 2.0**attempt) * random.uniform(*self.jitter)


# Unprocessed or throttled batch writes.
WRITE_BACKOFF = Backoff(WRITE_ATTEMPTS, *WRITE_BACKOFF_S)


def retry(step: Callable[[], bool], backoff: Backoff,
          sleep: Callable[[float], None] = time.sleep) -> bool:
    """Call `step` until it returns True, `backoff.attempts` times at most, pausing between
    two tries (never after the last). False when every try failed; what `step` raises ends
    the loop at once, so each caller decides which errors are worth another try."""
    for attempt in range(backoff.attempts):
        if step():
            return True
        if attempt < backoff.attempts - 1:
            sleep(backoff.pause(attempt))
    return False


def error_code(error: ClientError) -> str | None:
    return error.response.get("Error", {}).get("Code")


def failed_condition(error: ClientError) -> bool:
    return error_code(error) == CONDITION_FAILED


# -- values and keys ----------------------------------------------------------------------------

class _Deserializer(TypeDeserializer):
    # boto3 wraps binary attributes in its `Binary` class; the adapters want the bytes.
    def _deserialize_b(self, value: bytes) -> bytes:
        return value


_SERIALIZER = TypeSerializer()
_DESERIALIZER = _Deserializer()


def attributes(values: Mapping[str, object]) -> Item:
    """Python values as DynamoDB attributes (str → S, int or Decimal → N, bytes → B)."""
    return {name: _SERIALIZER.serialize(value) for name, value in values.items()}


def key(pk: str, sk: str) -> Item:
    return attributes({"pk": pk, "sk": sk})


def seconds(moment: float) -> Decimal:
    """A moment as seconds since the epoch, to the millisecond (the serializer refuses
    floats, whose decimal digits it cannot know)."""
    return Decimal(f"{moment:.3f}")


def expires(days: int, now: datetime | None = None) -> int:
    """The `ttl` of an item kept `days` days from `now`."""
    return int(((now or datetime.now(UTC)) + timedelta(days=days)).timestamp())


def account_pk(account_id: str) -> str:
    return f"ACCOUNT#{account_id}"


def pack(text: str) -> bytes:
    return zlib.compress(text.encode("utf-8"), 6)


def unpack(blob: bytes) -> str:
    return zlib.decompress(blob).decode("utf-8")


class Record:
    """An item read back, its attributes as Python values. Numbers come back from boto3 as
    Decimal: each accessor turns them into what the caller works with."""

    def __init__(self, item: Mapping[str, Any]) -> None:
        self._values: dict[str, Any] = {
            name: _DESERIALIZER.deserialize(value) for name, value in item.items()}

    def __contains__(self, name: object) -> bool:
        return name in self._values

    def integer(self, name: str, default: int = 0) -> int:
        value = self._values.get(name)
        return int(value) if value is not None else default

    def number(self, name: str, default: float = 0.0) -> float:
        value = self._values.get(name)
        return float(value) if value is not None else default

    def text(self, name: str) -> str | None:
        value = self._values.get(name)
        return value if isinstance(value, str) else None

    def blob(self, name: str) -> bytes | None:
        value = self._values.get(name)
        return value if isinstance(value, bytes) else None

    def strings(self, name: str) -> set[str]:
        """A string set (or list), as a set; empty when absent."""
        value = self._values.get(name)
        return {v for v in value if isinstance(v, str)} if isinstance(
            value, (set, list)) else set()


# -- the table ----------------------------------------------------------------------------------

class Table:
    """The few calls every adapter needs, on one table."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self.client = client
        self.table = table

    def get(self, key: Item, *attributes: str) -> Record | None:
        """The item (only `attributes` of it, when given), read consistently."""
        if attributes:
            names = {f"#a{i}": name for i, name in enumerate(attributes)}
            response = self.client.get_item(
                TableName=self.table, Key=key, ConsistentRead=True,
                ProjectionExpression=", ".join(names), ExpressionAttributeNames=names)
        else:
            response = self.client.get_item(TableName=self.table, Key=key, ConsistentRead=True)
        item = response.get("Item")
        return Record(item) if item is not None else None

    def query_prefix(self, pk: str, prefix: str, **options: Any) -> Iterator[Record]:
        """Every item of a partition whose sort key starts with `prefix`, page after page."""
        params: dict[str, Any] = {
            "TableName": self.table, "ConsistentRead": True,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": attributes({":pk": pk, ":prefix": prefix}),
            **options,
        }
        while True:
            page = self.client.query(**params)
            yield from (Record(item) for item in page["Items"])
            last = page.get("LastEvaluatedKey")
            if not last:
                return
            params["ExclusiveStartKey"] = last

    def conditional_update(self, key: Item, update: str, condition: str,
                           names: dict[str, str],
                           values: Mapping[str, object] | None = None) -> bool:
        """True when written, False when the condition did not hold."""
        params: dict[str, Any] = {
            "TableName": self.table, "Key": key, "UpdateExpression": update,
            "ConditionExpression": condition, "ExpressionAttributeNames": names,
        }
        if values:
            params["ExpressionAttributeValues"] = attributes(values)
        try:
            self.client.update_item(**params)
        except ClientError as error:
            if failed_condition(error):
                return False
            raise
        return True

    def write_all(self, requests: Sequence[dict[str, Any]],
                  sleep: Callable[[float], None] = time.sleep) -> None:
        """BatchWriteItem in groups of 25. What DynamoDB leaves unprocessed (or refuses as
        throttled) is sent again under WRITE_BACKOFF; then UnprocessedWritesError says how
        many writes are missing."""
        for start in range(0, len(requests), BATCH_WRITE_LIMIT):
            pending = self._write_group(requests[start:start + BATCH_WRITE_LIMIT], sleep)
            if pending:
                raise UnprocessedWritesError(
                    f"DynamoDB left {len(pending)} of {len(requests)} writes unprocessed after "
                    f"{WRITE_ATTEMPTS} attempts (group starting at write {start}): the table is "
                    "throttled; the caller may be retried")

    def _write_group(self, group: Sequence[dict[str, Any]],
                     sleep: Callable[[float], None]) -> list[Any]:
        """The writes of `group` still unprocessed once WRITE_BACKOFF gave up (none if all
        went through)."""
        pending: list[Any] = list(group)

        def send() -> bool:
            nonlocal pending
            try:
                response = self.client.batch_write_item(RequestItems={self.table: pending})
            except ClientError as error:
                if error_code(error) not in THROTTLED:
                    raise
                return False  # refused whole: every write is still pending
            pending = list(response.get("UnprocessedItems", {}).get(self.table, []))
            return not pending

        retry(send, WRITE_BACKOFF, sleep)
        return pending
