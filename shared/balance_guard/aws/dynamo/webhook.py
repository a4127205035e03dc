"""The webhook's memory in the state table: the event ids already received (`EVENT#<id>`,
refusing replays and Stripe's retries) and each account's coalescing window (the
`RECHECK` item of its `ACCOUNT#<acct>` partition: one re-check per burst of events).

Owns `DynamoSeenEvents` (the `SeenEvents` of the Lambda) and `RecheckWindows` (what the
SQS sink and check_account's re-check branch share). Every write is one conditional call,
tried again under `WEBHOOK_BACKOFF` only when DynamoDB throttles it: the webhook answers
Stripe within a second, so the backoff is short.

A window is one item per account:

    pk              sk        attributes
    ACCOUNT#<acct>  RECHECK   window (its id), opened_at, due_at (seconds since the epoch),
                              events, event_types and rules (string sets); once its check
                              starts, lease_until (and done when it ended); ttl a day after
                              due_at

- `open_or_join(account)`: a put on condition "no window, or its check has started, or it
  is due" opens a new one (True: the caller queues its message); else an update on the
  opposite condition joins the open one (False: nothing to queue). One of the two holds at
  any moment; a race between them is settled by trying again (`OPEN_ATTEMPTS`).
- `claim(account, window, lease_s)`: the check takes the window, once (a lease, so that a
  check killed with its Lambda is taken over by the next delivery); an event arriving from
  then on opens the next window, since this check may have read Stripe before it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import ClientError

from balance_guard.aws.dynamo._common import (
    THROTTLED,
    Backoff,
    Record,
    Table,
    account_pk,
    attributes,
    error_code,
    failed_condition,
    key,
    retry,
    seconds,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from balance_guard.aws.dynamo._common import Item

EVENT_PK = "EVENT#"
SEEN = "SEEN"
RECHECK = "RECHECK"
# Stripe retries a delivery for three days: an id is remembered for a week.
SEEN_RETENTION_S = 7 * 86_400
WINDOW_TTL_S = 86_400
# Three quick tries, well within the second the webhook has to answer.
WEBHOOK_BACKOFF = Backoff(3, 0.05, 0.2)
OPEN_ATTEMPTS = 4
NO_RULE = "none"  # a string set cannot be empty

Clock = Callable[[], float]
T = TypeVar("T")


class WindowThrottledError(Exception):
    """DynamoDB throttled every try: the caller answers Stripe 503, to be sent again."""


def _throttle_tolerant(call: Callable[[], T], sleep: Callable[[float], None]) -> T:
    """`call()`'s answer, tried again while DynamoDB throttles it (WEBHOOK_BACKOFF)."""
    answer: list[T] = []

    def step() -> bool:
        try:
            answer.append(call())
        except ClientError as error:
            if error_code(error) in THROTTLED:
                return False
            raise
        return True

    if not retry(step, WEBHOOK_BACKOFF, sleep):
        raise WindowThrottledError("DynamoDB throttled every try")
    return answer[-1]


