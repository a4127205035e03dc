"""Check one connected account: read it from Stripe, apply the rules, report the outcome.

This is the imperative shell around the pure core; the local runner and the `check_account`
Lambda both call `check_account`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime

import stripe

from balance_guard.check.snapshot_builder import StripeAccountData, build_snapshot, hold_of, plan_of
from balance_guard.domain import reserves
from balance_guard.domain.findings import (
    Finding,
    RuleCode,
    account_status,
    most_severe_first,
)
from balance_guard.domain.headline import account_headlines
from balance_guard.domain.ledger import (
    AccountState,
    StoredCharge,
    StoredRefund,
    blocked_refunds,
    charges_since,
    exposure_charges,
    incremental,
    known_holds,
    merge,
    merge_holds,
    read_until,
    refunds_since,
    remember_prefund,
)
from balance_guard.domain.policy import AccountSettings, Policy, resolve_account_settings
from balance_guard.domain.rules import evaluate, lookback_start, position
from balance_guard.domain.snapshot import (
    AccountSnapshot,
    Interval,
    PayoutSchedule,
    PreviousCheck,
    ReserveHold,
    ReservePlan,
)
from balance_guard.report.model import AccountReport, ReserveRelease
from balance_guard.stripe.models import StripeAccount, StripeReserveHold
from balance_guard.stripe.reader import (
    PAGE_SIZE,
    AccountReadError,
    Listing,
    ReservesUnavailableError,
    StripeReader,
    describe,
    is_transient,
)

log = logging.getLogger(__name__)
RESERVES_UNKNOWN = "reserves unknown: "

# Released funds wait for someone to pay them out when payouts are manual or disabled.
MANUAL = PayoutSchedule(interval=Interval.MANUAL)


@dataclass
class AccountCheck:
    """The outcome of one account's check, with what the notifier and the state store need."""

    report: AccountReport
    settings: AccountSettings
    email: str | None
    snapshot: AccountSnapshot | None
    state: AccountState | None  # the state to save; None when nothing must be saved
    # The check failed for a reason that passes (a rate limit, a 5xx, the network, a
    # timeout): worth another try later tonight rather than a CHECK_FAILED for good.
    transient: bool = False


def read_account(
    reader: StripeReader, account: StripeAccount, state: AccountState, as_of: date,
    policy: Policy, now: datetime,
) -> tuple[AccountSnapshot, AccountState]:
    """Tonight's reads for one account (five requests in steady state) and its next state."""
    acct = account.id
    oldest = int(lookback_start(as_of, policy.exposure_lookback_days).timestamp())
    until = read_until(as_of, now, policy.timezone)
    builds_on_state = incremental(state, as_of, oldest)

    balance = reader.balance(acct)
    settings = reader.balance_settings(acct)
    charges = reader.charges(acct, charges_since(state, oldest, builds_on_state), until)
    refunds = reader.refunds(acct, refunds_since(state, oldest, builds_on_state), until)
    stop_at = known_holds(state, as_of, builds_on_state)
    notices = [*charges.notices, *refunds.notices]
    try:
        listing: Listing[StripeReserveHold] | None = reader.reserve_holds(acct, stop_at)
    except ReservesUnavailableError as refused:
        listing = None
        notices.append(f"{RESERVES_UNKNOWN}{refused}")
    notices += listing.notices if listing else []
    holds = None if listing is None else merge_holds(
        state.reserve_holds, {h.id: hold_of(h) for h in listing.items}, as_of, not stop_at)
    plans = _plans(reader, acct, list((holds or {}).values()), state.reserve_plans, notices)

    kept_charges, kept_refunds = merge(
        state,
        {c.id: StoredCharge(currency=c.currency, amount=c.amount,
                            amount_refunded=c.amount_refunded, status=c.status,
                            created=c.created) for c in charges.items},
        {r.id: StoredRefund(charge=r.charge, currency=r.currency, amount=r.amount,
                            status=r.status, pending_reason=r.pending_reason,
                            created=r.created) for r in refunds.items},
        oldest, builds_on_state,
    )
    snapshot = build_snapshot(StripeAccountData(
        account=account, balance=balance, settings=settings,
        charges=exposure_charges(kept_charges, kept_refunds),
        blocked_refunds=blocked_refunds(kept_refunds),
        holds=None if holds is None else tuple(holds[k] for k in sorted(holds)),
        plans=plans, notices=notices,
    ))
    next_state = AccountState(
        last_as_of=as_of, cursor=until, lookback_start=oldest, charges=kept_charges,
        refunds=kept_refunds,
        prefund_history=remember_prefund(state.prefund_history, as_of,
                                         snapshot.prefund_available),
        reserve_plans=plans, reserve_holds=holds or {},
        holds_frontier=[h.id for h in listing.items[:PAGE_SIZE]] if listing else [],
        holds_read_in_full_on=None if holds is None else (
            as_of if not stop_at else state.holds_read_in_full_on),
    )
    return snapshot, next_state


