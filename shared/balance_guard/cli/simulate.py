"""`balance-guard reserve-simulate`: what a reserve would hold and give back, day by day.

It reads payments from a CSV file or standard input, applies reserve terms with the same
engine the nightly check and the help site use (`domain.reserves`), and prints when money
is held, when it is released, which payout carries it and when that payout reaches the
bank, in French or English: its words come from the gettext catalog (`text.i18n`), its
amounts, dates and percents from `text.formatting`, for a reader in the platform's country
(`PLATFORM_COUNTRY`, as the digest and the report): on a Canadian platform CAD reads `$`
and USD `US$`. Exit codes follow the CLI contract: 0 done, 2 bad input (one clear line, in
the CLI's language, `cli.language`, whatever `--locale` the timeline is in).
May import the domain, `text`, `config` (the platform's country), `cli.language` and Babel.

CSV columns (header row required, any order, other columns ignored; French names too):
`date` (YYYY-MM-DD; with `--locale fr` also DD/MM/YYYY), `gross` or `amount` (`brut`,
`montant`: major units, `100.00`; with `--locale fr` also `1 234,56`), optional `fee`
(`frais`: major units like `3.20`, or a rule like `2.9%+30` whose fixed part is in minor
units; empty: `--fee-rule`), optional `currency` (`devise`: an ISO 4217 code; empty:
`--currency`). Spreadsheets' CSV is read as saved: `,`, `;` or tab separators (from the
header line, or Excel's `sep=;` line), UTF-8 with or without a BOM, UTF-16 ("Unicode
text") or Windows-1252.
"""

from __future__ import annotations

import argparse
import codecs
import csv
import io
import json
import re
import sys
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Context, Decimal, InvalidOperation, localcontext
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.core import get_global
from babel.dates import get_day_names
from babel.lists import format_list

from balance_guard.cli.language import _
from balance_guard.config import ConfigError, load_policy
from balance_guard.domain.money import (
    ABSURD_AMOUNT,
    CurrencyError,
    exponent,
    normalize_currency,
)
from balance_guard.domain.payout_calendar import (
    DEFAULT_ARRIVAL_BUSINESS_DAYS,
    WEEKDAYS,
    has_holiday_calendar,
)
from balance_guard.domain.reserves import (
    Movement,
    Release,
    ReserveKind,
    ReserveTerms,
    ReserveTermsError,
    Transaction,
    card_fee,
    project,
    release_schedule,
    releases_from_movements,
)
from balance_guard.domain.snapshot import Interval, PayoutSchedule
from balance_guard.text.formatting import (
    babel_locale,
    format_day_of_month,
    format_long_day,
    format_money,
    format_percent,
)
from balance_guard.text.i18n import N_, words

COMMAND = "reserve-simulate"
DEFAULT_FEE_RULE = "2.9%+30"

_FEE_RULE = re.compile(r"^\s*(?P<percent>\d+(?:\.\d+)?)\s*%\s*(?:\+\s*(?P<fixed>\d+)\s*)?$")
_TYPES = {"fixed": ReserveKind.FIXED, "rolling": ReserveKind.ROLLING,
          "balance-transfer": ReserveKind.BALANCE_TRANSFER}


class SimulationInputError(ValueError):
    """Input the simulation cannot use; the message names the file, line and value."""


@dataclass(frozen=True)
class FeeRule:
    """Stripe's fee as a percent plus a fixed part in minor units (`2.9%+30`)."""

    percent: Decimal
    fixed: int

    def fee(self, gross: int) -> int:
        return card_fee(gross, self.percent, self.fixed)


def parse_fee_rule(text: str) -> FeeRule | None:
    """`2.9%+30` -> FeeRule(2.9, 30); None when the text is not a fee rule."""
    match = _FEE_RULE.match(text)
    if match is None:
        return None
    return FeeRule(Decimal(match["percent"]), int(match["fixed"] or 0))


# Column names a header may use, English then French, each group's first found cell wins.
_DATE_COLUMNS = ("date",)
_GROSS_COLUMNS = ("gross", "amount", "brut", "montant", "montant brut")
_FEE_COLUMNS = ("fee", "frais")
_CURRENCY_COLUMNS = ("currency", "devise", "monnaie")
_SEPARATORS = (";", ",", "\t")
# Excel writes `sep=;` as a first line when asked to, to say which separator follows.
_SEP_LINE = re.compile(r'^\s*"?sep=(?P<sep>[;,\t])"?\s*$', re.IGNORECASE)
# Thousands separators of French amounts: a space, a no-break space (Excel, LibreOffice),
# a narrow no-break space (CLDR's French) or a thin space.
_FRENCH_GROUP = " \u00a0\u202f\u2009"
_GROUPED = {
    "fr": re.compile(rf"\d{{1,3}}(?:[{_FRENCH_GROUP}]\d{{3}})+(?:[,.]\d*)?"),
    "en": re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d*)?"),
}
_EXAMPLE_AMOUNT = {"fr": "1 234,56", "en": "1,234.56"}
_FRENCH_DATE = re.compile(r"(?P<day>\d{1,2})/(?P<month>\d{1,2})/(?P<year>\d{4})")


