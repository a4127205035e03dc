"""The reserve engine: reserved parts, projections of reserve terms, real holds, findings.

The source examples (Stripe's reserves page): a US business, 25 %, card payments
of $100 on August 1 and $200 on August 4 at 2.9 % + 30¢, released after August 30.
Every figure below is computed from those inputs by the engine and compared with the
figure the documents state.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from balance_guard.domain.findings import Finding, RuleCode, Severity
from balance_guard.domain.payout_calendar import is_business_day
from balance_guard.domain.policy import Policy
from balance_guard.domain.reserves import (
    Movement,
    Release,
    ReserveKind,
    ReserveTerms,
    ReserveTermsError,
    Transaction,
    card_fee,
    held_total,
    hold_release_date,
    minimum_balance_retains,
    project,
    release_schedule,
    releases_from_holds,
    releases_from_movements,
    reserve_findings,
    reserved_part,
    unscheduled_holds,
)
from balance_guard.domain.snapshot import Interval, PayoutSchedule, ReserveHold

PERCENT = Decimal(25)
AUG_1, AUG_4 = date(2026, 8, 1), date(2026, 8, 4)
RELEASE_AFTER = date(2026, 8, 30)


def card_payment(day: date, gross: int, currency: str = "usd") -> Transaction:
    return Transaction(day=day, gross=gross, fee=card_fee(gross), currency=currency)


SOURCE_PAYMENTS = (card_payment(AUG_1, 100_00), card_payment(AUG_4, 200_00))


def fixed(release_on: date = RELEASE_AFTER) -> ReserveTerms:
    return ReserveTerms(kind=ReserveKind.FIXED, percent=PERCENT, release_on=release_on)


def rolling(window_days: int = 30) -> ReserveTerms:
    return ReserveTerms(kind=ReserveKind.ROLLING, percent=PERCENT, window_days=window_days)


def holds_of(movements: list[Movement]) -> list[Movement]:
    return [m for m in movements if m.kind == "hold"]


# --- fees and reserved parts --------------------------------------------------------------

def test_us_card_fee_on_the_source_payments() -> None:
    assert card_fee(100_00) == 320
    assert SOURCE_PAYMENTS[0].net == 96_80
    assert card_fee(200_00) == 610
    assert SOURCE_PAYMENTS[1].net == 193_90


def test_card_fee_rounds_the_percent_half_up() -> None:
    assert card_fee(50, Decimal(1), 0) == 1    # 0.5 -> 1
    assert card_fee(149, Decimal(1), 0) == 1   # 1.49 -> 1
    assert card_fee(150, Decimal(1), 0) == 2   # 1.5 -> 2
    assert card_fee(0) == 30


def test_card_fee_at_zero_or_a_fraction_of_a_percent() -> None:
    assert card_fee(100_00, Decimal(0), 30) == 30
    assert card_fee(10_00, Decimal("0.5"), 0) == 5


def test_card_fee_rejects_negative_inputs() -> None:
    with pytest.raises(ValueError, match="negative"):
        card_fee(-1)
    with pytest.raises(ValueError, match="zero or more"):
        card_fee(100, Decimal(-1))


def test_reserved_part_of_the_source_payments() -> None:
    assert reserved_part(SOURCE_PAYMENTS[0].net, PERCENT) == 24_20
    # 25 % of 193.90 is 48.475: rounded down, never up.
    assert reserved_part(SOURCE_PAYMENTS[1].net, PERCENT) == 48_47


def test_reserved_part_of_nothing_or_a_loss_is_nothing() -> None:
    assert reserved_part(0, PERCENT) == 0
    assert reserved_part(-500, PERCENT) == 0


def test_a_whole_reserve_of_one_cent_holds_that_cent() -> None:
    assert reserved_part(1, Decimal(100)) == 1


def test_reserved_part_is_exact_for_huge_amounts() -> None:
    # 10^15 - 1 minor units at 1/3 %: float or 28-digit arithmetic would round this up.
    net = 10**15 - 1
    assert reserved_part(net, Decimal("33.333333333333333333")) == (
        net * 33_333_333_333_333_333_333 // 10**20)


@pytest.mark.parametrize("percent", [Decimal(-1), Decimal("100.01"), Decimal("NaN")])
def test_percent_outside_0_to_100_is_rejected(percent: Decimal) -> None:
    with pytest.raises(ReserveTermsError, match="between 0 and 100"):
        reserved_part(100, percent)


@given(net=st.integers(-10**6, 10**15),
       percent=st.decimals(0, 100, places=4, allow_nan=False, allow_infinity=False))
def test_rounding_never_creates_money(net: int, percent: Decimal) -> None:
    part = reserved_part(net, percent)
    exact = Decimal(net) * percent / 100
    if net <= 0:
        assert part == 0
    else:
        assert 0 <= part <= exact
        assert exact - part < 1
        assert part <= net


# --- fixed reserve ------------------------------------------------------------------------

def test_fixed_reserve_source_example() -> None:
    movements = project(fixed(), SOURCE_PAYMENTS)
    assert movements == [
        Movement(AUG_1, "hold", reserved_part(96_80, PERCENT), "usd", "transaction"),
        Movement(AUG_4, "hold", reserved_part(193_90, PERCENT), "usd", "transaction"),
        Movement(date(2026, 8, 31), "release", 24_20, "usd", "transaction"),
        Movement(date(2026, 8, 31), "release", 48_47, "usd", "transaction"),
    ]
    # "24,20 USD + 48,47 USD = 72,67 USD", released on August 31.
    assert releases_from_movements(movements) == [Release("usd", 72_67, date(2026, 8, 31))]


def test_fixed_reserve_pays_out_and_arrives_like_the_spec_report() -> None:
    releases = releases_from_movements(project(fixed(), SOURCE_PAYMENTS))
    [(release, paid, arrives)] = release_schedule(releases, PayoutSchedule(), "US", 2)
    assert release.amount == 72_67
    # The report's release: 2026-08-31, payout 2026-08-31, arrival 2026-09-02.
    assert (release.release_date, paid, arrives) == (
        date(2026, 8, 31), date(2026, 8, 31), date(2026, 9, 2))


def test_fixed_reserve_holds_on_the_release_date_and_not_after() -> None:
    payments = [card_payment(RELEASE_AFTER, 100_00), card_payment(date(2026, 8, 31), 100_00)]
    movements = project(fixed(), payments)
    assert [(m.day, m.kind) for m in movements] == [
        (RELEASE_AFTER, "hold"), (date(2026, 8, 31), "release")]


def test_arrival_takes_the_business_days_the_policy_sets() -> None:
    # Released and paid out Monday 2026-08-31: the default two business days is Wednesday;
    # a policy of three is Thursday.
    policy = Policy(arrival_business_days=3)
    releases = [Release("usd", 100, date(2026, 8, 31))]
    [(_, paid, arrives)] = release_schedule(releases, PayoutSchedule(), "US",
                                            policy.arrival_business_days)
    assert (paid, arrives) == (date(2026, 8, 31), date(2026, 9, 3))
    [(_, _, by_default)] = release_schedule(releases, PayoutSchedule(), "US")
    assert by_default == date(2026, 9, 2)


def test_manual_payouts_have_no_payout_or_arrival_date() -> None:
    releases = [Release("usd", 100, date(2026, 8, 31))]
    assert release_schedule(releases, PayoutSchedule(interval=Interval.MANUAL), "US", 2) == [
        (releases[0], None, None)]


# --- rolling reserve ----------------------------------------------------------------------

def test_rolling_reserve_releases_each_part_30_days_later() -> None:
    releases = releases_from_movements(project(rolling(), SOURCE_PAYMENTS))
    # Day 1 -> day 31, day 4 -> day 34, as in the source's rolling example.
    assert releases == [
        Release("usd", 24_20, date(2026, 8, 31)),
        Release("usd", 48_47, date(2026, 9, 3)),
    ]


def test_rolling_reserve_third_payment_of_the_source_example() -> None:
    # The source's third row: 72,75 $ released, which is 25 % of a $300 card payment's net.
    later = card_payment(date(2026, 8, 31), 300_00)
    movements = project(rolling(), [*SOURCE_PAYMENTS, later])
    releases = releases_from_movements(movements)
    assert releases[-1] == Release("usd", 72_75, date(2026, 9, 30))
    # On day 31 the first release and the new hold fall on the same day: hold listed first.
    same_day = [m for m in movements if m.day == date(2026, 8, 31)]
    assert [m.kind for m in same_day] == ["hold", "release"]


# --- balance transfer ---------------------------------------------------------------------

def balance_transfer(**changes: object) -> ReserveTerms:
    values: dict[str, object] = {
        "kind": ReserveKind.BALANCE_TRANSFER, "percent": PERCENT, "release_on": RELEASE_AFTER,
        "transfer_on": AUG_1, "balance": 100_000_00, "currency": "usd"}
    values.update(changes)
    return ReserveTerms(**values)  # type: ignore[arg-type]


def test_balance_transfer_source_example() -> None:
    movements = project(balance_transfer(), SOURCE_PAYMENTS)
    assert holds_of(movements)[0] == Movement(AUG_1, "hold", 25_000_00, "usd",
                                              "balance_transfer")
    # 25 000 USD + 24,20 USD + 48,47 USD, released together on day 31.
    assert releases_from_movements(movements) == [Release("usd", 25_072_67, date(2026, 8, 31))]


def test_balance_transfer_with_a_release_window() -> None:
    terms = balance_transfer(release_on=None, window_days=30)
    releases = releases_from_movements(project(terms, SOURCE_PAYMENTS))
    assert releases == [
        Release("usd", 25_000_00 + 24_20, date(2026, 8, 31)),
        Release("usd", 48_47, date(2026, 9, 3)),
    ]


def test_balance_transfer_currency_defaults_to_the_payments_currency() -> None:
    movements = project(balance_transfer(currency=None), SOURCE_PAYMENTS)
    assert {m.currency for m in movements} == {"usd"}


def test_balance_transfer_needs_a_currency_when_payments_mix_them() -> None:
    payments = [card_payment(AUG_1, 100_00), card_payment(AUG_4, 100_00, "cad")]
    with pytest.raises(ReserveTermsError) as raised:
        project(balance_transfer(currency=None), payments)
    assert str(raised.value) == "say which currency the transferred balance is in"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": ReserveKind.FIXED}, "a fixed reserve needs a release date"),
        ({"kind": ReserveKind.FIXED, "release_on": AUG_1, "window_days": 30},
         "a fixed reserve has no rolling window"),
        ({"kind": ReserveKind.ROLLING}, "a rolling reserve needs a window"),
        ({"kind": ReserveKind.ROLLING, "window_days": 0},
         "the rolling window must be at least one day"),
        ({"kind": ReserveKind.ROLLING, "window_days": 30, "release_on": AUG_1},
         "a rolling reserve has no release date"),
        ({"kind": ReserveKind.ROLLING, "window_days": 30, "balance": 100},
         "only a balance transfer moves an existing balance"),
        ({"kind": ReserveKind.BALANCE_TRANSFER, "release_on": AUG_1, "transfer_on": AUG_1},
         "a balance transfer needs the balance moved, zero or more"),
        ({"kind": ReserveKind.BALANCE_TRANSFER, "release_on": AUG_1, "balance": 100},
         "a balance transfer needs its date"),
        ({"kind": ReserveKind.BALANCE_TRANSFER, "balance": 100, "transfer_on": AUG_1},
         "a balance transfer needs either a release date or a window"),
        ({"kind": ReserveKind.BALANCE_TRANSFER, "balance": 100, "transfer_on": AUG_4,
          "release_on": AUG_1}, "the balance transfer must come before the release date"),
    ],
)
def test_terms_that_describe_no_stripe_reserve_are_rejected_saying_what_to_fix(
    kwargs: dict[str, object], message: str
) -> None:
    # `simulate` shows the message as it is: it must name the fix, and nothing else.
    with pytest.raises(ReserveTermsError) as raised:
        ReserveTerms(percent=PERCENT, **kwargs)  # type: ignore[arg-type]
    assert str(raised.value) == message


def test_amounts_too_small_to_reserve_make_no_movement() -> None:
    tiny = Transaction(day=AUG_1, gross=3, fee=0, currency="usd")  # 25 % of 3 -> 0
    assert project(rolling(), [tiny]) == []


def test_one_cent_reserved_is_held_and_released() -> None:
    cent = Transaction(day=AUG_1, gross=4, fee=0, currency="usd")  # 25 % of 4 -> 1
    assert project(rolling(), [cent]) == [
        Movement(AUG_1, "hold", 1, "usd", "transaction"),
        Movement(AUG_1 + timedelta(days=30), "release", 1, "usd", "transaction")]


# --- real holds ---------------------------------------------------------------------------

def midnight_utc(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def hold(hold_id: str, amount: int, release: date | None, currency: str = "usd",
         amount_releasable: int | None = None) -> ReserveHold:
    return ReserveHold(id=hold_id, currency=currency, amount=amount,
                       amount_releasable=amount_releasable,
                       scheduled_release=midnight_utc(release) if release else None)


def test_release_date_is_the_scheduled_release_in_utc() -> None:
    toronto = timezone(timedelta(hours=-4))
    # Midnight UTC on August 31 is the evening of August 30 in Toronto: still August 31.
    late = ReserveHold(id="h", currency="usd", amount=1,
                       scheduled_release=datetime(2026, 8, 30, 20, tzinfo=toronto))
    assert hold_release_date(late) == date(2026, 8, 31)


@pytest.fixture
def toronto_machine() -> Iterator[None]:
    """The CLI runs on an operator's machine, whose local time zone is not UTC."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "America/Toronto"
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()


