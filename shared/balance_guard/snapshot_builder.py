"""Turn what Stripe sent for one account into the domain's snapshot (no I/O here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from balance_guard.adapters.stripe_models import (
    BalanceEntry,
    StripeAccount,
    StripeBalance,
    StripeBalanceSettings,
    StripeReserveHold,
    StripeReservePlan,
    utc,
)
from balance_guard.domain.money import CurrencyError, normalize_currency
from balance_guard.domain.snapshot import (
    AccountSnapshot,
    BlockedRefund,
    Charge,
    Interval,
    PayoutSchedule,
    ReserveHold,
    ReservePlan,
    ReservePlanType,
)

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass
class StripeAccountData:
    """Everything read from Stripe for one account tonight, already validated."""

    account: StripeAccount
    balance: StripeBalance
    settings: StripeBalanceSettings | None
    charges: tuple[Charge, ...]
    blocked_refunds: tuple[BlockedRefund, ...]
    holds: tuple[ReserveHold, ...] | None
    plans: dict[str, ReservePlan]
    notices: list[str] = field(default_factory=list)


def _totals(entries: list[BalanceEntry]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for entry in entries:
        totals[entry.currency] = totals.get(entry.currency, 0) + entry.amount
    return totals


def payout_schedule(
    account: StripeAccount, settings: StripeBalanceSettings | None
) -> PayoutSchedule:
    """Balance settings are the newer source of the schedule; account settings back them up."""
    legacy = account.settings.payouts.schedule if account.settings and account.settings.payouts \
        else None
    current = settings.payments.payouts.schedule if settings and settings.payments and \
        settings.payments.payouts else None
    interval = (current.interval if current and current.interval else None) or (
        legacy.interval if legacy else None) or "daily"
    weekly = (current.weekly_payout_days if current else None) or (
        legacy.weekly_payout_days if legacy else None) or (
        [legacy.weekly_anchor] if legacy and legacy.weekly_anchor else [])
    monthly = (current.monthly_payout_days if current else None) or (
        legacy.monthly_payout_days if legacy else None) or (
        [legacy.monthly_anchor] if legacy and isinstance(legacy.monthly_anchor, int) else [])
    return PayoutSchedule(
        interval=Interval(interval) if interval in Interval._value2member_map_ else Interval.MANUAL,
        weekly_payout_days=tuple(d for d in (w.lower() for w in weekly) if d in WEEKDAYS),
        monthly_payout_days=tuple(d for d in monthly if 1 <= d <= 31),
        delay_days=legacy.delay_days if legacy else None,
    )


def plan_of(plan: StripeReservePlan) -> ReservePlan:
    return ReservePlan(
        id=plan.id,
        type=ReservePlanType(plan.type),
        percent=plan.percent,
        release_after=utc(plan.fixed_release.release_after)
        if plan.fixed_release and plan.fixed_release.release_after else None,
        days_after_charge=plan.rolling_release.days_after_charge if plan.rolling_release else None,
        status=plan.status,
    )


def hold_of(hold: StripeReserveHold) -> ReserveHold:
    schedule = hold.release_schedule
    return ReserveHold(
        id=hold.id, currency=hold.currency, amount=hold.amount,
        amount_releasable=hold.amount_releasable, reason=hold.reason,
        release_after=utc(schedule.release_after) if schedule and schedule.release_after else None,
        scheduled_release=utc(schedule.scheduled_release)
        if schedule and schedule.scheduled_release else None,
        reserve_plan=hold.reserve_plan, source_charge=hold.source_charge,
    )


def _metadata(raw: dict[str, Any], notices: list[str]) -> dict[str, str]:
    clean: dict[str, str] = {}
    for key, value in raw.items():
        if isinstance(value, str):
            clean[str(key)] = value
        else:
            notices.append(f"metadata {str(key)[:40]}: not a string; ignored")
    return clean


def build_snapshot(data: StripeAccountData) -> AccountSnapshot:
    account = data.account
    notices = list(data.notices)
    prefunding = data.balance.refund_and_dispute_prefunding
    settings = data.settings
    payouts = settings.payments.payouts if settings and settings.payments else None
    try:
        default_currency = normalize_currency(account.default_currency or "usd")
    except CurrencyError:
        default_currency = "usd"
        notices.append(f"default currency {str(account.default_currency)[:16]!r} is not a "
                       "currency code; checking usd as the default")
    if settings is None:
        notices.append("minimum balance unknown: Stripe did not return the balance settings")
    return AccountSnapshot(
        account_id=account.id,
        name=(account.business_profile.name if account.business_profile else None)
        or account.id,
        email=account.email,
        country=(account.country or "US").upper(),
        default_currency=default_currency,
        metadata=_metadata(account.metadata, notices),
        payouts_enabled=account.payouts_enabled is not False,
        payouts_status=payouts.status if payouts else None,
        schedule=payout_schedule(account, settings),
        minimum_balances=settings.minimum_balances() if settings else None,
        available=_totals(data.balance.available),
        pending=_totals(data.balance.pending),
        prefund_available=_totals(prefunding.available) if prefunding else {},
        prefund_pending=_totals(prefunding.pending) if prefunding else {},
        charges=data.charges,
        blocked_refunds=data.blocked_refunds,
        reserve_holds=data.holds,
        reserve_plans=data.plans,
        notices=tuple(notices),
    )
