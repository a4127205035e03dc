"""The Lambda functions' settings from the environment, and the Stripe key's secret."""

from __future__ import annotations

import json

import pytest

from balance_guard.aws.settings import Settings, _key_in
from balance_guard.config import ConfigError
from balance_guard.domain.policy import Locale

KEY = "sk_test_settingsSECRETkey42"
BASE = {"STATE_TABLE": "state", "STRIPE_API_KEY": KEY}


def test_the_environment_is_read_once_into_settings_and_policy() -> None:
    settings = Settings.from_env({
        **BASE, "STRIPE_MAX_RPS": "30", "DEFAULT_LOCALE": "fr+en",
        "BALANCE_GUARD_TIMEZONE": "America/Vancouver", "STRIPE_API_BASE": " ",
        "OPS_EMAIL": "ops@example.com",
    })

    assert settings.stripe_max_rps == 30.0
    assert settings.policy.default_locale is Locale.FR_EN
    assert settings.policy.timezone == "America/Vancouver"
    assert settings.stripe_api_base is None  # blank is unset
    assert settings.require("ops_email") == "ops@example.com"
    assert settings.stripe_key() == KEY
    assert KEY not in repr(settings)


@pytest.mark.parametrize(("env", "message"), [
    ({"STRIPE_API_KEY": KEY}, "STATE_TABLE is not set"),
    ({**BASE, "STRIPE_MAX_RPS": "fast"}, "STRIPE_MAX_RPS must be a number"),
    ({**BASE, "STRIPE_MAX_RPS": "0"}, "STRIPE_MAX_RPS must be above zero"),
    ({**BASE, "CHECK_MAX_RECEIVES": "2.5"}, "CHECK_MAX_RECEIVES must be a whole number"),
    ({**BASE, "DEFAULT_LOCALE": "de"}, "invalid policy setting default_locale"),
])
def test_a_bad_setting_is_named_in_one_clear_error(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env)


def test_a_missing_setting_is_named_when_a_function_needs_it() -> None:
    settings = Settings.from_env({"STATE_TABLE": "state"})

    with pytest.raises(ConfigError, match="REPORTS_BUCKET is not set"):
        settings.require("reports_bucket")
    with pytest.raises(ConfigError, match="STRIPE_SECRET_ARN"):
        settings.stripe_key()


@pytest.mark.parametrize("secret", [
    KEY, f"  {KEY}\n", json.dumps({"api_key": KEY}), json.dumps({"STRIPE_API_KEY": KEY}),
])
def test_the_secret_holds_the_key_as_text_or_json(secret: str) -> None:
    assert _key_in(secret) == KEY


@pytest.mark.parametrize("secret", [
    "", "{not json " + KEY, json.dumps({"other": KEY}), json.dumps({"api_key": ""}),
])
def test_an_unusable_secret_is_refused_without_quoting_it(secret: str) -> None:
    with pytest.raises(ConfigError) as error:
        _key_in(secret)
    assert KEY not in str(error.value)
