"""The notices operations read about an account's `balance_guard_*` metadata.

Metadata is typed by people in the Stripe dashboard, and each notice ends up in the run's
digest: it names the key as typed (or quoted, when the key holds characters a terminal or
a page would obey), quotes at most 40 characters of the value, and says what was done.
"""

from __future__ import annotations

from balance_guard.domain.money import ABSURD_AMOUNT
from balance_guard.domain.policy import Locale, Policy, resolve_account_settings

TARGET_CAD = "balance_guard_prefund_target_cad"


def notices(metadata: dict[str, str]) -> tuple[str, ...]:
    return resolve_account_settings(Policy(), metadata).notices


def test_other_metadata_before_ours_is_skipped_not_the_end_of_the_list() -> None:
    # Keys are read in order: "account_manager" comes before every balance_guard_ key.
    settings = resolve_account_settings(Policy(), {"account_manager": "Luc",
                                                   "balance_guard_locale": "fr"})
    assert settings.locale is Locale.FR
    assert settings.notices == ()


def test_an_amount_just_below_the_absurd_is_taken_and_the_absurd_is_refused() -> None:
    largest = str(ABSURD_AMOUNT - 1)  # 999 999 999 999 999 minor units
    settings = resolve_account_settings(Policy(), {TARGET_CAD: largest})
    assert settings.prefund_targets == {"cad": ABSURD_AMOUNT - 1}
    refused = resolve_account_settings(Policy(), {TARGET_CAD: str(ABSURD_AMOUNT)})
    assert refused.prefund_targets == {}
    assert refused.notices == (
        f"{TARGET_CAD}: '1000000000000000' is not a whole amount in minor units; ignored",)


def test_a_bad_amount_is_quoted_to_forty_characters() -> None:
    value = "about fifty thousand dollars, give or take a few"  # 48 characters
    assert notices({TARGET_CAD: value}) == (
        f"{TARGET_CAD}: {value[:40]!r} is not a whole amount in minor units; ignored",)
    assert "take a few" not in notices({TARGET_CAD: value})[0]


def test_a_bad_locale_is_quoted_to_forty_characters_and_the_default_kept() -> None:
    value = "français et anglais, s'il vous plaît, merci"  # 43 characters
    assert notices({"balance_guard_locale": value}) == (
        f"balance_guard_locale: {value[:40]!r} is not fr, en or fr+en; using en",)


def test_a_key_without_a_currency_says_so() -> None:
    key = "balance_guard_prefund_target_dollars"
    assert notices({key: "100"}) == (
        f"{key}: the key does not end with a currency code; ignored",)


def test_a_long_unknown_key_is_named_by_its_first_sixty_characters() -> None:
    key = "balance_guard_" + "minimum_balance_reminder_for_the_building_manager"  # 63
    assert notices({key: "yes"}) == (f"{key[:60]}: unknown Balance Guard setting; ignored",)


def test_a_key_with_control_characters_is_quoted_and_escaped() -> None:
    # A line break or a bidi override in a key must not drive the digest's reader's screen.
    key = "balance_guard_colour\u202e\n" + "x" * 50  # 72 characters
    [notice] = notices({key: "blue"})
    assert notice == f"{key[:60]!r}: unknown Balance Guard setting; ignored"
    assert notice.startswith("'balance_guard_colour\\u202e\\n")