class DynamoSeenEvents:
    """`SeenEvents` on DynamoDB: `first_sight` is a conditional put (with a TTL), so two
    deliveries of one event racing on two Lambdas cannot both be taken."""

    def __init__(self, client: DynamoDBClient, table: str, *,
                 retention_s: float = SEEN_RETENTION_S, clock: Clock = time.time,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._table = Table(client, table)
        self.retention_s = retention_s
        self._clock = clock
        self._sleep = sleep

    @staticmethod
    def _key(event_id: str) -> Item:
        return key(f"{EVENT_PK}{event_id}", SEEN)

    def first_sight(self, event_id: str) -> bool:
        table, now = self._table, self._clock()
        # An item past its TTL that DynamoDB has not deleted yet counts as not seen.
        expired = int(now)

        def put() -> bool:
            try:
                table.client.put_item(
                    TableName=table.table,
                    Item=self._key(event_id) | attributes({
                        "seen_at": seconds(now), "ttl": int(now + self.retention_s)}),
                    ConditionExpression="attribute_not_exists(pk) OR #ttl < :now",
                    ExpressionAttributeNames={"#ttl": "ttl"},
                    ExpressionAttributeValues=attributes({":now": expired}))
            except ClientError as error:
                if failed_condition(error):
                    return False
                raise
            return True

        return bool(_throttle_tolerant(put, self._sleep))

    def forget(self, event_id: str) -> None:
        table = self._table

        def delete() -> None:
            table.client.delete_item(TableName=table.table, Key=self._key(event_id))

        _throttle_tolerant(delete, self._sleep)


class Claim(Enum):
    TAKEN = "taken"  # this delivery runs the check
    DONE = "done"  # an earlier delivery ran it
    BUSY = "busy"  # another delivery runs it now (its lease holds)
    REPLACED = "replaced"  # a later window took its place: that window's check covers it
    GONE = "gone"  # no window at all (expired): run the check anyway


@dataclass(frozen=True)
class Window:
    """An account's window as the check reads it when it takes it."""

    account: str
    window: str
    opened_at: float
    due_at: float
    events: int
    event_types: tuple[str, ...]
    rules: tuple[str, ...]


class RecheckWindows:
    def __init__(self, client: DynamoDBClient, table: str, *, clock: Clock = time.time,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._table = Table(client, table)
        self._clock = clock
        self._sleep = sleep

    @staticmethod
    def _key(account_id: str) -> Item:
        return key(account_pk(account_id), RECHECK)

    def open_or_join(self, account_id: str, window_s: float, event_type: str,
                     rules: Iterable[str]) -> tuple[str, float] | None:
        """(the new window's id, its due time) when this event opened one, None when it
        joined the window already waiting. Raises WindowThrottledError."""
        rule_set = set(rules) or {NO_RULE}
        for _ in range(OPEN_ATTEMPTS):
            now = self._clock()
            opened = _throttle_tolerant(
                partial(self._open, account_id, now, window_s, event_type, rule_set),
                self._sleep)
            if opened is not None:
                return opened
            if _throttle_tolerant(partial(self._join, account_id, now, event_type, rule_set),
                                  self._sleep):
                return None
        # Both conditions kept failing (windows opening and closing under us): open one.
        forced = _throttle_tolerant(
            partial(self._open, account_id, self._clock(), window_s, event_type, rule_set,
                    condition=False), self._sleep)
        if forced is None:  # an unconditional put has no condition to fail
            raise WindowThrottledError("the window could not be opened")
        return forced

    def _open(self, account_id: str, now: float, window_s: float, event_type: str,
              rules: set[str], *, condition: bool = True) -> tuple[str, float] | None:
        window, due = uuid.uuid4().hex, now + window_s
        params: dict[str, Any] = {}
        if condition:
            params = {
                "ConditionExpression": "attribute_not_exists(pk) OR attribute_exists(#lease)"
                                       " OR #due <= :now",
                "ExpressionAttributeNames": {"#lease": "lease_until", "#due": "due_at"},
                "ExpressionAttributeValues": attributes({":now": seconds(now)})}
        try:
            self._table.client.put_item(
                TableName=self._table.table,
                Item=self._key(account_id) | attributes({
                    "window": window, "opened_at": seconds(now), "due_at": seconds(due),
                    "events": 1, "event_types": {event_type}, "rules": rules,
                    "ttl": int(due + WINDOW_TTL_S)}),
                **params)
        except ClientError as error:
            if failed_condition(error):
                return None
            raise
        return window, due

    def _join(self, account_id: str, now: float, event_type: str, rules: set[str]) -> bool:
        """One update: the count, the rules and the types (sets: a burst of a thousand
        events of one type keeps one entry)."""
        try:
            self._table.client.update_item(
                TableName=self._table.table, Key=self._key(account_id),
                UpdateExpression="ADD #events :one, #rules :rules, #types :types",
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(#lease)"
                                    " AND #due > :now",
                ExpressionAttributeNames={"#events": "events", "#rules": "rules",
                                          "#types": "event_types", "#lease": "lease_until",
                                          "#due": "due_at"},
                ExpressionAttributeValues=attributes({":one": 1, ":rules": rules,
                                                      ":types": {event_type},
                                                      ":now": seconds(now)}))
        except ClientError as error:
            if failed_condition(error):
                return False
            raise
        return True

    def forget(self, account_id: str, window: str) -> None:
        """Undo the opening of `window` (its message could not be queued)."""
        try:
            self._table.client.delete_item(
                TableName=self._table.table, Key=self._key(account_id),
                ConditionExpression="#window = :window",
                ExpressionAttributeNames={"#window": "window"},
                ExpressionAttributeValues=attributes({":window": window}))
        except ClientError as error:
            if not failed_condition(error):
                raise

    # -- the check's side -------------------------------------------------------------------

    def claim(self, account_id: str, window: str, lease_s: float) -> tuple[Claim, Window | None]:
        """Take `window` for its check, for `lease_s` seconds."""
        now = self._clock()
        try:
            response = self._table.client.update_item(
                TableName=self._table.table, Key=self._key(account_id),
                UpdateExpression="SET #lease = :until",
                ConditionExpression="#window = :window AND attribute_not_exists(#done) AND"
                                    " (attribute_not_exists(#lease) OR #lease <= :now)",
                ExpressionAttributeNames={"#lease": "lease_until", "#window": "window",
                                          "#done": "done"},
                ExpressionAttributeValues=attributes({
                    ":until": seconds(now + lease_s), ":window": window,
                    ":now": seconds(now)}),
                ReturnValues="ALL_NEW", ReturnValuesOnConditionCheckFailure="ALL_OLD")
        except ClientError as error:
            if not failed_condition(error):
                raise
            old: Any = error.response.get("Item")
            if not old:
                return Claim.GONE, None
            record = Record(old)
            if record.text("window") != window:
                return Claim.REPLACED, _window(account_id, record)
            if "done" in record:
                return Claim.DONE, _window(account_id, record)
            return Claim.BUSY, _window(account_id, record)
        return Claim.TAKEN, _window(account_id, Record(response["Attributes"]))

    def finish(self, account_id: str, window: str) -> None:
        """The check of `window` is over: later deliveries of its message skip it."""
        self._table.conditional_update(
            self._key(account_id), "SET #done = :done", "#window = :window",
            {"#done": "done", "#window": "window"}, {":done": 1, ":window": window})

    def release(self, account_id: str, window: str) -> None:
        """The check of `window` failed for a passing reason: the next delivery takes it."""
        self._table.conditional_update(
            self._key(account_id), "REMOVE #lease", "#window = :window",
            {"#lease": "lease_until", "#window": "window"}, {":window": window})


def _window(account_id: str, record: Record) -> Window:
    return Window(account_id, record.text("window") or "", record.number("opened_at"),
                  record.number("due_at"), record.integer("events", 1),
                  tuple(sorted(record.strings("event_types"))),
                  tuple(sorted(record.strings("rules") - {NO_RULE})))
