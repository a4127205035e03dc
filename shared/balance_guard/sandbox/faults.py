"""Injected trouble: Stripe's rate limits and random failures, reproducible from a seed."""

from __future__ import annotations

import argparse
import random
import threading
import time
from collections.abc import Callable, Sequence
from enum import StrEnum


class FaultKind(StrEnum):
    SERVER_ERROR = "500"
    UNAVAILABLE = "503"
    # A timeout would make tests wait for the client's timeout; a connection closed with
    # no answer exercises the same retry path (the SDK's APIConnectionError) at once.
    DROP = "drop"
    MALFORMED = "malformed"  # a 200 whose body is cut short: not JSON
    # Stripe's one retryable 429: another request holds the object's lock. It carries
    # `Stripe-Should-Retry: true`, so the SDK retries it on its own.
    LOCK_TIMEOUT = "lock_timeout"
    # A 429 exactly like a real (global) rate limit: code `rate_limit`,
    # `Stripe-Rate-Limited-Reason: global-rate` and no Stripe-Should-Retry, so the SDK
    # raises RateLimitError at once and backing off is the client's job.
    RATE_LIMITED = "429"


ALL_FAULTS: tuple[FaultKind, ...] = tuple(FaultKind)
# What `fault_rate` injects unless the caller names kinds: the original four, in their
# original order, so a seed picks the same faults it always did. The 429 kinds are opt-in.
DEFAULT_FAULTS: tuple[FaultKind, ...] = (
    FaultKind.SERVER_ERROR, FaultKind.UNAVAILABLE, FaultKind.DROP, FaultKind.MALFORMED)


def parse_fault_kinds(text: str) -> tuple[FaultKind, ...]:
    """`500,drop,429` -> those kinds, in that order; `all` means every kind.

    Raises ValueError naming the accepted values for anything else.
    """
    names = [part.strip() for part in text.split(",") if part.strip()]
    if names == ["all"]:
        return ALL_FAULTS
    kinds: list[FaultKind] = []
    for name in names:
        try:
            kind = FaultKind(name)
        except ValueError:
            accepted = ", ".join(k.value for k in FaultKind)
            raise ValueError(f"unknown fault kind {name!r} (accepted: {accepted}, or all)"
                             ) from None
        if kind not in kinds:
            kinds.append(kind)
    if not kinds:
        raise ValueError("name at least one fault kind")
    return tuple(kinds)


def fault_kinds_argument(text: str) -> tuple[FaultKind, ...]:
    """`parse_fault_kinds` for argparse: a wrong name is a one-line usage error."""
    try:
        return parse_fault_kinds(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


class TokenBucket:
    """Allows `rate` requests a second on average, and bursts of up to `burst`."""

    def __init__(
        self, rate: float, burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0:
            raise ValueError("a rate limit must be above 0 requests per second")
        self.rate = rate
        # One second's worth by default: Stripe's limits are stated per second.
        self.burst = burst if burst is not None else max(1.0, rate)
        self._clock = clock
        self._tokens = self.burst
        self._last = clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        """Spend one token if there is one; a refused request spends nothing."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return True
            return False


class FaultPlan:
    """Which requests fail, decided by the seed and the request's sequence number alone.

    Deriving each decision from (seed, n) rather than from one shared generator keeps a run
    reproducible whatever order concurrent threads happen to draw in.
    """

    def __init__(self, rate: float, seed: int = 0,
                 kinds: Sequence[FaultKind] = DEFAULT_FAULTS) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError("fault_rate must be between 0 and 1")
        if rate and not kinds:
            raise ValueError("a fault rate needs at least one kind of fault")
        self.rate = rate
        self.seed = seed
        self.kinds = tuple(kinds)

    def decide(self, n: int) -> FaultKind | None:
        if self.rate <= 0.0:
            return None
        draw = random.Random(f"balance-guard-sandbox:{self.seed}:{n}")
        if draw.random() >= self.rate:
            return None
        return draw.choice(self.kinds)
