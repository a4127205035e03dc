"""Money, dates and percents as a reader expects them in their language and country, through
Babel: the one place that formats them, so `1er` and `25 072,67 $` are written once.

Only the edges format: the core keeps integers in minor units and `datetime.date` values.
"""

from __future__ import annotations

import copy
import re
from datetime import date
from decimal import Decimal
from functools import lru_cache

from babel import Locale
from babel.dates import format_date
from babel.localedata import locale_identifiers
from babel.numbers import format_percent as babel_format_percent
from babel.numbers import parse_pattern

from balance_guard.domain.money import exponent, to_major

# Where a language has no variant for the reader's country, the platform's home market
# (a Canadian property-management platform) is the closest convention: USD in fr-CA reads
# `25 072,67 $ US`, unambiguous to a reader in Quebec as in the United States.
_FALLBACK_TERRITORY = {"fr": "CA", "en": "US"}


@lru_cache(maxsize=256)
def babel_locale(language: str, country: str | None = None) -> Locale:
    """`fr` + `CA` -> fr_CA, `en` + `US` -> en_US; a pair Babel does not know falls back to
    the language's conventions for the platform's home market."""
    lang = language.split("+", maxsplit=1)[0].strip().lower() or "en"
    known = _known_locales()
    if country:
        candidate = f"{lang}_{country.strip().upper()}"
        if candidate in known:
            return Locale.parse(candidate)
    fallback = f"{lang}_{_FALLBACK_TERRITORY.get(lang, '')}".rstrip("_")
    return Locale.parse(fallback if fallback in known else lang if lang in known else "en")


@lru_cache(maxsize=1)
def _known_locales() -> frozenset[str]:
    return frozenset(locale_identifiers())


def currency_country(currency: str) -> str:
    """The country whose currency this is, by ISO 4217's convention that a national
    currency code starts with its country code (`cad` -> CA, `jpy` -> JP); used only when
    the account's own country is not known."""
    return currency[:2].upper()


def format_money(
    amount_minor: int, currency: str, language: str, country: str | None = None
) -> str:
    """`2507267, "cad", "fr", "CA"` -> `25 072,67 $`; `"en", "CA"` -> `$25,072.67`.

    Decimals follow Stripe's minor unit for the currency (none for JPY, three for KWD), not
    CLDR's, so the figure shown is exactly the amount Stripe holds.
    """
    code = currency.upper()
    locale = babel_locale(language, country or currency_country(currency))
    digits = exponent(currency.lower())
    pattern = copy.copy(parse_pattern(locale.currency_formats["standard"]))
    pattern.frac_prec = (digits, digits)
    text: str = pattern.apply(to_major(amount_minor, currency.lower()), locale, currency=code,
                              currency_digits=False)
    return text


def format_day(day: date, language: str, country: str | None = None) -> str:
    """A date in words with its weekday: `lundi 31 août 2026`, `Monday, August 31, 2026`.

    French writes the first day of a month as an ordinal, `samedi 1er août 2026`.
    """
    return _format_date(day, "full", language, country)


def format_long_day(day: date, language: str, country: str | None = None) -> str:
    """A date in words without its weekday: `1er août 2026`, `August 1, 2026`."""
    return _format_date(day, "long", language, country)


def format_day_of_month(number: int, language: str, country: str | None = None) -> str:
    """A day of any month, as a number (a monthly payout day): `1er`, `15`; `1`, `15`."""
    # January has every day from 1 to 31; only the day field of the pattern is used.
    return _format_date(date(2000, 1, number), None, language, country)


def format_percent(percent: Decimal, language: str, country: str | None = None) -> str:
    """A share out of 100, as many decimals as it has: `12.5` -> `12.5%`, `12,5 %`."""
    text: str = babel_format_percent(percent / 100, locale=babel_locale(language, country),
                                     decimal_quantization=False)
    return text


def _format_date(day: date, length: str | None, language: str, country: str | None) -> str:
    """`day` by the locale's CLDR pattern of that `length` (`None`: the day number alone).

    French writes the first day of a month as an ordinal (`1er`); CLDR's patterns have no
    such case, so the day field becomes `d'er'` on the first of the month.
    """
    locale = babel_locale(language, country)
    pattern: str = "d" if length is None else locale.date_formats[length].pattern
    if day.day == 1 and locale.language == "fr":
        pattern = _first_of_month(pattern)
    text: str = format_date(day, format=pattern, locale=locale)
    return text


# A lone `d` field (not `dd`, not inside a quoted literal) in a CLDR date pattern.
_DAY_FIELD = re.compile(r"(?<![d'])d(?![d'])")


def _first_of_month(pattern: str) -> str:
    """`EEEE d MMMM y` -> `EEEE d'er' MMMM y`; quoted literals are left alone."""
    parts = pattern.split("'")
    parts[::2] = [_DAY_FIELD.sub("d'er'", part) for part in parts[::2]]
    return "'".join(parts)