@pytest.mark.usefixtures("toronto_machine")
def test_release_dates_are_utc_dates_whatever_the_machines_time_zone() -> None:
    # 02:00 UTC on August 31 is still August 30 in Toronto.
    aware = ReserveHold(id="h", currency="usd", amount=1,
                        scheduled_release=datetime(2026, 8, 31, 2, tzinfo=UTC))
    assert hold_release_date(aware) == date(2026, 8, 31)
    # A time without a zone is read as UTC, not as the machine's local time (22:00 in
    # Toronto would be 02:00 UTC on September 1).
    naive = ReserveHold(id="n", currency="usd", amount=1,
                        scheduled_release=datetime(2026, 8, 31, 22))
    assert hold_release_date(naive) == date(2026, 8, 31)


def test_release_date_falls_back_to_the_day_after_release_after() -> None:
    only_after = ReserveHold(id="h", currency="usd", amount=1,
                             release_after=datetime(2026, 8, 30, 15, 4, tzinfo=UTC))
    assert hold_release_date(only_after) == date(2026, 8, 31)
    assert hold_release_date(ReserveHold(id="m", currency="usd", amount=1)) is None


def test_holds_are_grouped_by_currency_and_release_date() -> None:
    holds = [
        hold("a", 24_20, date(2026, 8, 31)),
        hold("b", 48_47, date(2026, 8, 31)),
        hold("c", 5_00, date(2026, 8, 31), "cad"),
        hold("d", 1_00, date(2026, 9, 3)),
        hold("e", 9_99, date(2026, 9, 3), amount_releasable=0),  # nothing left to release
        hold("f", 7_00, None),  # manual release plan
    ]
    assert releases_from_holds(holds) == [
        Release("cad", 5_00, date(2026, 8, 31)),
        Release("usd", 72_67, date(2026, 8, 31)),
        Release("usd", 1_00, date(2026, 9, 3)),
    ]
    assert unscheduled_holds(holds) == {"usd": 7_00}
    assert held_total(holds) == {"cad": 5_00, "usd": 72_67 + 1_00 + 7_00}


