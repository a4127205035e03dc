"""Settings every test shares: no real configuration leaks in, no timing flakiness."""

from __future__ import annotations

import pytest
from hypothesis import settings

# Property tests check behaviour, not speed: a loaded 2-core CI machine must not fail them.
settings.register_profile("balance-guard", deadline=None)
settings.load_profile("balance-guard")

# What an operator's shell may hold: a test must never reach the real Stripe or pick up a
# real platform's names, addresses or policy.
ENVIRONMENT = (
    "STRIPE_API_KEY", "STRIPE_API_BASE", "STRIPE_MAX_RPS", "STRIPE_SECRET_ARN",
    "DOCS_BASE_URL", "DEFAULT_LOCALE", "SUPPORT_EMAIL", "PLATFORM_NAME", "PLATFORM_COUNTRY",
    "PLATFORM_PORTAL_URL", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG",
    "SENDER_EMAIL", "OPS_EMAIL", "SES_CONFIGURATION_SET", "BALANCE_GUARD_POLICY_FILE",
    "BALANCE_GUARD_LOOKBACK_DAYS", "BALANCE_GUARD_RELEASE_HORIZON_DAYS",
    "BALANCE_GUARD_REMINDER_DAYS", "BALANCE_GUARD_ARRIVAL_DAYS", "BALANCE_GUARD_TIMEZONE",
    "BALANCE_GUARD_CLAIM_LEASE_SECONDS",
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
