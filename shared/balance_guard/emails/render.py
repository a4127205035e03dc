"""An account's email, from its findings and the rule catalog to a multipart message.

Everything a reader sees about a rule comes from `domain/catalog.py`, formatted for their
language and country by Babel; the HTML goes through Jinja2 with autoescaping, and headers
are set only through the `email` package with values stripped of line breaks. Account names
and metadata are untrusted: they never reach a header or the HTML unescaped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from functools import lru_cache
from string import Formatter
from typing import Any, TypeGuard

from babel.numbers import format_decimal
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from balance_guard.domain.catalog import (
    CAUSES,
    LABELS,
    NOTES,
    PLACEHOLDERS,
    entry,
    severity_label,
)
from balance_guard.domain.findings import CapacityShortCause, Finding, RuleCode, Severity
from balance_guard.domain.notification import release_dates
from balance_guard.emails.recipients import normalize_address
from balance_guard.emails.strings import DEFAULT_CONTACT, STRINGS, more_label
from balance_guard.formatting import babel_locale, format_day, format_money
from balance_guard.report import AccountReport, ReserveRelease

NAME_LIMIT = 80  # a building's name in the body
SUBJECT_NAME_LIMIT = 60  # ...and in the subject, where a phone shows about that much
REF_HEADER = "X-Balance-Guard-Ref"
AS_OF_HEADER = "X-Balance-Guard-As-Of"

COLORS = {
    Severity.CRITICAL: ("#b42318", "#fee4e2"),
    Severity.ERROR: ("#b42318", "#fee4e2"),
    Severity.WARNING: ("#93370d", "#fef0c7"),
    Severity.INFO: ("#175cd3", "#d1e9ff"),
}
_CAUSE_VALUES = frozenset(c.value for c in CapacityShortCause)


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str
    languages: tuple[str, ...]


@dataclass(frozen=True)
class FindingView:
    severity: str
    color: str
    background: str
    title: str
    summary: str
    cause_label: str
    cause: str | None
    releases_label: str
    releases: tuple[str, ...]
    notes: tuple[str, ...]
    action_label: str
    action: str
    learn_more: str
    url: str


@dataclass(frozen=True)
class Contact:
    before: str
    name: str
    mailto: str | None
    after: str


@dataclass(frozen=True)
class SectionView:
    lang: str
    colon: str
    greeting: str
    intro: str
    other_language: str | None
    findings: tuple[FindingView, ...]
    footer_why: str
    contact: Contact
    footer_policy: str


def clean_text(value: str, limit: int) -> str:
    """An untrusted string made safe to show on one line: control, format and line-break
    characters become spaces (no header break, no bidi trickery), runs of space collapse,
    and the result is cut to `limit` characters."""
    spaced = "".join(
        " " if unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"} else ch for ch in value
    )
    text = " ".join(spaced.split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def header_text(value: str, limit: int) -> str:
    """`clean_text` for a header: the `email` package decodes RFC 2047 encoded words
    (`=?utf-8?q?=0D=0A...?=`) in a header value it is given, which would turn an innocent
    looking name back into a line break; breaking every `=?` keeps it a plain word."""
    return clean_text(value, limit).replace("=?", "= ?")


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(
        loader=PackageLoader("balance_guard.emails", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=True,
                                     default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def help_url(code: RuleCode, language: str, docs_base_url: str) -> str:
    return f"{docs_base_url.rstrip('/')}/{language}/rules.html#{code.anchor}"


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def placeholder_values(
    finding: Finding, language: str, country: str | None,
    releases: Sequence[ReserveRelease] = (),
) -> dict[str, str]:
    """Every catalog placeholder this finding can fill, formatted for the reader."""
    values: dict[str, str] = {}
    days = release_dates(finding, releases)
    for name, kind in PLACEHOLDERS.items():
        raw = finding.amount if name == "amount" else finding.details.get(name)
        if kind == "money" and finding.currency and _is_int(raw):
            values[name] = format_money(raw, finding.currency, language, country)
        elif kind == "count" and _is_int(raw):
            values[name] = format_decimal(raw, locale=babel_locale(language, country))
        elif kind == "date" and (day := _date(raw) or (days[0] if days else None)):
            values[name] = format_day(day, language, country)
    return values


def _date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def fill(template: str, values: Mapping[str, str]) -> str | None:
    """The template with its placeholders filled, or None when a value is missing."""
    fields = {name for _, name, _, _ in Formatter().parse(template) if name is not None}
    if not fields <= values.keys():
        return None
    return template.format_map(values)


def _release_lines(
    finding: Finding, language: str, country: str | None, releases: Sequence[ReserveRelease],
) -> tuple[str, ...]:
    words = STRINGS[language]
    currency = finding.currency or ""
    days = set(release_dates(finding, releases))
    mine = [r for r in releases if r.currency == currency and r.release_date in days]
    lines: list[str] = []
    for release in sorted(mine, key=lambda r: r.release_date):
        parts = [words["release_line"].format(
            amount=format_money(release.amount, currency, language, country),
            release_date=format_day(release.release_date, language, country))]
        if release.payout_date is None:
            parts.append(words["manual_payouts"])
        else:
            parts.append(words["payout_line"].format(
                payout_date=format_day(release.payout_date, language, country)))
            if release.arrival_date is not None:
                parts.append(words["arrival_line"].format(
                    arrival_date=format_day(release.arrival_date, language, country)))
        lines.append(", ".join(parts) + ".")
    if lines:
        return tuple(lines)
    rows = finding.details.get("releases")
    for row in rows if isinstance(rows, list) else []:
        day = _date(row.get("date")) if isinstance(row, dict) else None
        if day is not None and _is_int(row.get("amount")):
            lines.append(words["release_line"].format(
                amount=format_money(row["amount"], currency, language, country),
                release_date=format_day(day, language, country)) + ".")
    return tuple(lines)


def _notes(
    finding: Finding, language: str, country: str | None, values: Mapping[str, str],
) -> tuple[str, ...]:
    """The catalog's extra sentences this finding's details call for, then its next
    release date when funds are held."""
    notes = [
        text for key, texts in NOTES.items()
        if _calls_for(finding.details.get(key)) and (text := fill(texts[language], values))
    ]
    upcoming = _date(finding.details.get("next_release_date"))
    if finding.code is RuleCode.RESERVE_HELD and upcoming is not None:
        notes.append(STRINGS[language]["next_release"].format(
            release_date=format_day(upcoming, language, country)))
    return tuple(notes)


def _calls_for(value: Any) -> bool:
    return value is True or (_is_int(value) and value > 0)


def finding_view(
    finding: Finding, language: str, *, country: str | None, docs_base_url: str,
    releases: Sequence[ReserveRelease] = (),
) -> FindingView:
    text = entry(finding.code).text(language)
    labels = LABELS[language]
    values = placeholder_values(finding, language, country, releases)
    cause: str | None = None
    raw_cause = finding.details.get("cause")
    if isinstance(raw_cause, str) and raw_cause in _CAUSE_VALUES:
        cause = fill(CAUSES[CapacityShortCause(raw_cause)][language], values)
    color, background = COLORS[finding.severity]
    return FindingView(
        severity=severity_label(finding.severity, language),
        color=color,
        background=background,
        title=text.title,
        summary=fill(text.summary, values) or text.why,
        cause_label=labels["cause"],
        cause=cause,
        releases_label=STRINGS[language]["releases"],
        releases=(_release_lines(finding, language, country, releases)
                  if finding.code is RuleCode.RESERVE_RELEASE_UPCOMING else ()),
        notes=_notes(finding, language, country, values),
        action_label=STRINGS[language][f"do_{_urgency(finding.severity)}"],
        action=text.action,
        learn_more=labels["learn_more"],
        url=help_url(finding.code, language, docs_base_url),
    )


def _urgency(severity: Severity) -> str:
    if severity in (Severity.CRITICAL, Severity.ERROR):
        return "critical"
    return "warning" if severity is Severity.WARNING else "info"


def contact_view(template: str, contact: str, language: str) -> Contact:
    name = clean_text(contact, 200)
    if contact == DEFAULT_CONTACT or not name:
        name = STRINGS[language]["default_contact"]
    address, _ = normalize_address(name)
    before, _, after = template.partition("{contact}")
    return Contact(before=before, name=name, mailto=address, after=after)


def subject_for(building: str, findings: Sequence[Finding], languages: Sequence[str]) -> str:
    """`Les Tours du Parc : <worst finding's title>`, titles French first when bilingual."""
    name = clean_text(building, SUBJECT_NAME_LIMIT)
    worst = findings[0]
    titles = " / ".join(entry(worst.code).text(lang).title for lang in languages)
    subject = STRINGS[languages[0]]["subject"].format(building=name, title=titles)
    extra = len(findings) - 1
    if extra:
        subject += " " + (more_label(languages[0], extra) if len(languages) == 1
                          else f"(+{extra})")
    return header_text(subject, 400)


def render_account_email(
    account: AccountReport,
    findings: Sequence[Finding],
    *,
    languages: Sequence[str],
    as_of: date,
    docs_base_url: str,
    contact: str = DEFAULT_CONTACT,
    country: str | None = None,
) -> RenderedEmail:
    """The email listing `findings` (worst first) for one account, in its languages."""
    if not findings:
        raise ValueError("an email needs at least one finding")
    building = clean_text(account.name, NAME_LIMIT) or clean_text(account.account_id, 60)
    sections = []
    for index, lang in enumerate(languages):
        words = STRINGS[lang]
        others = len(languages) > 1
        sections.append(SectionView(
            lang=lang,
            colon=words["colon"],
            greeting=words["greeting"],
            intro=words["intro"].format(building=building,
                                        date=format_day(as_of, lang, country)),
            other_language=words["other_language"] if others and index == 0 else None,
            findings=tuple(
                finding_view(f, lang, country=country, docs_base_url=docs_base_url,
                             releases=account.reserve_releases)
                for f in findings
            ),
            footer_why=words["footer_why"].format(building=building),
            contact=contact_view(words["footer_contact"], contact, lang),
            footer_policy=words["footer_policy"],
        ))
    subject = subject_for(building, findings, languages)
    context = {"subject": subject, "sections": sections, "lang": languages[0],
               "preheader": sections[0].findings[0].summary}
    env = environment()
    return RenderedEmail(
        subject=subject,
        text=env.get_template("account.txt.j2").render(context),
        html=env.get_template("account.html.j2").render(context),
        languages=tuple(languages),
    )


def sender_header(sender: str) -> Address:
    """The configured From, parsed and rebuilt so nothing but a name and address remains."""
    name, address = parseaddr(header_text(sender, 320))
    if "@" not in address:
        raise ValueError(f"not a sender address: {clean_text(sender, 60)!r}")
    user, _, domain = address.rpartition("@")
    return Address(display_name=header_text(name, 80), username=user, domain=domain)


def safe_ref(value: str) -> str:
    """An account id or `digest` as a header and file-name token."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", value)[:64] or "account"