def test_holds_without_a_release_date_add_up_per_currency() -> None:
    holds = [hold("a", 7_00, None), hold("b", 3_00, None), hold("c", 2_00, None, "cad")]
    assert unscheduled_holds(holds) == {"cad": 2_00, "usd": 7_00 + 3_00}


def test_amount_releasable_is_what_is_still_held() -> None:
    partly_used = hold("a", 100_00, date(2026, 8, 31), amount_releasable=60_00)
    assert held_total([partly_used]) == {"usd": 60_00}
    assert releases_from_holds([partly_used]) == [Release("usd", 60_00, date(2026, 8, 31))]


def test_real_holds_and_projections_share_one_grouping() -> None:
    movements = project(rolling(), SOURCE_PAYMENTS)
    # What Stripe would report for the same reserve: one hold per payment.
    holds = [hold(f"h{i}", m.amount, m.day + timedelta(days=30))
             for i, m in enumerate(holds_of(movements))]
    assert releases_from_holds(holds) == releases_from_movements(movements)


# --- findings -----------------------------------------------------------------------------

AS_OF = date(2026, 8, 20)


def test_no_findings_when_reserves_are_unknown_or_empty() -> None:
    assert reserve_findings(None, AS_OF, 14, None, {}) == []
    assert reserve_findings([], AS_OF, 14, None, {}) == []


