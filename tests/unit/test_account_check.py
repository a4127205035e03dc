from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import pytest

from balance_guard.check.account import evaluate_account
from balance_guard.check.snapshot_builder import StripeAccountData, build_snapshot, hold_of, plan_of
from balance_guard.domain.findings import RuleCode
from balance_guard.domain.ledger import AccountState
from balance_guard.domain.policy import Policy
from balance_guard.domain.snapshot import AccountSnapshot, Interval, PayoutSchedule, ReserveHold
from balance_guard.stripe.models import (
    StripeAccount,
    StripeBalance,
    StripeBalanceSettings,
    StripeReserveHold,
    StripeReservePlan,
)

AS_OF = date(2026, 8, 1)


def with_hold(**fields: object) -> AccountSnapshot:
    hold = ReserveHold(id="rh_1", currency="usd", amount=7_267,
                       scheduled_release=datetime(2026, 8, 31, tzinfo=UTC))
    base: dict[str, object] = {
        "account_id": "acct_1", "name": "Bayview", "country": "US", "default_currency": "usd",
        "minimum_balances": {"usd": 0}, "available": {"usd": 0}, "reserve_holds": (hold,),
        "schedule": PayoutSchedule(interval="daily"),
    }
    base.update(fields)
    return AccountSnapshot.model_validate(base)


def test_releases_get_payout_and_arrival_dates_with_automatic_payouts() -> None:
    findings, releases, _ = evaluate_account(with_hold(), AccountState(), AS_OF, Policy())
    [release] = releases
    assert (release.release_date, release.payout_date, release.arrival_date) == (
        date(2026, 8, 31), date(2026, 8, 31), date(2026, 9, 2))
    assert RuleCode.RESERVE_HELD in {f.code for f in findings}


def test_released_funds_have_no_payout_date_while_payouts_are_disabled() -> None:
    _, releases, _ = evaluate_account(with_hold(payouts_enabled=False), AccountState(), AS_OF,
                                      Policy())
    [release] = releases
    assert release.payout_date is None
    assert release.arrival_date is None


def test_releases_already_past_are_not_listed() -> None:
    _, releases, _ = evaluate_account(with_hold(), AccountState(), date(2026, 8, 31), Policy())
    assert releases == []


def test_findings_come_worst_first() -> None:
    snapshot = with_hold(available={"usd": -100})
    findings, _, _ = evaluate_account(snapshot, AccountState(), AS_OF, Policy())
    ranks = [f.severity.rank for f in findings]
    assert ranks == sorted(ranks, reverse=True)


# -- odd Stripe data: a notice, and every finding that can still be computed ---------------

def stripe_data(
    *, account: dict[str, Any] | None = None, settings: dict[str, Any] | None = None,
    holds: Sequence[dict[str, Any]] = (), plans: Sequence[dict[str, Any]] = (),
    available: int = -2_500,
) -> StripeAccountData:
    raw_account = {"id": "acct_1", "email": "owner@example.com", "country": "CA",
                   "default_currency": "cad", "business_profile": {"name": "Bayview"},
                   **(account or {})}
    raw_settings = {"payments": {"payouts": {"minimum_balance_by_currency": {"cad": 0},
                                             "status": "enabled", **(settings or {})}}}
    converted = tuple(hold_of(StripeReserveHold.model_validate(h)) for h in holds)
    return StripeAccountData(
        account=StripeAccount.model_validate(raw_account),
        balance=StripeBalance.model_validate(
            {"available": [{"amount": available, "currency": "cad"}]}),
        settings=StripeBalanceSettings.model_validate(raw_settings),
        charges=(), blocked_refunds=(), holds=converted,
        plans={p["id"]: plan_of(StripeReservePlan.model_validate(p)) for p in plans},
    )


def codes(snapshot: AccountSnapshot) -> set[RuleCode]:
    findings, _, _ = evaluate_account(snapshot, AccountState(), AS_OF, Policy())
    return {f.code for f in findings}


def test_a_minimum_balance_keyed_by_no_currency_is_a_notice_and_the_others_count() -> None:
    snapshot = build_snapshot(stripe_data(settings={
        "minimum_balance_by_currency": {"c a d": 5_000, "cad": 10_000, "usd": True}}))

    assert snapshot.minimum_balances == {"cad": 10_000}
    assert any("'c a d'" in n and "not a currency code" in n for n in snapshot.notices)
    assert any("usd" in n and "True" in n for n in snapshot.notices)
    assert RuleCode.NEGATIVE_BALANCE in codes(snapshot)


def test_an_unknown_payouts_status_is_a_notice_not_a_failed_check() -> None:
    snapshot = build_snapshot(stripe_data(settings={"status": "paused"}))

    assert snapshot.payouts_status is None
    assert any("'paused'" in n for n in snapshot.notices)
    assert RuleCode.NEGATIVE_BALANCE in codes(snapshot)