def _quoted(text: str) -> str:
    """A cell as the reader typed it, in quotes: `'1 234,56'`, its no-break spaces kept as
    spaces rather than written `\\xa0`; control characters escaped; at most 20 characters."""
    shown = "".join(char if char.isprintable() else
                    " " if char in _FRENCH_GROUP else repr(char)[1:-1] for char in text[:20])
    return f"'{shown}'"


def _decimal(text: str, language: str) -> Decimal:
    """`1 234,56` (with `--locale fr`), `1,234.56` or `1234.56` as a Decimal; a spreadsheet
    writes amounts with the separators of its own language."""
    language = "fr" if language == "fr" else "en"
    sign, digits = ("-", text[1:].strip()) if text[:1] in "-\u2212" else ("", text)
    if _GROUPED[language].fullmatch(digits):
        digits = (re.sub(f"[{_FRENCH_GROUP}]", "", digits) if language == "fr"
                  else digits.replace(",", ""))
    if language == "fr" and "." not in digits:
        digits = digits.replace(",", ".", 1)
    values = {"value": _quoted(text), "example": _EXAMPLE_AMOUNT[language]}
    if any(char.isspace() or char in ",_" for char in digits):  # Decimal reads 1_000
        message = (_("{value} is not an amount like {example}") if language == "fr" else
                   _("{value} is not an amount like {example} (amounts like 1 234,56 need "
                     "--locale fr)"))
        raise SimulationInputError(message.format(**values))
    try:
        if len(digits) > 40:  # no amount has that many digits; Decimal would read them all
            raise InvalidOperation
        return Decimal(sign + digits)
    except InvalidOperation:
        raise SimulationInputError(
            _("{value} is not an amount like {example}").format(**values)) from None


def parse_major(text: str, currency: str, language: str = "en") -> int:
    """A non-negative amount in major units (`100.00`; `1 234,56` in French) as minor units
    of the currency."""
    text = text.strip()
    value = _decimal(text, language)
    values = {"value": _quoted(text), "currency": currency.upper()}
    if not value.is_finite() or value < 0:
        raise SimulationInputError(_("{value} is not an amount of zero or more").format(**values))
    # Exponents as large as 1e999999999 are valid Decimals: sort them out before any
    # arithmetic, which is then exact (a precision beyond any digits that get this far).
    too_large = _("{value} is too large to be an amount")
    too_precise = _("{value} has more decimals than {currency} allows")
    if value and value.adjusted() >= 18:
        raise SimulationInputError(too_large.format(**values))
    if value and value.adjusted() < -18:
        raise SimulationInputError(too_precise.format(**values))
    with localcontext(Context(prec=80)):
        minor = value.scaleb(exponent(currency))
    if minor != minor.to_integral_value():
        raise SimulationInputError(too_precise.format(**values))
    if minor >= ABSURD_AMOUNT:
        raise SimulationInputError(too_large.format(**values))
    return int(minor)


def parse_day(text: str, language: str = "en") -> date:
    """`2026-08-01`; in French also `01/08/2026`, the day first as a French spreadsheet
    writes it."""
    text = text.strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    match = _FRENCH_DATE.fullmatch(text) if language == "fr" else None
    if match is not None:
        try:
            return date(int(match["year"]), int(match["month"]), int(match["day"]))
        except ValueError:
            pass
    message = (_("{value} is not a date (YYYY-MM-DD or DD/MM/YYYY)") if language == "fr"
               else _("{value} is not a date (YYYY-MM-DD)"))
    raise SimulationInputError(message.format(value=_quoted(text)))


# CLDR lists the currencies of groupings of countries too (the euro area, the United
# Nations): none of them is an account's country.
_NOT_COUNTRIES = frozenset({"EU", "EZ", "QO", "UN", "ZZ"})


@lru_cache(maxsize=1)
def _currency_users() -> dict[str, frozenset[str]]:
    """ISO 4217 code -> the countries that use or used it as legal tender (CLDR, through
    Babel). Codes of no country's money (XXX, XTS, XAU, funds) are not in it."""
    users: dict[str, set[str]] = defaultdict(set)
    for territory, history in get_global("territory_currencies").items():
        for code, _start, _end, tender in history:
            if tender and territory not in _NOT_COUNTRIES:
                users[code].add(territory)
    return {code: frozenset(found) for code, found in users.items()}


def checked_currency(code: str) -> str:
    """A currency code as Stripe writes it (`cad`); SimulationInputError unless it is an
    ISO 4217 code of some country's money (`xyz`, `dollars` and `xxx` are refused)."""
    try:
        currency = normalize_currency(code)
    except CurrencyError:
        currency = ""
    if currency.upper() not in _currency_users():
        raise SimulationInputError(_("{value} is not an ISO 4217 currency code (like cad, "
                                     "usd or eur)").format(value=_quoted(code.strip())))
    return currency