def test_reserve_held_totals_what_is_still_held() -> None:
    holds = [hold("a", 24_20, date(2026, 8, 31)), hold("b", 48_47, date(2026, 8, 31)),
             hold("c", 3_00, None)]
    [held, upcoming] = reserve_findings(holds, AS_OF, 14, None, {})
    assert held.severity is Severity.INFO
    assert held == Finding.of(RuleCode.RESERVE_HELD, "usd", 72_67 + 3_00, holds=3,
                              next_release_date="2026-08-31", no_scheduled_release=3_00)
    # Released on the 31st, 11 days after the run date: within the 14-day horizon.
    assert upcoming == Finding.of(
        RuleCode.RESERVE_RELEASE_UPCOMING, "usd", 72_67,
        releases=[{"date": "2026-08-31", "amount": 72_67}], first_release_date="2026-08-31",
        horizon_days=14, minimum_balance=None, minimum_balance_retains=0)


def test_holds_with_nothing_left_are_not_counted_and_one_cent_is() -> None:
    holds = [hold("a", 5_00, None), hold("spent", 9_99, None, amount_releasable=0),
             hold("cent", 1, None)]
    [held] = reserve_findings(holds, AS_OF, 14, None, {})
    assert held == Finding.of(RuleCode.RESERVE_HELD, "usd", 5_01, holds=2,
                              next_release_date=None, no_scheduled_release=5_01)


