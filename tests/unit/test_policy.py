from __future__ import annotations

import pytest

from balance_guard.config import ConfigError, load_policy
from balance_guard.domain.policy import (
    Locale,
    Policy,
    is_portal_address,
    resolve_account_settings,
)


def test_defaults_follow_the_spec() -> None:
    policy = Policy()
    assert (policy.exposure_lookback_days, policy.release_horizon_days,
            policy.warning_reminder_days, policy.arrival_business_days) == (90, 14, 7, 2)
    assert policy.default_locale is Locale.EN
    assert policy.exposure_floors == {}
    assert policy.prefund_targets == {}


def test_metadata_overrides_locale_emails_targets_and_floors() -> None:
    settings = resolve_account_settings(Policy(), {
        "balance_guard_locale": "fr+en",
        "balance_guard_emails": " a@example.com, b@example.com ,",
        "balance_guard_prefund_target_CAD": "50000",
        "balance_guard_exposure_floor_usd": "120000",
        "unrelated": "kept out",
    })
    assert settings.locale is Locale.FR_EN
    assert settings.emails == ("a@example.com", "b@example.com")
    assert settings.prefund_targets == {"cad": 50_000}
    assert settings.exposure_floors == {"usd": 120_000}
    assert settings.notices == ()


@pytest.mark.parametrize(("key", "value"), [
    ("balance_guard_locale", "de"),
    ("balance_guard_prefund_target_cad", "lots"),
    ("balance_guard_prefund_target_cad", "-5"),
    ("balance_guard_prefund_target_cad", "12.50"),
    ("balance_guard_prefund_target_cad", "9" * 40),
    ("balance_guard_prefund_target_dollars", "100"),
    ("balance_guard_exposure_floor_", "100"),
    ("balance_guard_emails", " , "),
    ("balance_guard_colour", "blue"),
])
def test_bad_metadata_is_ignored_and_reported(key: str, value: str) -> None:
    settings = resolve_account_settings(Policy(prefund_targets={"cad": 1}), {key: value})
    assert settings.locale is Locale.EN
    assert settings.prefund_targets == {"cad": 1}
    assert settings.exposure_floors == {}
    assert settings.emails is None
    assert len(settings.notices) == 1
    assert key in settings.notices[0]


@pytest.mark.parametrize("key", ["balance_guard_prefund_target_cad",
                                 "balance_guard_exposure_floor_cad"])
@pytest.mark.parametrize("value", ["\u00b2", "\u2460", "\u00b9\u00b2", "\u0661\u0662\u0663",
                                   "\uff11\uff12"])
def test_metadata_amounts_take_ascii_digits_only(key: str, value: str) -> None:
    settings = resolve_account_settings(Policy(), {key: value})  # "²", "①", "¹²", "١٢٣", "１２"

    assert settings.prefund_targets == {}
    assert settings.exposure_floors == {}
    [notice] = settings.notices
    assert key in notice
    assert "ignored" in notice


def test_policy_reads_environment_and_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    file = tmp_path / "policy.yaml"
    file.write_text("release_horizon_days: 21\nprefund_targets: {cad: 100000}\n")
    policy = load_policy({"BALANCE_GUARD_POLICY_FILE": str(file), "DEFAULT_LOCALE": "fr",
                          "BALANCE_GUARD_LOOKBACK_DAYS": "60"})
    assert policy.release_horizon_days == 21
    assert policy.exposure_lookback_days == 60
    assert policy.default_locale is Locale.FR
    assert policy.prefund_targets == {"cad": 100_000}


def test_invalid_policy_is_one_clear_error() -> None:
    with pytest.raises(ConfigError, match="exposure_lookback_days"):
        load_policy({"BALANCE_GUARD_LOOKBACK_DAYS": "zero"})


@pytest.mark.parametrize(("address", "fit"), [
    ("https://portal.boreal.example/buildings", True),
    ("https://portal.example", True),
    ("https://portal.example/X", True),  # letters are never refused
    ("HTTPS://portal.example", True),  # urlsplit lower-cases the scheme
    ("http://portal.example", False),
    ("https:///no-host", False),
    ("https://", False),
    ("javascript:alert(1)", False),
    ("https://portail.exemple/é", False),  # not ASCII
    ("https://portal.example/a b", False),
    ("https://portal.example/\t", False),
    ("https://portal.example/\x7f", False),
    ("https://portal.example/\"><script>", False),
    ("https://portal.example/'", False),
    ("https://portal.example/`", False),
    ("https://portal.example/\\", False),
    ("https://portal.example/<", False),
    ("https://[portal.example", False),  # urlsplit refuses it
])
def test_a_portal_address_is_one_printable_https_link(address: str, fit: bool) -> None:
    assert is_portal_address(address) is fit
    if fit:
        assert Policy(platform_portal_url=address).platform_portal_url == address