def currency_home(currency: str) -> str | None:
    """The country a currency is the money of (`cad` -> CA, `usd` -> US, `chf` -> CH), or
    None when several countries share it and none is named by its code (`eur`, `xof`)."""
    users = _currency_users().get(currency.upper(), frozenset())
    if currency[:2].upper() in users:
        return currency[:2].upper()
    return next(iter(users)) if len(users) == 1 else None


@dataclass(frozen=True)
class PaymentRow:
    """One row of the payments file, as written, with its line number."""

    line: int
    cells: Mapping[str, str]

    def cell(self, *names: str) -> str:
        for name in names:
            value = self.cells.get(name)
            if value is not None and value.strip():
                return value.strip()
        return ""


@dataclass(frozen=True)
class PaymentsFile:
    """The payment rows of a CSV file, and the name errors call it by."""

    name: str
    rows: tuple[PaymentRow, ...]

    def currencies(self) -> list[str]:
        """The currencies its rows name, checked, in order of first appearance."""
        found: list[str] = []
        for row in self.rows:
            raw = row.cell(*_CURRENCY_COLUMNS)
            if raw:
                with self._line(row):
                    currency = checked_currency(raw)
                if currency not in found:
                    found.append(currency)
        return found

    def transactions(self, currency: str, fee_rule: FeeRule,
                     language: str) -> list[Transaction]:
        transactions: list[Transaction] = []
        for row in self.rows:
            with self._line(row):
                transactions.append(_transaction(row, currency, fee_rule, language))
        return transactions

    @contextmanager
    def _line(self, row: PaymentRow) -> Iterator[None]:
        """Name the file and the line of a problem in the row (a spreadsheet's row number)."""
        try:
            yield
        except SimulationInputError as error:
            raise SimulationInputError(_("{name} line {line}: {error}").format(
                name=self.name, line=row.line, error=error)) from None


def _transaction(row: PaymentRow, currency: str, fee_rule: FeeRule,
                 language: str) -> Transaction:
    raw_day = row.cell(*_DATE_COLUMNS)
    if not raw_day:
        raise SimulationInputError(_("the date is missing"))
    day = parse_day(raw_day, language)
    raw_currency = row.cell(*_CURRENCY_COLUMNS)
    cur = checked_currency(raw_currency) if raw_currency else currency
    gross_text = row.cell(*_GROSS_COLUMNS)
    if not gross_text:
        raise SimulationInputError(_("the gross amount is missing"))
    gross = parse_major(gross_text, cur, language)
    fee_text = row.cell(*_FEE_COLUMNS)
    rule = parse_fee_rule(fee_text) if fee_text else fee_rule
    fee = rule.fee(gross) if rule is not None else parse_major(fee_text, cur, language)
    if rule is None and fee > gross:  # likely swapped columns; a fee rule may exceed a tiny payment
        raise SimulationInputError(_("the fee {fee} is more than the payment {gross}").format(
            fee=_quoted(fee_text), gross=_quoted(gross_text)))
    return Transaction(day=day, gross=gross, fee=fee, currency=cur)


def decode(data: bytes, name: str) -> str:
    """The text of a CSV file as a spreadsheet saves it: UTF-8 with or without a BOM,
    UTF-16 with its BOM (Excel's "Unicode text"), else Windows-1252 (Excel's plain CSV)."""
    try:
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return data.decode("utf-16")
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return data.decode("cp1252")
    except UnicodeDecodeError:
        raise SimulationInputError(_("{name} is not a text file (UTF-8, UTF-16 or "
                                     "Windows-1252)").format(name=name)) from None


def _column(name: str) -> str:
    return " ".join(name.replace("\ufeff", "").split()).lower()


def _separator(header: str) -> str | None:
    """The separator that splits the header line into the columns this command reads."""
    for separator in _SEPARATORS:
        try:
            cells = next(csv.reader([header], delimiter=separator), [])
        except csv.Error:
            return None
        names = {_column(cell) for cell in cells}
        if names & set(_DATE_COLUMNS) and names & set(_GROSS_COLUMNS):
            return separator
    return None


def parse_payments(text: str, name: str) -> PaymentsFile:
    """The rows of a payments CSV; SimulationInputError names the line of a problem."""
    # The lines as the csv module splits them (\n, \r\n or \r), so line numbers agree.
    lines = io.StringIO(text, newline="").readlines()
    start = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    if start == len(lines):
        raise SimulationInputError(_("{name} is empty: it needs a header line naming the "
                                     "columns (date, gross; optional: fee, currency) and "
                                     "one line per payment").format(name=name))
    declared = _SEP_LINE.match(lines[start])
    if declared is not None:
        start += 1
    header = lines[start] if start < len(lines) else ""
    separator = declared["sep"] if declared else _separator(header)
    reader = csv.reader(io.StringIO("".join(lines[start:]), newline=""),
                        delimiter=separator or ",")
    rows: list[PaymentRow] = []
    try:
        columns = [_column(cell) for cell in next(reader, [])]
        if (separator is None or not set(columns) & set(_DATE_COLUMNS)
                or not set(columns) & set(_GROSS_COLUMNS)):
            raise SimulationInputError(
                _("{name}: the first line must name the columns, with at least date and "
                  "gross (optional: fee, currency), separated by , or ;").format(name=name))
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            named: dict[str, str] = {}
            for column, cell in zip(columns, cells, strict=False):
                named.setdefault(column, cell)  # the first column of a name wins
            rows.append(PaymentRow(start + reader.line_num, named))
    except csv.Error as error:
        raise SimulationInputError(_("{name} line {line}: {error}").format(
            name=name, line=start + reader.line_num, error=error)) from None
    return PaymentsFile(name, tuple(rows))