@pytest.mark.parametrize("where", ["account", "settings"])
def test_a_null_payout_day_is_a_notice_and_the_other_days_count(where: str) -> None:
    schedule = {"interval": "weekly", "weekly_payout_days": [None, "Friday", "someday"]}
    data = stripe_data(settings={"schedule": schedule}) if where == "settings" else (
        stripe_data(account={"settings": {"payouts": {"schedule": schedule}}}))

    snapshot = build_snapshot(data)

    assert snapshot.schedule.weekly_payout_days == ("friday",)
    assert sum("weekly payout day" in n for n in snapshot.notices) == 2
    assert RuleCode.NEGATIVE_BALANCE in codes(snapshot)


def test_odd_monthly_days_and_an_unknown_interval_are_notices() -> None:
    snapshot = build_snapshot(stripe_data(settings={"schedule": {
        "interval": "fortnightly", "monthly_payout_days": [None, True, 0, 15.0]}}))

    assert snapshot.schedule.interval is Interval.MANUAL
    assert snapshot.schedule.monthly_payout_days == (15,)
    assert any("'fortnightly'" in n for n in snapshot.notices)
    assert sum("monthly payout day" in n for n in snapshot.notices) == 3


@pytest.mark.parametrize("release_after", [10**13, 1e13, -1, True, "tomorrow"])
def test_a_hold_whose_release_date_is_no_date_is_still_held(release_after: object) -> None:
    snapshot = build_snapshot(stripe_data(holds=[{
        "id": "rh_1", "amount": 7_267, "currency": "cad", "reason": "charge",
        "release_schedule": {"release_after": release_after, "scheduled_release": None}}]))

    [hold] = snapshot.reserve_holds or ()
    assert hold.release_after is None
    assert any("rh_1" in n and "release_after" in n for n in snapshot.notices)
    findings, _, _ = evaluate_account(snapshot, AccountState(), AS_OF, Policy())
    held = [f for f in findings if f.code is RuleCode.RESERVE_HELD]
    assert [(f.amount, f.details["no_scheduled_release"]) for f in held] == [(7_267, 7_267)]
    assert RuleCode.NEGATIVE_BALANCE in {f.code for f in findings}


def test_an_unknown_hold_reason_or_plan_type_keeps_the_hold_with_a_notice() -> None:
    snapshot = build_snapshot(stripe_data(
        holds=[{"id": "rh_1", "amount": 7_267, "currency": "cad", "reason": "dispute",
                "reserve_plan": "rp_1",
                "release_schedule": {"scheduled_release": 1_786_320_000}}],
        plans=[{"id": "rp_1", "type": "tiered_release", "percent": 10}]))

    [hold] = snapshot.reserve_holds or ()
    assert hold.reason == "dispute"
    assert snapshot.reserve_plans["rp_1"].type == "tiered_release"
    assert any("rh_1" in n and "'dispute'" in n for n in snapshot.notices)
    assert any("rp_1" in n and "'tiered_release'" in n for n in snapshot.notices)
    assert {RuleCode.RESERVE_HELD, RuleCode.RESERVE_RELEASE_UPCOMING} <= codes(snapshot)


def test_a_hold_keeps_its_notice_in_the_state_and_drops_nothing_when_there_is_none() -> None:
    odd = hold_of(StripeReserveHold.model_validate({
        "id": "rh_1", "amount": 1, "currency": "cad", "reason": "dispute"}))
    plain = hold_of(StripeReserveHold.model_validate({"id": "rh_2", "amount": 1,
                                                      "currency": "cad"}))

    state = AccountState(reserve_holds={"rh_1": odd, "rh_2": plain})
    again = AccountState.model_validate_json(state.model_dump_json())

    assert again.reserve_holds["rh_1"].notices == odd.notices != ()
    assert "notices" not in plain.model_dump()


def test_an_odd_country_is_a_notice() -> None:
    snapshot = build_snapshot(stripe_data(account={"country": "c\u0430"}))

    assert snapshot.country == "US"
    assert any("country" in n for n in snapshot.notices)


def test_metadata_amount_in_other_digits_never_stops_the_critical_finding() -> None:
    snapshot = build_snapshot(stripe_data(account={"metadata": {
        "balance_guard_prefund_target_cad": "\u00b2",
        "balance_guard_exposure_floor_cad": "\u2460"}}))

    findings, _, settings = evaluate_account(snapshot, AccountState(), AS_OF, Policy())

    assert RuleCode.NEGATIVE_BALANCE in {f.code for f in findings}
    assert len(settings.notices) == 2


def test_the_building_name_is_shown_not_obeyed() -> None:
    snapshot = build_snapshot(stripe_data(account={"business_profile": {
        "name": "Tours\x1b[31m du Parc\u202e\x00 (\u00c9st)\r\nBcc"}}))

    assert snapshot.name == "Tours[31m du Parc (\u00c9st)  Bcc"


def test_a_name_of_nothing_but_controls_falls_back_to_the_account_id() -> None:
    snapshot = build_snapshot(stripe_data(account={"business_profile": {"name": "\u202e\x1b"}}))

    assert snapshot.name == "acct_1"
