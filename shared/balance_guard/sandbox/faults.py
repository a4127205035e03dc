"""Injected trouble: Stripe's rate limit and random failures, reproducible from a seed."""

from __future__ import annotations

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


ALL_FAULTS: tuple[FaultKind, ...] = tuple(FaultKind)


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
                 kinds: Sequence[FaultKind] = ALL_FAULTS) -> None:
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
