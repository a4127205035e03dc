"""Our boundary models against Stripe's own fixture shapes."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from balance_guard.adapters.stripe_models import (
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
    assert parsed.minimum_balances() == {}
    assert parsed.payments
    assert parsed.payments.payouts
    assert parsed.payments.payouts.status == "disabled"


def test_minimum_balances_are_read_per_currency(fixtures: dict[str, Any]) -> None:
    raw = copy.deepcopy(fixtures["balance_settings"])
    raw["payments"]["payouts"]["minimum_balance_by_currency"] = {"CAD": 50_000, "usd": None}
    assert StripeBalanceSettings.model_validate(raw).minimum_balances() == {
        "cad": 50_000, "usd": None}


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
