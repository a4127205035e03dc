"""Money, dates and percents through Babel, for the reader's language and home country."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from balance_guard.text.formatting import (
    babel_locale,
    currency_symbol,
    format_day,
    format_day_of_month,
    format_long_day,
    format_money,
    format_number,
    format_percent,
)

NBSP = "\u00a0"


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


# The currency is marked whenever it is not the reader's home currency; French keeps the
# figure and its sign together with no-break spaces (U+00A0 only).
@pytest.mark.parametrize(("language", "home", "currency", "expected"), [
    ("en", "CA", "cad", "$25,072.67"),
    ("en", "CA", "usd", "US$25,072.67"),
    ("en", "CA", "eur", "€25,072.67"),
    ("en", "CA", "jpy", "JP¥2,507,267"),
    ("en", "US", "cad", "CA$25,072.67"),
    ("en", "US", "usd", "$25,072.67"),
    ("en", "US", "eur", "€25,072.67"),
    ("en", "US", "jpy", "¥2,507,267"),
    ("fr", "CA", "cad", f"25{NBSP}072,67{NBSP}$"),
    ("fr", "CA", "usd", f"25{NBSP}072,67{NBSP}${NBSP}US"),
    ("fr", "CA", "eur", f"25{NBSP}072,67{NBSP}€"),
    ("fr", "CA", "jpy", f"2{NBSP}507{NBSP}267{NBSP}¥"),
    ("fr", "US", "cad", f"25{NBSP}072,67{NBSP}${NBSP}CA"),
    ("fr", "US", "usd", f"25{NBSP}072,67{NBSP}$"),
    ("fr", "US", "eur", f"25{NBSP}072,67{NBSP}€"),
    ("fr", "US", "jpy", f"2{NBSP}507{NBSP}267{NBSP}¥"),
])
def test_the_currency_is_marked_unless_it_is_the_readers_own(
    language: str, home: str, currency: str, expected: str,
) -> None:
    assert format_money(2_507_267, currency, language, home) == expected


@pytest.mark.parametrize(("language", "home", "currency", "expected"), [
    ("en", "CA", "cad", "$"), ("en", "CA", "usd", "US$"),
    ("en", "US", "usd", "$"), ("en", "US", "cad", "CA$"),
    ("fr", "CA", "cad", "$"), ("fr", "CA", "usd", f"${NBSP}US"),
    ("fr", "US", "usd", "$"), ("fr", "US", "cad", f"${NBSP}CA"),
    # Babel has no French for Britain either: the pound is home, both dollars marked.
    ("fr", "GB", "gbp", "£"), ("fr", "GB", "cad", f"${NBSP}CA"), ("fr", "GB", "usd", f"${NBSP}US"),
    ("fr", "US", "aud", f"${NBSP}AU"),
    ("en", "US", "kwd", "KWD"),
])
def test_currency_symbol_follows_the_same_rule(language: str, home: str, currency: str,
                                               expected: str) -> None:
    assert currency_symbol(currency, language, home) == expected


def test_french_money_uses_only_the_wide_no_break_space() -> None:
    # fr_FR groups digits with U+202F; the one French typography uses U+00A0 everywhere.
    assert format_money(2_507_267, "eur", "fr", "FR") == f"25{NBSP}072,67{NBSP}€"
    assert format_money(-150_000, "cad", "fr", "CA") == f"-1{NBSP}500,00{NBSP}$"


def test_without_a_country_the_reader_lives_where_the_currency_is_used() -> None:
    assert format_money(2_507_267, "cad", "en") == "$25,072.67"
    assert format_money(2_507_267, "cad", "fr") == f"25{NBSP}072,67{NBSP}$"
    assert format_money(2_507_267, "usd", "en") == "$25,072.67"
    assert format_money(2_507_267, "usd", "fr") == f"25{NBSP}072,67{NBSP}$"


def test_a_country_babel_does_not_know_for_the_language_falls_back() -> None:
    assert str(babel_locale("fr", "US")) == "fr_CA"
    assert str(babel_locale("en", "ZZ")) == "en_US"
    assert str(babel_locale("fr", "FR")) == "fr_FR"


def test_absurdly_large_amount_is_still_formatted_exactly() -> None:
    assert plain(format_money(10**15 - 1, "cad", "en", "CA")) == "$9,999,999,999,999.99"


def test_dates_in_words() -> None:
    assert format_day(date(2026, 8, 31), "fr", "CA") == f"lundi 31{NBSP}août 2026"
    assert format_day(date(2026, 8, 31), "en", "CA") == "Monday, August 31, 2026"
    assert format_day(date(2026, 9, 2), "en") == "Wednesday, September 2, 2026"


@pytest.mark.parametrize(("country", "expected"), [
    ("CA", f"samedi 1er{NBSP}août 2026"),
    ("FR", f"samedi 1er{NBSP}août 2026"),
    ("CH", f"samedi, 1er{NBSP}août 2026"),
    (None, f"samedi 1er{NBSP}août 2026"),
])
def test_french_writes_the_first_of_the_month_as_an_ordinal(country: str | None,
                                                             expected: str) -> None:
    assert format_day(date(2026, 8, 1), "fr", country) == expected


def test_only_the_first_is_an_ordinal_and_only_in_french() -> None:
    # A no-break space keeps the day with its month: never "dimanche 2 / août".
    assert format_day(date(2026, 8, 2), "fr", "CA") == f"dimanche 2{NBSP}août 2026"
    assert format_day(date(2026, 8, 11), "fr", "CA") == f"mardi 11{NBSP}août 2026"
    assert format_day(date(2026, 8, 21), "fr", "CA") == f"vendredi 21{NBSP}août 2026"
    assert format_day(date(2026, 8, 1), "en", "CA") == "Saturday, August 1, 2026"
    assert format_day(date(2027, 1, 1), "fr", "CA") == f"vendredi 1er{NBSP}janvier 2027"


@pytest.mark.parametrize(("day", "language", "country", "expected"), [
    (date(2026, 8, 1), "fr", "CA", f"1er{NBSP}août 2026"),
    (date(2026, 8, 1), "fr", "FR", f"1er{NBSP}août 2026"),
    (date(2026, 8, 1), "fr", None, f"1er{NBSP}août 2026"),
    (date(2026, 8, 2), "fr", "CA", f"2{NBSP}août 2026"),
    (date(2026, 8, 31), "fr", "CA", f"31{NBSP}août 2026"),
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
    (Decimal("2.9"), "fr", "CA", f"2,9{NBSP}%"),
    (Decimal(100), "fr", "CA", f"100{NBSP}%"),
    (Decimal("0.25"), "fr", "FR", f"0,25{NBSP}%"),
])
def test_percent_keeps_the_decimals_it_has(
    percent: Decimal, language: str, country: str, expected: str,
) -> None:
    assert format_percent(percent, language, country) == expected


@pytest.mark.parametrize(("number", "language", "country", "expected"), [
    (1234, "en", "US", "1,234"),
    (1234, "fr", "CA", f"1{NBSP}234"),
    (1234, "fr", "FR", f"1{NBSP}234"),  # not fr_FR's narrow no-break space
    (Decimal("5.9"), "fr", "CA", "5,9"),
    (Decimal("5.9"), "en", "CA", "5.9"),
    (12, "fr", None, "12"),
])
def test_numbers_are_grouped_as_the_reader_groups_them(
    number: int | Decimal, language: str, country: str | None, expected: str,
) -> None:
    assert format_number(number, language, country) == expected