def read_payments(path: Path) -> PaymentsFile:
    """The payments of a CSV file (`-`: standard input)."""
    if str(path) == "-":
        return read_stdin()
    try:
        data = path.read_bytes()
    except OSError as error:
        raise SimulationInputError(_("cannot read {path}: {reason}").format(
            path=path, reason=error.strerror or error)) from None
    return parse_payments(decode(data, path.name), path.name)


def _stdin() -> str:
    """What errors call standard input, as they call a file by its name."""
    return _("standard input")


def _stdin_text() -> str:
    buffer = getattr(sys.stdin, "buffer", None)
    try:
        return decode(buffer.read(), _stdin()) if buffer is not None else sys.stdin.read()
    except OSError as error:
        raise SimulationInputError(_("cannot read {path}: {reason}").format(
            path=_stdin(), reason=error.strerror or error)) from None


def _piped() -> str:
    """What is piped into standard input: nothing from a terminal, or from a closed input
    (a scheduler's), is no input at all."""
    try:
        if sys.stdin is None or sys.stdin.isatty():
            return ""
    except ValueError:  # closed
        return ""
    return _stdin_text()


def read_stdin() -> PaymentsFile:
    """The payments piped into standard input."""
    return parse_payments(_stdin_text(), _stdin())


@dataclass(frozen=True)
class Simulation:
    """Everything the timeline shows, computed once, rendered as text or JSON."""

    terms: ReserveTerms
    transactions: tuple[Transaction, ...]
    movements: tuple[Movement, ...]
    payouts: tuple[tuple[Release, date | None, date | None], ...]
    schedule: PayoutSchedule
    country: str
    arrival_days: int


def simulate(
    terms: ReserveTerms,
    transactions: Sequence[Transaction],
    schedule: PayoutSchedule,
    country: str,
    arrival_days: int = DEFAULT_ARRIVAL_BUSINESS_DAYS,
) -> Simulation:
    movements = project(terms, transactions)
    releases = releases_from_movements(movements)
    return Simulation(
        terms=terms,
        transactions=tuple(sorted(transactions, key=lambda t: t.day)),
        movements=tuple(movements),
        payouts=tuple(release_schedule(releases, schedule, country, arrival_days)),
        schedule=schedule,
        country=country.upper(),
        arrival_days=arrival_days,
    )


# Payouts to the bank account are "versements" in French; a "virement" is a bank wire.
_TEXT: dict[str, str] = {
    "fixed": N_("Fixed reserve of {percent} on each payment's net amount, released after "
                "{release}."),
    "rolling": N_("Rolling reserve of {percent} on each payment's net amount, each part "
                  "released {days} days later."),
    "transfer_fixed": N_("Fixed reserve of {percent} on each payment's net amount, plus "
                         "{percent} of a {balance} balance moved on {transfer}, released "
                         "after {release}."),
    "transfer_rolling": N_("Rolling reserve of {percent} on each payment's net amount, plus "
                           "{percent} of a {balance} balance moved on {transfer}, each part "
                           "released {days} days later."),
    "payouts": N_("Payouts: {schedule}, on bank business days ({country}); a payout reaches "
                  "the bank {arrival} business days after it is sent."),
    "manual": N_("Payouts: manual. Released funds stay in the balance until someone pays "
                 "them out."),
    "daily": N_("daily"),
    "weekly": N_("weekly on {days}"),
    # One payout day of a week or a month: `Monday`, `15`; `le lundi`, `le 15`.
    "payout_day": N_("{day}"),
    "monthly": N_("monthly on day {days} (or the month's last day)"),
    "no_holidays": N_("No holiday calendar for this country ({country}): only weekends are "
                      "skipped."),
    "payment": N_("  Payment {gross}, fee {fee}, net {net}"),
    "hold": N_("  Held in reserve: {amount} (in reserve: {total})"),
    "hold_balance": N_("  Moved from the balance into the reserve: {amount} ({percent} of "
                       "{balance}) (in reserve: {total})"),
    "release": N_("  Released: {amount} (in reserve: {total})"),
    "payout": N_("    Paid out on {payout}, at the bank on {arrival}"),
    "payout_manual": N_("    Available for a manual payout"),
    "totals": N_("Totals in {code}: held {held}, released {released}; at most {peak} in "
                 "reserve at the end of a day."),
    "nothing": N_("Nothing is held: no payment is large enough to reserve a minor unit."),
}


