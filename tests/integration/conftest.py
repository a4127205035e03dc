"""Helpers for tests that run the product against the sandbox over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from balance_guard.sandbox.scenario import Scenario
from balance_guard.sandbox.server import Sandbox

KEY = "sk_test_integrationSECRETkey42"
CLOCK = "2026-08-01"


def account(ident: str, **fields: Any) -> dict[str, Any]:
    """A healthy CAD building with daily payouts, to be changed field by field."""
    base: dict[str, Any] = {
        "id": ident, "business_name": f"Building {ident[-4:]}", "email": f"{ident}@example.com",
        "country": "CA", "default_currency": "cad",
        "payout_schedule": {"interval": "daily"},
        "balance_settings": {"minimum_balance_by_currency": {"cad": 100_000}},
        "balances": {"available": {"cad": 150_000}},
        "charges": [{"amount": 50_000, "currency": "cad", "created": "2026-07-20"}],
    }
    base.update(fields)
    return base


def scenario(*accounts: dict[str, Any], reserves: bool = True, clock: str = CLOCK) -> Scenario:
    return Scenario.model_validate({
        "clock": clock,
        "platform": {"account_id": "acct_platform01", "business_name": "Gestion Test",
                     "secret_key": KEY, "reserves_preview": reserves},
        "accounts": list(accounts),
    })


@pytest.fixture
def serve() -> Iterator[Any]:
    """`serve(scenario, **options)` starts a sandbox that stops after the test."""
    started: list[Sandbox] = []

    def start(s: Scenario, **options: Any) -> Sandbox:
        sandbox = Sandbox(s, **options)
        sandbox.start()
        started.append(sandbox)
        return sandbox

    yield start
    for sandbox in started:
        sandbox.stop()
