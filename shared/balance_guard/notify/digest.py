"""The operations digest: one email per run, and what operations must act on.

The platform's own notices first (a permission the key lacks concerns every account); totals
by status and the run's figures; then every account needing attention, critical first, then
warnings, then the accounts that could not be checked. Each names its building, what it must
do (its headlines: the amount to add to the prefunding balance, the minimum balance to set,
and by when — `domain/headline.py`), its top findings by their operator titles
(`text.catalog.operator_title`), and a link to its page in the Stripe Dashboard; then the
accounts' notices (bad metadata, dropped addresses). The emails re-checks sent in real time
since the previous night (`EmailRecord.realtime`, after a Stripe webhook) are listed after
the accounts to act on, by building and subject, only when there are any. The full report is
linked: the local file, or a presigned S3 link on AWS.

It speaks to the platform's operators, not to a building's admin; its words are gettext's,
and money and dates are formatted for the platform's country (`Policy.platform_country`),
so US dollars read `US$1,900.00` next to Canadian `$1,300.00` for an en-CA reader. May import
the domain, `report` (its model, the Dashboard link of `report.csv`), `text` and the rest of
`notify`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from babel.numbers import format_decimal

from balance_guard.domain.findings import CapacityShortCause, Severity, most_severe_first
from balance_guard.domain.headline import Headline
from balance_guard.notify.render import (
    NAME_LIMIT,
    RenderedEmail,
    clean_text,
    environment,
    header_text,
    placeholder_values,
)
from balance_guard.notify.strings import more_label, strings
from balance_guard.report.csv import dashboard_url
from balance_guard.report.model import AccountReport, Report
from balance_guard.text.catalog import cause_label, labels, operator_title
from balance_guard.text.formatting import babel_locale, format_day, format_money
from balance_guard.text.i18n import N_, gettext
from balance_guard.text.typography import colon

# A night with thousands of notices or accounts must still make a readable email; the run
# report has them all.
MAX_NOTICES = 300
MAX_ACCOUNTS = 200  # per list
MAX_FINDINGS = 3  # per account: the rest is one "(+2 more)"
# A presigned S3 link signed with a session token runs past 1,000 characters.
MAX_URL = 8_000
_STATUS_ORDER = ("critical", "error", "warning", "info", "ok")
_LINKED_SCHEMES = frozenset({"https", "file"})
_URL_BREAKERS = re.compile(r"[\s\x00-\x1f\x7f-\x9f\"<>\\^`{|}]")


@dataclass(frozen=True)
class AccountLine:
    name: str
    account_id: str
    headlines: tuple[str, ...]
    details: tuple[str, ...]
    dashboard_url: str | None


@dataclass(frozen=True)
class AccountList:
    label: str
    color: str
    accounts: tuple[AccountLine, ...]
    count: int  # every account of the list, shown or not (the real-time list: emails)
    more: str | None  # the line saying how many are left out


@dataclass(frozen=True)
class ReportLink:
    """`Full report: <a href=url>name</a>`: `before` + the link (or `text`) + `after`."""

    before: str
    url: str | None
    text: str
    after: str


@dataclass(frozen=True)
class DigestSection:
    lang: str
    colon: str
    title: str
    intro: str
    report: ReportLink | None
    platform_label: str
    platform_notices: tuple[str, ...]
    totals_label: str
    totals: tuple[tuple[str, str], ...]
    figures: tuple[tuple[str, str], ...]
    lists: tuple[AccountList, ...]
    dashboard_label: str
    notices_label: str
    notices: tuple[str, ...]
    none: str


def _name(account: AccountReport) -> str:
    return clean_text(account.name, NAME_LIMIT) or clean_text(account.account_id, 60)


def _deadline(headline: Headline, as_of: date, language: str, country: str | None) -> str:
    """`today`, or `before the automatic payout of Friday, August 7, 2026`."""
    if headline.deadline == as_of:
        return gettext("today", language)
    day = format_day(headline.deadline, language, country)
    if headline.deadline == headline.next_payout:
        return gettext("before the automatic payout of {date}", language).format(date=day)
    return gettext("by {date}", language).format(date=day)


def headline_line(
    headline: Headline, as_of: date, language: str, country: str | None,
) -> str | None:
    """`Add $3,500.00 to the prefunding balance today.`; None when it asks nothing."""
    if not headline.asks_anything:
        return None
    deadline = _deadline(headline, as_of, language, country)
    amount = format_money(headline.add, headline.currency, language, country)
    if headline.minimum is None:
        return gettext("Add {amount} to the prefunding balance {deadline}.", language).format(
            amount=amount, deadline=deadline)
    minimum = format_money(headline.minimum, headline.currency, language, country)
    if headline.add <= 0:
        return gettext("Set the minimum balance to {minimum} {deadline}.", language).format(
            minimum=minimum, deadline=deadline)
    return gettext("Add {amount} to the prefunding balance and set the minimum balance to "
                   "{minimum} {deadline}.", language).format(
        amount=amount, minimum=minimum, deadline=deadline)


def _finding_lines(account: AccountReport, language: str, country: str | None,
                   ) -> tuple[str, ...]:
    """`Largest refund not covered: US$1,900.00 — Payouts are manual or turned off`, for
    the findings that give the account its status; a failed check's reason."""
    if account.status == "error":
        return (clean_text(account.error, 300),) if account.error else ()
    separator = colon(language)
    top = [f for f in most_severe_first(account.findings)
           if f.severity is Severity(account.status)]
    lines = []
    for finding in top[:MAX_FINDINGS]:
        line = operator_title(finding.code, language)
        amount = placeholder_values(finding, language, country).get("amount")
        if amount:
            line += f"{separator}{amount}"
        cause = CapacityShortCause.of_finding(finding)
        if cause is not None:
            line += f" — {cause_label(cause, language)}"
        lines.append(line)
    if len(top) > MAX_FINDINGS:
        lines.append(more_label(language, len(top) - MAX_FINDINGS))
    return tuple(lines)


