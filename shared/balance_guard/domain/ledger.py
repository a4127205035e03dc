"""What one account's refund exposure is built from, kept between nights.

A full scan of 90 days of charges every night would cost one request per 100 charges per
account. Instead each night reads only the charges and refunds created since the previous
read, plus those still pending (a bank-debit payment that succeeds days later, a refund
waiting for funds), and merges them by id into what earlier nights kept.

What is still refundable on a charge is its amount less its refunds. Refunds are kept by
id, so reading one twice (the reads overlap on purpose, for clock skew and Stripe's list
lag) never counts it twice; the charge's own `amount_refunded` covers refunds we could not
read. The larger of the two is used, never their sum.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from balance_guard.domain.reserves import hold_release_date
from balance_guard.domain.snapshot import BlockedRefund, Charge, ReserveHold, ReservePlan

# Refunds in these states have taken (or are taking) money back from their charge.
REFUND_TAKES_MONEY = frozenset({"pending", "succeeded", "requires_action"})
READ_OVERLAP_SECONDS = 600
# Known reserve holds are trusted for a week; then the whole list is read again, in case
# Stripe released something early (a manual-release plan) or changed an amount.
HOLDS_REFRESH_DAYS = 7
PREFUND_HISTORY_KEPT = 60  # nights of prefunding levels kept: enough for any reminder window


class StoredCharge(BaseModel):
    model_config = ConfigDict(frozen=True)

    currency: str
    amount: int
    amount_refunded: int = 0
    status: str = "succeeded"
    created: int  # unix seconds


class StoredRefund(BaseModel):
    model_config = ConfigDict(frozen=True)

    charge: str | None = None
    currency: str
    amount: int
    status: str | None = None
    pending_reason: str | None = None
    created: int

    @property
    def takes_money(self) -> bool:
        return self.status in REFUND_TAKES_MONEY

    @property
    def blocked(self) -> bool:
        return self.status == "pending" and self.pending_reason == "insufficient_funds"


class AccountState(BaseModel):
    """Per-account memory between checks (persisted by a state store)."""

    last_as_of: date | None = None
    cursor: int | None = None  # unix seconds up to which charges and refunds were read
    lookback_start: int | None = None  # the oldest charge the kept ones were read from
    charges: dict[str, StoredCharge] = Field(default_factory=dict)
    refunds: dict[str, StoredRefund] = Field(default_factory=dict)
    prefund_history: dict[date, dict[str, int]] = Field(default_factory=dict)
    reserve_plans: dict[str, ReservePlan] = Field(default_factory=dict)
    reserve_holds: dict[str, ReserveHold] = Field(default_factory=dict)
    # The newest holds of the last read, released or not: where tonight's read may stop.
    holds_frontier: list[str] = Field(default_factory=list)
    holds_read_in_full_on: date | None = None

    def previous_prefund(self, as_of: date) -> tuple[date | None, dict[str, int]]:
        """Prefunding levels seen at the last check strictly before the run date."""
        earlier = [day for day in self.prefund_history if day < as_of]
        if not earlier:
            return None, {}
        day = max(earlier)
        return day, self.prefund_history[day]


def read_until(as_of: date, now: datetime, timezone: str = "UTC") -> int:
    """The instant a read covers: now, or the end of the run date for a past date.

    The run date is a day of the platform's time zone: a re-check at 21:00 in Toronto is
    still that day there, though already the next one in UTC, and must see the refund that
    got stuck a minute ago.
    """
    end_of_day = datetime.combine(as_of + timedelta(days=1), time.min, tzinfo=ZoneInfo(timezone))
    return int(min(now, end_of_day).timestamp())


def incremental(state: AccountState, as_of: date, lookback_start: int) -> bool:
    """Whether tonight may build on what earlier nights kept, rather than scan the lookback.

    Not after a check of a later night (someone re-checking an older one), nor when the
    lookback was widened since the kept charges were read.
    """
    return (
        state.cursor is not None
        and state.last_as_of is not None
        and state.last_as_of <= as_of
        and state.lookback_start is not None
        and state.lookback_start <= lookback_start
    )


def charges_since(state: AccountState, lookback_start: int, is_incremental: bool) -> int:
    """Read charges from the cursor (with overlap) or from the oldest one still pending."""
    if not is_incremental or state.cursor is None:
        return lookback_start
    pending = [c.created for c in state.charges.values() if c.status == "pending"]
    return max(min([state.cursor - READ_OVERLAP_SECONDS, *pending]), lookback_start)


def refunds_since(state: AccountState, lookback_start: int, is_incremental: bool) -> int:
    """Read refunds from the cursor (with overlap) or from the oldest one still pending."""
    if not is_incremental or state.cursor is None:
        return lookback_start
    pending = [r.created for r in state.refunds.values() if r.status == "pending"]
    return min([state.cursor - READ_OVERLAP_SECONDS, *pending])


def merge(
    state: AccountState,
    fresh_charges: dict[str, StoredCharge],
    fresh_refunds: dict[str, StoredRefund],
    lookback_start: int,
    is_incremental: bool,
) -> tuple[dict[str, StoredCharge], dict[str, StoredRefund]]:
    """Tonight's reads over the kept ones, by id; what can no longer matter is dropped."""
    kept_charges = state.charges if is_incremental else {}
    kept_refunds = state.refunds if is_incremental else {}
    charges = {
        charge_id: charge
        for charge_id, charge in {**kept_charges, **fresh_charges}.items()
        if charge.status in {"succeeded", "pending"} and charge.created >= lookback_start
    }
    refunds = {
        refund_id: refund
        for refund_id, refund in {**kept_refunds, **fresh_refunds}.items()
        if refund.charge in charges or refund.status == "pending"
    }
    return charges, refunds


