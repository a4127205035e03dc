"""What becomes of an account once its check is over, the same in both shells: the notify
step (hand the checked and stored account to the notifier, which decides by the policy
whether the building hears of it, renders, claims in the send log, sends and records; then
fold what happened into the account's report), and the report of an account that could not
be checked. The shells differ only in wiring: the notifier they pass (its sender, send log,
policy and clock) and, on AWS, a `Redelivery` naming what SQS should deliver again rather
than have noted. Imports domain/ and report/ only, so that every Lambda function can use it
without loading the Stripe SDK or the email templates; `notify.Notifier` meets its Protocol.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Protocol

from balance_guard.domain.policy import AccountSettings, Policy
from balance_guard.report.model import AccountReport, EmailRecord, not_checked

if TYPE_CHECKING:
    from balance_guard.check.account import AccountCheck

log = logging.getLogger(__name__)


class NotifyResult(Protocol):
    emails: list[EmailRecord]
    notices: list[str]
    in_flight: bool
    failed: bool

    @property
    def sent_now(self) -> list[EmailRecord]: ...


class AccountNotifier(Protocol):
    def notify_account(
        self, account: AccountReport, *, account_email: str | None, settings: AccountSettings,
        as_of: date, run_id: str, country: str | None = None,
    ) -> NotifyResult: ...


@dataclass(frozen=True)
class Redelivery:
    """A shell that can deliver the account again (SQS) wants a passing failure raised, for
    another delivery, unless this delivery is `final` (the queue's last): then it is noted
    like any other, so that the run still completes."""

    attempts: int
    final: bool
    passing: tuple[type[Exception], ...]
    # Raised while another delivery holds the account's claim: once that claim's lease
    # lapses, a redelivery sends the email if the other delivery died before sending it.
    claim_held: Callable[[str], Exception]


@dataclass(frozen=True)
class Notified:
    """The account's report with what the notify step did; `outcome` is None when there was
    no notifier, or when it raised (the report's notices then say why)."""

    report: AccountReport
    outcome: NotifyResult | None = None

    @property
    def sent_now(self) -> int:
        """How many emails this call sent (not those of an earlier attempt)."""
        return len(self.outcome.sent_now) if self.outcome is not None else 0


def failed_report(account_id: str, reason: str, policy: Policy,
                  name: str | None = None) -> AccountReport:
    """An account not checked, in the platform's language: no account settings were read."""
    return not_checked(account_id, reason, policy.default_locale.value, name)


def notify(
    notifier: AccountNotifier | None, check: AccountCheck, as_of: date, run_id: str,
    redelivery: Redelivery | None = None,
) -> Notified:
    """Email the account's admins when something is due. A failure to email is this
    account's, never the run's: it becomes a notice and marks the report undelivered,
    except what `redelivery` passes up while its delivery is not the final one."""
    report = check.report
    if notifier is None:
        return Notified(report)
    try:
        outcome = notifier.notify_account(
            report, account_email=check.email, settings=check.settings, as_of=as_of,
            run_id=run_id, country=check.snapshot.country if check.snapshot else None)
    except Exception as error:
        if redelivery is None or not isinstance(error, redelivery.passing):
            # Another delivery would not help (a bug of ours, a full disk, a notifier that
            # could not be built): noted at once.
            log.exception("notifying %s failed", report.account_id)
            return Notified(_undelivered(report, f"email not sent: {type(error).__name__}"))
        if not redelivery.final:
            raise
        log.exception("email to %s not sent after %d attempts", report.account_id,
                      redelivery.attempts)
        return Notified(_undelivered(report, f"email not sent after {redelivery.attempts} "
                                             f"attempts: {str(error)[:300]}"))
    if outcome.in_flight and redelivery is not None and not redelivery.final:
        raise redelivery.claim_held("another delivery holds this account's email claim")
    return Notified(report.model_copy(update={"emails": [*report.emails, *outcome.emails],
                                              "notices": [*report.notices, *outcome.notices],
                                              "undelivered": outcome.failed}), outcome)


def _undelivered(report: AccountReport, notice: str) -> AccountReport:
    return report.model_copy(update={"notices": [*report.notices, notice],
                                     "undelivered": True})
