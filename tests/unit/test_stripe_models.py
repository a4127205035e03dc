"""Our boundary models against Stripe's own fixture shapes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from balance_guard.stripe.models import (
    StripeAccount,
    StripeBalance,
    StripeBalanceSettings,
    StripeCharge,
    StripeRefund,
    StripeReserveHold,
    StripeReservePlan,
)

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "stripe" / "fixtures3.json"


@pytest.fixture(scope="module")
def fixtures() -> dict[str, Any]:
    if not FIXTURES.exists():
        pytest.skip(f"Stripe fixtures not found at {FIXTURES}")
    return json.loads(FIXTURES.read_text())["resources"]  # type: ignore[no-any-return]


def test_balance_settings_with_null_transfer_rules_parse(fixtures: dict[str, Any]) -> None:
    raw = fixtures["balance_settings"]
    assert raw["payments"]["payouts"]["automatic_transfer_rules_by_currency"] is None
    parsed = StripeBalanceSettings.model_validate(raw)
    assert parsed.payouts
    assert parsed.payouts.minimum_balance_by_currency is None
    assert parsed.payouts.status == "disabled"


@pytest.mark.parametrize(("name", "model"), [
    ("account", StripeAccount), ("balance", StripeBalance), ("charge", StripeCharge),
    ("refund", StripeRefund), ("reserve.hold", StripeReserveHold),
    ("reserve.plan", StripeReservePlan),
])
def test_stripe_fixture_objects_parse(fixtures: dict[str, Any], name: str, model: Any) -> None:
    model.model_validate(fixtures[name])


def test_unknown_currency_code_is_rejected() -> None:
    with pytest.raises(ValidationError):
        StripeCharge.model_validate({"id": "ch", "amount": 1, "currency": "dollars",
                                     "status": "succeeded", "created": 0})


def test_absurd_amount_is_rejected() -> None:
    with pytest.raises(ValidationError, match="beyond any real balance"):
        StripeBalance.model_validate({"available": [{"amount": 10**18, "currency": "usd"}]})


@pytest.mark.parametrize("amount", [True, False, "100", 1.5])
def test_an_amount_is_a_real_integer(amount: object) -> None:
    with pytest.raises(ValidationError, match="valid integer"):
        StripeBalance.model_validate({"available": [{"amount": amount, "currency": "usd"}]})


def test_a_balance_may_be_negative() -> None:
    balance = StripeBalance.model_validate({"available": [{"amount": -500, "currency": "usd"}]})
    assert balance.available[0].amount == -500


def charge(**fields: object) -> dict[str, object]:
    return {"id": "ch_1", "amount": 1_000, "amount_refunded": 0, "currency": "usd",
            "status": "succeeded", "created": 1_785_000_000, **fields}


@pytest.mark.parametrize(("fields", "problem"), [
    ({"amount": -5}, "negative"),
    ({"amount_refunded": -5}, "negative"),
    ({"amount_refunded": 1_001}, "above the amount"),
    ({"created": True}, "valid integer"),
    ({"created": 10**13}, "not a date"),
    ({"created": -1}, "not a date"),
])
def test_an_impossible_charge_is_rejected(fields: dict[str, object], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        StripeCharge.model_validate(charge(**fields))


def test_a_fully_refunded_charge_is_possible() -> None:
    assert StripeCharge.model_validate(charge(amount_refunded=1_000)).amount_refunded == 1_000


@pytest.mark.parametrize("amount", [-5, True])
def test_a_refund_amount_is_a_whole_number_not_below_zero(amount: object) -> None:
    with pytest.raises(ValidationError):
        StripeRefund.model_validate({"id": "re_1", "amount": amount, "currency": "usd",
                                     "status": "pending", "pending_reason": "insufficient_funds",
                                     "created": 1_785_000_000})


def test_open_enums_and_odd_settings_are_kept_for_the_snapshot_builder() -> None:
    settings = StripeBalanceSettings.model_validate({"payments": {"payouts": {
        "status": "paused",
        "minimum_balance_by_currency": {"c a d": 5_000, "usd": True},
        "schedule": {"interval": "fortnightly", "weekly_payout_days": ["monday", None],
                     "monthly_payout_days": [None, 1.5, 31]},
    }}})
    hold = StripeReserveHold.model_validate({
        "id": "rh_1", "amount": 500, "currency": "usd", "reason": "dispute",
        "release_schedule": {"release_after": 1e13, "scheduled_release": True}})
    plan = StripeReservePlan.model_validate({"id": "rp_1", "type": "tiered_release",
                                             "fixed_release": {"release_after": "soon"}})
    account = StripeAccount.model_validate({"id": "acct_1", "settings": {"payouts": {
        "schedule": {"weekly_payout_days": [None], "monthly_anchor": "last_day",
                     "delay_days": "minimum"}}}})

    assert settings.payouts
    assert settings.payouts.status == "paused"
    assert hold.reason == "dispute"
    assert plan.type == "tiered_release"
    assert account.settings
