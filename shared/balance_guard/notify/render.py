"""An account's email, from its findings and the rule catalog to a multipart message.

Everything a reader sees about a rule comes from the rule catalog in their language
(`text.catalog`), the letter's own words from `notify.strings`, figures formatted for their
language and country by `text.formatting`; the HTML goes through Jinja2 with autoescaping,
and headers are set only through the `email` package with values stripped of line breaks.
Account names and metadata are untrusted: they never reach a header or the HTML unescaped.

An email with a critical finding and more than one block opens with one line saying what
to do today and how much (`domain/advice.py`); findings that tell the same story are
worded once (`advice.plan_wording`).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from functools import lru_cache
from string import Formatter
from typing import Any, TypeGuard

from babel.lists import format_list
from babel.numbers import format_decimal
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from balance_guard.domain.advice import TodayAmount, plan_wording, suggested_minimum, today_amounts
from balance_guard.domain.catalog import NOTES, PLACEHOLDERS, Context
from balance_guard.domain.findings import (
    CapacityShortCause,
    Finding,
    RuleCode,
    Severity,
    detail_date,
)
from balance_guard.domain.notification import release_dates
from balance_guard.notify.recipients import normalize_address, shown
from balance_guard.notify.strings import (
    DEFAULT_CONTACT,
    more_label,
    other_language_banner,
    strings,
)
from balance_guard.report.model import AccountReport, ReserveRelease
from balance_guard.text.catalog import (
    cause,
    cause_action,
    cause_action_generic,
    funding_method,
    labels,
    note,
    rewording,
    rule_text,
    severity_label,
)
from balance_guard.text.formatting import babel_locale, format_day, format_money
from balance_guard.text.typography import colon

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
    """`before` + the name and/or the address (a mailto link in HTML) + `after`."""

    before: str
    name: str | None
    mailto: str | None
    after: str


@dataclass(frozen=True)
class TodayView:
    label: str
    text: str


@dataclass(frozen=True)
class SectionView:
    lang: str
    colon: str
    today: TodayView | None
    greeting: str
    intro: str
    other_language: str | None
    findings: tuple[FindingView, ...]
    footer_why: str
    contact: Contact
    footer_policy: str


@dataclass(frozen=True)
class SupportContact:
    """Whom readers write to: a name, an address, or both (`Policy.support_contact`)."""

    name: str | None
    address: str | None


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
        loader=PackageLoader("balance_guard.notify", "templates"),
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
    """Every catalog placeholder this finding can fill, formatted for the reader: what its
    rule emits, the minimum balance to suggest, and how to add funds in `country`."""
    values: dict[str, str] = {"funding_method": funding_method(country, language)}
    days = release_dates(finding, releases)
    for name, kind in PLACEHOLDERS.items():
        raw = finding.amount if name == "amount" else finding.details.get(name)
        if name == "suggested_minimum" and finding.currency:
            exposure = finding.details.get("exposure")
            raw = suggested_minimum(exposure, finding.currency) if _is_int(exposure) else None
        if kind == "money" and finding.currency and _is_int(raw):
            values[name] = format_money(raw, finding.currency, language, country)
        elif kind == "count" and _is_int(raw):
            values[name] = format_decimal(raw, locale=babel_locale(language, country))
        elif kind == "date" and (day := detail_date(raw) or (days[0] if days else None)):
            values[name] = format_day(day, language, country)
    return values


def fill(template: str, values: Mapping[str, str]) -> str | None:
    """The template with its placeholders filled, or None when a value is missing."""
    fields = {name for _, name, _, _ in Formatter().parse(template) if name is not None}
    if not fields <= values.keys():
        return None
    return template.format_map(values)


def _release_lines(
    finding: Finding, language: str, country: str | None, releases: Sequence[ReserveRelease],
) -> tuple[str, ...]:
    words = strings(language)
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
        day = detail_date(row.get("date")) if isinstance(row, dict) else None
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
        text for key in NOTES
        if _calls_for(finding.details.get(key)) and (text := fill(note(key, language), values))
    ]
    upcoming = detail_date(finding.details.get("next_release_date"))
    if finding.code is RuleCode.RESERVE_HELD and upcoming is not None:
        notes.append(strings(language)["next_release"].format(
            release_date=format_day(upcoming, language, country)))
    return tuple(notes)


def _calls_for(value: Any) -> bool:
    return value is True or (_is_int(value) and value > 0)


def _first_filled(templates: Sequence[str | None], values: Mapping[str, str]) -> str | None:
    for template in templates:
        if template and (text := fill(template, values)) is not None:
            return text
    return None


def finding_view(
    finding: Finding, language: str, *, country: str | None, docs_base_url: str,
    releases: Sequence[ReserveRelease] = (), context: Context | None = None,
) -> FindingView:
    """One finding's block. Its summary and action name its figures; `context` rewords
    them for the email it is in. An action that misses a value falls back to the
    catalog's value-free one, never to a text with a gap."""
    text = rule_text(finding.code, language)
    words = labels(language)
    values = placeholder_values(finding, language, country, releases)
    reworded = rewording(context, language) if context is not None else None
    reason: str | None = None
    cause_actions: tuple[str | None, ...] = ()
    general_action = text.action
    known = CapacityShortCause.of_finding(finding)
    if known is not None:
        reason = fill(cause(known, language), values)
        cause_actions = (cause_action(known, language),)
        general_action = cause_action_generic(known, language)
    action = _first_filled(
        (reworded.action if reworded else None, *cause_actions, text.finding_action),
        values) or general_action
    summary = _first_filled((reworded.summary if reworded else None, text.summary), values)
    color, background = COLORS[finding.severity]
    return FindingView(
        severity=severity_label(finding.severity, language),
        color=color,
        background=background,
        title=text.title,
        summary=summary or text.why,
        cause_label=words["cause"],
        cause=reason,
        releases_label=strings(language)["releases"],
        releases=(_release_lines(finding, language, country, releases)
                  if finding.code is RuleCode.RESERVE_RELEASE_UPCOMING else ()),
        notes=_notes(finding, language, country, values),
        action_label=strings(language)[f"do_{_urgency(finding.severity)}"],
        action=action,
        learn_more=words["learn_more"],
        url=help_url(finding.code, language, docs_base_url),
    )