def exposure_charges(
    charges: dict[str, StoredCharge], refunds: dict[str, StoredRefund]
) -> tuple[Charge, ...]:
    """Succeeded charges with what has been refunded on each, for the exposure rule."""
    refunded: dict[str, int] = defaultdict(int)
    for refund in refunds.values():
        if refund.charge is not None and refund.takes_money:
            refunded[refund.charge] += refund.amount
    return tuple(
        Charge(id=charge_id, currency=c.currency, amount=c.amount,
               amount_refunded=min(max(c.amount_refunded, refunded[charge_id]), c.amount),
               created=datetime.fromtimestamp(c.created, tz=UTC))
        for charge_id, c in sorted(charges.items())
        if c.status == "succeeded"
    )


def blocked_refunds(refunds: dict[str, StoredRefund]) -> tuple[BlockedRefund, ...]:
    """Refunds Stripe is holding because the account lacks the funds, as of tonight."""
    return tuple(
        BlockedRefund(id=refund_id, currency=r.currency, amount=r.amount, charge=r.charge,
                      created=datetime.fromtimestamp(r.created, tz=UTC))
        for refund_id, r in sorted(refunds.items())
        if r.blocked
    )


def known_holds(state: AccountState, as_of: date, is_incremental: bool) -> frozenset[str]:
    """Holds tonight's read may stop at; none when the whole list is due to be read."""
    last_full = state.holds_read_in_full_on
    if not is_incremental or last_full is None or (as_of - last_full).days >= HOLDS_REFRESH_DAYS:
        return frozenset()
    return frozenset(state.holds_frontier)


def merge_holds(
    kept: dict[str, ReserveHold], fresh: dict[str, ReserveHold], as_of: date, in_full: bool
) -> dict[str, ReserveHold]:
    """Holds still holding funds tonight. Fresh ones are as Stripe says; kept ones are
    dropped once their scheduled release has come."""
    still_kept = {} if in_full else {
        hold_id: hold for hold_id, hold in kept.items()
        if (day := hold_release_date(hold)) is None or day > as_of
    }
    return {hold_id: hold for hold_id, hold in {**still_kept, **fresh}.items() if hold.held > 0}


def remember_prefund(
    history: dict[date, dict[str, int]], as_of: date, levels: dict[str, int]
) -> dict[date, dict[str, int]]:
    updated = {**history, as_of: dict(levels)}
    return dict(sorted(updated.items())[-PREFUND_HISTORY_KEPT:])
