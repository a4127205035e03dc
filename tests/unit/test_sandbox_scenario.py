"""Scenario files: validation, the clock's effect, and what the sample platform must trigger.

No network: the sandbox's `World` is read directly. The sample platform is checked against
the product's own rules (`balance_guard.domain.rules`) so the demo's promise, every rule
code over two nights, is proved here and not only by watching the demo.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from balance_guard.domain.findings import RuleCode
from balance_guard.domain.policy import Policy, resolve_account_settings
from balance_guard.domain.rules import evaluate
from balance_guard.domain.snapshot import (
    AccountSnapshot,
    BlockedRefund,
    Charge,
    PayoutSchedule,
    PreviousCheck,
)
from balance_guard.sandbox.app import SandboxApp
from balance_guard.sandbox.faults import DEFAULT_FAULTS, FaultPlan, TokenBucket
from balance_guard.sandbox.ids import stable_id
from balance_guard.sandbox.scenario import (
    Scenario,
    ScenarioError,
    load_scenario,
    parse_scenario,
)
from balance_guard.sandbox.templates import JsonObject
from balance_guard.sandbox.world import AccountView, World

NIGHT_1 = date(2026, 8, 1)
NIGHT_2 = date(2026, 8, 2)
PACKAGED = Path(__file__).resolve().parents[2] / "shared/balance_guard/sandbox/scenarios"

# What each building of the sample platform must raise, night by night (amounts in minor
# units; REFUND_CAPACITY_SHORT is keyed with its cause). Mirrors the YAML's comments.
EXPECTED_NIGHT_1: dict[str, dict[str, int | None]] = {
    "acct_1TdpToursDuParc": {"NEGATIVE_BALANCE": 45000, "REFUND_BLOCKED": 120000,
                             "REFUND_CAPACITY_SHORT:balance_below_minimum": 185000},
    "acct_1MplMapleCourtRes": {"REFUND_CAPACITY_SHORT:manual_payouts": 190000},
    "acct_1RslStLaurent0001": {"REFUND_CAPACITY_SHORT:no_minimum_balance": 182000,
                               "MIN_BALANCE_NOT_SET": 185000},
    "acct_1HblHarbourview01": {"REFUND_CAPACITY_SHORT:minimum_below_exposure": 130000,
                               "MIN_BALANCE_BELOW_EXPOSURE": 130000},
    "acct_1VppVictoriaPark1": {"REFUND_CAPACITY_SHORT:balance_below_minimum": 130000},
    "acct_1DdeDomaineErable": {"PREFUND_DEPLETED": 100000},
    "acct_1PkcParksideCommon": {"PREFUND_BELOW_TARGET": 60000},
    "acct_1JdmJardinsMaison": {},
    "acct_1RdgRideauGardens": {"PAYOUTS_DISABLED": None},
    "acct_1CslCarreStLouis1": {"RESERVE_HELD": 104358, "RESERVE_RELEASE_UPCOMING": 104358},
    "acct_1BvtBayviewTerrace": {"RESERVE_HELD": 81551, "RESERVE_RELEASE_UPCOMING": 39319},
    "acct_1VxpVieuxPort0001": {"RESERVE_HELD": 500000},
    "acct_1SkhSakuraHeights": {},
    "acct_1WmhWestmountHts1": {},
    "acct_1HbbHabBeaubien01": {},
    "acct_1GlaGlebeAnnexApt": {},
    "acct_1QmcQueenMaryCrt1": {},
    "acct_1MtcLeMontcalm001": {"CHECK_FAILED": None},
}
EXPECTED_NIGHT_2 = {
    **EXPECTED_NIGHT_1,
    "acct_1JdmJardinsMaison": {"PREFUND_USED": 70000},
    "acct_1SkhSakuraHeights": {"PREFUND_DEPLETED": 50000, "PREFUND_USED": 50000},
}


# -- the sample platform, checked with the product's rules ----------------------------------


def _amounts(entries: list[JsonObject]) -> dict[str, int]:
    return {e["currency"]: e["amount"] for e in entries}


def _utc(stamp: int) -> datetime:
    return datetime.fromtimestamp(stamp, UTC)


def _snapshot(view: AccountView) -> AccountSnapshot:
    """The served objects, read the plain way a Stripe reader would."""
    account, balance, settings = view.account, view.balance, view.balance_settings
    schedule = account["settings"]["payouts"]["schedule"]
    payouts = settings["payments"]["payouts"] if settings else None
    prefunding = balance["refund_and_dispute_prefunding"]
    return AccountSnapshot(
        account_id=account["id"], name=account["business_profile"]["name"],
        email=account["email"], country=account["country"],
        default_currency=account["default_currency"], metadata=account["metadata"],
        payouts_enabled=account["payouts_enabled"],
        payouts_status=payouts["status"] if payouts else None,
        schedule=PayoutSchedule(
            interval=schedule["interval"],
            weekly_payout_days=tuple(schedule.get("weekly_payout_days", ())),
            monthly_payout_days=tuple(schedule.get("monthly_payout_days", ()))),
        minimum_balances=(payouts["minimum_balance_by_currency"] or {}) if payouts else None,
        available=_amounts(balance["available"]), pending=_amounts(balance["pending"]),
        prefund_available=_amounts(prefunding["available"]),
        prefund_pending=_amounts(prefunding["pending"]),
        charges=tuple(
            Charge(id=c["id"], currency=c["currency"], amount=c["amount"],
                   amount_refunded=c["amount_refunded"], created=_utc(c["created"]))
            for c in view.charges if c["status"] == "succeeded"),
        blocked_refunds=tuple(
            BlockedRefund(id=r["id"], currency=r["currency"], amount=r["amount"],
                          created=_utc(r["created"]))
            for r in view.refunds
            if r["status"] == "pending" and r["pending_reason"] == "insufficient_funds"),
    )


def _reserve_codes(view: AccountView, as_of: date, horizon: int) -> dict[str, int | None]:
    holds = [h for h in view.reserve_holds if h["amount_releasable"]]
    found: dict[str, int | None] = {}
    if holds:
        found["RESERVE_HELD"] = sum(h["amount_releasable"] for h in holds)
    soon = [h for h in holds if h["release_schedule"]["scheduled_release"] is not None
            and _utc(h["release_schedule"]["scheduled_release"]).date()
            <= as_of + timedelta(days=horizon)]
    if soon:
        found["RESERVE_RELEASE_UPCOMING"] = sum(h["amount_releasable"] for h in soon)
    return found


def _night(
    scenario: Scenario, world: World, as_of: date, previous: dict[str, PreviousCheck]
) -> dict[str, dict[str, int | None]]:
    policy = Policy()
    found: dict[str, dict[str, int | None]] = {}
    for account in scenario.accounts:
        if account.fail_with is not None:
            found[account.id] = {"CHECK_FAILED": None}
            continue
        view = world.view(account.id, as_of)
        assert view is not None
        snapshot = _snapshot(view)
        settings = resolve_account_settings(policy, snapshot.metadata)
        codes: dict[str, int | None] = {}
        for finding in evaluate(snapshot, as_of, policy, settings,
                                previous.get(account.id, PreviousCheck())):
            cause = finding.details.get("cause")
            codes[finding.code.value + (f":{cause}" if cause else "")] = finding.amount
        codes.update(_reserve_codes(view, as_of, policy.release_horizon_days))
        found[account.id] = codes
        previous[account.id] = PreviousCheck(checked_on=as_of,
                                             prefund_available=snapshot.prefund_available)
    return found


@pytest.fixture(scope="module")
def sample() -> Scenario:
    return load_scenario(None)


@pytest.fixture(scope="module")
def two_nights(sample: Scenario) -> tuple[dict[str, Any], dict[str, Any]]:
    world = World(sample)
    previous: dict[str, PreviousCheck] = {}
    return _night(sample, world, NIGHT_1, previous), _night(sample, world, NIGHT_2, previous)


def test_sample_platform_night_1_findings_match_the_documented_ones(
    two_nights: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    assert two_nights[0] == EXPECTED_NIGHT_1


def test_sample_platform_night_2_findings_match_the_documented_ones(
    two_nights: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    assert two_nights[1] == EXPECTED_NIGHT_2


def test_sample_platform_fires_every_rule_code_and_every_capacity_cause(
    two_nights: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    keys = {key for night in two_nights for codes in night.values() for key in codes}
    assert {key.split(":")[0] for key in keys} == {code.value for code in RuleCode}
    causes = {key.split(":")[1] for key in keys if ":" in key}
    assert causes == {"manual_payouts", "no_minimum_balance", "minimum_below_exposure",
                      "balance_below_minimum"}


def test_sample_platform_has_healthy_buildings_and_one_with_bad_metadata(
    sample: Scenario, two_nights: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    healthy = [acct for acct, codes in two_nights[0].items()
               if not codes and acct in two_nights[1] and not two_nights[1][acct]]
    assert len(healthy) >= 2
    bad = sample.account("acct_1GlaGlebeAnnexApt")
    assert bad is not None
    notices = resolve_account_settings(Policy(), bad.metadata).notices
    assert any("balance_guard_locale" in n for n in notices)
    assert any("balance_guard_prefund_target_cad" in n for n in notices)


def test_sample_platform_covers_currencies_schedules_and_locales(sample: Scenario) -> None:
    assert len(sample.accounts) >= 14
    currencies = {a.default_currency for a in sample.accounts}
    assert {"cad", "usd", "jpy"} <= currencies
    intervals = {a.payout_schedule.interval for a in sample.accounts}
    assert intervals == {"daily", "weekly", "monthly", "manual"}
    assert any(31 in a.payout_schedule.monthly_payout_days for a in sample.accounts)
    locales = {a.metadata.get("balance_guard_locale") for a in sample.accounts}
    assert {"fr", "en", "fr+en"} <= locales
    assert sample.clock == NIGHT_1
    assert sample.platform.reserves_preview


def test_sample_platform_has_partly_refunded_failed_and_old_charges(sample: Scenario) -> None:
    charges = [c for a in sample.accounts for c in a.charges]
    assert any(0 < c.amount_refunded < c.amount for c in charges)
    assert any(c.status == "failed" for c in charges)
    lookback_start = datetime(2026, 5, 3, tzinfo=UTC)
    assert any(c.created < lookback_start for c in charges)


def test_no_reserves_access_scenario_loads_without_preview_access() -> None:
    scenario = load_scenario(PACKAGED / "no_reserves_access.yaml")
    assert not scenario.platform.reserves_preview
    assert any(a.reserve_holds for a in scenario.accounts)


# -- the clock -----------------------------------------------------------------------------


def test_balance_history_applies_every_entry_up_to_the_clock_in_order() -> None:
    scenario = parse_scenario(_minimal(
        balances={"available": {"cad": 100}, "prefunding": {"available": {"cad": 50}}},
        balance_history={"2026-08-02": {"available": {"cad": 200}},
                         "2026-08-04": {"prefunding": {"available": {"cad": 0}}}}))
    account = scenario.accounts[0]
    assert account.balances_on(date(2026, 8, 1)).available == {"cad": 100}
    on_3 = account.balances_on(date(2026, 8, 3))
    assert (on_3.available, on_3.prefunding.available) == ({"cad": 200}, {"cad": 50})
    on_5 = account.balances_on(date(2026, 8, 5))
    assert (on_5.available, on_5.prefunding.available) == ({"cad": 200}, {"cad": 0})


def test_objects_created_after_the_clock_day_are_not_served_yet() -> None:
    scenario = parse_scenario(_minimal(charges=[
        {"amount": 100, "currency": "cad", "created": "2026-08-01T23:59:59Z"},
        {"amount": 200, "currency": "cad", "created": "2026-08-02T00:00:00Z"},
    ]))
    world = World(scenario)
    night_1 = world.view("acct_1TestBuilding01", NIGHT_1)
    night_2 = world.view("acct_1TestBuilding01", NIGHT_2)
    assert night_1 is not None
    assert night_2 is not None
    assert [c["amount"] for c in night_1.charges] == [100]
    assert [c["amount"] for c in night_2.charges] == [200, 100]


def test_charge_refunded_amount_follows_its_refunds_as_the_clock_moves() -> None:
    scenario = parse_scenario(_minimal(
        charges=[{"id": "ch_3Deposit", "amount": 1000, "amount_refunded": 700, "currency": "cad",
                  "created": "2026-07-01"}],
        refunds=[{"amount": 700, "currency": "cad", "charge": "ch_3Deposit",
                  "created": "2026-08-02"}]))
    world = World(scenario)
    before = world.view("acct_1TestBuilding01", NIGHT_1)
    after = world.view("acct_1TestBuilding01", NIGHT_2)
    assert before is not None
    assert after is not None
    assert before.charges[0]["amount_refunded"] == 0
    assert after.charges[0]["amount_refunded"] == 700
    assert [r["id"] for r in after.charges[0]["refunds"]["data"]] == [after.refunds[0]["id"]]


def test_a_hold_past_its_scheduled_release_holds_nothing() -> None:
    scenario = parse_scenario(_minimal(reserve_holds=[
        {"amount": 500, "currency": "cad", "reason": "standalone", "created": "2026-07-01",
         "release_after": "2026-08-01T10:00:00Z"}]))
    world = World(scenario)
    holding = world.view("acct_1TestBuilding01", NIGHT_1)
    released = world.view("acct_1TestBuilding01", NIGHT_2)
    assert holding is not None
    assert released is not None
    assert holding.reserve_holds[0]["amount_releasable"] == 500
    assert holding.reserve_holds[0]["release_schedule"]["scheduled_release"] == int(
        datetime(2026, 8, 2, tzinfo=UTC).timestamp())
    assert released.reserve_holds[0]["amount_releasable"] == 0
    assert released.reserve_holds[0]["is_releasable"] is False
    assert released.reserve_holds[0]["release_details"][0]["amount"] == 500


def test_rolling_plan_sets_each_holds_release_from_its_charge() -> None:
    scenario = parse_scenario(_minimal(
        charges=[{"id": "ch_3Rent", "amount": 1000, "currency": "usd",
                  "created": "2026-07-10T15:00:00Z"}],
        reserve_plans=[{"id": "resplan_61Rolling", "type": "rolling_release", "percent": 10,
                        "rolling_release": {"days_after_charge": 30}}],
        reserve_holds=[{"amount": 96, "currency": "usd", "reserve_plan": "resplan_61Rolling",
                        "source_charge": "ch_3Rent"}]))
    view = World(scenario).view("acct_1TestBuilding01", NIGHT_1)
    assert view is not None
    schedule = view.reserve_holds[0]["release_schedule"]
    assert schedule["release_after"] == int(datetime(2026, 8, 9, 15, tzinfo=UTC).timestamp())
    assert schedule["scheduled_release"] == int(datetime(2026, 8, 10, tzinfo=UTC).timestamp())
    assert view.reserve_plans["resplan_61Rolling"]["rolling_release"]["days_after_charge"] == 30


def test_same_scenario_serves_the_same_ids_every_time() -> None:
    first = World(load_scenario(None)).view("acct_1WmhWestmountHts1", NIGHT_1)
    second = World(load_scenario(None)).view("acct_1WmhWestmountHts1", NIGHT_1)
    assert first is not None
    assert second is not None
    assert [c["id"] for c in first.charges] == [c["id"] for c in second.charges]
    assert stable_id("ch", "a", 1) == stable_id("ch", "a", 1) != stable_id("ch", "a", 2)


# -- validation ----------------------------------------------------------------------------


def _minimal(**account: Any) -> str:
    """A one-building scenario as YAML text (JSON is YAML)."""
    building = {"id": "acct_1TestBuilding01", "business_name": "Test", **account}
    return json.dumps({"clock": "2026-08-01",
                       "platform": {"account_id": "acct_1TestPlatform01",
                                    "business_name": "Test platform"},
                       "accounts": [building]})


@pytest.mark.parametrize(("account", "message"), [
    ({"payout_schedule": {"interval": "weekly"}}, "weekly_payout_days"),
    ({"payout_schedule": {"interval": "monthly"}}, "monthly_payout_days"),
    ({"default_currency": "dollars"}, "not a currency code"),
    ({"refunds": [{"amount": 1, "currency": "cad", "created": "2026-07-01",
                   "charge": "ch_missing"}]}, "unknown charge"),
    ({"refunds": [{"amount": 1, "currency": "cad", "created": "2026-07-01",
                   "status": "succeeded", "pending_reason": "insufficient_funds"}]},
     "pending_reason"),
    ({"charges": [{"amount": 1, "amount_refunded": 2, "currency": "cad",
                   "created": "2026-07-01"}]}, "amount_refunded"),
    ({"reserve_holds": [{"amount": 1, "currency": "cad"}]}, "created"),
    ({"reserve_plans": [{"id": "resplan_1", "type": "fixed_release", "percent": 10}]},
     "fixed_release"),
    ({"balance_settings": "sometimes"}, "balance_settings"),
    ({"fail_with": 200}, "fail_with"),
    ({"surprise": True}, "surprise"),
])
def test_invalid_scenarios_are_refused_with_the_field_named(
    account: dict[str, Any], message: str
) -> None:
    with pytest.raises(ScenarioError, match=message):
        parse_scenario(_minimal(**account), "bad.yaml")


def test_duplicate_account_ids_are_refused() -> None:
    text = _minimal().replace('"accounts": [', '"accounts": [{"id": "acct_1TestBuilding01", '
                                                 '"business_name": "Twin"}, ')
    with pytest.raises(ScenarioError, match="unique"):
        parse_scenario(text)


def test_errors_name_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("clock: [unclosed", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"broken\.yaml: not valid YAML"):
        load_scenario(broken)
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "missing.yaml")


def test_numeric_metadata_values_become_strings_like_stripes() -> None:
    scenario = parse_scenario(_minimal(metadata={"balance_guard_prefund_target_cad": 50000}))
    assert scenario.accounts[0].metadata == {"balance_guard_prefund_target_cad": "50000"}


# -- injected trouble ----------------------------------------------------------------------


def test_object_overrides_damage_every_served_object_of_that_kind() -> None:
    scenario = parse_scenario(_minimal(
        charges=[{"amount": 100, "currency": "cad", "created": "2026-07-01", "count": 2}],
        object_overrides={"balance": {"available": "garbage"}, "charge": {"amount": -1}}))
    view = World(scenario).view("acct_1TestBuilding01", NIGHT_1)
    assert view is not None
    assert view.balance["available"] == "garbage"
    assert [c["amount"] for c in view.charges] == [-1, -1]


def test_account_faults_hit_only_the_listed_endpoints_and_first_requests() -> None:
    app = SandboxApp(parse_scenario(_minimal(fail_with=503, fail_on=["balance_settings"],
                                             fail_first=1)))
    headers = {"authorization": "Bearer sk_test_balance_guard_sandbox",
               "stripe-account": "acct_1TestBuilding01"}
    statuses = [app.handle("GET", path, headers) for path in
                ("/v1/balance", "/v1/balance_settings", "/v1/balance_settings")]
    assert [r.status if r else None for r in statuses] == [200, 503, 200]
    assert app.request_count == 3


def test_fault_plan_depends_only_on_seed_and_request_number() -> None:
    plan = FaultPlan(0.3, seed=7)
    first = [plan.decide(n) for n in range(1, 200)]
    assert first == [FaultPlan(0.3, seed=7).decide(n) for n in range(1, 200)]
    assert first != [FaultPlan(0.3, seed=8).decide(n) for n in range(1, 200)]
    assert set(first) == {None, *DEFAULT_FAULTS}  # the 429 kinds only when asked for
    assert 30 < sum(f is not None for f in first) < 90


def test_fault_plan_at_zero_rate_never_fails() -> None:
    assert all(FaultPlan(0.0, seed=1).decide(n) is None for n in range(500))


def test_token_bucket_allows_a_burst_then_the_rate() -> None:
    now = [0.0]
    bucket = TokenBucket(2.0, clock=lambda: now[0])
    assert [bucket.take() for _ in range(3)] == [True, True, False]
    now[0] = 0.5
    assert [bucket.take(), bucket.take()] == [True, False]