def test_holds_all_scheduled_have_nothing_without_a_release_date() -> None:
    [held] = reserve_findings([hold("a", 5_00, date(2026, 12, 1))], AS_OF, 14, None, {})
    assert held == Finding.of(RuleCode.RESERVE_HELD, "usd", 5_00, holds=1,
                              next_release_date="2026-12-01", no_scheduled_release=0)


def test_release_horizon_excludes_the_run_date_and_includes_its_last_day() -> None:
    holds = [
        hold("today", 1_00, AS_OF),                              # released before the run
        hold("tomorrow", 2_00, AS_OF + timedelta(days=1)),
        hold("last", 4_00, AS_OF + timedelta(days=14)),
        hold("beyond", 8_00, AS_OF + timedelta(days=15)),
    ]
    findings = reserve_findings(holds, AS_OF, 14, None, {})
    upcoming = next(f for f in findings if f.code is RuleCode.RESERVE_RELEASE_UPCOMING)
    assert upcoming.amount == 2_00 + 4_00
    assert upcoming.details["releases"] == [
        {"date": "2026-08-21", "amount": 2_00}, {"date": "2026-09-03", "amount": 4_00}]
    assert upcoming.details["first_release_date"] == "2026-08-21"
    held = next(f for f in findings if f.code is RuleCode.RESERVE_HELD)
    assert held.details["next_release_date"] == "2026-08-21"


