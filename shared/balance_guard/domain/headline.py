"""The one thing an email asks, per currency: how much to add, which setting, by when. Pure.

A building with several critical findings in one currency gets one headline for all of
them, so that doing exactly what it says leaves no critical finding tomorrow, and nothing
smaller would. It is computed from the currency's position (letters as in `rules.py`: A
available, F prefunding, M minimum balance, R refund exposure) and the refunds on hold
(B), on this model of what Stripe does with money added to the prefunding balance:

1. What Stripe is owed is settled first. A balance below zero takes the new money (the
   prefunding already there did not cover it tonight); refunds on hold take the available
   balance first, then the prefunding balance, then the new money.
2. What is left stays in the prefunding balance, which no payout touches, and protects the
   next refund together with what the minimum balance keeps back (`rules.py`: capacity).

A minimum balance protects without a wire when the money is already in the balance and
payouts are automatic: then the headline asks support to set the minimum (the exposure
rounded up as MIN_BALANCE_NOT_SET suggests it) instead of a wire, or as well as a smaller
one. The deadline is today when a refund can fail now (a balance below zero, refunds on
hold, or less money than the largest refund); otherwise it is the next automatic payout,
which would take the unprotected balance away.
"""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict

from balance_guard.domain.money import round_up_to_major_step
from balance_guard.domain.payout_calendar import payout_date
from balance_guard.domain.policy import AccountSettings, Policy
from balance_guard.domain.rules import SUGGESTED_MINIMUM_STEP, CurrencyPosition, position
from balance_guard.domain.snapshot import AccountSnapshot


class Headline(BaseModel):
    """What one currency's email asks for, and how its parts add up."""

    model_config = ConfigDict(frozen=True)

    currency: str
    add: int  # minor units to add to the prefunding balance; 0: no wire
    minimum: int | None  # the minimum balance to ask support to set; None: no change
    deadline: date
    urgent: bool  # a refund can fail now: the deadline is the night checked
    # The next automatic payout, which would take an unprotected balance away; None when
    # payouts are manual or turned off.
    next_payout: date | None = None
    # The parts of `add`, in the order Stripe takes them.
    negative: int = 0  # the balance below zero
    blocked: int = 0  # refunds on hold that the balances on hand do not cover
    blocked_refunds: int = 0  # how many refunds are on hold
    shortfall: int = 0  # what then protects the largest refund (R)

    @property
    def asks_anything(self) -> bool:
        return self.add > 0 or self.minimum is not None


def account_headlines(
    snapshot: AccountSnapshot, as_of: date, policy: Policy, settings: AccountSettings,
) -> list[Headline]:
    """Every currency's headline for one account, in the order of its currencies."""
    next_payout = (payout_date(as_of + timedelta(days=1), snapshot.schedule, snapshot.country)
                   if snapshot.automatic_payouts else None)
    found = []
    # A refund on hold is critical in its currency even where no balance is listed.
    held_in = {r.currency for r in snapshot.blocked_refunds}
    for currency in sorted({*snapshot.currencies(), *held_in}):
        held = [r.amount for r in snapshot.blocked_refunds if r.currency == currency]
        said = headline(position(snapshot, currency, as_of, policy, settings), sum(held),
                        len(held), as_of, next_payout)
        if said is not None:
            found.append(said)
    return found


def headline(
    pos: CurrencyPosition, blocked: int, blocked_refunds: int, as_of: date,
    next_payout: date | None,
) -> Headline | None:
    """The headline of one currency, or None when nothing in it is critical."""
    negative = max(-pos.available, 0)
    on_hand = max(pos.available, 0)
    capacity_short = (pos.exposure > 0 and pos.capacity < pos.exposure
                      and pos.shortfall_cause is not None)
    if negative == 0 and blocked <= 0 and not capacity_short:
        return None
    blocked = max(blocked, 0)
    # Refunds on hold take the available balance first, then the prefunding balance. A
    # balance below zero is paid by new money: tonight's prefunding did not cover it.
    from_available = min(on_hand, blocked)
    available_after = on_hand - from_available
    from_prefund = min(pos.prefund, blocked - from_available)
    prefund_after = pos.prefund - from_prefund
    blocked_left = blocked - from_available - from_prefund

    minimum = _minimum_to_ask(pos, available_after, prefund_after)
    kept = _kept(pos, available_after, minimum)
    shortfall = max(pos.exposure - kept - prefund_after, 0) if pos.exposure > 0 else 0
    urgent = negative > 0 or blocked > 0 or on_hand + pos.prefund < pos.exposure
    return Headline(
        currency=pos.currency,
        add=negative + blocked_left + shortfall,
        minimum=minimum,
        deadline=as_of if urgent or next_payout is None else next_payout,
        urgent=urgent,
        next_payout=next_payout,
        negative=negative,
        blocked=blocked_left,
        blocked_refunds=blocked_refunds,
        shortfall=shortfall,
    )


def _kept(pos: CurrencyPosition, available: int, minimum: int | None) -> int:
    """What the minimum balance keeps back from the next automatic payout."""
    if not pos.automatic_payouts:
        return available  # nothing is paid out unless someone asks
    if minimum is not None:
        return min(available, minimum)
    if not pos.minimum_known:
        return 0  # not sure to be there
    return min(available, pos.minimum or 0)


def _minimum_to_ask(pos: CurrencyPosition, available: int, prefund: int) -> int | None:
    """The minimum balance to ask for, when it protects more than tonight's does."""
    if not pos.automatic_payouts or pos.exposure <= 0:
        return None
    suggested = round_up_to_major_step(pos.exposure, pos.currency, SUGGESTED_MINIMUM_STEP)
    if pos.minimum_known and pos.minimum is not None and pos.minimum >= suggested:
        return None
    if _kept(pos, available, suggested) <= _kept(pos, available, None):
        return None  # the money is not in the balance: only a wire helps today
    if _kept(pos, available, None) + prefund >= pos.exposure:
        return None  # already covered
    return suggested
