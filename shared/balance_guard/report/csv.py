"""The run report as a spreadsheet for operations (`run --report-csv`, and `report.csv` beside
the S3 report): one row per account and currency, and the Stripe Dashboard page of an account.

Machine-readable first: fixed column names, amounts in major units with a dot decimal
(`1850.00`, `-450.00`, `2500` yen), dates in ISO form, the status and the top finding as the
report's codes (`critical`, `REFUND_CAPACITY_SHORT`, what `balance-guard explain` takes). A
spreadsheet must not run what a building's owner typed: a cell starting with `=`, `+`, `-`,
`@`, a tab or a carriage return is prefixed with `'` (OWASP, "CSV Injection"); a number we
wrote ourselves is left as it is, since `-450.00` is a value to a spreadsheet, not a formula.
May import the domain and the report model.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

from balance_guard.domain.advice import suggested_minimum
from balance_guard.domain.findings import Finding, RuleCode, most_severe_first
from balance_guard.domain.headline import Headline
from balance_guard.domain.money import exponent
from balance_guard.report.model import AccountReport, Report

COLUMNS = (
    "account_id", "name", "status", "currency", "available", "prefund", "minimum",
    "exposure", "capacity", "to_add", "suggested_minimum", "deadline", "top_finding",
    "dashboard_url",
)
DASHBOARD = "https://dashboard.stripe.com/connect/accounts/"
_ACCOUNT_ID = re.compile(r"acct_[A-Za-z0-9]+")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")
# The findings whose advice is a minimum balance (the exposure rounded up, as their
# emails suggest it) when no headline names one.
_MINIMUM_RULES = frozenset({RuleCode.MIN_BALANCE_NOT_SET, RuleCode.MIN_BALANCE_BELOW_EXPOSURE})


def dashboard_url(account_id: str) -> str | None:
    """The account's page in the Stripe Dashboard; None for an id that is not a Stripe
    account id, so nothing else can be slipped into the link."""
    if not _ACCOUNT_ID.fullmatch(account_id):
        return None
    return DASHBOARD + account_id


def major(amount: int | None, currency: str) -> str:
    """`185000, "cad"` -> `1850.00`, `2500, "jpy"` -> `2500`; `""` for no amount."""
    if amount is None:
        return ""
    digits = exponent(currency)
    sign = "-" if amount < 0 else ""
    units, cents = divmod(abs(amount), 10**digits)
    return f"{sign}{units}.{cents:0{digits}d}" if digits else f"{sign}{units}"


def safe_cell(value: str) -> str:
    """A cell a spreadsheet shows rather than evaluates."""
    if value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _currencies(account: AccountReport) -> list[str]:
    found = {str(p["currency"]) for p in account.positions if p.get("currency")}
    found |= {h.currency for h in account.headlines}
    found |= {f.currency for f in account.findings if f.currency}
    return sorted(found)


def _top_finding(findings: Sequence[Finding], currency: str | None) -> str:
    """The worst finding of this currency, or of the whole account (payouts turned off, a
    failed check); for the row of an account without a currency, its worst finding."""
    mine = [f for f in findings if currency is None or f.currency in (currency, None)]
    ordered = most_severe_first(mine)
    return ordered[0].code.value if ordered else ""


def _suggested(findings: Sequence[Finding], headline: Headline | None,
               currency: str) -> int | None:
    if headline is not None:
        return headline.minimum
    for finding in findings:
        exposure = _int(finding.details.get("exposure"))
        if finding.code in _MINIMUM_RULES and finding.currency == currency and exposure:
            return suggested_minimum(exposure, currency)
    return None


def account_rows(account: AccountReport) -> list[list[str]]:
    """The account's rows, cells as written (not yet made safe)."""
    link = dashboard_url(account.account_id) or ""
    first = [account.account_id, account.name, account.status]
    currencies = _currencies(account)
    if not currencies:
        figures = [""] * (len(COLUMNS) - len(first) - 3)  # available ... deadline
        return [[*first, "", *figures, _top_finding(account.findings, None), link]]
    positions = {str(p.get("currency")): p for p in account.positions}
    headlines = {h.currency: h for h in account.headlines}
    rows = []
    for currency in currencies:
        pos = positions.get(currency, {})
        headline = headlines.get(currency)
        rows.append([
            *first, currency,
            *(major(_int(pos.get(key)), currency)
              for key in ("available", "prefund", "minimum", "exposure", "capacity")),
            major(headline.add, currency) if headline else "",
            major(_suggested(account.findings, headline, currency), currency),
            headline.deadline.isoformat() if headline else "",
            _top_finding(account.findings, currency),
            link,
        ])
    return rows


def report_rows(accounts: Iterable[AccountReport]) -> list[list[str]]:
    return [row for account in accounts for row in account_rows(account)]


def report_csv(report: Report) -> str:
    """The CSV text (RFC 4180: a header row, CRLF line ends, quotes where needed)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows([safe_cell(cell) for cell in row] for row in report_rows(report.accounts))
    return out.getvalue()