def _urgency(severity: Severity) -> str:
    if severity in (Severity.CRITICAL, Severity.ERROR):
        return "critical"
    return "warning" if severity is Severity.WARNING else "info"


_NAMED_ADDRESS = re.compile(r'"?(?P<name>[^<>@,;:"]*?)"?\s*<(?P<address>[^<>\s,;]+)>')
_BARE_ADDRESS = re.compile(r"[^<>\s,;:\"()]+")


def parse_contact(raw: str | None, *, strict: bool = False) -> SupportContact | None:
    """`Name <address>`, an address or a name -> its parts; None for the generic wording.

    With `strict`, a value that looks like an address but is not a valid one raises
    ValueError (a bad SUPPORT_EMAIL fails at start-up); otherwise it is shown as a name.
    """
    if raw is None or raw == DEFAULT_CONTACT:
        return None
    text = clean_text(raw, 200)
    if not text:
        return None
    if "@" not in text and "<" not in text:
        return SupportContact(name=text, address=None)
    # Exactly one address, bare or as `Name <address>`: no list, no group, no comment.
    named = _NAMED_ADDRESS.fullmatch(text)
    name, candidate = (named["name"].strip(), named["address"]) if named else (
        ("", text) if _BARE_ADDRESS.fullmatch(text) else ("", ""))
    address, problem = (normalize_address(candidate) if candidate
                        else (None, "expected one address, or a name and <address>"))
    if address is None:
        if strict:
            raise ValueError(f"not a support contact: {shown(text)}: {problem}")
        return SupportContact(name=text, address=None)
    return SupportContact(name=clean_text(name, 100) or None, address=address)


