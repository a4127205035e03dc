"""The operations digest: one email per run, with what operations must look at.

Totals by status, every critical account with its critical findings, every failed check,
the Stripe requests used, the run's duration, and the notices (bad metadata, dropped
addresses) that someone has to fix in the Stripe dashboard.

It speaks to the platform's operators, not to a building's admin: each critical finding
is the rule's operator title (`text.catalog.operator_title`) under the building's name, and
money and dates are formatted for the platform's country (`Policy.platform_country`), so US
dollars read `US$1,900.00` next to Canadian `$1,300.00` for an en-CA reader.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from babel.numbers import format_decimal

from balance_guard.domain.findings import CapacityShortCause, Severity
from balance_guard.notify.render import (
    NAME_LIMIT,
    RenderedEmail,
    clean_text,
    environment,
    header_text,
    placeholder_values,
)
from balance_guard.notify.strings import strings
from balance_guard.report.model import AccountReport, Report
from balance_guard.text.catalog import cause_label, labels, operator_title
from balance_guard.text.formatting import babel_locale, format_day
from balance_guard.text.typography import colon

# A night with thousands of notices must still make a readable email; the run report
# has them all.
MAX_NOTICES = 300
_STATUS_ORDER = ("critical", "error", "warning", "info", "ok")


@dataclass(frozen=True)
class AccountLine:
    name: str
    account_id: str
    details: tuple[str, ...]


@dataclass(frozen=True)
class DigestSection:
    lang: str
    colon: str
    title: str
    intro: str
    totals_label: str
    totals: tuple[tuple[str, str], ...]
    figures: tuple[tuple[str, str], ...]
    critical_label: str
    critical: tuple[AccountLine, ...]
    failed_label: str
    failed: tuple[AccountLine, ...]
    notices_label: str
    notices: tuple[str, ...]
    none: str
    report: str | None = None


def _name(account: AccountReport) -> str:
    return clean_text(account.name, NAME_LIMIT) or clean_text(account.account_id, 60)


def _critical_line(account: AccountReport, language: str, country: str | None) -> AccountLine:
    """`Largest refund not covered: US$1,900.00 — Payouts are manual or turned off`."""
    separator = colon(language)
    details = []
    for finding in account.findings:
        if finding.severity is not Severity.CRITICAL:
            continue
        line = operator_title(finding.code, language)
        amount = placeholder_values(finding, language, country).get("amount")
        if amount:
            line += f"{separator}{amount}"
        cause = CapacityShortCause.of_finding(finding)
        if cause is not None:
            line += f" — {cause_label(cause, language)}"
        details.append(line)
    return AccountLine(_name(account), clean_text(account.account_id, 60), tuple(details))


def _notices(report: Report, language: str) -> tuple[str, ...]:
    """The platform's own notices first (a permission the key lacks concerns every
    account), then each account's."""
    separator = colon(language)
    lines = [clean_text(notice, 500) for notice in report.notices]
    lines += [
        f"{_name(a)} ({clean_text(a.account_id, 60)}){separator}{clean_text(notice, 300)}"
        for a in report.accounts for notice in a.notices
    ]
    if len(lines) > MAX_NOTICES:
        lines = [*lines[:MAX_NOTICES], f"… +{len(lines) - MAX_NOTICES}"]
    return tuple(lines)


def _section(
    report: Report, language: str, country: str | None, report_location: str | None,
) -> DigestSection:
    words = strings(language)
    status_words = labels(language)
    locale = babel_locale(language, country)
    by_status = report.totals.by_status
    statuses = sorted(by_status, key=lambda s: (
        _STATUS_ORDER.index(s) if s in _STATUS_ORDER else len(_STATUS_ORDER), s))
    day = format_day(report.as_of, language, country)
    notices = _notices(report, language)
    # Accounts that could not be checked are in the run, not "checked".
    accounts_label = words["digest_accounts_run" if by_status.get("error") else
                          "digest_accounts"]
    location = clean_text(report_location or "", 300)
    return DigestSection(
        lang=language,
        colon=colon(language),
        title=digest_subject(report, language, country),
        intro=words["digest_intro"].format(run_id=clean_text(report.run_id, 80), date=day),
        totals_label=words["digest_totals"],
        totals=tuple(
            (status_words.get(f"status_{status}", clean_text(status, 20)),
             format_decimal(by_status[status], locale=locale))
            for status in statuses
        ),
        figures=(
            (accounts_label, format_decimal(report.totals.accounts, locale=locale)),
            (words["digest_emails"], format_decimal(report.totals.emails_sent, locale=locale)),
            (words["digest_requests"],
             format_decimal(report.totals.stripe_requests, locale=locale)),
            (words["digest_duration"], words["digest_seconds"].format(
                seconds=format_decimal(round(report.totals.duration_s, 1), locale=locale))),
        ),
        critical_label=words["digest_critical"],
        critical=tuple(_critical_line(a, language, country) for a in report.accounts
                       if a.status == "critical"),
        failed_label=words["digest_failed"],
        failed=tuple(
            AccountLine(_name(a), clean_text(a.account_id, 60),
                        (clean_text(a.error or "", 300),) if a.error else ())
            for a in report.accounts if a.status == "error"
        ),
        notices_label=words["digest_notices"],
        notices=notices,
        none=words["digest_none"],
        report=words["digest_report"].format(location=location) if location else None,
    )


def digest_subject(report: Report, language: str, country: str | None = None) -> str:
    by_status = report.totals.by_status
    return header_text(strings(language)["digest_subject"].format(
        date=format_day(report.as_of, language, country),
        critical=by_status.get("critical", 0),
        failed=by_status.get("error", 0),
    ), 400)


def render_digest(
    report: Report, languages: Sequence[str], *, country: str | None = None,
    report_location: str | None = None,
) -> RenderedEmail:
    """The digest in the platform's languages (French first when bilingual), formatted
    for the platform's `country`; `report_location` says where the full report is."""
    sections = [_section(report, lang, country, report_location) for lang in languages]
    subject = digest_subject(report, languages[0], country)
    context = {"subject": subject, "sections": sections, "lang": languages[0],
               "preheader": sections[0].intro}
    env = environment()
    return RenderedEmail(
        subject=subject,
        text=env.get_template("digest.txt.j2").render(context),
        html=env.get_template("digest.html.j2").render(context),
        languages=tuple(languages),
    )

