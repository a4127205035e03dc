"""The nightly run on one machine: every account checked, stored, notified, reported.

Accounts are checked by a bounded pool of threads sharing one paced Stripe client; on AWS
the same `check_and_store` and notify step (`check/outcome.py`) run once per SQS message
instead.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol

from balance_guard.check.account import RESERVES_UNKNOWN, AccountCheck, check_account
from balance_guard.check.outcome import AccountNotifier, failed_report, notify
from balance_guard.check.state_store import StateStore
from balance_guard.domain.policy import Policy, resolve_account_settings
from balance_guard.report.model import AccountReport, Report, StripeLimits, totals_of
from balance_guard.stripe.models import StripeAccount
from balance_guard.stripe.reader import Listing, StripeReader

log = logging.getLogger(__name__)


class StopRequest(Protocol):
    reason: str

    def is_set(self) -> bool: ...


@dataclass(frozen=True)
class RunOptions:
    as_of: date
    policy: Policy
    concurrency: int = 8
    only_accounts: tuple[str, ...] = ()
    # `check` is a look, not a night: it must not move tomorrow's baseline.
    save_state: bool = True


def new_run_id(started: datetime) -> str:
    """Sortable and unique enough to tell two runs of the same night apart."""
    return f"{started.strftime('%Y-%m-%dT%H:%M:%SZ')}-{secrets.token_hex(2)}"


def check_and_store(
    reader: StripeReader, store: StateStore, account: StripeAccount, options: RunOptions,
) -> AccountCheck:
    """One account, end to end; a bug in our own code fails this account, not the run.

    The state store's own errors are raised: on AWS they are worth a retry of the message,
    and the local runner reports them as that account's failure.
    """
    state = store.load(account.id)
    try:
        result = check_account(reader, account, state, options.as_of, options.policy)
    except Exception as error:
        log.exception("unexpected error while checking %s", account.id)
        report = failed_report(account.id, f"internal error: {type(error).__name__}",
                               options.policy)
        return AccountCheck(report, resolve_account_settings(options.policy, {}),
                            account.email, None, None)
    if result.state is not None and options.save_state:
        store.save(account.id, result.state)
    return result


def _chosen(
    listing: Listing[StripeAccount], options: RunOptions,
) -> tuple[list[StripeAccount], list[AccountReport]]:
    """The accounts to check, and the reports of those Stripe sent malformed."""
    accounts = listing.items
    unreadable = [
        failed_report(ident, f"Stripe sent a malformed account object: {problem}",
                      options.policy)
        for ident, problem in listing.rejected
    ]
    if options.only_accounts:
        wanted = set(options.only_accounts)
        accounts = [a for a in accounts if a.id in wanted]
        unreadable = [r for r in unreadable if r.account_id in wanted]
    for notice in listing.notices:
        log.warning("%s", notice)
    return accounts, unreadable


def run_night(
    reader: StripeReader,
    store: StateStore,
    notifier: AccountNotifier | None,
    options: RunOptions,
    on_account: Callable[[AccountReport], None] | None = None,
    stop: StopRequest | None = None,
) -> Report:
    """Check every connected account (or the chosen ones) and build the run's report.

    Raises `PlatformError` when the platform itself cannot be reached or authenticated.
    """
    started = datetime.now(UTC)
    clock = time.monotonic()
    run_id = new_run_id(started)
    reader.platform_account_id()
    listing = reader.list_accounts()
    accounts, unreadable = _chosen(listing, options)

    def checked(account: StripeAccount) -> AccountCheck | AccountReport:
        try:
            return check_and_store(reader, store, account, options)
        except Exception as error:
            log.exception("the state store failed for %s", account.id)
            return failed_report(account.id, f"state store error: {type(error).__name__}",
                                 options.policy)

    def finish(outcome: AccountCheck | AccountReport) -> AccountReport:
        report = outcome if isinstance(outcome, AccountReport) else notify(
            notifier, outcome, options.as_of, run_id).report
        if on_account is not None:
            on_account(report)
        return report

    def interrupted(account: StripeAccount) -> AccountReport | None:
        if stop is None or not stop.is_set():
            return None
        return finish(failed_report(account.id, f"not checked: run interrupted ({stop.reason})",
                                    options.policy))

    def first_pass(account: StripeAccount) -> AccountReport | None:
        skipped = interrupted(account)
        if skipped is not None:
            return skipped
        outcome = checked(account)
        if isinstance(outcome, AccountCheck) and outcome.transient:
            return None  # tried again once every other account had its turn
        return finish(outcome)

    with ThreadPoolExecutor(max_workers=max(1, options.concurrency)) as pool:
        first = list(pool.map(first_pass, accounts))
        again = [a for a, report in zip(accounts, first, strict=True) if report is None]
        if again:
            log.info("checking %d account(s) again after a passing Stripe error", len(again))
        second = iter(list(pool.map(lambda a: interrupted(a) or finish(checked(a)), again)))
    reports = [report if report is not None else next(second) for report in first]
    reports += unreadable

    reports, notices = _said_once(reader, reports, stop)
    return Report(
        run_id=run_id, as_of=options.as_of, accounts=reports,
        totals=totals_of(reports, reader.request_count, time.monotonic() - clock,
                         stripe_limits(reader, len(again))),
        notices=notices,
    )


def _said_once(
    reader: StripeReader, reports: list[AccountReport], stop: StopRequest | None,
) -> tuple[list[AccountReport], list[str]]:
    """Platform-level notices, and the reports without the per-account copies of them."""
    if reader.reserves_available is False:
        reports = [r.model_copy(update={"notices": [
            n for n in r.notices if not n.startswith(RESERVES_UNKNOWN)]}) for r in reports]
    notices = platform_notices(reader, reports)
    if stop is not None and stop.is_set():
        notices.append(f"run interrupted ({stop.reason}): accounts and emails not started "
                       "are left for the next run")
    return reports, notices


def stripe_limits(reader: StripeReader, accounts_retried: int) -> StripeLimits:
    stats = reader.pacer_stats()
    if stats is None:
        return StripeLimits(accounts_retried=accounts_retried)
    return StripeLimits(rate_limited=stats.rate_limited, max_rps=reader.max_rps,
                        settled_rps=stats.settled_rps, lowest_rps=stats.lowest_rps,
                        accounts_retried=accounts_retried)


def platform_notices(reader: StripeReader, reports: list[AccountReport]) -> list[str]:
    """What was refused on every account is the key's problem, said once."""
    notices = []
    if reader.reserves_available is False:
        notices.append(
            f"Stripe refused the Reserves API to this platform ({reader.reserves_refusal}): "
            "reserve holds and releases are unknown for every account tonight. Give the key "
            "read access to reserves, or ask Stripe for access to the Reserves API.")
    errors = {r.error for r in reports}
    if len(reports) >= 2 and all(r.status == "error" for r in reports) and len(errors) == 1:
        [error] = errors
        if error and error.startswith("Stripe 403"):
            notices.append(f"Stripe refused every account's check with the same error "
                           f"({error}): the platform key lacks a permission it needs.")
    return notices


def missing_accounts(options: RunOptions, report: Report) -> list[str]:
    """Accounts asked for with `--account` that the platform does not have."""
    seen = {a.account_id for a in report.accounts}
    return [a for a in options.only_accounts if a not in seen]