def country_name(country: str, language: str) -> str:
    """`US` -> `États-Unis` / `United States`, in the reader's language (Babel); a code
    Babel does not name stays as it is."""
    code = country.strip().upper()
    if code == "ZZ" or not re.fullmatch(r"[A-Z]{2}", code):
        return code
    name = Locale.parse(language).territories.get(code)
    return str(name) if name else code


class _Formatter:
    """The timeline's words in the reader's language (`i18n`), its amounts, dates and
    percents as the emails write them (`balance_guard.text.formatting`) for a reader whose
    home is `country` (the platform's): `fr_CA`, `en_US`... The currency is marked
    whenever it is not that country's."""

    def __init__(self, language: str, country: str) -> None:
        self.text = words(_TEXT, language)
        self.language = language
        self.country = country
        self.locale = babel_locale(language, country)

    def money(self, amount: int, currency: str) -> str:
        return format_money(amount, currency, self.language, self.country)

    def day(self, day: date) -> str:
        """`August 1, 2026`; `1er août 2026`."""
        return format_long_day(day, self.language, self.country)

    def percent(self, percent: Decimal) -> str:
        return format_percent(percent, self.language, self.country)

    def country_name(self, country: str) -> str:
        return country_name(country, self.language)

    def schedule(self, schedule: PayoutSchedule) -> str:
        if schedule.interval is Interval.WEEKLY:
            names = get_day_names("wide", locale=self.locale)
            listed = schedule.weekly_payout_days or ("monday",)
            days = [self.text["payout_day"].format(day=names[WEEKDAYS.index(d)]) for d in listed]
            return self.text["weekly"].format(days=format_list(days, locale=self.locale))
        if schedule.interval is Interval.MONTHLY:
            listed_days = schedule.monthly_payout_days or (1,)
            days = [self.text["payout_day"].format(
                        day=format_day_of_month(d, self.language, self.country))
                    for d in listed_days]
            return self.text["monthly"].format(days=format_list(days, locale=self.locale))
        return self.text["daily"]


def _header(sim: Simulation, fmt: _Formatter) -> list[str]:
    terms = sim.terms
    balance_currency = terms.currency or (
        sim.transactions[0].currency if sim.transactions else "usd")
    values = {
        "percent": fmt.percent(terms.percent),
        "release": fmt.day(terms.release_on) if terms.release_on else "",
        "days": terms.window_days or 0,
        "transfer": fmt.day(terms.transfer_on) if terms.transfer_on else "",
        "balance": fmt.money(terms.balance or 0, balance_currency),
    }
    if terms.kind is ReserveKind.BALANCE_TRANSFER:
        key = "transfer_fixed" if terms.release_on else "transfer_rolling"
    else:
        key = terms.kind.value
    lines = [fmt.text[key].format(**values)]
    if sim.schedule.interval is Interval.MANUAL:
        lines.append(fmt.text["manual"])
    else:
        lines.append(fmt.text["payouts"].format(
            schedule=fmt.schedule(sim.schedule), country=fmt.country_name(sim.country),
            arrival=sim.arrival_days))
    if not has_holiday_calendar(sim.country):
        lines.append(fmt.text["no_holidays"].format(country=fmt.country_name(sim.country)))
    return lines


@dataclass
class _Day:
    """What happens on one day of the timeline, in the order it is printed."""

    payments: list[Transaction]
    holds: dict[tuple[str, str], int]  # (source, currency) -> amount
    payouts: list[tuple[Release, date | None, date | None]]


def _days(sim: Simulation) -> dict[date, _Day]:
    days: dict[date, _Day] = defaultdict(lambda: _Day([], defaultdict(int), []))
    for tx in sim.transactions:
        days[tx.day].payments.append(tx)
    for m in sim.movements:
        if m.kind == "hold":
            days[m.day].holds[(m.source, m.currency)] += m.amount
    for row in sim.payouts:
        days[row[0].release_date].payouts.append(row)
    return dict(sorted(days.items()))


def _day_lines(sim: Simulation, day: date, events: _Day, fmt: _Formatter,
               held: dict[str, int]) -> list[str]:
    text = fmt.text
    lines = [fmt.day(day)]
    for tx in events.payments:
        lines.append(text["payment"].format(gross=fmt.money(tx.gross, tx.currency),
                                            fee=fmt.money(tx.fee, tx.currency),
                                            net=fmt.money(tx.net, tx.currency)))
    # Payments' holds first, then a balance transfer's, as on a statement.
    for (source, currency), amount in sorted(events.holds.items(), reverse=True):
        held[currency] += amount
        values = {"amount": fmt.money(amount, currency),
                  "total": fmt.money(held[currency], currency),
                  "percent": fmt.percent(sim.terms.percent),
                  "balance": fmt.money(sim.terms.balance or 0, currency)}
        key = "hold_balance" if source == "balance_transfer" else "hold"
        lines.append(text[key].format(**values))
    for release, paid, arrives in events.payouts:
        held[release.currency] -= release.amount
        lines.append(text["release"].format(
            amount=fmt.money(release.amount, release.currency),
            total=fmt.money(held[release.currency], release.currency)))
        if paid is None or arrives is None:
            lines.append(text["payout_manual"])
        else:
            lines.append(text["payout"].format(payout=fmt.day(paid), arrival=fmt.day(arrives)))
    return lines


