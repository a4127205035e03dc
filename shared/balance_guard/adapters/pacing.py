"""Keep the whole run under the platform's Stripe rate limit.

The SDK only retries a 429 when Stripe says so and then backs off blindly, so staying under
the limit is ours to do. Every request, retries included, goes through one token bucket
shared by all worker threads of the process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import stripe


class RateLimiter:
    """Token bucket: at most `rate` requests per second, with a burst of `burst`."""

    def __init__(
        self,
        rate: float,
        burst: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("the request rate must be positive")
        self.rate = rate
        self.burst = max(burst, 1.0)
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.burst
        self._updated = clock()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Block until one request may go out."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            self._tokens -= 1.0
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if wait > 0:
            self._sleep(wait)


class PacedHttpClient(stripe.RequestsClient):
    """The SDK's own requests client, paced and counted; the SDK's retries go through it too."""

    def __init__(self, limiter: RateLimiter | None, timeout: float = 30.0) -> None:
        super().__init__(timeout=timeout)
        self._limiter = limiter
        self._count_lock = threading.Lock()
        self.request_count = 0

    def request(  # type: ignore[override]  # RequestsClient narrows HTTPClient's signature
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
    ) -> tuple[bytes, int, Mapping[str, str]]:
        if self._limiter is not None:
            self._limiter.acquire()
        with self._count_lock:
            self.request_count += 1
        return super().request(method, url, headers, post_data)