def test_no_upcoming_release_outside_the_horizon() -> None:
    findings = reserve_findings([hold("a", 1_00, date(2026, 12, 1))], AS_OF, 14, None, {})
    assert [f.code for f in findings] == [RuleCode.RESERVE_HELD]


def test_a_currency_without_an_upcoming_release_does_not_hide_the_next_currency() -> None:
    # CAD (first in order) releases beyond the horizon; USD within it.
    holds = [hold("a", 2_00, date(2026, 12, 1), "cad"), hold("b", 1_00, date(2026, 8, 25))]
    findings = reserve_findings(holds, AS_OF, 14, None, {})
    assert [(f.code.value, f.currency, f.amount) for f in findings] == [
        ("RESERVE_HELD", "cad", 2_00), ("RESERVE_HELD", "usd", 1_00),
        ("RESERVE_RELEASE_UPCOMING", "usd", 1_00)]


def test_each_currency_gets_its_own_findings() -> None:
    holds = [hold("a", 1_00, date(2026, 8, 25)), hold("b", 2_00, date(2026, 8, 26), "cad")]
    findings = reserve_findings(holds, AS_OF, 14, None, {})
    assert [(f.code.value, f.currency, f.amount) for f in findings] == [
        ("RESERVE_HELD", "cad", 2_00), ("RESERVE_RELEASE_UPCOMING", "cad", 2_00),
        ("RESERVE_HELD", "usd", 1_00), ("RESERVE_RELEASE_UPCOMING", "usd", 1_00)]


@pytest.mark.parametrize(
    ("minimum", "available", "retains"),
    [
        (None, 0, 0),                 # no minimum balance
        (500_00, 600_00, 0),          # balance already above its minimum
        (500_00, 100_00, 400_00),     # the minimum refills by 400 first
        (500_00, 480_00, 20_00),
        (500_00, -50_00, 500_00),     # negative balance: the whole minimum, capped below
        (100_000_00, 0, 25_072_67),   # never more than what is released
    ],
)
def test_minimum_balance_retains_its_share_of_released_funds(
    minimum: int | None, available: int, retains: int
) -> None:
    releases = releases_from_movements(project(balance_transfer(), SOURCE_PAYMENTS))
    holds = [hold("a", r.amount, r.release_date) for r in releases]
    findings = reserve_findings(holds, AS_OF, 14, {"usd": minimum}, {"usd": available})
    upcoming = next(f for f in findings if f.code is RuleCode.RESERVE_RELEASE_UPCOMING)
    assert upcoming.amount == 25_072_67
    assert upcoming.details["minimum_balance"] == minimum
    expected = min(retains, upcoming.amount)
    assert upcoming.details["minimum_balance_retains"] == expected
    assert minimum_balance_retains(upcoming.amount, minimum, available) == expected


def test_a_minimum_balance_without_an_available_balance_retains_all_of_it() -> None:
    # No USD available balance at all counts as zero: the 500 $ minimum refills first.
    holds = [hold("a", 800_00, date(2026, 8, 25))]
    findings = reserve_findings(holds, AS_OF, 14, {"usd": 500_00}, {})
    upcoming = next(f for f in findings if f.code is RuleCode.RESERVE_RELEASE_UPCOMING)
    assert upcoming.details["minimum_balance_retains"] == 500_00


def test_nothing_released_retains_nothing() -> None:
    assert minimum_balance_retains(0, 500_00, 100_00) == 0
    assert minimum_balance_retains(-1_00, 500_00, 100_00) == 0


def test_finding_details_are_json() -> None:
    holds = [hold("a", 1_00, date(2026, 8, 25)), hold("b", 1_00, None)]
    findings = reserve_findings(holds, AS_OF, 14, {"usd": None}, {"usd": 0})
    for finding in findings:
        assert json.loads(json.dumps(finding.details)) == finding.details


# --- properties ---------------------------------------------------------------------------