def _totals(sim: Simulation) -> dict[str, dict[str, int]]:
    """Per currency: total held, total released, and the most held at the end of a day
    (a release at midnight UTC comes before that day's payments, whatever the listing
    order)."""
    totals: dict[str, dict[str, int]] = {}
    level: dict[str, int] = defaultdict(int)
    for index, m in enumerate(sim.movements):
        entry = totals.setdefault(m.currency, {"held": 0, "released": 0, "peak": 0})
        entry["held" if m.kind == "hold" else "released"] += m.amount
        level[m.currency] += m.amount if m.kind == "hold" else -m.amount
        following = sim.movements[index + 1] if index + 1 < len(sim.movements) else None
        if following is None or following.day != m.day:
            for currency, amount in level.items():
                totals[currency]["peak"] = max(totals[currency]["peak"], amount)
    return dict(sorted(totals.items()))


def render_text(sim: Simulation, language: str, home_country: str) -> str:
    """The timeline for a person, in `fr` or `en`, amounts and dates for a reader whose home
    is `home_country` (the platform's country: `US$` for USD in Canada, `$` in the US)."""
    fmt = _Formatter(language, home_country)
    lines = [*_header(sim, fmt), ""]
    held: dict[str, int] = defaultdict(int)
    for day, events in _days(sim).items():
        lines += _day_lines(sim, day, events, fmt, held)
    lines.append("")
    totals = _totals(sim)
    if not totals:
        lines.append(fmt.text["nothing"])
    for currency, entry in totals.items():
        lines.append(fmt.text["totals"].format(
            code=currency.upper(), **{k: fmt.money(v, currency) for k, v in entry.items()}))
    return "\n".join(lines) + "\n"


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def render_json(sim: Simulation) -> str:
    """The same timeline for programs: amounts in minor units, ISO dates."""
    terms = sim.terms
    document: dict[str, Any] = {
        "terms": {
            "type": terms.kind.value, "percent": str(terms.percent),
            "release_after": _iso(terms.release_on), "window_days": terms.window_days,
            "transfer_date": _iso(terms.transfer_on), "balance": terms.balance,
            "balance_currency": terms.currency,
        },
        "country": sim.country,
        "schedule": sim.schedule.model_dump(mode="json", exclude={"delay_days"}),
        "arrival_business_days": sim.arrival_days,
        "transactions": [
            {"date": t.day.isoformat(), "gross": t.gross, "fee": t.fee, "net": t.net,
             "currency": t.currency} for t in sim.transactions],
        "movements": [
            {"date": m.day.isoformat(), "kind": m.kind, "amount": m.amount,
             "currency": m.currency, "source": m.source} for m in sim.movements],
        "releases": [
            {"currency": r.currency, "amount": r.amount, "release_date": r.release_date.isoformat(),
             "payout_date": _iso(paid), "arrival_date": _iso(arrives)}
            for r, paid, arrives in sim.payouts],
        "totals": _totals(sim),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            _("{value} is not a date (YYYY-MM-DD)").format(value=repr(text[:20]))) from None


def _percent(text: str) -> Decimal:
    try:
        value = Decimal(text.strip().rstrip("%").strip().replace(",", ".", 1))
    except InvalidOperation:
        raise argparse.ArgumentTypeError(
            _("{value} is not a percent like 25").format(value=repr(text[:20]))) from None
    if not value.is_finite() or not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(
            _("{value} is not between 0 and 100").format(value=repr(text[:20])))
    return value


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--csv", type=Path, metavar="FILE",
                        help=_("payments: date, gross[, fee][, currency], separated by , or ; "
                               "('-' or no --csv with a pipe: standard input)"))
    parser.add_argument("--type", required=True, choices=sorted(_TYPES),
                        help=_("kind of reserve"))
    parser.add_argument("--percent", required=True, type=_percent,
                        help=_("share of each payment's net amount held, e.g. 25"))
    parser.add_argument("--release-date", type=_iso_date, metavar="YYYY-MM-DD",
                        help=_("fixed release: funds come back the day after this date"))
    parser.add_argument("--window-days", type=int, metavar="N",
                        help=_("rolling release: days each part stays held"))
    parser.add_argument("--balance", metavar="AMOUNT",
                        help=_("balance transfer: existing balance in major units"))
    parser.add_argument("--transfer-date", type=_iso_date, metavar="YYYY-MM-DD",
                        help=_("balance transfer date (default: first payment's date)"))
    parser.add_argument("--currency", metavar="CODE",
                        help=_("ISO 4217 currency of the balance and of rows without one "
                               "(default: the one the rows name, else usd)"))
    parser.add_argument("--fee-rule", default=DEFAULT_FEE_RULE,
                        # argparse %-formats help texts: the default goes in through
                        # %(default)s, so the rule's own "%" is never read as a directive.
                        help=_("fee for rows without one (default %(default)s: percent "
                               "plus minor units)"))
    parser.add_argument("--country", metavar="CC",
                        help=_("account country, for bank holidays (default: the currency's, "
                               "cad -> CA, usd -> US)"))
    parser.add_argument("--schedule", default="daily", choices=[i.value for i in Interval],
                        help=_("payout schedule (default daily)"))
    parser.add_argument("--payout-days", metavar="LIST",
                        help=_("weekly: weekdays like monday,thursday; monthly: days like 15,31"))
    parser.add_argument("--arrival-days", type=int, default=DEFAULT_ARRIVAL_BUSINESS_DAYS,
                        metavar="N", help=_("business days a payout takes to reach the bank"))
    parser.add_argument("--locale", default="en", choices=["fr", "en"],
                        help=_("language of the output and of the CSV's amounts and dates "
                               "(fr: 1 234,56 and 01/08/2026); money is marked for a reader "
                               "in PLATFORM_COUNTRY (default CA)"))
    parser.add_argument("--json", action="store_true", help=_("print JSON instead of text"))


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `reserve-simulate` on the CLI's subcommands; `func` is set to `run`."""
    parser = subparsers.add_parser(
        COMMAND, help=_("timeline of a fixed, rolling or balance-transfer reserve"),
        description=_("Show what a reserve holds and releases, and when payouts reach the "
                      "bank."))
    _add_arguments(parser)
    parser.set_defaults(func=run)


