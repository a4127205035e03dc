"""`out/report.html`: the night at a glance, for someone who has never seen the JSON.

The page opens on the night checked and one table, a row per building and currency: its
status, the one amount to add and by when, the minimum balance to ask for (from the
account's headlines, `domain/headline.py`), and whether anything in it is new since the
previous night's report. Each building's figures and findings follow, then its emails,
those a re-check sent in real time since the previous night marked so. Every word is marked
`_("…")` (here or in the template) and goes through `text.i18n`; the page reads in English,
a French page is a translation away. May import the domain, the report model and `text`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from balance_guard.domain.findings import CapacityShortCause, Finding, RuleCode
from balance_guard.domain.headline import Headline
from balance_guard.domain.notification import finding_keys
from balance_guard.domain.policy import Policy
from balance_guard.report.details import HOME_COUNTRY, money, readable_details
from balance_guard.report.model import AccountReport, Report
from balance_guard.text.catalog import label, operator_title
from balance_guard.text.formatting import format_day, format_long_day
from balance_guard.text.i18n import N_, gettext

LANGUAGE = "en"

# What each rule's figure (`Finding.amount`) is: the amounts of two findings are different
# things (a shortfall, a suggested minimum), so none is shown without its name.
FIGURES: dict[RuleCode, str] = {
    RuleCode.NEGATIVE_BALANCE: N_("Below zero by"),
    RuleCode.REFUND_BLOCKED: N_("Refunds on hold"),
    RuleCode.REFUND_CAPACITY_SHORT: N_("Capacity short by"),
    RuleCode.MIN_BALANCE_NOT_SET: N_("Suggested minimum"),
    RuleCode.MIN_BALANCE_BELOW_EXPOSURE: N_("Minimum short by"),
    RuleCode.PREFUND_DEPLETED: N_("To refill"),
    RuleCode.PREFUND_BELOW_TARGET: N_("Below target by"),
    RuleCode.PREFUND_USED: N_("Used since the previous check"),
    RuleCode.RESERVE_HELD: N_("Held"),
    RuleCode.RESERVE_RELEASE_UPCOMING: N_("To be released"),
}

MINIMUM_UNKNOWN = N_("unknown")
MINIMUM_NOT_SET = N_("not set")
PAYOUTS = {
    "automatic": N_("automatic"),
    "manual": N_("manual"),
    "disabled": N_("disabled"),
}

_env = Environment(
    loader=PackageLoader("balance_guard.report", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _(message: str) -> Markup:
    """A template's message in the page's language. Our own catalog's words, trusted as
    markup (a message may hold `<strong>`) as Jinja's i18n extension does; the values put
    into it with `.format` are escaped."""
    return Markup(gettext(message, LANGUAGE))  # noqa: S704 - the catalog, not user input


@dataclass(frozen=True)
class FindingView:
    finding: Finding
    title: str
    figure: tuple[str, str] | None  # (what the amount is, the amount)
    new: bool


@dataclass(frozen=True)
class GlanceRow:
    """One building and currency in the table the page opens on."""

    account: AccountReport
    currency: str | None
    to_add: int | None  # None: no wire asked
    deadline: date | None  # None: nothing asked
    deadline_note: str | None  # why that day: now, or the next automatic payout
    suggested_minimum: int | None
    new: bool
    titles: tuple[str, ...]  # its findings, worst first


def payouts(position: dict[str, Any], account: AccountReport) -> str:
    """`automatic`, `manual` or `disabled`: payouts turned off is a warning of its own
    (PAYOUTS_DISABLED), manual payouts are a choice; the page never puts both under one
    word."""
    if position.get("automatic_payouts"):
        return "automatic"
    if any(f.code is RuleCode.PAYOUTS_DISABLED for f in account.findings):
        return "disabled"
    return "manual"


def minimum_known(position: dict[str, Any], account: AccountReport) -> bool:
    """Whether Stripe told us the minimum balance. Positions that say so are believed;
    for older reports it is read from the findings: a capacity finding blaming an unknown
    minimum, or automatic payouts without a minimum and without MIN_BALANCE_NOT_SET (which
    fires exactly when the minimum is known to be unset)."""
    if "minimum_known" in position:
        return bool(position["minimum_known"])
    currency = position.get("currency")
    mine = [f for f in account.findings if f.currency == currency]
    if any(CapacityShortCause.of_finding(f) is CapacityShortCause.MINIMUM_BALANCE_UNKNOWN
           for f in mine):
        return False
    if position.get("automatic_payouts") and position.get("minimum") is None:
        return any(f.code is RuleCode.MIN_BALANCE_NOT_SET for f in mine)
    return True


def minimum_shown(position: dict[str, Any], account: AccountReport,
                  country: str = HOME_COUNTRY) -> str:
    """The minimum balance, or why there is no figure: Stripe did not say, or none is set."""
    if not minimum_known(position, account):
        return gettext(MINIMUM_UNKNOWN, LANGUAGE)
    minimum = position.get("minimum")
    if minimum is None:
        return gettext(MINIMUM_NOT_SET, LANGUAGE)
    return money(int(minimum), str(position["currency"]), country)


def _position(position: dict[str, Any], account: AccountReport,
              country: str) -> dict[str, object]:
    """A position with the widths (percent) of its capacity bar against the exposure
    marker, and its minimum and payouts in words."""
    exposure = int(position["exposure"])
    capacity = int(position["capacity"])
    scale = max(exposure, capacity, 1)
    return {
        **position,
        "capacity_pct": round(100 * max(capacity, 0) / scale, 1),
        "exposure_pct": round(100 * exposure / scale, 1),
        "short": exposure > 0 and capacity < exposure,
        "minimum_shown": minimum_shown(position, account, country),
        "payouts_shown": gettext(PAYOUTS[payouts(position, account)], LANGUAGE),
    }


def _keys(account: AccountReport, as_of: date) -> dict[int, frozenset[str]]:
    """Each finding's identities, as the notification policy remembers them: a rule in a
    currency, a reserve release by its date, a prefunding drop by the night it was seen."""
    return {index: frozenset(finding_keys(f, as_of, account.reserve_releases))
            for index, f in enumerate(account.findings)}


def previous_findings(report: Report, previous: Report | None) -> dict[str, frozenset[str]] | None:
    """The identities of the findings of each building checked on the previous night, or
    None when there is no earlier night to compare with. A building that could not be
    checked then has no entry: what it had is not known, so nothing of it is called new."""
    if previous is None or previous.as_of >= report.as_of:
        return None
    return {
        account.account_id: frozenset().union(*_keys(account, previous.as_of).values())
        for account in previous.accounts if account.status != "error"
    }


def _findings(account: AccountReport, as_of: date,
              before: dict[str, frozenset[str]] | None, country: str) -> list[FindingView]:
    known = None if before is None else before.get(account.account_id)
    keys = _keys(account, as_of)
    views = []
    for index, f in enumerate(account.findings):
        figure = None
        if f.amount is not None and f.code in FIGURES:
            figure = (gettext(FIGURES[f.code], LANGUAGE), money(f.amount, f.currency, country))
        views.append(FindingView(
            finding=f, title=operator_title(f.code, LANGUAGE), figure=figure,
            new=known is not None and not keys[index] <= known,
        ))
    return views


def _deadline_note(headline: Headline) -> str | None:
    if headline.urgent:
        return gettext("now: a refund can fail", LANGUAGE)
    if headline.deadline == headline.next_payout:
        return gettext("the next automatic payout", LANGUAGE)
    return None


def glance(account: AccountReport, findings: list[FindingView]) -> list[GlanceRow]:
    """The building's rows in the opening table: one per currency that has a headline or a
    finding, else one."""
    headlines = {h.currency: h for h in account.headlines}
    suggested = {f.currency: f.amount for f in account.findings
                 if f.code is RuleCode.MIN_BALANCE_NOT_SET and f.currency and f.amount}
    currencies: list[str | None] = [*sorted(
        set(headlines) | {f.currency for f in account.findings if f.currency})] or [None]
    rows = []
    for currency in currencies:
        head = headlines.get(currency) if currency else None
        asks = head is not None and head.asks_anything
        # A finding of no currency (payouts disabled) belongs to every row of the building.
        mine = [v for v in findings if currency is None or v.finding.currency in (currency, None)]
        rows.append(GlanceRow(
            account=account,
            currency=currency,
            to_add=head.add if head is not None and head.add > 0 else None,
            deadline=head.deadline if head is not None and asks else None,
            deadline_note=_deadline_note(head) if head is not None and asks else None,
            suggested_minimum=(head.minimum if head is not None and head.minimum is not None
                               else suggested.get(currency) if currency else None),
            new=any(v.new for v in mine),
            titles=tuple(v.title for v in mine),
        ))
    return rows


def _severity_rank(account: AccountReport) -> int:
    order = ["error", "critical", "warning", "info", "ok"]
    return order.index(account.status)


def render_report_html(report: Report, policy: Policy, previous: Report | None = None) -> str:
    """The page of `report`; with the report of an earlier night, `previous`, what was not
    found then is marked new."""
    accounts = sorted(report.accounts, key=lambda a: (_severity_rank(a), a.name.lower()))
    before = previous_findings(report, previous)
    home = policy.platform_country
    views = [(a, [_position(p, a, home) for p in a.positions],
              _findings(a, report.as_of, before, home)) for a in accounts]
    template = _env.get_template("report.html.j2")
    return template.render(
        report=report,
        accounts=views,
        rows=[row for a, _p, found in views for row in glance(a, found)],
        counts=Counter(a.status for a in report.accounts),
        compared_with=previous.as_of if previous is not None and before is not None else None,
        money=lambda amount, currency: money(amount, currency, home),
        day=lambda d: format_long_day(d, LANGUAGE),
        full_day=lambda d: format_day(d, LANGUAGE),
        status=lambda s: label(f"status_{s}", LANGUAGE),
        details=lambda finding: readable_details(finding, home),
        docs_base_url=policy.docs_base_url.rstrip("/"),
        _=_,
    )