def reply_to_header(contact: str | None) -> Address | None:
    """The Reply-To of admins' emails: the support contact's address, rebuilt from its
    validated parts; None when there is no address. Raises ValueError when invalid."""
    parsed = parse_contact(contact, strict=True)
    if parsed is None or parsed.address is None:
        return None
    user, _, domain = parsed.address.rpartition("@")
    return Address(display_name=header_text(parsed.name or "", 80), username=user,
                   domain=domain)


def contact_view(
    language: str, contact: str | None = DEFAULT_CONTACT, platform: str | None = None,
) -> Contact:
    """The footer's "whom to contact": the support contact when the platform set one,
    else its support team by name, else the platform's support team."""
    words = strings(language)
    parsed = parse_contact(contact)
    if parsed is None:
        name = (words["platform_contact"].format(platform=platform) if platform
                else words["default_contact"])
        parsed = SupportContact(name=name, address=None)
    template = words["footer_contact_address" if parsed.address else "footer_contact"]
    before, _, after = template.partition("{contact}")
    return Contact(before=before, name=parsed.name, mailto=parsed.address, after=after)


def subject_for(building: str, findings: Sequence[Finding], languages: Sequence[str]) -> str:
    """`Les Tours du Parc : <worst finding's title>`, titles French first when bilingual."""
    name = clean_text(building, SUBJECT_NAME_LIMIT)
    worst = findings[0]
    titles = " / ".join(rule_text(worst.code, lang).title for lang in languages)
    subject = strings(languages[0])["subject"].format(building=name, title=titles)
    extra = len(findings) - 1
    if extra:
        subject += " " + (more_label(languages[0], extra) if len(languages) == 1
                          else f"(+{extra})")
    return header_text(subject, 400)


def today_view(
    amounts: Sequence[TodayAmount], language: str, country: str | None,
) -> TodayView | None:
    """`Today: add 1 650,00 $ to your prefunding balance by bank wire. This pays what
    Stripe is waiting for: …` — one paragraph, every currency in it."""
    if not amounts:
        return None
    words = strings(language)
    locale = babel_locale(language, country)

    def money(value: int, currency: str) -> str:
        return format_money(value, currency, language, country)

    totals = [money(a.amount, a.currency) for a in amounts]
    add = words["today_add" if len(amounts) == 1 else "today_add_several"].format(
        amounts=format_list(totals, locale=locale),
        funding_method=funding_method(country, language))
    sentences = [add]
    for item, total in zip(amounts, totals, strict=True):
        subject = words["today_this"] if len(amounts) == 1 else total
        if item.covers_what_is_due:
            parts = []
            if item.negative:
                parts.append(words["today_negative"].format(
                    amount=money(item.negative, item.currency)))
            if item.blocked:
                key = "today_blocked_many" if item.blocked_refunds > 1 else "today_blocked_one"
                parts.append(words[key].format(amount=money(item.blocked, item.currency),
                                               count=item.blocked_refunds))
            sentences.append(words["today_due"].format(
                subject=subject, parts=format_list(parts, locale=locale)))
        else:
            sentences.append(words["today_shortfall"].format(subject=subject))
    sentences.append(words["today_rest"])
    return TodayView(label=words["today_label"], text=" ".join(sentences))


