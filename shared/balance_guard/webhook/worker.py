"""The local shell's re-checks: one thread taking closed windows from the `Coalescer` and
re-checking each account in turn, until asked to stop.

Every wait is bounded, so a stop request is seen within `POLL_S`; a re-check failing for
a passing reason (a Stripe 5xx, a rate limit, the network) is tried again `RETRY_S` later,
`MAX_ATTEMPTS` times in all, then left for the night.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from balance_guard.domain.findings import RuleCode
from balance_guard.webhook.coalesce import Coalescer, Pending, SinkFullError
from balance_guard.webhook.events import Trigger
from balance_guard.webhook.recheck import RecheckResult

log = logging.getLogger(__name__)

POLL_S = 0.5
RETRY_S = 60.0
MAX_ATTEMPTS = 3


class RecheckWorker:
    def __init__(self, coalescer: Coalescer, recheck: Callable[[Pending], RecheckResult], *,
                 retry_s: float = RETRY_S, on_result: Callable[[RecheckResult], None] | None = None,
                 ) -> None:
        self.coalescer = coalescer
        self.recheck = recheck
        self.retry_s = retry_s
        self.on_result = on_result
        self.done = 0
        self._stop = threading.Event()
        self._attempts: dict[str, int] = {}
        self._retries = Coalescer(retry_s, clock=coalescer.clock)
        self._thread = threading.Thread(target=self._loop, name="balance-guard-recheck",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float) -> bool:
        """Start no other re-check; wait up to `timeout` for the one in flight. False when
        it is still running (the process may end under it)."""
        self._stop.set()
        self.coalescer.wake()
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def left(self) -> list[Pending]:
        """Re-checks asked for and not run (once stopped): the night covers them."""
        return self.coalescer.drain() + self._retries.drain()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.coalescer.wait(POLL_S)
            for pending in self._retries.take_due() + self.coalescer.take_due():
                if self._stop.is_set():
                    self._put_back(pending)
                    return
                self._run(pending)

    def _run(self, pending: Pending) -> None:
        try:
            result = self.recheck(pending)
        except Exception:  # a bug of ours fails this re-check, never the listener
            log.exception("re-check of %s failed", pending.account)
            return
        self.done += 1
        log.info("re-check of %s after %d event(s) (%s): %s, %d email(s), %d Stripe "
                 "request(s), %.2f s%s", pending.account, pending.events,
                 ", ".join(pending.event_types), result.status, len(result.emails),
                 result.stripe_requests, result.seconds,
                 f"; {result.reason}" if result.reason else "")
        attempts = self._attempts.pop(pending.account, 0) + 1
        if result.transient and attempts < MAX_ATTEMPTS:
            self._attempts[pending.account] = attempts
            self._retry(pending)
        elif result.transient:
            log.warning("re-check of %s left for the night after %d attempts",
                        pending.account, attempts)
        if self.on_result is not None:
            self.on_result(result)

    def _retry(self, pending: Pending) -> None:
        trigger = Trigger(pending.event_ids[0] if pending.event_ids else "", "retry",
                          pending.account, tuple(sorted(pending.rules, key=list(RuleCode).index)))
        try:
            self._retries.add(trigger)
        except SinkFullError:
            log.warning("re-check of %s not retried: too many waiting", pending.account)

    def _put_back(self, pending: Pending) -> None:
        self._retries.add(Trigger("", "stopped", pending.account, tuple(pending.rules)))
