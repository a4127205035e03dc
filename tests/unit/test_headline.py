"""The headline: doing exactly what it asks leaves no critical finding, and less would not do."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from balance_guard.domain.findings import Severity
from balance_guard.domain.headline import Headline, account_headlines, headline
from balance_guard.domain.policy import Policy, resolve_account_settings
from balance_guard.domain.rules import CurrencyPosition, capacity_findings
from balance_guard.domain.snapshot import (
    AccountSnapshot,
    BlockedRefund,
    Charge,
    Interval,
    PayoutSchedule,
)

AS_OF = date(2026, 8, 2)
NEXT_PAYOUT = date(2026, 8, 6)


def after_wire(pos: CurrencyPosition, blocked: int, add: int,
               minimum: int | None) -> tuple[CurrencyPosition, int]:
    """Stripe's side, told step by step: what is owed below zero is taken from the money
    that comes in (the prefunding already there did not cover it); the rest lands in the
    prefunding balance; each refund on hold is paid once the balances on hand (available
    first) cover it; then support sets the minimum balance asked for."""
    available, prefund = pos.available, pos.prefund
    taken = min(max(-available, 0), add)
    available, prefund = available + taken, prefund + add - taken
    if blocked and max(available, 0) + prefund >= blocked:
        from_available = min(max(available, 0), blocked)
        available, prefund = available - from_available, prefund - (blocked - from_available)
        blocked = 0
    if minimum is not None:
        pos = replace(pos, minimum=minimum, minimum_known=True)
    return replace(pos, available=available, prefund=prefund), blocked


def critical_left(pos: CurrencyPosition, blocked: int) -> bool:
    found = capacity_findings(pos)
    return blocked > 0 or any(f.severity is Severity.CRITICAL for f in found)


amounts = st.integers(min_value=0, max_value=2_000_000)
positions = st.builds(
    CurrencyPosition,
    currency=st.sampled_from(["usd", "cad", "jpy"]),
    available=st.integers(min_value=-500_000, max_value=2_000_000),
    prefund=amounts,
    minimum=st.one_of(st.none(), amounts),
    exposure=amounts,
    automatic_payouts=st.booleans(),
    minimum_known=st.booleans(),
)


@settings(max_examples=600, deadline=None)
@given(pos=positions, blocked=st.one_of(st.just(0), amounts))
def test_doing_what_the_headline_says_leaves_nothing_critical_and_less_would_not_do(
    pos: CurrencyPosition, blocked: int,
) -> None:
    if not pos.minimum_known:
        pos = replace(pos, minimum=None)
    # Stripe holds a refund only while the balances on hand cannot pay it.
    assume(blocked == 0 or blocked > max(pos.available, 0) + pos.prefund)
    said = headline(pos, blocked, 1 if blocked else 0, AS_OF, NEXT_PAYOUT)
    if said is None:
        assert not critical_left(pos, blocked)
        return
    assert critical_left(pos, blocked)
    assert said.asks_anything
    assert not critical_left(*after_wire(pos, blocked, said.add, said.minimum))
    if said.add > 0:
        assert critical_left(*after_wire(pos, blocked, said.add - 1, said.minimum))
    assert said.add == said.negative + said.blocked + said.shortfall
    assert said.deadline == (AS_OF if said.urgent else NEXT_PAYOUT)


def test_tours_du_parc_asks_one_total_today() -> None:
    # Below zero by 450 $, a 1 200 $ refund on hold, a 2 000 $ minimum not reached yet and
    # a 1 850 $ rent that could be refunded: 450 + 1 200 + 1 850 = 3 500 $ today.
    pos = CurrencyPosition("cad", available=-45_000, prefund=0, minimum=200_000,
                           exposure=185_000, automatic_payouts=True)
    assert headline(pos, 120_000, 1, AS_OF, NEXT_PAYOUT) == Headline(
        currency="cad", add=350_000, minimum=None, deadline=AS_OF, urgent=True,
        next_payout=NEXT_PAYOUT, negative=45_000, blocked=120_000, blocked_refunds=1,
        shortfall=185_000)


def test_money_already_in_the_balance_asks_for_a_minimum_by_the_next_payout() -> None:
    # 3 000 $ available, no minimum, a 1 820 $ exposure: a minimum of 1 850 $ keeps it.
    pos = CurrencyPosition("cad", available=300_000, prefund=0, minimum=None,
                           exposure=182_000, automatic_payouts=True)
    assert headline(pos, 0, 0, AS_OF, NEXT_PAYOUT) == Headline(
        currency="cad", add=0, minimum=185_000, deadline=NEXT_PAYOUT, urgent=False,
        next_payout=NEXT_PAYOUT)


def test_a_minimum_too_low_is_raised_and_the_rest_wired() -> None:
    # 1 000 $ available, a 500 $ minimum, 200 $ prefunding, a 1 500 $ exposure: raising the
    # minimum to 1 500 $ keeps all 1 000 $; 300 $ more are needed, today (1 200 < 1 500).
    pos = CurrencyPosition("usd", available=100_000, prefund=20_000, minimum=50_000,
                           exposure=150_000, automatic_payouts=True)
    assert headline(pos, 0, 0, AS_OF, NEXT_PAYOUT) == Headline(
        currency="usd", add=30_000, minimum=150_000, deadline=AS_OF, urgent=True,
        next_payout=NEXT_PAYOUT, shortfall=30_000)


def test_manual_payouts_ask_for_a_wire_only() -> None:
    pos = CurrencyPosition("usd", available=50_000, prefund=0, minimum=None,
                           exposure=240_000, automatic_payouts=False)
    assert headline(pos, 0, 0, AS_OF, NEXT_PAYOUT) == Headline(
        currency="usd", add=190_000, minimum=None, deadline=AS_OF, urgent=True,
        next_payout=NEXT_PAYOUT, shortfall=190_000)


def test_refunds_on_hold_take_the_available_balance_first() -> None:
    # 300 $ available and 100 $ prefunding against an 800 $ refund: 400 $ are missing, and
    # then nothing is left for a 500 $ exposure.
    pos = CurrencyPosition("usd", available=30_000, prefund=10_000, minimum=100_000,
                           exposure=50_000, automatic_payouts=True)
    said = headline(pos, 80_000, 1, AS_OF, NEXT_PAYOUT)
    assert said is not None
    assert (said.add, said.blocked, said.shortfall, said.minimum) == (90_000, 40_000, 50_000,
                                                                       None)


def test_nothing_critical_means_no_headline() -> None:
    pos = CurrencyPosition("usd", available=300_000, prefund=0, minimum=200_000,
                           exposure=150_000, automatic_payouts=True)
    assert headline(pos, 0, 0, AS_OF, NEXT_PAYOUT) is None


def test_without_a_known_next_payout_the_deadline_is_the_night_checked() -> None:
    pos = CurrencyPosition("cad", available=300_000, prefund=0, minimum=None,
                           exposure=182_000, automatic_payouts=True)
    said = headline(pos, 0, 0, AS_OF, None)
    assert said is not None
    assert (said.deadline, said.urgent) == (AS_OF, False)


def snapshot(**fields: object) -> AccountSnapshot:
    created = datetime(2026, 7, 24, tzinfo=UTC)
    base: dict[str, object] = {
        "account_id": "acct_1", "name": "Résidence Saint-Laurent", "country": "CA",
        "default_currency": "cad", "minimum_balances": {"cad": None},
        "available": {"cad": 300_000}, "prefund_available": {"cad": 0},
        "schedule": PayoutSchedule(interval=Interval.WEEKLY, weekly_payout_days=("thursday",)),
        "charges": (Charge(id="ch_1", currency="cad", amount=182_000, amount_refunded=0,
                           created=created),),
    }
    return AccountSnapshot.model_validate({**base, **fields})


def test_an_account_s_headline_is_due_by_its_next_automatic_payout() -> None:
    # Sunday 2 August 2026; payouts on Thursdays: the next one is 6 August.
    said = account_headlines(snapshot(), AS_OF, Policy(), resolve_account_settings(Policy(), {}))
    assert said == [Headline(currency="cad", add=0, minimum=185_000,
                             deadline=date(2026, 8, 6), urgent=False,
                             next_payout=date(2026, 8, 6))]


def test_an_account_s_refunds_on_hold_count_in_their_own_currency() -> None:
    created = datetime(2026, 7, 30, tzinfo=UTC)
    held = (BlockedRefund(id="re_1", currency="cad", amount=400_000, created=created),
            BlockedRefund(id="re_2", currency="cad", amount=100_000, created=created),
            BlockedRefund(id="re_3", currency="usd", amount=7_000, created=created))
    said = account_headlines(snapshot(blocked_refunds=held, minimum_balances={"cad": 200_000}),
                             AS_OF, Policy(), resolve_account_settings(Policy(), {}))
    # CAD: 5 000 $ on hold take the 3 000 $ available; 2 000 $ more, then 1 820 $ to keep
    # the largest rent refundable. USD: 70 $ on hold, no exposure.
    assert [(h.currency, h.add, h.blocked, h.blocked_refunds, h.shortfall, h.deadline)
            for h in said] == [("cad", 382_000, 200_000, 2, 182_000, AS_OF),
                               ("usd", 7_000, 7_000, 1, 0, AS_OF)]


def test_manual_payouts_have_no_next_payout_to_wait_for() -> None:
    manual = snapshot(schedule=PayoutSchedule(interval=Interval.MANUAL),
                      available={"cad": 100_000})
    said = account_headlines(manual, AS_OF, Policy(), resolve_account_settings(Policy(), {}))
    assert said == [Headline(currency="cad", add=82_000, minimum=None, deadline=AS_OF,
                             urgent=True, shortfall=82_000)]


def usd(available: int, prefund: int, minimum: int | None, exposure: int, *,
        automatic: bool = True, known: bool = True) -> CurrencyPosition:
    return CurrencyPosition("usd", available=available, prefund=prefund, minimum=minimum,
                            exposure=exposure, automatic_payouts=automatic, minimum_known=known)


URGENT = {"deadline": AS_OF, "urgent": True, "next_payout": NEXT_PAYOUT}
BY_PAYOUT = {"deadline": NEXT_PAYOUT, "urgent": False, "next_payout": NEXT_PAYOUT}


@pytest.mark.parametrize(("pos", "blocked", "expected"), [
    # A one-cent exposure with 1 $ on hand and no minimum: a 50 $ minimum keeps it.
    (usd(100, 0, None, 1), 0, Headline(currency="usd", add=0, minimum=5_000, **BY_PAYOUT)),
    # Nothing on hand: a minimum would keep nothing, so the whole exposure is wired today.
    (usd(0, 0, None, 10_000), 0,
     Headline(currency="usd", add=10_000, minimum=None, shortfall=10_000, **URGENT)),
    # One cent on hold, paid from the balance; the minimum (8 $) and prefunding (3 $) keep
    # the 10 $ exposure covered: nothing to add, no setting, but today.
    (usd(1_000, 300, 800, 1_000), 1,
     Headline(currency="usd", add=0, minimum=None, blocked_refunds=1, **URGENT)),
    # The same with the minimum and prefunding exactly at the exposure.
    (usd(1_000, 500, 500, 1_000), 1,
     Headline(currency="usd", add=0, minimum=None, blocked_refunds=1, **URGENT)),
    # A 6 $ refund on hold takes the 3 $ available, then 3 $ of the 5 $ prefunding.
    (usd(300, 500, None, 0), 600,
     Headline(currency="usd", add=0, minimum=None, blocked_refunds=1, **URGENT)),
    # One cent below zero is due today, even with prefunding over the exposure.
    (usd(-1, 100, None, 50, automatic=False), 0,
     Headline(currency="usd", add=1, minimum=None, negative=1, **URGENT)),
    # 3 $ + 1 $ on hand against a 3.50 $ exposure: a refund can still be paid today, the
    # next payout is the deadline.
    (usd(300, 100, None, 350), 0, Headline(currency="usd", add=0, minimum=5_000, **BY_PAYOUT)),
    # On hand exactly the exposure: still not urgent.
    (usd(250, 100, None, 350), 0, Headline(currency="usd", add=0, minimum=5_000, **BY_PAYOUT)),
])
def test_headlines_at_their_boundaries(pos: CurrencyPosition, blocked: int,
                                       expected: Headline) -> None:
    assert headline(pos, blocked, 1 if blocked else 0, AS_OF, NEXT_PAYOUT) == expected


def test_a_suggested_minimum_is_rounded_in_the_currency_s_own_units() -> None:
    # Yen have no minor unit: 167 520 ¥ rounds up to 167 550 ¥, not to a multiple of 5 000.
    pos = CurrencyPosition("jpy", available=200_000, prefund=0, minimum=None, exposure=167_520,
                           automatic_payouts=True)
    said = headline(pos, 0, 0, AS_OF, NEXT_PAYOUT)
    assert said is not None
    assert said.minimum == 167_550


def test_daily_payouts_make_the_next_business_day_the_deadline() -> None:
    # Monday 3 August 2026: the next daily payout is Tuesday the 4th.
    monday = date(2026, 8, 3)
    said = account_headlines(snapshot(schedule=PayoutSchedule(interval=Interval.DAILY)),
                             monday, Policy(), resolve_account_settings(Policy(), {}))
    assert [(h.deadline, h.next_payout) for h in said] == [(date(2026, 8, 4), date(2026, 8, 4))]


def test_payouts_turned_off_have_no_next_payout_whatever_the_schedule() -> None:
    off = snapshot(payouts_enabled=False, available={"cad": 100_000})
    said = account_headlines(off, AS_OF, Policy(), resolve_account_settings(Policy(), {}))
    assert [(h.next_payout, h.deadline, h.add) for h in said] == [(None, AS_OF, 82_000)]
