"""`balance-guard reserve-simulate`: what a reserve would hold and give back, day by day.

It reads payments from a CSV file, applies reserve terms with the same engine the nightly
check and the help site use (`domain.reserves`), and prints when money is held, when it
is released, which payout carries it and when that payout reaches the bank, in French or
English: its words come from the gettext catalog (`text.i18n`), its amounts, dates and
percents from `text.formatting`, as in the emails. Exit codes follow the CLI contract:
0 done, 2 bad input (one clear line).

CSV columns (header row required, any order, other columns ignored):
`date` (YYYY-MM-DD), `gross` or `amount` (major units, `100.00`), optional `fee` (major
units like `3.20`, or a rule like `2.9%+30` whose fixed part is in minor units; empty:
`--fee-rule`), optional `currency` (empty: `--currency`).
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import get_day_names
from babel.lists import format_list

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


def parse_major(text: str, currency: str) -> int:
    """A non-negative amount in major units (`100.00`) as minor units of the currency."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise SimulationInputError(f"{text.strip()[:20]!r} is not an amount like 100.00") from None
    if not value.is_finite() or value < 0:
        raise SimulationInputError(f"{text.strip()[:20]!r} is not an amount of zero or more")
    minor = value.scaleb(exponent(currency))
    if minor != minor.to_integral_value():
        raise SimulationInputError(
            f"{text.strip()[:20]!r} has more decimals than {currency.upper()} allows")
    if minor >= ABSURD_AMOUNT:
        raise SimulationInputError(f"{text.strip()[:20]!r} is too large to be an amount")
    return int(minor)


def _cell(row: Mapping[str, str], *names: str) -> str:
    for name in names:
        value = row.get(name)
        if value is not None and value.strip():
            return value.strip()
    return ""


def _transaction(row: Mapping[str, str], currency: str, fee_rule: FeeRule) -> Transaction:
    raw_day = _cell(row, "date")
    try:
        day = date.fromisoformat(raw_day)
    except ValueError:
        raise SimulationInputError(f"{raw_day[:20]!r} is not a date (YYYY-MM-DD)") from None
    try:
        cur = normalize_currency(_cell(row, "currency") or currency)
    except CurrencyError as error:
        raise SimulationInputError(str(error)) from None
    gross_text = _cell(row, "gross", "amount")
    if not gross_text:
        raise SimulationInputError("the gross amount is missing")
    gross = parse_major(gross_text, cur)
    fee_text = _cell(row, "fee")
    rule = parse_fee_rule(fee_text) if fee_text else fee_rule
    fee = rule.fee(gross) if rule is not None else parse_major(fee_text, cur)
    return Transaction(day=day, gross=gross, fee=fee, currency=cur)


def read_transactions(path: Path, currency: str, fee_rule: FeeRule) -> list[Transaction]:
    """Payments from a CSV file; SimulationInputError names the line of the first problem."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            columns = {(name or "").strip().lower() for name in reader.fieldnames or ()}
            if "date" not in columns or not columns & {"gross", "amount"}:
                raise SimulationInputError(
                    f"{path.name}: the first line must name the columns, with at least "
                    "date and gross (optional: fee, currency)")
            transactions: list[Transaction] = []
            for row in reader:
                cells = {(k or "").strip().lower(): v for k, v in row.items()
                         if isinstance(v, str)}
                if not any(v.strip() for v in cells.values()):
                    continue
                try:
                    transactions.append(_transaction(cells, currency, fee_rule))
                except SimulationInputError as error:
                    raise SimulationInputError(
                        f"{path.name} line {reader.line_num}: {error}") from None
    except OSError as error:
        raise SimulationInputError(f"cannot read {path}: {error.strerror or error}") from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise SimulationInputError(f"{path.name} is not a UTF-8 CSV file: {error}") from None
    return transactions


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
    percents as the emails write them (`balance_guard.text.formatting`): the reader's
    language in the account's country, `fr_CA`, `en_US`..."""

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


def render_text(sim: Simulation, language: str) -> str:
    """The timeline for a person, in `fr` or `en`, amounts and dates in the reader's locale."""
    fmt = _Formatter(language, sim.country)
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
        raise argparse.ArgumentTypeError(f"{text[:20]!r} is not a date (YYYY-MM-DD)") from None


