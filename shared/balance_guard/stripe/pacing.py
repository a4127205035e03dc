"""Keep every process of a platform under its Stripe budget, and back off when Stripe says no.

Stripe answers a rate-limited request with a 429 (code `rate_limit`, a
`Stripe-Rate-Limited-Reason` header) and without `Stripe-Should-Retry: true`, so its SDKs
never retry it: backing off is ours to do. Three things keep a night inside the limits:

- a shared budget of request *slots*, `1 / max_rps` seconds apart, that every process of
  the platform reserves from (in memory for one process, a DynamoDB item on AWS), so any
  one-second window holds at most `max_rps + 1` requests whoever sends them;
- a per-endpoint budget of the same kind (Stripe allows 25 requests a second per endpoint
  unless it agreed otherwise with the platform), used only when it is the tighter one;
- an adaptive ceiling local to the process: cut by 30 % when 429s arrive, climbing back
  by a tenth of the budget per second while requests succeed (additive increase,
  multiplicative decrease), so a budget
  set too high, or other integrations eating the same limit, cost minutes and no account.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import stripe

# Stripe's default limit per endpoint, for platforms without a raised one.
STRIPE_ENDPOINT_RPS = 25.0
GLOBAL = "global"


class SlotSource(Protocol):
    """Where request slots are reserved: one process's memory, or a table every process
    of the stack shares."""

    def reserve(self, key: str, count: int, spacing: float) -> float:
        """Reserve `count` consecutive slots `spacing` seconds apart on the budget `key`;
        return the wall-clock time (seconds since the epoch) of the first one."""
        ...


class LocalSlots:
    """Slots of one process (a generic cell rate algorithm with no burst)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def reserve(self, key: str, count: int, spacing: float) -> float:
        with self._lock:
            start = max(self._clock(), self._next.get(key, 0.0))
            self._next[key] = start + count * spacing
            return start


@dataclass(frozen=True)
class PacerStats:
    rate_limited: int  # 429s that were real rate limits (lock timeouts excluded)
    settled_rps: float  # the adaptive ceiling when the stats were taken
    lowest_rps: float


