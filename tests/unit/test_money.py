"""Money in minor units: currency codes, decimals per currency, major units, rounding up."""

from __future__ import annotations

from decimal import Decimal

import pytest

from balance_guard.domain.money import (
    CurrencyError,
    exponent,
    normalize_currency,
    round_up_to_major_step,
    to_major,
)


def test_a_currency_code_is_read_in_lower_case_without_spaces() -> None:
    assert normalize_currency(" CAD ") == "cad"


@pytest.mark.parametrize("code", ["ca", "cadd", "c4d", "", "€ur"])
def test_anything_but_three_letters_is_not_a_currency(code: str) -> None:
    with pytest.raises(CurrencyError) as raised:
        normalize_currency(code)
    assert str(raised.value) == f"not a currency code: {code!r}"


def test_a_long_bad_code_is_quoted_cut_to_sixteen_characters() -> None:
    # Metadata is typed by people: a notice must not repeat a paragraph pasted by mistake.
    with pytest.raises(CurrencyError) as raised:
        normalize_currency("0123456789abcdefXYZ")
    assert str(raised.value) == "not a currency code: '0123456789abcdef'"


@pytest.mark.parametrize(("currency", "decimals"),
                         [("cad", 2), ("usd", 2), ("jpy", 0), ("krw", 0), ("kwd", 3),
                          ("isk", 2), ("ugx", 2)])
def test_decimals_follow_stripe_not_iso(currency: str, decimals: int) -> None:
    assert exponent(currency) == decimals


@pytest.mark.parametrize(("amount", "currency", "major"),
                         [(12_345, "cad", "123.45"), (-50, "usd", "-0.50"),
                          (500, "jpy", "500"), (1_001, "kwd", "1.001")])
def test_major_units_move_the_decimal_point_by_the_currency_exponent(
    amount: int, currency: str, major: str
) -> None:
    assert to_major(amount, currency) == Decimal(major)


@pytest.mark.parametrize(("amount", "currency", "rounded"),
                         [(123_456, "cad", 125_000), (125_000, "cad", 125_000),
                          (1, "cad", 5_000), (0, "cad", 0), (12_001, "jpy", 12_050),
                          (1_001, "kwd", 50_000)])
def test_round_up_to_a_whole_fifty_in_major_units(amount: int, currency: str,
                                                  rounded: int) -> None:
    assert round_up_to_major_step(amount, currency, 50) == rounded
