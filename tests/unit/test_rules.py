"""Every rule of the nightly check at its trigger and at its boundary."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from balance_guard.domain.findings import Finding, RuleCode
from balance_guard.domain.policy import Policy, resolve_account_settings
from balance_guard.domain.rules import evaluate, lookback_start
from balance_guard.domain.snapshot import (
    AccountSnapshot,
    BlockedRefund,
    Charge,
    Interval,
    PayoutSchedule,
    PreviousCheck,
)

AS_OF = date(2026, 8, 1)
POLICY = Policy()


def charge(amount: int, refunded: int = 0, days_ago: int = 1, currency: str = "cad",
           ident: str = "ch_1", created: datetime | None = None) -> Charge:
    if created is None:
        created = datetime(2026, 8, 1, 12, tzinfo=UTC) - timedelta(days=days_ago)
    return Charge(id=ident, currency=currency, amount=amount, amount_refunded=refunded,
                  created=created)


def snap(**fields: Any) -> AccountSnapshot:
    base: dict[str, Any] = {
        "account_id": "acct_1", "name": "Les Tours du Parc", "default_currency": "cad",
        "country": "CA", "minimum_balances": {}, "available": {"cad": 0},
    }
    base.update(fields)
    return AccountSnapshot(**base)


def run(snapshot: AccountSnapshot, previous: PreviousCheck | None = None,
        policy: Policy = POLICY) -> list[Finding]:
    settings = resolve_account_settings(policy, snapshot.metadata)
    return evaluate(snapshot, AS_OF, policy, settings, previous or PreviousCheck())


def codes(findings: list[Finding]) -> set[RuleCode]:
    return {f.code for f in findings}


def one(findings: list[Finding], code: RuleCode) -> Finding:
    matches = [f for f in findings if f.code is code]
    assert len(matches) == 1, findings
    return matches[0]


# -- NEGATIVE_BALANCE -------------------------------------------------------------------

def test_negative_available_balance_is_critical_for_its_magnitude() -> None:
    finding = one(run(snap(available={"cad": -12_345})), RuleCode.NEGATIVE_BALANCE)
    assert finding == Finding.of(RuleCode.NEGATIVE_BALANCE, "cad", 12_345, available=-12_345)
    assert finding.severity.value == "critical"


def test_zero_balance_is_not_negative() -> None:
    assert RuleCode.NEGATIVE_BALANCE not in codes(run(snap(available={"cad": 0})))


# -- REFUND_BLOCKED ---------------------------------------------------------------------

def test_blocked_refunds_are_totalled_per_currency() -> None:
    created = datetime(2026, 7, 30, tzinfo=UTC)
    blocked = (
        BlockedRefund(id="re_1", currency="cad", amount=5_000, created=created),
        BlockedRefund(id="re_2", currency="cad", amount=2_500, created=created),
        BlockedRefund(id="re_3", currency="usd", amount=100, created=created),
    )
    findings = [f for f in run(snap(blocked_refunds=blocked)) if f.code is RuleCode.REFUND_BLOCKED]
    assert {(f.currency, f.amount, f.details["refunds"]) for f in findings} == {
        ("cad", 7_500, 2), ("usd", 100, 1)}


def test_no_blocked_refund_no_finding() -> None:
    assert RuleCode.REFUND_BLOCKED not in codes(run(snap()))


# -- REFUND_CAPACITY_SHORT and its causes ------------------------------------------------

def test_capacity_equal_to_exposure_is_not_short() -> None:
    s = snap(available={"cad": 50_000}, minimum_balances={"cad": 30_000},
             prefund_available={"cad": 10_000}, charges=(charge(40_000),))
    assert RuleCode.REFUND_CAPACITY_SHORT not in codes(run(s))


def test_capacity_one_cent_below_exposure_is_short() -> None:
    s = snap(available={"cad": 50_000}, minimum_balances={"cad": 30_000},
             prefund_available={"cad": 10_000}, charges=(charge(40_001),))
    # C = min(A, M) + F = min(50 000, 30 000) + 10 000: one cent short of R = 40 001.
    assert one(run(s), RuleCode.REFUND_CAPACITY_SHORT) == Finding.of(
        RuleCode.REFUND_CAPACITY_SHORT, "cad", 1, exposure=40_001, capacity=40_000,
        cause="minimum_below_exposure", available=50_000, prefund=10_000, minimum=30_000)


def test_manual_payouts_count_the_whole_available_balance() -> None:
    manual = PayoutSchedule(interval=Interval.MANUAL)
    covered = snap(schedule=manual, available={"cad": 40_000}, charges=(charge(40_000),))
    assert RuleCode.REFUND_CAPACITY_SHORT not in codes(run(covered))
    short = snap(schedule=manual, available={"cad": 39_999}, prefund_available={"cad": 0},
                 charges=(charge(40_000),))
    # Nothing is paid out on its own: C = A + F = 39 999, one cent short of R = 40 000.
    assert one(run(short), RuleCode.REFUND_CAPACITY_SHORT) == Finding.of(
        RuleCode.REFUND_CAPACITY_SHORT, "cad", 1, exposure=40_000, capacity=39_999,
        cause="manual_payouts", available=39_999, prefund=0, minimum=None)


def test_automatic_payouts_without_minimum_keep_only_prefunding() -> None:
    s = snap(available={"cad": 1_000_000}, prefund_available={"cad": 20_000},
             minimum_balances={}, charges=(charge(58_000),))
    # The next payout empties the balance: C = min(A, 0) + F = 20 000 for R = 58 000.
    assert one(run(s), RuleCode.REFUND_CAPACITY_SHORT) == Finding.of(
        RuleCode.REFUND_CAPACITY_SHORT, "cad", 38_000, exposure=58_000, capacity=20_000,
        cause="no_minimum_balance", available=1_000_000, prefund=20_000, minimum=None)


def test_balance_below_minimum_is_named_when_the_minimum_would_cover() -> None:
    s = snap(available={"cad": 10_000}, minimum_balances={"cad": 50_000},
             charges=(charge(40_000),))
    # M = 50 000 would cover R = 40 000, but C = min(A, M) = 10 000 today.
    assert one(run(s), RuleCode.REFUND_CAPACITY_SHORT) == Finding.of(
        RuleCode.REFUND_CAPACITY_SHORT, "cad", 30_000, exposure=40_000, capacity=10_000,
        cause="balance_below_minimum", available=10_000, prefund=0, minimum=50_000)


def test_negative_balance_counts_as_zero_capacity() -> None:
    s = snap(available={"cad": -5_000}, minimum_balances={"cad": 50_000},
             prefund_available={"cad": 1_000}, charges=(charge(40_000),))
    # C = min(max(A, 0), M) + F = 0 + 1 000.
    assert one(run(s), RuleCode.REFUND_CAPACITY_SHORT) == Finding.of(
        RuleCode.REFUND_CAPACITY_SHORT, "cad", 39_000, exposure=40_000, capacity=1_000,
        cause="balance_below_minimum", available=-5_000, prefund=1_000, minimum=50_000)


def test_payouts_disabled_make_payouts_not_automatic() -> None:
    s = snap(payouts_enabled=False, available={"cad": 10_000}, charges=(charge(40_000),))
    assert one(run(s), RuleCode.REFUND_CAPACITY_SHORT) == Finding.of(
        RuleCode.REFUND_CAPACITY_SHORT, "cad", 30_000, exposure=40_000, capacity=10_000,
        cause="manual_payouts", available=10_000, prefund=0, minimum=None)


def test_no_exposure_means_no_shortfall() -> None:
    assert RuleCode.REFUND_CAPACITY_SHORT not in codes(run(snap(available={"cad": 0})))


def test_no_exposure_means_no_shortfall_even_below_zero_prefunding() -> None:
    # C = 0 + (-500) is below R = 0, but with nothing refundable there is nothing to protect.
    s = snap(prefund_available={"cad": -500})
    assert codes(run(s)) == {RuleCode.MIN_BALANCE_NOT_SET}


def test_one_cent_of_exposure_without_capacity_is_one_cent_short() -> None:
    findings = run(snap(charges=(charge(1),)))
    assert one(findings, RuleCode.REFUND_CAPACITY_SHORT) == Finding.of(
        RuleCode.REFUND_CAPACITY_SHORT, "cad", 1, exposure=1, capacity=0,
        cause="no_minimum_balance", available=0, prefund=0, minimum=None)
    # The suggested minimum covers that cent, rounded up to a whole 50 $.
    assert one(findings, RuleCode.MIN_BALANCE_NOT_SET) == Finding.of(
        RuleCode.MIN_BALANCE_NOT_SET, "cad", 5_000, exposure=1)


def test_a_currency_without_an_available_balance_counts_zero_available() -> None:
    # CAD appears only through its minimum balance: A is 0, so C = min(0, M) + F = 0.
    s = snap(available={}, minimum_balances={"cad": 10_000}, charges=(charge(5_000),))
    assert one(run(s), RuleCode.REFUND_CAPACITY_SHORT) == Finding.of(
        RuleCode.REFUND_CAPACITY_SHORT, "cad", 5_000, exposure=5_000, capacity=0,
        cause="balance_below_minimum", available=0, prefund=0, minimum=10_000)


# -- exposure ----------------------------------------------------------------------------

def test_exposure_uses_the_amount_still_refundable() -> None:
    s = snap(minimum_balances={"cad": 30_000}, available={"cad": 30_000},
             charges=(charge(100_000, refunded=75_000), charge(25_000, ident="ch_2")))
    assert RuleCode.MIN_BALANCE_BELOW_EXPOSURE not in codes(run(s))
    s2 = snap(minimum_balances={"cad": 20_000}, available={"cad": 30_000},
              charges=(charge(100_000, refunded=75_000),))
    # R = 100 000 - 75 000 refunded = 25 000, 5 000 above M = 20 000.
    assert one(run(s2), RuleCode.MIN_BALANCE_BELOW_EXPOSURE) == Finding.of(
        RuleCode.MIN_BALANCE_BELOW_EXPOSURE, "cad", 5_000, exposure=25_000, minimum=20_000,
        prefund=0)


def test_the_lookback_starts_at_midnight_utc_of_the_run_date_less_its_days() -> None:
    assert lookback_start(AS_OF, 90) == datetime(2026, 5, 3, tzinfo=UTC)


def test_a_charge_made_at_the_lookback_start_counts_and_one_just_before_does_not() -> None:
    start = datetime(2026, 5, 3, tzinfo=UTC)  # 2026-08-01 less the 90 days of the policy
    at_start = snap(minimum_balances={"cad": 0}, charges=(charge(99_000, created=start),))
    assert one(run(at_start), RuleCode.REFUND_CAPACITY_SHORT) == Finding.of(
        RuleCode.REFUND_CAPACITY_SHORT, "cad", 99_000, exposure=99_000, capacity=0,
        cause="minimum_below_exposure", available=0, prefund=0, minimum=0)
    before = snap(minimum_balances={"cad": 0},
                  charges=(charge(99_000, created=start - timedelta(microseconds=1)),))
    assert RuleCode.REFUND_CAPACITY_SHORT not in codes(run(before))


def test_charges_older_than_the_lookback_do_not_count() -> None:
    old = snap(charges=(charge(99_000, days_ago=91),), minimum_balances={"cad": 0})
    assert RuleCode.REFUND_CAPACITY_SHORT not in codes(run(old))
    edge = snap(charges=(charge(99_000, days_ago=90),), minimum_balances={"cad": 0})
    assert RuleCode.REFUND_CAPACITY_SHORT in codes(run(edge))


def test_exposure_floor_from_metadata_raises_exposure() -> None:
    s = snap(metadata={"balance_guard_exposure_floor_cad": "100000"},
             minimum_balances={"cad": 50_000}, available={"cad": 60_000})
    # No charge at all: R is the floor, 100 000, and M = 50 000 covers half of it.
    assert one(run(s), RuleCode.MIN_BALANCE_BELOW_EXPOSURE) == Finding.of(
        RuleCode.MIN_BALANCE_BELOW_EXPOSURE, "cad", 50_000, exposure=100_000, minimum=50_000,
        prefund=0)


def test_exposure_is_per_currency() -> None:
    s = snap(available={"cad": 0, "usd": 0}, minimum_balances={"cad": 10_000, "usd": 0},
             charges=(charge(10_000), charge(5_000, currency="usd", ident="ch_u")))
    short = [f for f in run(s) if f.code is RuleCode.REFUND_CAPACITY_SHORT]
    assert short == [
        Finding.of(RuleCode.REFUND_CAPACITY_SHORT, "cad", 10_000, exposure=10_000, capacity=0,
                   cause="balance_below_minimum", available=0, prefund=0, minimum=10_000),
        Finding.of(RuleCode.REFUND_CAPACITY_SHORT, "usd", 5_000, exposure=5_000, capacity=0,
                   cause="minimum_below_exposure", available=0, prefund=0, minimum=0)]


# -- MIN_BALANCE_NOT_SET -----------------------------------------------------------------

def test_missing_minimum_suggests_exposure_rounded_up_to_fifty() -> None:
    finding = one(run(snap(charges=(charge(123_456),))), RuleCode.MIN_BALANCE_NOT_SET)
    # 1 234,56 $ -> 1 250 $
    assert finding == Finding.of(RuleCode.MIN_BALANCE_NOT_SET, "cad", 125_000, exposure=123_456)


def test_suggestion_already_on_a_fifty_is_kept() -> None:
    finding = one(run(snap(charges=(charge(500_000),))), RuleCode.MIN_BALANCE_NOT_SET)
    assert finding == Finding.of(RuleCode.MIN_BALANCE_NOT_SET, "cad", 500_000, exposure=500_000)


def test_zero_decimal_suggestion_rounds_to_fifty_yen() -> None:
    s = snap(default_currency="jpy", available={"jpy": 0},
             charges=(charge(12_001, currency="jpy"),))
    # Yen have no decimals: 12 001 yen rounds up to 12 050, a whole 50 yen.
    assert one(run(s), RuleCode.MIN_BALANCE_NOT_SET) == Finding.of(
        RuleCode.MIN_BALANCE_NOT_SET, "jpy", 12_050, exposure=12_001)


def test_missing_minimum_without_exposure_has_no_amount() -> None:
    assert one(run(snap()), RuleCode.MIN_BALANCE_NOT_SET) == Finding.of(
        RuleCode.MIN_BALANCE_NOT_SET, "cad", None, exposure=0)


def test_missing_minimum_on_manual_payouts_is_not_flagged() -> None:
    s = snap(schedule=PayoutSchedule(interval=Interval.MANUAL))
    assert RuleCode.MIN_BALANCE_NOT_SET not in codes(run(s))


def test_unknown_minimum_is_not_reported_as_missing() -> None:
    s = snap(minimum_balances=None, charges=(charge(10_000),), available={"cad": 50_000})
    findings = run(s)
    assert RuleCode.MIN_BALANCE_NOT_SET not in codes(findings)
    # Automatic payouts with a minimum we cannot read: only what is sure counts, C = F = 0.
    assert one(findings, RuleCode.REFUND_CAPACITY_SHORT) == Finding.of(
        RuleCode.REFUND_CAPACITY_SHORT, "cad", 10_000, exposure=10_000, capacity=0,
        cause="minimum_balance_unknown", available=50_000, prefund=0, minimum=None)


def test_unknown_minimum_on_manual_payouts_is_still_a_manual_payouts_cause() -> None:
    s = snap(minimum_balances=None, schedule=PayoutSchedule(interval=Interval.MANUAL),
             charges=(charge(10_000),))
    assert one(run(s), RuleCode.REFUND_CAPACITY_SHORT) == Finding.of(
        RuleCode.REFUND_CAPACITY_SHORT, "cad", 10_000, exposure=10_000, capacity=0,
        cause="manual_payouts", available=0, prefund=0, minimum=None)


# -- MIN_BALANCE_BELOW_EXPOSURE ----------------------------------------------------------

def test_minimum_plus_prefund_equal_to_exposure_is_enough() -> None:
    s = snap(minimum_balances={"cad": 30_000}, prefund_available={"cad": 10_000},
             available={"cad": 40_000}, charges=(charge(40_000),))
    assert RuleCode.MIN_BALANCE_BELOW_EXPOSURE not in codes(run(s))


def test_minimum_plus_prefund_below_exposure_says_by_how_much() -> None:
    s = snap(minimum_balances={"cad": 30_000}, prefund_available={"cad": 5_000},
             available={"cad": 90_000}, charges=(charge(40_000),))
    # M + F = 30 000 + 5 000 leaves 5 000 of R = 40 000 uncovered.
    assert one(run(s), RuleCode.MIN_BALANCE_BELOW_EXPOSURE) == Finding.of(
        RuleCode.MIN_BALANCE_BELOW_EXPOSURE, "cad", 5_000, exposure=40_000, minimum=30_000,
        prefund=5_000)


# -- prefunding ---------------------------------------------------------------------------

def previous(level: int | None) -> PreviousCheck:
    levels = {} if level is None else {"cad": level}
    return PreviousCheck(checked_on=date(2026, 7, 31), prefund_available=levels)


def test_prefund_emptied_since_last_check_is_depleted_at_previous_level() -> None:
    findings = run(snap(prefund_available={"cad": 0}), previous(25_000))
    assert one(findings, RuleCode.PREFUND_DEPLETED) == Finding.of(
        RuleCode.PREFUND_DEPLETED, "cad", 25_000, target=None, previous=25_000)
    assert one(findings, RuleCode.PREFUND_USED) == Finding.of(
        RuleCode.PREFUND_USED, "cad", 25_000, previous=25_000, prefund=0)


def test_prefund_emptied_from_one_cent_is_depleted() -> None:
    finding = one(run(snap(prefund_available={"cad": 0}), previous(1)), RuleCode.PREFUND_DEPLETED)
    assert finding == Finding.of(RuleCode.PREFUND_DEPLETED, "cad", 1, target=None, previous=1)


def test_prefund_never_funded_and_no_target_is_not_depleted() -> None:
    assert RuleCode.PREFUND_DEPLETED not in codes(run(snap(), previous(0)))
    assert RuleCode.PREFUND_DEPLETED not in codes(run(snap()))


def test_empty_prefund_with_target_is_depleted_at_target() -> None:
    s = snap(metadata={"balance_guard_prefund_target_cad": "50000"})
    findings = run(s)
    assert one(findings, RuleCode.PREFUND_DEPLETED) == Finding.of(
        RuleCode.PREFUND_DEPLETED, "cad", 50_000, target=50_000, previous=None)
    # Empty is told once, as depleted: not also as below its target.
    assert RuleCode.PREFUND_BELOW_TARGET not in codes(findings)


def test_prefund_below_target_asks_for_the_difference() -> None:
    s = snap(metadata={"balance_guard_prefund_target_cad": "50000"},
             prefund_available={"cad": 49_999})
    assert one(run(s), RuleCode.PREFUND_BELOW_TARGET) == Finding.of(
        RuleCode.PREFUND_BELOW_TARGET, "cad", 1, target=50_000, prefund=49_999)


def test_one_cent_of_prefunding_is_below_target_not_depleted() -> None:
    s = snap(metadata={"balance_guard_prefund_target_cad": "50000"},
             prefund_available={"cad": 1})
    findings = run(s)
    assert one(findings, RuleCode.PREFUND_BELOW_TARGET) == Finding.of(
        RuleCode.PREFUND_BELOW_TARGET, "cad", 49_999, target=50_000, prefund=1)
    assert RuleCode.PREFUND_DEPLETED not in codes(findings)


def test_prefund_at_target_is_fine() -> None:
    s = snap(metadata={"balance_guard_prefund_target_cad": "50000"},
             prefund_available={"cad": 50_000})
    found = codes(run(s))
    assert RuleCode.PREFUND_BELOW_TARGET not in found
    assert RuleCode.PREFUND_DEPLETED not in found


def test_prefund_drop_is_reported_once_per_drop() -> None:
    finding = one(run(snap(prefund_available={"cad": 15_000}), previous(25_000)),
                  RuleCode.PREFUND_USED)
    assert finding == Finding.of(RuleCode.PREFUND_USED, "cad", 10_000, previous=25_000,
                                 prefund=15_000)


def test_prefund_unchanged_or_risen_is_not_used() -> None:
    assert RuleCode.PREFUND_USED not in codes(run(snap(prefund_available={"cad": 25_000}),
                                                   previous(25_000)))
    assert RuleCode.PREFUND_USED not in codes(run(snap(prefund_available={"cad": 30_000}),
                                                   previous(25_000)))


def test_first_check_has_no_previous_level() -> None:
    assert RuleCode.PREFUND_USED not in codes(run(snap(prefund_available={"cad": 15_000})))


def test_levels_without_a_check_date_are_no_previous_check() -> None:
    undated = PreviousCheck(checked_on=None, prefund_available={"cad": 25_000})
    found = codes(run(snap(prefund_available={"cad": 0}), undated))
    assert RuleCode.PREFUND_USED not in found
    assert RuleCode.PREFUND_DEPLETED not in found


# -- PAYOUTS_DISABLED --------------------------------------------------------------------

@pytest.mark.parametrize(("enabled", "status"), [(False, None), (True, "disabled"),
                                                 (False, "disabled")])
def test_payouts_disabled_either_way(enabled: bool, status: str | None) -> None:
    finding = one(run(snap(payouts_enabled=enabled, payouts_status=status)),
                  RuleCode.PAYOUTS_DISABLED)
    assert finding == Finding.of(RuleCode.PAYOUTS_DISABLED)  # no currency, amount or detail


def test_payouts_enabled_no_finding() -> None:
    assert RuleCode.PAYOUTS_DISABLED not in codes(run(snap(payouts_status="enabled")))


# -- currencies -----------------------------------------------------------------------------

def test_default_currency_is_checked_even_without_balance() -> None:
    s = snap(default_currency="usd", available={}, minimum_balances={})
    assert [f for f in run(s) if f.code is RuleCode.MIN_BALANCE_NOT_SET] == [
        Finding.of(RuleCode.MIN_BALANCE_NOT_SET, "usd", None, exposure=0)]


def test_three_decimal_currency_suggestion_uses_three_decimals() -> None:
    s = snap(default_currency="kwd", available={"kwd": 0}, charges=(charge(1_001, currency="kwd"),))
    assert one(run(s), RuleCode.MIN_BALANCE_NOT_SET) == Finding.of(
        RuleCode.MIN_BALANCE_NOT_SET, "kwd", 50_000, exposure=1_001)  # 1.001 KWD -> 50 KWD
