"""Turn what Stripe sent for one account into the domain's snapshot (no I/O here).

Stripe's enums are open and people type odd things into its dashboard: a value this
module cannot use (an unknown payout status or interval, a weekday that is `null`, a
minimum balance keyed by `"c a d"`, a release date past any calendar) is left out with a
notice naming it, and everything else is still read, so every finding that can be computed
is. Nothing here raises for what Stripe sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from balance_guard.domain.money import ABSURD_AMOUNT, CurrencyError, normalize_currency
from balance_guard.domain.snapshot import (
    AccountSnapshot,
    BlockedRefund,
    Charge,
    Interval,
    PayoutSchedule,
    PayoutsStatus,
    ReserveHold,
    ReservePlan,
    ReservePlanType,
)
from balance_guard.stripe.models import (
    BalanceEntry,
    StripeAccount,
    StripeBalance,
    StripeBalanceSettings,
    StripeReserveHold,
    StripeReservePlan,
    StripeSchedule,
    moment,
    whole_number,
)
from balance_guard.text.display import displayable

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
HOLD_REASONS = frozenset({"charge", "standalone"})
PAYOUTS_STATUSES: dict[str, PayoutsStatus] = {"enabled": "enabled", "disabled": "disabled"}
_COUNTRY = re.compile(r"[A-Z]{2}")


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


def _quoted(value: object) -> str:
    """A value from Stripe as a notice may show it: quoted, escaped, cut short."""
    return repr(value)[:40]


def _weekdays(raw: Iterable[Any], notices: list[str]) -> tuple[str, ...]:
    days: list[str] = []
    for value in raw:
        day = value.strip().lower() if isinstance(value, str) else None
        if day in WEEKDAYS:
            days.append(day)
        else:
            notices.append(f"weekly payout day {_quoted(value)} is not a weekday; ignored")
    return tuple(days)


def _month_days(raw: Iterable[Any], notices: list[str]) -> tuple[int, ...]:
    days: list[int] = []
    for value in raw:
        day = whole_number(value)
        if day is not None and 1 <= day <= 31:
            days.append(day)
        else:
            notices.append(f"monthly payout day {_quoted(value)} is not a day of the month; "
                           "ignored")
    return tuple(days)


def _interval(raw: str, notices: list[str]) -> Interval:
    if raw in Interval._value2member_map_:
        return Interval(raw)
    notices.append(f"payout interval {_quoted(raw)} is unknown; payouts are treated as manual")
    return Interval.MANUAL


def payout_schedule(
    account: StripeAccount, settings: StripeBalanceSettings | None, notices: list[str],
) -> PayoutSchedule:
    """Balance settings are the newer source of the schedule; account settings back them up.
    What cannot be read is left out, with a notice."""
    legacy: StripeSchedule | None = account.settings.payouts.schedule \
        if account.settings and account.settings.payouts else None
    payouts = settings.payouts if settings else None
    current = payouts.schedule if payouts else None
    interval = (current.interval if current and current.interval else None) or (
        legacy.interval if legacy else None) or "daily"
    weekly = (current.weekly_payout_days if current else None) or (
        legacy.weekly_payout_days if legacy else None) or (
        [legacy.weekly_anchor] if legacy and legacy.weekly_anchor else [])
    anchor = whole_number(legacy.monthly_anchor) if legacy else None
    monthly = (current.monthly_payout_days if current else None) or (
        legacy.monthly_payout_days if legacy else None) or (
        [anchor] if anchor is not None else [])
    return PayoutSchedule(
        interval=_interval(interval, notices),
        weekly_payout_days=_weekdays(weekly, notices),
        monthly_payout_days=_month_days(monthly, notices),
        delay_days=whole_number(legacy.delay_days) if legacy else None,
    )


def _release_date(
    owner: str, name: str, value: object, notices: list[str]
) -> datetime | None:
    """A release timestamp as a datetime; None, with a notice, when it is no date."""
    if value is None:
        return None
    when = moment(value)
    if when is None:
        notices.append(f"{owner}: {name} {_quoted(value)} is not a date; its release date "
                       "is unknown")
    return when


def plan_of(plan: StripeReservePlan) -> ReservePlan:
    """Our reserve plan; a type Stripe added since is kept, with a notice on the plan."""
    notices: list[str] = []
    owner = f"reserve plan {plan.id[:40]}"
    if plan.type not in ReservePlanType._value2member_map_:
        notices.append(f"{owner}: type {_quoted(plan.type)} is unknown; its holds are still "
                       "counted")
    return ReservePlan(
        id=plan.id,
        type=plan.type,
        percent=plan.percent,
        release_after=_release_date(owner, "release_after", plan.fixed_release.release_after,
                                    notices) if plan.fixed_release else None,
        days_after_charge=plan.rolling_release.days_after_charge if plan.rolling_release else None,
        status=plan.status,
        notices=tuple(notices),
    )


def hold_of(hold: StripeReserveHold) -> ReserveHold:
    """Our reserve hold. An unknown reason or an unreadable release date never drops the
    hold: its funds are still held, and the hold carries a notice saying what was odd."""
    notices: list[str] = []
    owner = f"reserve hold {hold.id[:40]}"
    if hold.reason is not None and hold.reason not in HOLD_REASONS:
        notices.append(f"{owner}: reason {_quoted(hold.reason)} is unknown; its funds are "
                       "counted as held")
    schedule = hold.release_schedule
    return ReserveHold(
        id=hold.id, currency=hold.currency, amount=hold.amount,
        amount_releasable=hold.amount_releasable, reason=hold.reason,
        release_after=_release_date(owner, "release_after", schedule.release_after, notices)
        if schedule else None,
        scheduled_release=_release_date(owner, "scheduled_release",
                                        schedule.scheduled_release, notices)
        if schedule else None,
        reserve_plan=hold.reserve_plan, source_charge=hold.source_charge,
        notices=tuple(notices),
    )


def _minimum_balances(
    settings: StripeBalanceSettings, notices: list[str]
) -> dict[str, int | None]:
    payouts = settings.payouts
    raw = (payouts.minimum_balance_by_currency if payouts else None) or {}
    minimums: dict[str, int | None] = {}
    for key, value in raw.items():
        try:
            currency = normalize_currency(key)
        except CurrencyError:
            notices.append(f"minimum balance for {_quoted(key)}: not a currency code; ignored")
            continue
        amount = whole_number(value)
        if value is not None and (amount is None or not 0 <= amount < ABSURD_AMOUNT):
            notices.append(f"minimum balance for {currency}: {_quoted(value)} is not an "
                           "amount in minor units; that minimum is unknown")
            continue
        minimums[currency] = amount
    return minimums


def _payouts_status(
    settings: StripeBalanceSettings | None, notices: list[str]
) -> PayoutsStatus | None:
    status = settings.payouts.status if settings and settings.payouts else None
    known = PAYOUTS_STATUSES.get(status) if status is not None else None
    if status is not None and known is None:
        notices.append(f"payouts status {_quoted(status)} is unknown; payouts are judged by "
                       "the account's payouts_enabled")
    return known


def _country(raw: str | None, notices: list[str]) -> str:
    country = (raw or "US").strip().upper()
    if _COUNTRY.fullmatch(country):
        return country
    notices.append(f"country {_quoted(raw)} is not a two-letter country code; "
                   "US bank holidays are used")
    return "US"


def _reserve_notices(
    holds: tuple[ReserveHold, ...] | None, plans: dict[str, ReservePlan]
) -> list[str]:
    """What was odd about the holds still held, and about the plans behind them."""
    held = holds or ()
    used = sorted({h.reserve_plan for h in held if h.reserve_plan in plans})
    return [*(n for h in held for n in h.notices),
            *(n for plan_id in used for n in plans[plan_id].notices)]


def _metadata(raw: dict[str, Any], notices: list[str]) -> dict[str, str]:
    clean: dict[str, str] = {}
    for key, value in raw.items():
        if isinstance(value, str):
            clean[str(key)] = value
        else:
            notices.append(f"metadata {_quoted(key)}: not a string; ignored")
    return clean


def build_snapshot(data: StripeAccountData) -> AccountSnapshot:
    account = data.account
    notices = [*data.notices, *_reserve_notices(data.holds, data.plans)]
    prefunding = data.balance.refund_and_dispute_prefunding
    settings = data.settings
    try:
        default_currency = normalize_currency(account.default_currency or "usd")
    except CurrencyError:
        default_currency = "usd"
        notices.append(f"default currency {str(account.default_currency)[:16]!r} is not a "
                       "currency code; checking usd as the default")
    if settings is None:
        notices.append("minimum balance unknown: Stripe did not return the balance settings")
    name = account.business_profile.name if account.business_profile else None
    return AccountSnapshot(
        account_id=account.id,
        # Shown in the terminal, the HTML report, emails and the digest: never obeyed.
        name=displayable(name or "").strip() or displayable(account.id),
        email=account.email,
        country=_country(account.country, notices),
        default_currency=default_currency,
        metadata=_metadata(account.metadata, notices),
        payouts_enabled=account.payouts_enabled is not False,
        payouts_status=_payouts_status(settings, notices),
        schedule=payout_schedule(account, settings, notices),
        minimum_balances=_minimum_balances(settings, notices) if settings else None,
        available=_totals(data.balance.available),
        pending=_totals(data.balance.pending),
        prefund_available=_totals(prefunding.available) if prefunding else {},
        prefund_pending=_totals(prefunding.pending) if prefunding else {},
        charges=data.charges,
        blocked_refunds=data.blocked_refunds,
        reserve_holds=data.holds,
        reserve_plans=data.plans,
        # Notices quote what Stripe sent; for operations to read, never to obey.
        notices=tuple(displayable(notice) for notice in notices),
    )
