"""Money, dates and percents as a reader expects them in their language and country, through
Babel: the one place that formats them, so `1er` and `25 072,67 $` are written once.

Every function takes the reader's language and their home `country`: the building's
country in its emails, the platform's (`PLATFORM_COUNTRY`) in the digest, the report and
the CLI. Money is written with its currency marked whenever it is not the reader's home
currency (`format_money`), and French output is set by the product's one typography
(`text.typography`), so a figure never breaks across a line (`25 072,67 $`, `2 août`).

Only the edges format: the core keeps integers in minor units and `datetime.date` values.
May import Babel, `domain.money` and `text.typography`.
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
from babel.numbers import format_decimal, get_territory_currencies, parse_pattern
from babel.numbers import format_percent as babel_format_percent

from balance_guard.domain.money import exponent, to_major
from balance_guard.text.typography import NO_BREAK_SPACE, typeset

# Where Babel has no variant of a language for the reader's country (French in the United
# States), the language's conventions in the platform's home market (a Canadian
# property-management platform) are the closest: digits grouped and the sign placed as in
# fr_CA; `currency_symbol` then marks the currencies for the reader's own country.
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
    """`amount_minor` of `currency` for a reader of `language` whose home is `country`.

    The currency is marked whenever it is not the reader's home currency: a Canadian reads
    CAD as `25 072,67 $` / `$25,072.67` and USD as `25 072,67 $ US` / `US$25,072.67`; an
    American reads USD as `25 072,67 $` / `$25,072.67` and CAD as `25 072,67 $ CA` /
    `CA$25,072.67`. Without a `country`, the reader is taken to live where the currency is
    used, so it reads unmarked.

    Decimals follow Stripe's minor unit for the currency (none for JPY, three for KWD), not
    CLDR's, so the figure shown is exactly the amount Stripe holds.
    """
    home = _home(currency, country)
    locale = babel_locale(language, home)
    digits = exponent(currency.lower())
    pattern = copy.copy(parse_pattern(locale.currency_formats["standard"]))
    pattern.frac_prec = (digits, digits)
    # Without a currency, Babel leaves the pattern's `¤` for the symbol chosen here.
    text: str = pattern.apply(to_major(amount_minor, currency.lower()), locale,
                              currency=None, currency_digits=False)
    return typeset(text.replace("¤", currency_symbol(currency, language, home)), language)


def currency_symbol(currency: str, language: str, country: str | None = None) -> str:
    """How `currency` is marked for a reader of `language` whose home is `country`: `$`,
    `US$`, `CA$`, `€` in English; `$`, `$ US`, `$ CA`, `€` in French.

    Where Babel has a locale for the language in the reader's country (en_CA, en_US,
    fr_CA), CLDR's symbols already follow the rule: the home currency bare, any other one
    marked. Where it has none (French in the United States), the conventions are borrowed
    from the language's home market (fr_CA), whose own currency then needs marking and
    the reader's own currency needs none.
    """
    code = currency.upper()
    home = _home(currency, country)
    locale = babel_locale(language, home)
    symbol: str = locale.currency_symbols.get(code, code)
    if locale.territory == home:
        return symbol
    home_currency = _currency_of(home)
    if code == home_currency:
        return _unmarked(symbol, currency_country(code))
    home_symbol = _unmarked(locale.currency_symbols.get(home_currency or "", ""),
                            home)
    if code == _currency_of(locale.territory) or symbol == home_symbol:
        return _marked(symbol, currency_country(code), locale.language)
    return symbol


def _home(currency: str, country: str | None) -> str:
    return (country or currency_country(currency)).strip().upper()


def _currency_of(country: str | None) -> str | None:
    """The currency a country uses today (`CA` -> `CAD`), if it has one."""
    currencies = get_territory_currencies(country) if country else []
    return currencies[0] if currencies else None


def _unmarked(symbol: str, country: str) -> str:
    """`$ US`, `US$` -> `$`: a symbol without the country CLDR marks it with; a symbol that
    is a code (`KWD`) stays one."""
    bare = symbol.replace(country, "").strip(" " + NO_BREAK_SPACE + "\u202f")
    return bare if bare and not any(char.isalpha() for char in bare) else symbol


def _marked(symbol: str, country: str, language: str) -> str:
    """`$` -> `$ CA` in French, `CA$` in English: CLDR's own way of marking a dollar in
    fr_CA and in English."""
    if any(char.isalpha() for char in symbol):
        return symbol
    return f"{symbol}{NO_BREAK_SPACE}{country}" if language == "fr" else f"{country}{symbol}"


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


def format_number(number: int | Decimal, language: str, country: str | None = None) -> str:
    """A count or a quantity, grouped as the reader groups digits: `1,234`, `1 234`
    (French groups with a no-break space, never the narrow one of fr_FR)."""
    text: str = format_decimal(number, locale=babel_locale(language, country),
                               decimal_quantization=False)
    return typeset(text, language)


def format_percent(percent: Decimal, language: str, country: str | None = None) -> str:
    """A share out of 100, as many decimals as it has: `12.5` -> `12.5%`, `12,5 %`."""
    text: str = babel_format_percent(percent / 100, locale=babel_locale(language, country),
                                     decimal_quantization=False)
    return typeset(text, language)


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
    return typeset(text, language)


# A lone `d` field (not `dd`, not inside a quoted literal) in a CLDR date pattern.
_DAY_FIELD = re.compile(r"(?<![d'])d(?![d'])")


def _first_of_month(pattern: str) -> str:
    """`EEEE d MMMM y` -> `EEEE d'er' MMMM y`; quoted literals are left alone."""
    parts = pattern.split("'")
    parts[::2] = [_DAY_FIELD.sub("d'er'", part) for part in parts[::2]]
    return "'".join(parts)