def build_message(
    rendered: RenderedEmail,
    *,
    sender: str,
    to: Sequence[str],
    ref: str,
    as_of: date,
    sent_at: datetime | None = None,
) -> EmailMessage:
    """A multipart/alternative message (plain text first, HTML preferred by clients).

    `to` must hold addresses already validated by `recipients`; each becomes an `Address`
    object, so a stray comma or line break cannot add a recipient or a header.
    """
    from_address = sender_header(sender)
    message = EmailMessage()
    message["From"] = from_address
    message["To"] = [Address(addr_spec=clean_text(a, 320)) for a in to]
    message["Subject"] = header_text(rendered.subject, 400)
    message["Date"] = format_datetime(sent_at or datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=from_address.domain or None)
    # RFC 3834: an automatic message; out-of-office replies should stay quiet.
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message[REF_HEADER] = safe_ref(ref)
    message[AS_OF_HEADER] = as_of.isoformat()
    message.set_content(rendered.text, subtype="plain", charset="utf-8",
                        cte="quoted-printable")
    message.add_alternative(rendered.html, subtype="html", charset="utf-8",
                            cte="quoted-printable")
    message["Content-Language"] = ", ".join(rendered.languages)  # set_content drops Content-*
    for name, value in message.items():
        if "\r" in str(value) or "\n" in str(value):  # defence in depth: never a header break
            raise ValueError(f"header {name} would break a line")
    return message


def html_part(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    if part is None or not isinstance(part, EmailMessage):
        raise ValueError("the message has no HTML part")
    content: str = part.get_content()
    return content