class Pacer:
    """Paces one process's requests; thread-safe, shared by every worker of the process."""

    # A reserved slot not used within half a spacing is dropped rather than sent late,
    # so late senders can never crowd a window beyond the budget.
    LATE_FRACTION = 0.5
    # Stripe counts requests as they arrive, and the network and a busy process bunch them:
    # slots 4 % wider than the budget keep any second's arrivals within max_rps + 1.
    HEADROOM = 1.04
    LATE_RETRIES = 3
    # One decrease per burst of 429s, not one per 429: a burst answers requests already
    # sent at the old pace. Gentle steps, because a 429 can also be another integration's
    # doing, or a passing spike on Stripe's side.
    DECREASE_FACTOR = 0.7
    DECREASE_COOLDOWN_S = 2.0
    CLIMB_PER_S = 0.1  # of the budget, per second without a 429

    def __init__(
        self,
        max_rps: float,
        *,
        slots: SlotSource | None = None,
        endpoint_rps: float = STRIPE_ENDPOINT_RPS,
        reservation: int = 1,
        min_rps: float = 0.5,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_rps <= 0:
            raise ValueError("the request rate must be positive")
        self.max_rps = max_rps
        self.endpoint_rps = endpoint_rps
        self._shared = slots or LocalSlots(clock)
        self._local = LocalSlots(clock)
        self._max_reservation = max(1, reservation)
        self._waiting = 0
        self._min_rps = min(min_rps, max_rps)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._reserved: deque[float] = deque()
        self._rate = max_rps
        self._lowest = max_rps
        self._last_change = clock()
        self._last_decrease = float("-inf")
        self._rate_limited = 0

    @property
    def spacing(self) -> float:
        return self.HEADROOM / self.max_rps

    def acquire(self, endpoint: str, within: float | None = None) -> None:
        """Block until one request to `endpoint` may go out. With `within` (seconds), raise
        OutOfTimeError rather than wait past it: a crowded budget must not make a request
        outlive its deadline."""
        latest = None if within is None else self._clock() + within
        with self._lock:
            ceiling = self._rate
            self._waiting += 1
        try:
            self._wait_until(self._local.reserve("adaptive", 1, self.HEADROOM / ceiling), latest)
            if self.endpoint_rps < self.max_rps:
                self._wait_until(self._shared.reserve(f"endpoint:{endpoint}", 1,
                                                      self.HEADROOM / self.endpoint_rps), latest)
            # The global slot last, so it is the one used on time; a slot this thread woke
            # up too late for (a pause of the process) is dropped, not sent late.
            for _ in range(self.LATE_RETRIES):
                slot = self._global_slot()
                self._wait_until(slot, latest)
                if self._clock() <= slot + self.spacing * self.LATE_FRACTION:
                    return
        finally:
            with self._lock:
                self._waiting -= 1

    def _global_slot(self) -> float:
        late = self.spacing * self.LATE_FRACTION
        with self._lock:
            now = self._clock()
            while self._reserved and self._reserved[0] + late < now:
                self._reserved.popleft()
            if self._reserved:
                return self._reserved.popleft()
            # As many slots as threads are waiting for one: a process sending one request
            # at a time (a Lambda instance) takes one, since a second would pass unused.
            count = max(1, min(self._max_reservation, self._waiting))
        start = self._shared.reserve(GLOBAL, count, self.spacing)
        slots = [start + i * self.spacing for i in range(count)]
        with self._lock:
            self._reserved.extend(slots[1:])
        return slots[0]

    def _wait_until(self, at: float, latest: float | None = None) -> None:
        if latest is not None and at > latest:
            raise OutOfTimeError("the Stripe budget has no slot for this request before "
                                 "the deadline")
        wait = at - self._clock()
        if wait > 0:
            self._sleep(wait)

    def rate_limited(self) -> None:
        """A 429 that was a rate limit: count it, and lower the ceiling once per burst."""
        with self._lock:
            self._rate_limited += 1
            now = self._clock()
            if now - self._last_decrease >= self.DECREASE_COOLDOWN_S:
                self._rate = max(self._min_rps, self._rate * self.DECREASE_FACTOR)
                self._lowest = min(self._lowest, self._rate)
                self._last_decrease = now
            self._last_change = now

    def succeeded(self) -> None:
        """Climb back by a tenth of the budget per second without a 429."""
        with self._lock:
            now = self._clock()
            step = self.max_rps * self.CLIMB_PER_S * max(0.0, now - self._last_change)
            self._rate = min(self.max_rps, self._rate + step)
            self._last_change = now

    def stats(self) -> PacerStats:
        with self._lock:
            return PacerStats(self._rate_limited, round(self._rate, 2), round(self._lowest, 2))


class Deadline:
    """When this process must be done with Stripe: the CLI's run deadline, or the Lambda
    invocation's remaining time. None: no deadline."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._at: float | None = None

    def set_in(self, seconds: float | None) -> None:
        self._at = None if seconds is None else self._clock() + seconds

    def left(self) -> float | None:
        return None if self._at is None else self._at - self._clock()


class OutOfTimeError(stripe.APIConnectionError):
    """The deadline leaves no time for another request; a passing condition, like a
    timeout, so the account is tried again later rather than marked failed for good."""

    def __init__(self, message: str) -> None:
        super().__init__(message, should_retry=False)  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class RetryPolicy:
    """Rate limits pass within seconds, so they get more tries and longer waits; a 5xx, a
    conflict or a dropped connection that persists is better tried again later in the run
    (the second pass, or the next delivery of the message) than waited on here."""

    rate_limit_tries: int = 8
    other_tries: int = 3
    base_s: float = 0.5
    rate_limit_cap_s: float = 8.0
    other_cap_s: float = 2.0
    retry_after_cap_s: float = 60.0
    min_request_s: float = 1.0  # less time than this left: no request is started

    def backoff(self, tries: int, rate_limited: bool,
                draw: Callable[[float, float], float]) -> float:
        """Exponential backoff with full jitter (uniform between 0 and the exponential)."""
        cap = self.rate_limit_cap_s if rate_limited else self.other_cap_s
        return draw(0.0, min(cap, self.base_s * 2.0 ** (tries - 1)))

    def worst_case_s(self, timeout_s: float) -> float:
        """The longest one request can take, every try timing out and every wait maximal
        (Retry-After aside): what a deadline must leave room for."""
        waits = sum(min(self.rate_limit_cap_s, self.base_s * 2.0 ** (n - 1))
                    for n in range(1, self.rate_limit_tries))
        return self.rate_limit_tries * timeout_s + waits


def endpoint_of(url: str) -> str:
    """The rate-limited endpoint of a URL: its path, ids of fetched objects left out."""
    parts = [p for p in urlsplit(url).path.split("/") if p]
    if len(parts) >= 3 and parts[-2] in {"plans", "holds", "accounts", "charges", "refunds"}:
        parts[-1] = "{id}"
    return "/" + "/".join(parts)


class PacedHttpClient(stripe.RequestsClient):
    """The SDK's own requests client, with our pacing, retries, deadline and counters.

    The SDK's retry loop (`request_with_retries`) is replaced: it retries a 429 only when
    Stripe sends `Stripe-Should-Retry: true`, which Stripe never does for a rate limit, and
    ignores `Retry-After`.
    """

    def __init__(
        self,
        pacer: Pacer | None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        draw: Callable[[float, float], float] = random.uniform,
    ) -> None:
        self._default_timeout: float = timeout
        self._local = threading.local()
        super().__init__(timeout=timeout)
        self.pacer = pacer
        self.retry = retry or RetryPolicy()
        self.deadline = Deadline()
        self._sleep = sleep
        self._draw = draw
        self._count_lock = threading.Lock()
        self.request_count = 0

    # RequestsClient reads `self._timeout` for each request: per thread, so each request can
    # be given only the time its deadline leaves.
    @property
    def _timeout(self) -> float:
        return float(getattr(self._local, "timeout", self._default_timeout))

    @_timeout.setter
    def _timeout(self, value: float) -> None:
        self._default_timeout = value

    def request_with_retries(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        post_data: Any = None,
        max_network_retries: int | None = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[Any, int, Mapping[str, str]]:
        endpoint = endpoint_of(url)
        tries = 0
        while True:
            tries += 1
            self._local.timeout = self._request_timeout()
            if self.pacer is not None:
                left = self.deadline.left()
                self.pacer.acquire(endpoint, None if left is None
                                   else left - self.retry.min_request_s)
                self._local.timeout = self._request_timeout()  # the wait took some time
            with self._count_lock:
                self.request_count += 1
            try:
                response: tuple[Any, int, Mapping[str, str]] | None = self.request(
                    method, url, headers, post_data)
                error: stripe.APIConnectionError | None = None
            except stripe.APIConnectionError as raised:
                response, error = None, raised
            wait = self._retry_in(response, error, tries)
            if wait is None:
                if response is not None:
                    return response
                assert error is not None
                raise error
            self._sleep(wait)

    def _request_timeout(self) -> float:
        left = self.deadline.left()
        if left is None:
            return self._default_timeout
        if left < self.retry.min_request_s:
            raise OutOfTimeError("no time left for another Stripe request before the deadline")
        return min(self._default_timeout, left)

    def _retry_in(
        self, response: tuple[Any, int, Mapping[str, str]] | None,
        error: stripe.APIConnectionError | None, tries: int,
    ) -> float | None:
        """Seconds to wait before the next try, or None to stop here."""
        headers: Mapping[str, str] = response[2] if response is not None else {}
        status = response[1] if response is not None else None
        should_retry = headers.get("stripe-should-retry")
        rate_limited = status == 429 and should_retry != "true"
        if status == 429:
            if rate_limited and self.pacer is not None:
                self.pacer.rate_limited()
            worth = True  # with or without Stripe-Should-Retry: a rate limit passes
        elif status is not None and self.pacer is not None and status < 400:
            self.pacer.succeeded()
            return None
        elif error is not None:
            worth = bool(error.should_retry)
        else:
            worth = should_retry != "false" and status is not None and (
                status == 409 or status >= 500)
        most = self.retry.rate_limit_tries if rate_limited else self.retry.other_tries
        if not worth or tries >= most:
            return None
        wait = self.retry.backoff(tries, rate_limited, self._draw)
        retry_after = _seconds(headers.get("retry-after"))
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.retry.retry_after_cap_s))
        left = self.deadline.left()
        if left is not None and left - wait < self.retry.min_request_s:
            return None  # the deadline cuts the retries short, not the batch
        return wait


def _seconds(value: str | None) -> float | None:
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return seconds if seconds is not None and 0 <= seconds < float("inf") else None
