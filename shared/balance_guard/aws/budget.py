"""One Stripe budget for every process of a stack, held in the state table.

plan_run, every check_account instance, a manual run overlapping the nightly one and a
redelivered batch all reserve their request slots here, so that together they never send
Stripe more than `max_rps` requests a second (at most `max_rps + 1` in any one-second
window). `DynamoSlots` is the `SlotSource` of `adapters/pacing.py` on DynamoDB, with the
same rule as the in-process `LocalSlots`: the first slot is `max(now, next)`, and `next`
moves `count * spacing` further.

One item per budget key (`global`, `endpoint:/v1/charges`, ...):

    pk              sk          attributes
    BUDGET#stripe   <key>       next_at: when the next free slot starts (seconds since the
                                epoch, to the millisecond); ttl: a day after the last write

A reservation is one conditional UpdateItem, without a read first (`now` being the clock
plus the lead described below):

- busy budget (next_at is ahead of now): `next_at = next_at + span`, on condition
  `now < next_at <= now + max_ahead`; the slots start at the new value minus `span`;
- idle budget (no item yet, or next_at has passed): `next_at = now + span`, on condition
  `attribute_not_exists(next_at) OR next_at <= now`; the slots start now.

Each write only succeeds while its condition holds, and DynamoDB applies writes to one item
one after the other, so no two processes are ever given the same slot. When the condition
fails another process moved the item in between, and the other form is tried with the same
`now`. next_at never goes back (but for the reset below), so the second form normally
succeeds: the loop is bounded by `max_attempts` all the same. Each instance tries first the
form that worked last for that key, so a busy night costs one write per reservation. Spans
are rounded up to the millisecond, never down: slots are never closer than `spacing`.

An answer arrives a round trip after it was asked. So an idle budget's first slot is set
that far ahead of the clock (the lead: the slowest recent round trip, decaying, at most
MAX_LEAD_S), and a reservation whose first slot has already passed by more than half a
spacing when the answer arrives is given up and another made (ROUNDS in all): a request sent
late crowds the next one's second, and a window could then hold more than `max_rps + 1`.

An item further ahead than `max_ahead` seconds cannot come from a sane queue of requests
(at 20 requests a second it would take more than a thousand waiting ones); it was written by
a process whose clock ran far ahead. The idle form's condition accepts such an item too
(`OR next_at > now + max_ahead`), so the broken item is reset by the same conditional write
and no caller is ever asked to wait more than `max_ahead` seconds. Slots are wall-clock
times: processes share the budget as closely as their clocks agree (a few milliseconds on
Lambda, whose clocks are NTP-disciplined).

When DynamoDB is unavailable (throttled after botocore's own retries and ours, a network
error, or any other error such as a missing permission), the reservation is paced locally
instead, from where this instance's last shared slots ended, and DynamoDB is left alone for
`outage_pause_s` seconds. A warning is logged once per outage. Failing the Stripe read
instead would turn a DynamoDB hiccup into unchecked buildings; pacing locally at the full
rate may let several processes together exceed the budget for a while, which Stripe answers
with 429s that the pacer backs off from. A write that timed out may still have taken its
slots: they are wasted, never handed out twice.
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from balance_guard.aws.dynamo import CONDITION_FAILED, THROTTLED

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.literals import ReturnValueType
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

log = logging.getLogger(__name__)

BUDGET_PK = "BUDGET#"
MAX_AHEAD_S = 60.0  # never hand out a slot further ahead than this
ATTEMPTS = 6  # UpdateItem calls for one reservation, condition failures and errors together
TTL_S = 24 * 3600  # an unused budget's item goes a day after its last write
OUTAGE_PAUSE_S = 10.0  # after DynamoDB failed, pace locally this long before trying again
LATE_FRACTION = 0.5  # a first slot older than this many spacings on arrival is given up
ROUNDS = 3  # reservations tried for one call when their slots arrive too late
MAX_LEAD_S = 0.5  # the most an idle budget's first slot is set ahead, for the round trip
LEAD_DECAY = 0.9  # the lead follows a slower round trip at once, a faster one gradually
BACKOFF_S = (0.01, 0.2)  # first pause after a transient error, longest pause
TRANSIENT = THROTTLED | frozenset({"ServiceUnavailable", "ServiceUnavailableException",
                                   "InternalFailure", "LimitExceededException"})
IDLE, BUSY = "idle", "busy"


@dataclass(frozen=True)
class BudgetStats:
    reservations: int  # granted by DynamoDB
    slots: int  # in those reservations
    writes: int  # UpdateItem calls made, refused conditions and errors included
    conflicts: int  # conditions that failed because another process moved the item
    resets: int  # items found absurdly far ahead, and reset
    fallbacks: int  # reservations paced locally because DynamoDB could not be used
    late: int  # reservations given up because their first slot had passed on arrival
    lead_s: float  # how far ahead of the clock an idle budget's first slot is set now


class _UnavailableError(Exception):
    """DynamoDB could not be used for this reservation."""


def _ms(seconds: float) -> int:
    """Whole milliseconds, rounded up; less than a microsecond over is float noise (a
    double holds today's epoch only to about 0.2 µs), not another millisecond."""
    return math.ceil(seconds * 1000 - 1e-3)


def _number(ms: int) -> AttributeValueTypeDef:
    return {"N": f"{ms // 1000}.{ms % 1000:03d}"}


def _parse_ms(value: str) -> int:
    return int(Decimal(value).scaleb(3).to_integral_value(rounding=ROUND_CEILING))


class DynamoSlots:
    """`SlotSource` shared by every process through the state table `table`.

    `clock` gives wall-clock seconds since the epoch; `max_attempts` bounds the UpdateItem
    calls of one reservation; `budget` names the partition (`BUDGET#<budget>`). Thread-safe:
    one instance serves every thread of a process.
    """

    def __init__(
        self,
        client: DynamoDBClient,
        table: str,
        *,
        clock: Callable[[], float] = time.time,
        max_attempts: int = ATTEMPTS,
        max_ahead_s: float = MAX_AHEAD_S,
        budget: str = "stripe",
        outage_pause_s: float = OUTAGE_PAUSE_S,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._client = client
        self._table = table
        self._clock = clock
        self._sleep = sleep
        self.max_attempts = max_attempts
        self._max_ahead_ms = _ms(max_ahead_s)
        self._pk = f"{BUDGET_PK}{budget}"
        self._outage_pause_s = outage_pause_s
        self._lock = threading.Lock()
        self._first: dict[str, str] = {}  # per key: the form that worked last
        self._end: dict[str, int] = {}  # per key: where the last slots known here end (ms)
        self._down_until = float("-inf")
        self._down = False
        self._reservations = self._writes = self._conflicts = self._resets = 0
        self._fallbacks = self._late = self._slots = 0
        self._lead = 0.0  # seconds: the round trip to DynamoDB, as lately seen

    def reserve(self, key: str, count: int, spacing: float) -> float:
        if count < 1 or spacing <= 0:
            raise ValueError("a reservation needs at least one slot and a positive spacing")
        span = max(1, _ms(count * spacing))
        with self._lock:
            skip = self._clock() < self._down_until
        if skip:
            return self._local(key, span) / 1000
        rounds = 0
        while True:
            try:
                start = self._shared(key, span)
            except _UnavailableError as error:
                self._unavailable(str(error))
                return self._local(key, span) / 1000
            if start is None:
                self._unavailable(f"{self.max_attempts} conditional writes lost to other "
                                  "processes in a row")
                return self._local(key, span) / 1000
            self._granted(key, start + span, count)
            rounds += 1
            # A slot that has passed when the answer arrives would be used late, and a late
            # request crowds the next one's second: those slots are left unused, and the
            # next reservation sets its start further ahead (see `_now`).
            if self._clock() - start / 1000 <= spacing * LATE_FRACTION or rounds == ROUNDS:
                return start / 1000
            with self._lock:
                self._late += 1

    def stats(self) -> BudgetStats:
        with self._lock:
            return BudgetStats(self._reservations, self._slots, self._writes, self._conflicts,
                               self._resets, self._fallbacks, self._late,
                               round(self._lead, 3))

    # -- DynamoDB ---------------------------------------------------------------------------

    def _now(self) -> int:
        """The earliest a slot reserved now can still be used: the clock, plus the round
        trip the reservation is about to take."""
        with self._lock:
            lead = self._lead
        return _ms(self._clock() + lead)

    def _shared(self, key: str, span: int) -> int | None:
        """The first slot's start (ms), or None when every attempt lost its condition."""
        with self._lock:
            form = self._first.get(key, IDLE)
        first_pause, longest = BACKOFF_S
        now = self._now()
        for attempt in range(self.max_attempts):
            try:
                start = self._take_idle(key, now, span) if form == IDLE else (
                    self._take_busy(key, now, span))
            except ClientError as error:
                code = str(error.response.get("Error", {}).get("Code", ""))
                if code == CONDITION_FAILED:
                    # Same `now` for the other form: next_at only grows, so once the idle
                    # form found it ahead of `now` the busy form's condition holds for good,
                    # and the two cannot chase each other around a moving clock.
                    with self._lock:
                        self._conflicts += 1
                    form = BUSY if form == IDLE else IDLE
                    continue
                if code not in TRANSIENT:
                    raise _UnavailableError(f"DynamoDB {code or 'error'}") from error
                reason = f"DynamoDB {code}"
            except BotoCoreError as error:
                reason = f"DynamoDB unreachable ({type(error).__name__})"
            else:
                with self._lock:
                    self._first[key] = form
                    self._reservations += 1
                return start
            if attempt == self.max_attempts - 1:
                raise _UnavailableError(reason)
            self._sleep(min(longest, first_pause * 2**attempt) * random.uniform(0.5, 1.0))
            now = self._now()
        return None

    def _update(self, key: str, update: str, condition: str, values: dict[str, int],
                returning: ReturnValueType) -> dict[str, AttributeValueTypeDef]:
        with self._lock:
            self._writes += 1
        asked = self._clock()
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key={"pk": {"S": self._pk}, "sk": {"S": key}},
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeNames={"#next": "next_at", "#ttl": "ttl"},
                ExpressionAttributeValues={
                    **{name: _number(ms) for name, ms in values.items()},
                    ":ttl": {"N": str(values[":now"] // 1000 + TTL_S)}},
                ReturnValues=returning,
            )
        finally:
            took = max(0.0, self._clock() - asked)
            with self._lock:
                self._lead = min(MAX_LEAD_S, max(took, self._lead * LEAD_DECAY))
        return response.get("Attributes", {})

    def _take_idle(self, key: str, now: int, span: int) -> int:
        horizon = now + self._max_ahead_ms
        old = self._update(
            key, "SET #next = :next, #ttl = :ttl",
            "attribute_not_exists(#next) OR #next <= :now OR #next > :horizon",
            {":next": now + span, ":now": now, ":horizon": horizon}, "UPDATED_OLD")
        previous = old.get("next_at", {}).get("N")
        if previous is not None and _parse_ms(previous) > horizon:
            with self._lock:
                self._resets += 1
            log.warning("Stripe budget %r was %.0f s ahead of this clock: reset (a process "
                        "with a clock far ahead wrote it)", key,
                        (_parse_ms(previous) - now) / 1000)
        return now

    def _take_busy(self, key: str, now: int, span: int) -> int:
        new = self._update(
            key, "SET #next = #next + :span, #ttl = :ttl", "#next > :now AND #next <= :horizon",
            {":span": span, ":now": now, ":horizon": now + self._max_ahead_ms}, "UPDATED_NEW")
        return _parse_ms(new["next_at"]["N"]) - span

    # -- local pacing -----------------------------------------------------------------------

    def _granted(self, key: str, end: int, count: int) -> None:
        with self._lock:
            self._slots += count
            self._end[key] = max(end, self._end.get(key, 0))
            if self._down:
                self._down = False
                log.info("Stripe budget: DynamoDB answers again, back to the shared budget")

    def _unavailable(self, reason: str) -> None:
        with self._lock:
            self._down_until = self._clock() + self._outage_pause_s
            if self._down:
                return
            self._down = True
        log.warning("Stripe budget: %s; pacing this process on its own for %.0f s (other "
                    "processes may add to Stripe's load meanwhile)", reason,
                    self._outage_pause_s)

    def _local(self, key: str, span: int) -> int:
        """LocalSlots' rule, starting after the last slots this instance was given."""
        with self._lock:
            self._fallbacks += 1
            start = max(_ms(self._clock()), self._end.get(key, 0))
            self._end[key] = start + span
            return start