def _account_line(report: Report, account: AccountReport, language: str,
                  country: str | None) -> AccountLine:
    headlines = (headline_line(h, report.as_of, language, country) for h in account.headlines)
    return AccountLine(
        name=_name(account),
        account_id=clean_text(account.account_id, 60),
        headlines=tuple(line for line in headlines if line),
        details=_finding_lines(account, language, country),
        dashboard_url=dashboard_url(account.account_id),
    )


_LISTS = (
    ("critical", N_("Critical accounts"), "#b42318"),
    ("warning", N_("Accounts with a warning"), "#93370d"),
    ("error", N_("Accounts that could not be checked"), "#475467"),
)


REALTIME_HEADING = N_("Emails sent in real time")
REALTIME_COLOR = "#0e7090"
SUBJECT_LIMIT = 300


def _realtime_list(report: Report, language: str, country: str | None) -> AccountList | None:
    """The buildings emailed between nights, each with its emails' subjects, counted in
    emails; None when no re-check sent any."""
    emailed = sorted(
        ((a, [e for e in a.emails if e.realtime]) for a in report.accounts),
        key=lambda pair: (_name(pair[0]).casefold(), pair[0].account_id))
    emailed = [(a, emails) for a, emails in emailed if emails]
    if not emailed:
        return None
    shown = emailed[:MAX_ACCOUNTS]
    left = sum(len(emails) for _, emails in emailed[MAX_ACCOUNTS:])
    more = gettext("… and {count} more in the full report.", language).format(
        count=format_decimal(left, locale=babel_locale(language, country))) if left else None
    return AccountList(
        label=gettext(REALTIME_HEADING, language), color=REALTIME_COLOR,
        accounts=tuple(AccountLine(
            name=_name(a), account_id=clean_text(a.account_id, 60), headlines=(),
            details=tuple(clean_text(e.subject, SUBJECT_LIMIT) for e in emails),
            dashboard_url=dashboard_url(a.account_id),
        ) for a, emails in shown),
        count=sum(len(emails) for _, emails in emailed), more=more,
    )


