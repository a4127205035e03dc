from __future__ import annotations

import threading

from balance_guard.adapters.pacing import RateLimiter


class FakeTime:
    """A clock that only moves when the limiter sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.lock = threading.Lock()

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


def test_requests_beyond_the_burst_are_spaced_at_the_rate() -> None:
    time = FakeTime()
    limiter = RateLimiter(10, burst=2, clock=time.clock, sleep=time.sleep)
    for _ in range(12):
        limiter.acquire()
    # two go at once, the other ten wait a tenth of a second each
    assert abs(time.now - 1.0) < 1e-9


def test_idle_time_refills_at_most_the_burst() -> None:
    time = FakeTime()
    limiter = RateLimiter(5, burst=1, clock=time.clock, sleep=time.sleep)
    limiter.acquire()
    time.now += 100
    limiter.acquire()
    limiter.acquire()
    assert abs(time.now - 100.2) < 1e-9


def test_a_non_positive_rate_is_refused() -> None:
    import pytest

    with pytest.raises(ValueError, match="positive"):
        RateLimiter(0)
