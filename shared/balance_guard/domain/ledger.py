"""What one account's refund exposure is built from, kept between nights.

A full scan of 90 days of charges every night would cost one request per 100 charges per
account. Instead each night reads only charges and refunds created since the previous read
(the cursor) and folds them into the charges kept from earlier nights. Charges read fresh
carry Stripe's current `amount_refunded`; charges kept from earlier nights are reduced by
the refunds created since.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from pydantic import BaseModel, ConfigDict, Field

from balance_guard.domain.snapshot import Charge, ReservePlan

# Refunds in these states have taken (or are taking) money back from a charge.
REFUND_TAKES_MONEY = frozenset({"pending", "succeeded", "requires_action"})
PREFUND_HISTORY_KEPT = 60  # nights of prefunding levels kept: enough for any reminder window


class StoredCharge(BaseModel):
    model_config = ConfigDict(frozen=True)

    currency: str
    refundable: int
    created: int  # unix seconds


class AccountState(BaseModel):
    """Per-account memory between checks (persisted by a state store)."""

    last_as_of: date | None = None
    cursor: int | None = None  # unix seconds up to which charges and refunds were read
    charges: dict[str, StoredCharge] = Field(default_factory=dict)
    blocked_refunds: dict[str, int] = Field(default_factory=dict)  # id -> created
    prefund_history: dict[date, dict[str, int]] = Field(default_factory=dict)
    reserve_plans: dict[str, ReservePlan] = Field(default_factory=dict)

    def previous_prefund(self, as_of: date) -> tuple[date | None, dict[str, int]]:
        """Prefunding levels seen at the last check strictly before the run date."""
        earlier = [day for day in self.prefund_history if day < as_of]
        if not earlier:
            return None, {}
        day = max(earlier)
        return day, self.prefund_history[day]


def read_until(as_of: date, now: datetime) -> int:
    """The instant a night's read covers: now, or the end of the run date for a past date."""
    end_of_day = datetime.combine(as_of + timedelta(days=1), time.min, tzinfo=UTC)
    return int(min(now, end_of_day).timestamp())


def read_since(state: AccountState, as_of: date, lookback_start: int) -> int:
    """Where tonight's read of charges starts: the cursor when it is usable, else a full scan.

    A cursor from a later run date (someone re-checking an older night) is not reused.
    """
    if state.cursor is None or state.last_as_of is None or state.last_as_of > as_of:
        return lookback_start
    return max(state.cursor, lookback_start)


def refunds_since(state: AccountState, charges_since: int) -> int:
    """Refunds are read from the charge cursor, or from the oldest refund still blocked."""
    return min([charges_since, *state.blocked_refunds.values()])


def merge_charges(
    kept: dict[str, StoredCharge],
    fresh: Iterable[tuple[str, StoredCharge]],
    new_refunds: Iterable[tuple[str | None, int]],
    oldest: int,
) -> dict[str, StoredCharge]:
    """Fold tonight's charges and refunds into the kept ones; drop what cannot be refunded.

    `new_refunds` are (charge id, amount) of refunds created after the previous cursor; they
    reduce only charges kept from earlier nights, since fresh ones already count them.
    """
    merged = dict(kept)
    fresh_ids: set[str] = set()
    for charge_id, charge in fresh:
        merged[charge_id] = charge
        fresh_ids.add(charge_id)
    for refunded_id, amount in new_refunds:
        if refunded_id in merged and refunded_id not in fresh_ids:
            old = merged[refunded_id]
            merged[refunded_id] = old.model_copy(update={"refundable": old.refundable - amount})
    return {
        charge_id: charge
        for charge_id, charge in merged.items()
        if charge.refundable > 0 and charge.created >= oldest
    }


def as_charges(stored: dict[str, StoredCharge]) -> tuple[Charge, ...]:
    """The kept charges in the snapshot's shape (refundable as amount, nothing refunded)."""
    return tuple(
        Charge(id=charge_id, currency=c.currency, amount=c.refundable, amount_refunded=0,
               created=datetime.fromtimestamp(c.created, tz=UTC))
        for charge_id, c in sorted(stored.items())
    )


def remember_prefund(
    history: dict[date, dict[str, int]], as_of: date, levels: dict[str, int]
) -> dict[date, dict[str, int]]:
    updated = {**history, as_of: dict(levels)}
    return dict(sorted(updated.items())[-PREFUND_HISTORY_KEPT:])