def _lists(report: Report, language: str, country: str | None) -> tuple[AccountList, ...]:
    lists = []
    for status, heading, color in _LISTS:
        chosen = sorted((a for a in report.accounts if a.status == status),
                        key=lambda a: (_name(a).casefold(), a.account_id))
        shown = chosen[:MAX_ACCOUNTS]
        left = len(chosen) - len(shown)
        more = gettext("… and {count} more in the full report.", language).format(
            count=format_decimal(left, locale=babel_locale(language, country))) if left else None
        lists.append(AccountList(
            label=gettext(heading, language), color=color,
            accounts=tuple(_account_line(report, a, language, country) for a in shown),
            count=len(chosen), more=more,
        ))
    realtime = _realtime_list(report, language, country)
    return tuple(lists) if realtime is None else (*lists, realtime)


def _capped(lines: list[str]) -> tuple[str, ...]:
    if len(lines) > MAX_NOTICES:
        lines = [*lines[:MAX_NOTICES], f"… +{len(lines) - MAX_NOTICES}"]
    return tuple(lines)


def _account_notices(report: Report, language: str) -> tuple[str, ...]:
    separator = colon(language)
    return _capped([
        f"{_name(a)} ({clean_text(a.account_id, 60)}){separator}{clean_text(notice, 300)}"
        for a in report.accounts for notice in a.notices
    ])


def report_url(location: str) -> str | None:
    """The link to the full report: an https URL (a presigned S3 link) or a local file's
    `file://` URL, as given or from an absolute path; None for anything else (an `s3://`
    URI, a relative path), which is shown as text. Nothing that could break out of an
    attribute or a line, nor a script's scheme, becomes a link."""
    if location.startswith("/") and not location.startswith("//"):
        try:
            location = Path(location).as_uri()
        except ValueError:
            return None
    if len(location) > MAX_URL or _URL_BREAKERS.search(location):
        return None
    parts = urlsplit(location)
    if parts.scheme not in _LINKED_SCHEMES or (parts.scheme == "https" and not parts.netloc):
        return None
    return location


def _report_link(location: str | None, language: str) -> ReportLink | None:
    if not location:
        return None
    template = strings(language)["digest_report"]
    before, _, after = template.partition("{location}")
    url = report_url(location)
    if url is None:
        return ReportLink(before, None, clean_text(location, 300), after)
    # The link reads as the file's name, not as a thousand characters of signature.
    name = clean_text(unquote(PurePosixPath(urlsplit(url).path).name), 120)
    return ReportLink(before, url, name or clean_text(url, 120), after)


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
    # Accounts that could not be checked are in the run, not "checked".
    accounts_label = words["digest_accounts_run" if by_status.get("error") else
                          "digest_accounts"]
    return DigestSection(
        lang=language,
        colon=colon(language),
        title=_title(report, language, country),
        intro=words["digest_intro"].format(run_id=clean_text(report.run_id, 80), date=day),
        report=_report_link(report_location, language),
        platform_label=gettext("Platform notices", language),
        platform_notices=_capped([clean_text(notice, 500) for notice in report.notices]),
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
        lists=_lists(report, language, country),
        dashboard_label=gettext("Open in the Stripe Dashboard", language),
        notices_label=words["digest_notices"],
        notices=_account_notices(report, language),
        none=words["digest_none"],
    )


def _title(report: Report, language: str, country: str | None) -> str:
    """`Balance Guard nightly digest for Saturday, August 1, 2026: 1 critical, …` (a date
    and counts: nothing untrusted)."""
    by_status = report.totals.by_status
    return strings(language)["digest_subject"].format(
        date=format_day(report.as_of, language, country),
        critical=by_status.get("critical", 0),
        failed=by_status.get("error", 0),
    )


def digest_subject(report: Report, language: str, country: str | None = None) -> str:
    return header_text(_title(report, language, country), 400)


def render_digest(
    report: Report, languages: Sequence[str], *, country: str | None = None,
    report_location: str | None = None,
) -> RenderedEmail:
    """The digest in the platform's languages (French first when bilingual), formatted
    for the platform's `country`; `report_location` is where the full report is: a URL
    (`https://…` presigned, `file://…`) or a local path is linked, anything else shown."""
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