def render_account_email(
    account: AccountReport,
    findings: Sequence[Finding],
    *,
    languages: Sequence[str],
    as_of: date,
    docs_base_url: str,
    contact: str | None = DEFAULT_CONTACT,
    country: str | None = None,
    platform_name: str | None = None,
) -> RenderedEmail:
    """The email listing `findings` (worst first) for one account, in its languages.

    `contact` is whom to write to (`Policy.support_contact`: `Name <address>`, an address
    or a name); `platform_name` names the platform in the footer.
    """
    if not findings:
        raise ValueError("an email needs at least one finding")
    building = clean_text(account.name, NAME_LIMIT) or clean_text(account.account_id, 60)
    platform = clean_text(platform_name or "", 80) or None
    wording = plan_wording(findings)
    shown_findings = [(f, wording.contexts.get(i)) for i, f in enumerate(findings)
                      if i not in wording.hidden]
    critical = any(f.severity is Severity.CRITICAL for f, _ in shown_findings)
    amounts = today_amounts(findings) if critical and len(shown_findings) > 1 else ()
    sections = []
    for index, lang in enumerate(languages):
        words = strings(lang)
        others = len(languages) > 1
        sections.append(SectionView(
            lang=lang,
            colon=colon(lang),
            today=today_view(amounts, lang, country),
            greeting=words["greeting"],
            intro=words["intro"].format(building=building,
                                        date=format_day(as_of, lang, country)),
            other_language=(other_language_banner(lang, languages[1]) if others and index == 0
                            else None),
            findings=tuple(
                finding_view(f, lang, country=country, docs_base_url=docs_base_url,
                             releases=account.reserve_releases, context=context)
                for f, context in shown_findings
            ),
            footer_why=words["footer_why"].format(building=building,
                                                  platform=platform or words["platform"]),
            contact=contact_view(lang, contact, platform),
            footer_policy=words["footer_policy"],
        ))
    subject = subject_for(building, [f for f, _ in shown_findings], languages)
    first = sections[0]
    preheader = (f"{first.today.label}{first.colon}{first.today.text}" if first.today
                 else first.findings[0].summary)
    context = {"subject": subject, "sections": sections, "lang": languages[0],
               "preheader": preheader}
    env = environment()
    return RenderedEmail(
        subject=subject,
        text=env.get_template("account.txt.j2").render(context),
        html=env.get_template("account.html.j2").render(context),
        languages=tuple(languages),
    )


def sender_header(sender: str) -> Address:
    """The configured From, parsed and rebuilt so nothing but a name and address remains.

    Parsed with our own patterns, not `email.utils.parseaddr`, whose answer for odd input
    changed in Python 3.13 (strict by default): the Lambda runtime and this machine must
    agree on what a valid SENDER_EMAIL is.
    """
    text = header_text(sender, 320)
    named = _NAMED_ADDRESS.fullmatch(text)
    name, address = (named["name"].strip(), named["address"]) if named else (
        ("", text) if _BARE_ADDRESS.fullmatch(text) else ("", ""))
    user, at, domain = address.rpartition("@")
    if not at or not user or "." not in domain:
        raise ValueError(f"not a sender address: {clean_text(sender, 60)!r}")
    return Address(display_name=header_text(name, 80), username=user, domain=domain)


def safe_ref(value: str) -> str:
    """An account id or `digest` as a header and file-name token: itself when it already is
    one, else a sanitized prefix and a hash of the whole value, so that two ids never share
    a token (ids that differ only past their 64th character, or only in a `.` and a `_`)."""
    if re.fullmatch(r"[A-Za-z0-9_-]{1,64}", value):
        return value
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{re.sub(r'[^A-Za-z0-9_-]', '_', value)[:48]}_{digest}"


def build_message(
    rendered: RenderedEmail,
    *,
    sender: str,
    to: Sequence[str],
    ref: str,
    as_of: date,
    sent_at: datetime | None = None,
    reply_to: Address | None = None,
) -> EmailMessage:
    """A multipart/alternative message (plain text first, HTML preferred by clients).

    `to` must hold addresses already validated by `recipients`; each becomes an `Address`
    object, so a stray comma or line break cannot add a recipient or a header. `reply_to`
    comes from `reply_to_header`, which validated it.
    """
    from_address = sender_header(sender)
    message = EmailMessage()
    message["From"] = from_address
    message["To"] = [Address(addr_spec=clean_text(a, 320)) for a in to]
    message["Subject"] = header_text(rendered.subject, 400)
    message["Date"] = format_datetime(sent_at or datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=from_address.domain or None)
    if reply_to is not None:
        message["Reply-To"] = reply_to
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