def _schedule(args: argparse.Namespace) -> PayoutSchedule:
    interval = Interval(args.schedule)
    listed = [p.strip().lower() for p in (args.payout_days or "").split(",") if p.strip()]
    if interval is Interval.WEEKLY:
        unknown = [p for p in listed if p not in WEEKDAYS]
        if unknown:
            raise SimulationInputError(_("--payout-days: {value} is not a weekday (monday "
                                         "... sunday)").format(value=repr(unknown[0][:20])))
        return PayoutSchedule.model_validate(
            {"interval": interval, "weekly_payout_days": tuple(listed)})
    if interval is Interval.MONTHLY:
        if not all(p.isdigit() and 1 <= int(p) <= 31 for p in listed):
            raise SimulationInputError(
                _("--payout-days: monthly days are numbers from 1 to 31"))
        return PayoutSchedule(interval=interval, monthly_payout_days=tuple(int(p) for p in listed))
    if listed:
        raise SimulationInputError(
            _("--payout-days applies to weekly and monthly schedules only"))
    return PayoutSchedule(interval=interval)


# Beyond these, a date would leave the calendar (a window of a million days) or finding
# the arrival day would take a very long time: real terms are far below them.
_MAX_WINDOW_DAYS = 3660
_MAX_ARRIVAL_DAYS = 30


def _check_terms(args: argparse.Namespace) -> None:
    """What the terms need, checked before any payment is read."""
    kind = _TYPES[args.type]
    if kind is ReserveKind.FIXED and args.release_date is None:
        raise SimulationInputError(_("a fixed reserve needs --release-date"))
    if kind is ReserveKind.ROLLING and args.window_days is None:
        raise SimulationInputError(_("a rolling reserve needs --window-days"))
    if kind is ReserveKind.BALANCE_TRANSFER and args.balance is None:
        raise SimulationInputError(_("a balance transfer needs --balance"))
    if args.window_days is not None and args.window_days > _MAX_WINDOW_DAYS:
        raise SimulationInputError(_("--window-days: at most {days} days").format(
            days=_MAX_WINDOW_DAYS))
    if not 0 <= args.arrival_days <= _MAX_ARRIVAL_DAYS:
        raise SimulationInputError(_("--arrival-days must be zero or more, and at most "
                                     "{days}").format(days=_MAX_ARRIVAL_DAYS))
    # The terms' own rules (a fixed reserve has no rolling window...) come before any
    # payment is read; the transfer's date and balance stand in for what the file gives.
    transfer = kind is ReserveKind.BALANCE_TRANSFER
    ReserveTerms(kind=kind, percent=args.percent, release_on=args.release_date,
                 window_days=args.window_days,
                 transfer_on=(args.transfer_date or args.release_date or date.min)
                 if transfer else args.transfer_date,
                 balance=0 if transfer else None)


def _terms(args: argparse.Namespace, transactions: Sequence[Transaction],
           currency: str) -> ReserveTerms:
    kind = _TYPES[args.type]
    balance: int | None = None
    transfer_on: date | None = args.transfer_date
    if args.balance is not None:
        try:
            balance = parse_major(args.balance, currency, args.locale)
        except SimulationInputError as error:
            raise SimulationInputError(_("{option}: {error}").format(
                option="--balance", error=error)) from None
    if kind is ReserveKind.BALANCE_TRANSFER:
        if transfer_on is None and transactions:
            transfer_on = min(t.day for t in transactions)
        if transfer_on is None:
            raise SimulationInputError(_("a balance transfer needs --transfer-date or a CSV"))
    return ReserveTerms(kind=kind, percent=args.percent, release_on=args.release_date,
                        window_days=args.window_days, transfer_on=transfer_on,
                        balance=balance,
                        currency=currency if kind is ReserveKind.BALANCE_TRANSFER else None)