def _percent(text: str) -> Decimal:
    try:
        value = Decimal(text.strip().rstrip("%"))
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{text[:20]!r} is not a percent like 25") from None
    if not value.is_finite() or not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"{text[:20]!r} is not between 0 and 100")
    return value


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--csv", type=Path, metavar="FILE",
                        help="payments: date, gross[, fee][, currency]")
    parser.add_argument("--type", required=True, choices=sorted(_TYPES),
                        help="kind of reserve")
    parser.add_argument("--percent", required=True, type=_percent,
                        help="share of each payment's net amount held, e.g. 25")
    parser.add_argument("--release-date", type=_iso_date, metavar="YYYY-MM-DD",
                        help="fixed release: funds come back the day after this date")
    parser.add_argument("--window-days", type=int, metavar="N",
                        help="rolling release: days each part stays held")
    parser.add_argument("--balance", metavar="AMOUNT",
                        help="balance transfer: existing balance in major units")
    parser.add_argument("--transfer-date", type=_iso_date, metavar="YYYY-MM-DD",
                        help="balance transfer date (default: first payment's date)")
    parser.add_argument("--currency", default="usd",
                        help="currency of the balance and of rows without one (default usd)")
    parser.add_argument("--fee-rule", default=DEFAULT_FEE_RULE,
                        # argparse %-formats help texts: the default goes in through
                        # %(default)s, so the rule's own "%" is never read as a directive.
                        help="fee for rows without one (default %(default)s: percent "
                             "plus minor units)")
    parser.add_argument("--country", default="US", help="account country, for bank holidays")
    parser.add_argument("--schedule", default="daily", choices=[i.value for i in Interval],
                        help="payout schedule (default daily)")
    parser.add_argument("--payout-days", metavar="LIST",
                        help="weekly: weekdays like monday,thursday; monthly: days like 15,31")
    parser.add_argument("--arrival-days", type=int, default=DEFAULT_ARRIVAL_BUSINESS_DAYS,
                        metavar="N", help="business days a payout takes to reach the bank")
    parser.add_argument("--locale", default="en", choices=["fr", "en"], help="output language")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `reserve-simulate` on the CLI's subcommands; `func` is set to `run`."""
    parser = subparsers.add_parser(
        COMMAND, help="timeline of a fixed, rolling or balance-transfer reserve",
        description="Show what a reserve holds and releases, and when payouts reach the bank.")
    _add_arguments(parser)
    parser.set_defaults(func=run)


def _schedule(args: argparse.Namespace) -> PayoutSchedule:
    interval = Interval(args.schedule)
    listed = [p.strip().lower() for p in (args.payout_days or "").split(",") if p.strip()]
    if interval is Interval.WEEKLY:
        unknown = [p for p in listed if p not in WEEKDAYS]
        if unknown:
            raise SimulationInputError(f"--payout-days: {unknown[0][:20]!r} is not a weekday "
                                       "(monday ... sunday)")
        return PayoutSchedule.model_validate(
            {"interval": interval, "weekly_payout_days": tuple(listed)})
    if interval is Interval.MONTHLY:
        if not all(p.isdigit() and 1 <= int(p) <= 31 for p in listed):
            raise SimulationInputError("--payout-days: monthly days are numbers from 1 to 31")
        return PayoutSchedule(interval=interval, monthly_payout_days=tuple(int(p) for p in listed))
    if listed:
        raise SimulationInputError("--payout-days applies to weekly and monthly schedules only")
    return PayoutSchedule(interval=interval)


def _terms(args: argparse.Namespace, transactions: Sequence[Transaction],
           currency: str) -> ReserveTerms:
    kind = _TYPES[args.type]
    if kind is ReserveKind.FIXED and args.release_date is None:
        raise SimulationInputError("a fixed reserve needs --release-date")
    if kind is ReserveKind.ROLLING and args.window_days is None:
        raise SimulationInputError("a rolling reserve needs --window-days")
    balance: int | None = None
    transfer_on: date | None = args.transfer_date
    if args.balance is not None:
        balance = parse_major(args.balance, currency)
    if kind is ReserveKind.BALANCE_TRANSFER:
        if balance is None:
            raise SimulationInputError("a balance transfer needs --balance")
        if transfer_on is None and transactions:
            transfer_on = min(t.day for t in transactions)
        if transfer_on is None:
            raise SimulationInputError("a balance transfer needs --transfer-date or a CSV")
    return ReserveTerms(kind=kind, percent=args.percent, release_on=args.release_date,
                        window_days=args.window_days, transfer_on=transfer_on,
                        balance=balance,
                        currency=currency if kind is ReserveKind.BALANCE_TRANSFER else None)


def _build(args: argparse.Namespace) -> tuple[Simulation, str]:
    try:
        currency = normalize_currency(args.currency)
    except CurrencyError as error:
        raise SimulationInputError(f"--currency: {error}") from None
    fee_rule = parse_fee_rule(args.fee_rule)
    if fee_rule is None:
        raise SimulationInputError(f"--fee-rule: {args.fee_rule[:20]!r} is not like 2.9%+30")
    if args.arrival_days < 0:
        raise SimulationInputError("--arrival-days must be zero or more")
    country = args.country.strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", country):
        raise SimulationInputError(f"--country: {args.country[:20]!r} is not a country code "
                                   "like US or CA")
    transactions = read_transactions(args.csv, currency, fee_rule) if args.csv else []
    terms = _terms(args, transactions, currency)
    sim = simulate(terms, transactions, _schedule(args), country, args.arrival_days)
    return sim, args.locale


def run(args: argparse.Namespace) -> int:
    """Print the timeline; 0 when done, 2 with one line on stderr when the input is bad."""
    try:
        sim, language = _build(args)
    except (SimulationInputError, ReserveTermsError) as error:
        print(f"balance-guard {COMMAND}: error: {error}", file=sys.stderr)
        return 2
    sys.stdout.write(render_json(sim) if args.json else render_text(sim, language))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command on its own: `python -m balance_guard.cli.simulate --type fixed ...`."""
    parser = argparse.ArgumentParser(prog=f"balance-guard {COMMAND}")
    _add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