payments = st.lists(
    st.builds(
        Transaction,
        day=st.dates(date(2026, 1, 1), date(2026, 12, 31)),
        gross=st.integers(0, 10**9),
        fee=st.integers(0, 10**4),
        currency=st.sampled_from(["usd", "cad", "jpy"]),
    ),
    max_size=25,
)
percents = st.decimals(0, 100, places=2, allow_nan=False, allow_infinity=False)


@st.composite
def reserve_terms(draw: st.DrawFn) -> ReserveTerms:
    kind = draw(st.sampled_from(list(ReserveKind)))
    percent = draw(percents)
    release_on = draw(st.dates(date(2026, 1, 1), date(2027, 6, 30)))
    window = draw(st.integers(1, 120))
    if kind is ReserveKind.FIXED:
        return ReserveTerms(kind=kind, percent=percent, release_on=release_on)
    if kind is ReserveKind.ROLLING:
        return ReserveTerms(kind=kind, percent=percent, window_days=window)
    transfer_on = draw(st.dates(date(2026, 1, 1), release_on))
    use_window = draw(st.booleans())
    return ReserveTerms(kind=kind, percent=percent, transfer_on=transfer_on,
                        balance=draw(st.integers(0, 10**12)), currency="usd",
                        release_on=None if use_window else release_on,
                        window_days=window if use_window else None)


@given(terms=reserve_terms(), transactions=payments)
def test_every_cent_held_is_released_exactly_once(
    terms: ReserveTerms, transactions: list[Transaction]
) -> None:
    movements = project(terms, transactions)
    held: Counter[tuple[str, str, int]] = Counter()
    released: Counter[tuple[str, str, int]] = Counter()
    for m in movements:
        assert m.amount > 0
        (held if m.kind == "hold" else released)[(m.currency, m.source, m.amount)] += 1
    assert held == released
    by_currency: dict[str, int] = defaultdict(int)
    for r in releases_from_movements(movements):
        by_currency[r.currency] += r.amount
    assert by_currency == {c: sum(m.amount for m in holds_of(movements) if m.currency == c)
                           for c in by_currency}


@given(terms=reserve_terms(), transactions=payments)
def test_releases_never_precede_holds(
    terms: ReserveTerms, transactions: list[Transaction]
) -> None:
    movements = project(terms, transactions)
    assert movements == sorted(movements, key=lambda m: (m.day, m.kind != "hold"))
    level: dict[str, int] = defaultdict(int)
    for m in movements:
        level[m.currency] += m.amount if m.kind == "hold" else -m.amount
        assert level[m.currency] >= 0
    assert all(v == 0 for v in level.values())
    first_hold = {m.currency: m.day for m in reversed(movements) if m.kind == "hold"}
    assert all(m.day > first_hold[m.currency] for m in movements if m.kind == "release")


@given(terms=reserve_terms(), transactions=payments)
def test_reserved_never_exceeds_percent_of_net(
    terms: ReserveTerms, transactions: list[Transaction]
) -> None:
    movements = [m for m in holds_of(project(terms, transactions)) if m.source == "transaction"]
    net = sum(max(t.net, 0) for t in transactions)
    assert sum(m.amount for m in movements) <= Decimal(net) * terms.percent / 100


@given(terms=reserve_terms(), transactions=payments,
       country=st.sampled_from(["US", "CA"]),
       schedule=st.sampled_from([PayoutSchedule(),
                                 PayoutSchedule.model_validate(
                                     {"interval": "weekly", "weekly_payout_days": ["friday"]}),
                                 PayoutSchedule(interval=Interval.MONTHLY,
                                                monthly_payout_days=(31,))]))
def test_projected_payouts_are_business_days_after_the_release(
    terms: ReserveTerms, transactions: list[Transaction], country: str,
    schedule: PayoutSchedule,
) -> None:
    releases = releases_from_movements(project(terms, transactions))
    for release, paid, arrives in release_schedule(releases, schedule, country, 2):
        assert paid is not None
        assert arrives is not None
        assert release.release_date <= paid < arrives
        assert is_business_day(paid, country)
        assert is_business_day(arrives, country)