def _needs_payments(args: argparse.Namespace) -> bool:
    """Only a balance transfer on a given date means something without any payment."""
    return _TYPES[args.type] is not ReserveKind.BALANCE_TRANSFER or args.transfer_date is None


def _payments(args: argparse.Namespace) -> PaymentsFile | None:
    """The payments file: `--csv FILE` (`-`: standard input), else standard input when
    something is piped into it; None when there is nothing to read (a terminal)."""
    if args.csv is not None:
        payments = read_payments(args.csv)
    elif (piped := _piped()).strip():
        payments = parse_payments(piped, _stdin())
    elif _needs_payments(args):
        message = (_("a balance transfer needs --transfer-date or payments: give a CSV file "
                     "with --csv FILE (columns date, gross; optional: fee, currency), or pipe "
                     "one into standard input")
                   if _TYPES[args.type] is ReserveKind.BALANCE_TRANSFER
                   else _("no payments to simulate: give a CSV file with --csv FILE (columns "
                          "date, gross; optional: fee, currency), or pipe one into standard "
                          "input"))
        raise SimulationInputError(message)
    else:
        return None
    if not payments.rows and _needs_payments(args):
        raise SimulationInputError(_("{name} has no payments, only its header line").format(
            name=payments.name))
    return payments


def _account_currency(args: argparse.Namespace, payments: PaymentsFile | None) -> str:
    """The balance's currency and that of rows without one: `--currency`, else the one
    currency the rows name, else usd."""
    named = payments.currencies() if payments is not None else []
    if args.currency is not None:
        try:
            return checked_currency(args.currency)
        except SimulationInputError as error:
            raise SimulationInputError(_("{option}: {error}").format(
                option="--currency", error=error)) from None
    if len(named) > 1:
        listed = named[0].upper()
        for currency in named[1:]:
            listed = _("{first} and {second}").format(first=listed, second=currency.upper())
        raise SimulationInputError(
            _("the payments are in {currencies}: say which is the account's currency with "
              "--currency").format(currencies=listed))
    return named[0] if named else "usd"


def _given_country(args: argparse.Namespace) -> str | None:
    if args.country is None:
        return None
    country = str(args.country).strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", country):
        raise SimulationInputError(_("--country: {value} is not a country code like US or "
                                     "CA").format(value=repr(args.country[:20])))
    return country


def _account_country(args: argparse.Namespace, currency: str) -> str:
    """`--country`, else the country whose money the account's currency is."""
    given = _given_country(args)
    if given is not None:
        return given
    found = currency_home(currency)
    if found is None:
        raise SimulationInputError(_("{currency} is the money of several countries: say "
                                     "which is the account's with --country (for its bank "
                                     "holidays)").format(currency=currency.upper()))
    return found


def _home_country() -> str:
    """The reader's home country: the platform's (`PLATFORM_COUNTRY`), as in the digest."""
    try:
        return load_policy().platform_country
    except ConfigError as error:
        raise SimulationInputError(str(error)) from None


def _build(args: argparse.Namespace) -> tuple[Simulation, str]:
    if args.currency is not None:
        try:
            checked_currency(args.currency)
        except SimulationInputError as error:
            raise SimulationInputError(_("{option}: {error}").format(
                option="--currency", error=error)) from None
    fee_rule = parse_fee_rule(args.fee_rule)
    if fee_rule is None:
        raise SimulationInputError(_("--fee-rule: {value} is not like 2.9%+30").format(
            value=repr(args.fee_rule[:20])))
    _check_terms(args)
    _given_country(args)
    schedule = _schedule(args)
    home = _home_country()
    payments = _payments(args)
    currency = _account_currency(args, payments)
    country = _account_country(args, currency)
    transactions = (payments.transactions(currency, fee_rule, args.locale)
                    if payments is not None else [])
    terms = _terms(args, transactions, currency)
    try:
        sim = simulate(terms, transactions, schedule, country, args.arrival_days)
    except OverflowError:  # a release or payout day past the calendar's end
        raise SimulationInputError(_("the dates are too late: a release or a payout would "
                                     "fall after the year 9999")) from None
    return sim, home


def run(args: argparse.Namespace) -> int:
    """Print the timeline; 0 when done, 2 with one line on stderr when the input is bad."""
    try:
        sim, home = _build(args)
    except (SimulationInputError, ReserveTermsError) as error:
        print(_("balance-guard {command}: error: {error}").format(command=COMMAND, error=error),
              file=sys.stderr)
        return 2
    sys.stdout.write(render_json(sim) if args.json else render_text(sim, args.locale, home))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command on its own: `python -m balance_guard.cli.simulate --type fixed ...`."""
    parser = argparse.ArgumentParser(prog=f"balance-guard {COMMAND}")
    _add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