def _plans(
    reader: StripeReader, acct: str, holds: list[ReserveHold], known: dict[str, ReservePlan],
    notices: list[str],
) -> dict[str, ReservePlan]:
    """Reserve plans rarely change: each is read once, then kept in the account's state."""
    plans = dict(known)
    for plan_id in sorted({h.reserve_plan for h in holds if h.reserve_plan} - plans.keys()):
        try:
            plans[plan_id] = plan_of(reader.reserve_plan(acct, plan_id))
        except (stripe.StripeError, AccountReadError) as error:
            reason = describe(error) if isinstance(error, stripe.StripeError) else str(error)
            notices.append(f"reserve plan {plan_id[:40]} unreadable: {reason}")
    return plans


def evaluate_account(
    snapshot: AccountSnapshot, state: AccountState, as_of: date, policy: Policy,
) -> tuple[list[Finding], list[ReserveRelease], AccountSettings]:
    """The pure part: rules, reserve findings and releases for one snapshot."""
    settings = resolve_account_settings(policy, snapshot.metadata)
    checked_on, levels = state.previous_prefund(as_of)
    previous = PreviousCheck(checked_on=checked_on, prefund_available=levels)
    findings = evaluate(snapshot, as_of, policy, settings, previous)
    findings += reserves.reserve_findings(
        snapshot.reserve_holds, as_of, policy.release_horizon_days,
        snapshot.minimum_balances, snapshot.available,
    )
    releases = [
        ReserveRelease(currency=release.currency, amount=release.amount,
                       release_date=release.release_date, payout_date=payout, arrival_date=arrival)
        for release, payout, arrival in reserves.release_schedule(
            reserves.releases_from_holds(snapshot.reserve_holds or ()),
            snapshot.schedule if snapshot.automatic_payouts else MANUAL,
            snapshot.country, policy.arrival_business_days,
        )
        if release.release_date > as_of
    ]
    return most_severe_first(findings), releases, settings


def check_account(
    reader: StripeReader, account: StripeAccount, state: AccountState, as_of: date,
    policy: Policy, now: datetime | None = None,
) -> AccountCheck:
    """Never raises for a problem of this account: it becomes a CHECK_FAILED finding."""
    try:
        snapshot, next_state = read_account(reader, account, state, as_of, policy,
                                            now or datetime.now(UTC))
        findings, releases, settings = evaluate_account(snapshot, state, as_of, policy)
    except (stripe.StripeError, AccountReadError) as error:
        reason = describe(error) if isinstance(error, stripe.StripeError) else str(error)
        log.warning("check failed for %s: %s", account.id, reason)
        # Without a snapshot, the listed account's own metadata still picks the language.
        settings = resolve_account_settings(policy, {k: v for k, v in account.metadata.items()
                                                     if isinstance(v, str)})
        name = account.display_name
        failed = Finding.of(RuleCode.CHECK_FAILED, reason=reason)
        report = AccountReport(
            account_id=account.id, name=name, locale=settings.locale.value, status="error",
            findings=[failed], error=reason, notices=list(settings.notices),
        )
        return AccountCheck(report, settings, account.email, None, None,
                            transient=is_transient(error))

    positions = [
        _position_view(snapshot, currency, as_of, policy, settings)
        for currency in snapshot.currencies()
    ]
    report = AccountReport(
        account_id=account.id, name=snapshot.name, locale=settings.locale.value,
        status=account_status(findings),
        findings=findings, reserve_releases=releases, positions=positions,
        headlines=account_headlines(snapshot, as_of, policy, settings),
        notices=[*snapshot.notices, *settings.notices],
        reserves_known=snapshot.reserve_holds is not None,
    )
    keep = state.last_as_of is None or as_of >= state.last_as_of
    return AccountCheck(report, settings, snapshot.email, snapshot, next_state if keep else None)


def _position_view(
    snapshot: AccountSnapshot, currency: str, as_of: date, policy: Policy,
    settings: AccountSettings,
) -> dict[str, object]:
    pos = position(snapshot, currency, as_of, policy, settings)
    return {
        "currency": currency, "available": pos.available, "prefund": pos.prefund,
        "minimum": pos.minimum, "exposure": pos.exposure, "capacity": pos.capacity,
        "automatic_payouts": pos.automatic_payouts, "minimum_known": pos.minimum_known,
    }
