"""Money and dates through Babel, for the reader's language and country (SPEC §10)."""

from __future__ import annotations

from datetime import date

import pytest

from balance_guard.formatting import babel_locale, format_day, format_money


def plain(text: str) -> str:
    """Babel writes no-break spaces (U+00A0, U+202F) where a French reader sees a space."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


@pytest.mark.parametrize(("amount", "currency", "language", "country", "expected"), [
    (2_507_267, "cad", "fr", "CA", "25 072,67 $"),
    (2_507_267, "cad", "en", "CA", "$25,072.67"),
    (2_507_267, "usd", "fr", "CA", "25 072,67 $ US"),
    (2_507_267, "usd", "en", "US", "$25,072.67"),
    (2_507_267, "usd", "en", "CA", "US$25,072.67"),
    (25_072, "jpy", "fr", "CA", "25 072 ¥"),
    (25_072, "jpy", "en", "US", "¥25,072"),
    (25_072, "kwd", "en", "US", "KWD25.072"),
    (0, "cad", "fr", "CA", "0,00 $"),
    (-1_500, "cad", "en", "CA", "-$15.00"),
])
def test_format_money(amount: int, currency: str, language: str, country: str,
                      expected: str) -> None:
    assert plain(format_money(amount, currency, language, country)) == expected


def test_without_a_country_the_currency_names_it() -> None:
    assert plain(format_money(2_507_267, "cad", "en")) == "$25,072.67"
    assert plain(format_money(2_507_267, "cad", "fr")) == "25 072,67 $"
    assert plain(format_money(2_507_267, "usd", "en")) == "$25,072.67"


def test_a_country_babel_does_not_know_for_the_language_falls_back() -> None:
    assert str(babel_locale("fr", "US")) == "fr_CA"
    assert str(babel_locale("en", "ZZ")) == "en_US"
    assert str(babel_locale("fr", "FR")) == "fr_FR"


def test_absurdly_large_amount_is_still_formatted_exactly() -> None:
    assert plain(format_money(10**15 - 1, "cad", "en", "CA")) == "$9,999,999,999,999.99"


def test_dates_in_words() -> None:
    assert format_day(date(2026, 8, 31), "fr", "CA") == "lundi 31 août 2026"
    assert format_day(date(2026, 8, 31), "en", "CA") == "Monday, August 31, 2026"
    assert format_day(date(2026, 9, 2), "en") == "Wednesday, September 2, 2026"
