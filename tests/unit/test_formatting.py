"""Money, dates and percents through Babel, for the reader's language and country."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from balance_guard.text.formatting import (
    babel_locale,
    format_day,
    format_day_of_month,
    format_long_day,
    format_money,
    format_percent,
)


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


@pytest.mark.parametrize(("country", "expected"), [
    ("CA", "samedi 1er août 2026"),
    ("FR", "samedi 1er août 2026"),
    ("CH", "samedi, 1er août 2026"),
    (None, "samedi 1er août 2026"),
])
def test_french_writes_the_first_of_the_month_as_an_ordinal(country: str | None,
                                                             expected: str) -> None:
    assert format_day(date(2026, 8, 1), "fr", country) == expected


def test_only_the_first_is_an_ordinal_and_only_in_french() -> None:
    assert format_day(date(2026, 8, 2), "fr", "CA") == "dimanche 2 août 2026"
    assert format_day(date(2026, 8, 11), "fr", "CA") == "mardi 11 août 2026"
    assert format_day(date(2026, 8, 21), "fr", "CA") == "vendredi 21 août 2026"
    assert format_day(date(2026, 8, 1), "en", "CA") == "Saturday, August 1, 2026"
    assert format_day(date(2027, 1, 1), "fr", "CA") == "vendredi 1er janvier 2027"


@pytest.mark.parametrize(("day", "language", "country", "expected"), [
    (date(2026, 8, 1), "fr", "CA", "1er août 2026"),
    (date(2026, 8, 1), "fr", "FR", "1er août 2026"),
    (date(2026, 8, 1), "fr", None, "1er août 2026"),
    (date(2026, 8, 2), "fr", "CA", "2 août 2026"),
    (date(2026, 8, 31), "fr", "CA", "31 août 2026"),
    (date(2026, 8, 1), "en", "US", "August 1, 2026"),
    (date(2026, 9, 2), "en", "CA", "September 2, 2026"),
])
def test_long_day_is_the_date_in_words_without_its_weekday(
    day: date, language: str, country: str | None, expected: str,
) -> None:
    assert format_long_day(day, language, country) == expected


@pytest.mark.parametrize(("number", "language", "expected"), [
    (1, "fr", "1er"), (2, "fr", "2"), (15, "fr", "15"), (31, "fr", "31"),
    (1, "en", "1"), (31, "en", "31"),
])
def test_a_day_of_the_month_has_the_same_first_of_the_month_rule(
    number: int, language: str, expected: str,
) -> None:
    assert format_day_of_month(number, language, "CA") == expected


@pytest.mark.parametrize(("percent", "language", "country", "expected"), [
    (Decimal(25), "en", "US", "25%"),
    (Decimal("12.5"), "en", "US", "12.5%"),
    (Decimal("2.9"), "fr", "CA", "2,9 %"),
    (Decimal(100), "fr", "CA", "100 %"),
    (Decimal("0.25"), "fr", "FR", "0,25 %"),
])
def test_percent_keeps_the_decimals_it_has(
    percent: Decimal, language: str, country: str, expected: str,
) -> None:
    assert plain(format_percent(percent, language, country)) == expected
