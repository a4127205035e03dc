"""One account's re-check after its events: the night's pipeline, the real-time email.

The same `check_and_store` as the night (same reads, same rules, same Stripe budget: the
reader passed in is paced like the night's), but a look rather than a night: the state is
not saved, so tomorrow's baseline (the prefunding level a drop is measured from, the read
cursor) stays the night's. Then the notify step of `check/outcome.py`, with the notifier's
real-time decision (`Notifier.notify_realtime`) in place of the night's.

Everything is injected (`AccountSource`, `StateStore`, the notifier, the run date), so the
AWS half runs the same `recheck_account` from a check-queue message.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Protocol

import stripe

from balance_guard.check.outcome import NotifyResult, notify
from balance_guard.check.runner import RunOptions, check_and_store
from balance_guard.check.state_store import StateStore
from balance_guard.domain.policy import AccountSettings, Policy
from balance_guard.report.model import AccountReport, EmailRecord
from balance_guard.stripe.models import StripeAccount
from balance_guard.stripe.reader import AccountReadError, StripeReader, describe, is_transient

if TYPE_CHECKING:
    from balance_guard.webhook.coalesce import Pending

log = logging.getLogger(__name__)

RECHECK_PREFIX = "realtime"


class AccountSource(Protocol):
    def account(self, account_id: str) -> StripeAccount | None:
        """The connected account as Stripe shows it now; None when the platform has none
        by that id. Raises what the reader raises for anything else."""
        ...


class StripeAccounts:
    """`AccountSource` reading `GET /v1/accounts/{id}` through the (paced, counted) reader:
    one request, rather than the night's list of every account."""

    def __init__(self, reader: StripeReader) -> None:
        self.reader = reader

    def account(self, account_id: str) -> StripeAccount | None:
        try:
            # The reader has no public one-account read; its `_one` validates the object
            # with the same model as the night's list.
            return self.reader._one(f"/v1/accounts/{account_id}", "", StripeAccount)
        except stripe.InvalidRequestError as error:
            if error.http_status == 404:
                return None
            raise


class RealtimeNotifier(Protocol):
    def notify_realtime(
        self, account: AccountReport, *, account_email: str | None, settings: AccountSettings,
        as_of: date, run_id: str, country: str | None = None, last_night: date | None = None,
    ) -> NotifyResult: ...


@dataclass(frozen=True)
class _RealtimeStep:
    """The notify step's `AccountNotifier`, answering with the real-time decision."""

    notifier: RealtimeNotifier
    last_night: date | None

    def notify_account(
        self, account: AccountReport, *, account_email: str | None, settings: AccountSettings,
        as_of: date, run_id: str, country: str | None = None,
    ) -> NotifyResult:
        return self.notifier.notify_realtime(
            account, account_email=account_email, settings=settings, as_of=as_of,
            run_id=run_id, country=country, last_night=self.last_night)


@dataclass(frozen=True)
class RecheckResult:
    account_id: str
    status: str  # the report's status, or "missing" / "failed" when not checked
    emails: tuple[EmailRecord, ...] = ()
    stripe_requests: int = 0
    seconds: float = 0.0
    transient: bool = False  # failed for a reason that passes: worth another try
    reason: str = ""
    report: AccountReport | None = field(default=None, repr=False)


def recheck_run_id(now: datetime) -> str:
    """A run id of its own per re-check, the shape of the queue's run ids."""
    return f"{RECHECK_PREFIX}-{now.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}"


def recheck_account(
    account_id: str, *, reader: StripeReader, accounts: AccountSource, store: StateStore,
    notifier: RealtimeNotifier | None, policy: Policy, as_of: date,
    run_id: str | None = None,
) -> RecheckResult:
    """Check one account now and email it when `decide_realtime` says so. Never raises
    for a problem of this account or of Stripe: the result says what happened."""
    started, before = time.monotonic(), reader.request_count

    def result(status: str, *, emails: tuple[EmailRecord, ...] = (), transient: bool = False,
               reason: str = "", report: AccountReport | None = None) -> RecheckResult:
        return RecheckResult(account_id, status, emails, reader.request_count - before,
                             time.monotonic() - started, transient, reason, report)

    try:
        account = accounts.account(account_id)
    except (stripe.StripeError, AccountReadError) as error:
        reason = describe(error) if isinstance(error, stripe.StripeError) else str(error)
        return result("failed", transient=is_transient(error), reason=reason)
    if account is None:
        return result("missing", reason="no such connected account on this platform")
    last_night = store.load(account_id).last_as_of
    options = RunOptions(as_of=as_of, policy=policy, concurrency=1,
                         only_accounts=(account_id,), save_state=False)
    checked = check_and_store(reader, store, account, options)
    if checked.transient:
        return result("failed", transient=True, reason=checked.report.error or "",
                      report=checked.report)
    step = _RealtimeStep(notifier, last_night) if notifier is not None else None
    notified = notify(step, checked, as_of, run_id or recheck_run_id(datetime.now(UTC)))
    outcome = notified.outcome
    why = getattr(outcome, "reason", "") if outcome is not None else "no notifier"
    return result(notified.report.status, emails=tuple(outcome.sent_now) if outcome else (),
                  reason=str(why), report=notified.report)


Recheck = Callable[["Pending"], RecheckResult]
