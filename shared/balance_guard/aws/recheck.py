"""check_account's other message: a webhook's re-check of one account, once its coalescing
window has closed.

The same `webhook.recheck_account` as the local `listen` (the night's pipeline, the reader
drawing on the stack's one Stripe budget, the real-time email policy of the notifier),
on the check queue beside the night's messages and with their time budget. The window is
taken first (`RecheckWindows.claim`), so a duplicate delivery re-reads nothing, and an
event arriving from then on opens the next window. A re-check that fails for a passing
reason (Stripe, SES) is handed back to SQS with the night's growing delay, up to
`RECHECK_ATTEMPTS` deliveries, then left for the night: a re-check is an early look, the
night still checks every account.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from aws_lambda_powertools.metrics import MetricUnit

from balance_guard.aws.common import logger, metrics
from balance_guard.aws.dynamo import Claim
from balance_guard.aws.messages import RecheckMessage
from balance_guard.aws.runtime import Runtime

if TYPE_CHECKING:
    from balance_guard.check.outcome import NotifyResult
    from balance_guard.webhook.recheck import RecheckResult

RECHECK_ATTEMPTS = 3  # deliveries of one re-check, fewer than the queue's maxReceiveCount
# How long a delivery holds its window: longer than check_account's timeout (300 s), so
# that only a delivery whose Lambda died lets another take over.
RECHECK_LEASE_S = 330.0


class RecheckRetryError(Exception):
    """The re-check failed for a passing reason: SQS delivers it again."""


def handle_recheck(rt: Runtime, message: RecheckMessage, attempts: int,
                   hand_back: Callable[[int], None]) -> RecheckResult | None:
    """One re-check message; None when its window needs no check (already done, being
    done, or replaced by a later one). Raises RecheckRetryError, after `hand_back(attempts)`
    set the redelivery's delay, for a passing failure before the last attempt."""
    from balance_guard.webhook.recheck import StripeAccounts, recheck_account

    account_id = message.account_id
    with logger.append_context_keys(account_id=account_id, window=message.window):
        claim, window = rt.recheck_windows.claim(account_id, message.window, RECHECK_LEASE_S)
        if claim not in (Claim.TAKEN, Claim.GONE):
            logger.info("re-check skipped: its window is %s", claim.value)
            return None
        reader = rt.reader()
        result = recheck_account(account_id, reader=reader, accounts=StripeAccounts(reader),
                                 store=rt.state_store, notifier=_RealtimeOnFirstUse(rt),
                                 policy=rt.settings.policy, as_of=rt.today())
        undelivered = result.report is not None and result.report.undelivered
        passing = result.transient or undelivered
        details = {
            "status": result.status, "emails_sent": len(result.emails),
            "stripe_requests": result.stripe_requests, "attempt": attempts,
            "events": window.events if window else None,
            "event_types": list(window.event_types) if window else None,
            "rules": list(window.rules) if window else None, "reason": result.reason}
        metrics.add_metric(name="StripeRequests", unit=MetricUnit.Count,
                           value=result.stripe_requests)
        if passing and attempts < RECHECK_ATTEMPTS:
            rt.recheck_windows.release(account_id, message.window)
            logger.warning("re-check failed for a passing reason; SQS will deliver it again",
                           extra=details)
            metrics.add_metric(name="ChecksRetried", unit=MetricUnit.Count, value=1)
            hand_back(attempts)
            raise RecheckRetryError(result.reason or "a passing failure")
        rt.recheck_windows.finish(account_id, message.window)
        metrics.add_metric(name="RechecksRun", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="RealtimeEmailsSent", unit=MetricUnit.Count,
                           value=len(result.emails))
        metrics.add_metric(name="EmailsSent", unit=MetricUnit.Count, value=len(result.emails))
        if passing:
            metrics.add_metric(name="EmailsFailed", unit=MetricUnit.Count,
                               value=int(undelivered))
            logger.warning("re-check left for the night after %d attempts", attempts,
                           extra=details)
        else:
            logger.info("account re-checked", extra=details)
        return result


class _RealtimeOnFirstUse:
    """`rt.notifier`'s real-time decision, built within the notify step (as the night's
    `_NotifierOnFirstUse`): a notifier that cannot be built costs the email, not the check."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    @property
    def notify_realtime(self) -> Callable[..., NotifyResult]:
        return self.rt.notifier.notify_realtime
