"""An account's email, from its findings and the rule catalog to a multipart message.

Everything a reader sees about a rule comes from the rule catalog in their language
(`text.catalog`), the letter's own words from `notify.strings`, figures formatted for their
language and country by `text.formatting`; the HTML goes through Jinja2 with autoescaping,
and headers are set only through the `email` package with values stripped of line breaks.
Account names and metadata are untrusted: they never reach a header or the HTML unescaped.

The platform speaks: its name is the From's display name and opens the letter. An email
with a critical finding opens with its headline, one paragraph per currency
(`AccountReport.headlines`, `domain/headline.py`): the one amount to add, the one setting
to change, and by when; every card that is part of it says so, so that no card asks for a
figure as if alone. Buttons lead where the admin acts: the help page on adding funds and
their Stripe account (the platform's portal, else Stripe's Express dashboard login; a link
is never created through a Stripe write). Findings that tell the same story are worded
once (`advice.plan_wording`).
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

from balance_guard.domain.advice import plan_wording, suggested_minimum
from balance_guard.domain.catalog import NOTES, PLACEHOLDERS, Context
from balance_guard.domain.findings import (
    CapacityShortCause,
    Finding,
    RuleCode,
    Severity,
    detail_date,
)
from balance_guard.domain.headline import Headline
from balance_guard.domain.notification import release_dates
from balance_guard.domain.policy import is_portal_address
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
PLATFORM_LIMIT = 80  # the platform's name, in the body and as the From's display name
# Where an admin signs in to their Express dashboard when the platform has no portal page.
STRIPE_EXPRESS_LOGIN = "https://connect.stripe.com/express_login"
ADDING_FUNDS_PAGE = "adding-funds.html"
# The rules whose actions can ask for money: an email of them offers the "Add funds" button.
ADD_FUNDS_CODES = frozenset({
    RuleCode.NEGATIVE_BALANCE, RuleCode.REFUND_BLOCKED, RuleCode.REFUND_CAPACITY_SHORT,
    RuleCode.MIN_BALANCE_BELOW_EXPOSURE, RuleCode.PREFUND_DEPLETED,
    RuleCode.PREFUND_BELOW_TARGET, RuleCode.PREFUND_USED,
})
# Warnings about the minimum balance that a headline asking for one settles.
MINIMUM_CODES = frozenset({RuleCode.MIN_BALANCE_NOT_SET, RuleCode.MIN_BALANCE_BELOW_EXPOSURE})
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
    # The From's display name (the platform's), replacing the configured sender's name.
    sender_name: str | None = None


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
    part: str | None = None  # how this card's figure is part of the headline


@dataclass(frozen=True)
class Contact:
    """`before` + the name and/or the address (a mailto link in HTML) + `after`."""

    before: str
    name: str | None
    mailto: str | None
    after: str


@dataclass(frozen=True)
class HeadlineParagraph:
    """One currency's headline: what to do and by when, then what it is made of."""

    action: str
    detail: str

    @property
    def text(self) -> str:
        return f"{self.action} {self.detail}".strip()


@dataclass(frozen=True)
class HeadlineView:
    """The email's first block: one paragraph per currency, then what doing it settles."""

    label: str
    paragraphs: tuple[HeadlineParagraph, ...]
    closing: str | None
    urgent: bool


@dataclass(frozen=True)
class Button:
    label: str
    url: str
    primary: bool


@dataclass(frozen=True)
class SectionView:
    lang: str
    colon: str
    headline: HeadlineView | None
    buttons: tuple[Button, ...]
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


# Runs of white space other than the no-break ones (U+00A0, U+202F).
_SPACES = re.compile(r"[^\S\u00a0\u202f]+")


def clean_text(value: str, limit: int) -> str:
    """An untrusted string made safe to show on one line: control, format and line-break
    characters become spaces (no header break, no bidi trickery), runs of space collapse,
    and the result is cut to `limit` characters. No-break spaces stay: French typography
    puts them before a colon and inside « »."""
    spaced = "".join(
        " " if unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"} else ch for ch in value
    )
    text = _SPACES.sub(" ", spaced).strip()
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
    part: str | None = None, label: str | None = None,
) -> FindingView:
    """One finding's block. Its summary and action name its figures; `context` rewords
    them for the email it is in, `part` says how it is part of the headline and `label`
replaces the action's "What to do today" when the headline gives more time. An action
    that misses a value falls back to the catalog's value-free one, never to a text with
    a gap."""
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
        action_label=label or strings(language)[f"do_{_urgency(finding.severity)}"],
        action=action,
        learn_more=words["learn_more"],
        url=help_url(finding.code, language, docs_base_url),
        part=part,
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
    """The footer's "whom to contact" for questions, and to change the recipients or the
    language: the support contact when the platform set one, else its support team by
    name, else the platform's support team."""
    words = strings(language)
    parsed = parse_contact(contact)
    if parsed is None:
        parsed = SupportContact(name=support_team(language, platform), address=None)
    template = words["footer_contact_address" if parsed.address else "footer_contact"]
    before, _, after = template.partition("{contact}")
    return Contact(before=before, name=parsed.name, mailto=parsed.address, after=after)


def support_team(language: str, platform: str | None) -> str:
    """`the support team of Boréal`, or `the platform's support team` when it is unnamed."""
    words = strings(language)
    return (words["platform_contact"].format(platform=platform) if platform
            else words["default_contact"])


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


def _deadline(headline: Headline, language: str, country: str | None) -> str:
    """`today`, or `before the next automatic payout, Friday, August 7, 2026`."""
    words = strings(language)
    if headline.urgent or headline.deadline != headline.next_payout:
        return words["deadline_today"]
    return words["deadline_payout"].format(date=format_day(headline.deadline, language, country))


def _parts(headline: Headline, blocked_total: int, language: str,
           country: str | None) -> str | None:
    """What the amount to add is made of, in the order Stripe takes it."""
    words = strings(language)

    def money(value: int) -> str:
        return format_money(value, headline.currency, language, country)

    count = headline.blocked_refunds
    how_many = "one" if count == 1 else "many" if count > 1 else "some"
    # Part of the refunds on hold is paid by the balances on hand: the rest is named.
    blocked_part = "rest" if 0 < blocked_total != headline.blocked else how_many
    parts = [(headline.negative, "negative", "negative"),
             (headline.blocked, f"blocked_{blocked_part}", f"blocked_{how_many}"),
             (headline.shortfall, "shortfall", "shortfall")]
    present = [part for part in parts if part[0] > 0]
    if not present:
        return None
    if len(present) == 1:
        return words[f"only_{present[0][2]}"].format(count=count)
    items = [words[f"part_{key}"].format(amount=money(amount), count=count)
             for amount, key, _ in present]
    return words["headline_parts"].format(
        parts=format_list(items, locale=babel_locale(language, country)))


def headline_paragraph(
    headline: Headline, language: str, country: str | None, platform: str | None,
    blocked_total: int = 0,
) -> HeadlineParagraph:
    """One currency's headline: what to do, by when, what the amount is made of, and where
    it helps, what the next automatic payout does. `blocked_total` is the refunds on hold
    the email's cards name, to tell the headline's part of them from all of them."""
    words = strings(language)
    values = {
        "amount": format_money(headline.add, headline.currency, language, country),
        "minimum": format_money(headline.minimum or 0, headline.currency, language, country),
        "funding_method": funding_method(country, language),
        "support": support_team(language, platform),
        "deadline": _deadline(headline, language, country),
    }
    key = ("headline_both" if headline.add > 0 and headline.minimum is not None
           else "headline_add" if headline.add > 0 else "headline_minimum")
    action = words[key].format_map(values)
    sentences = []
    if headline.add > 0 and (parts := _parts(headline, blocked_total, language, country)):
        sentences.append(parts)
    payout = (format_day(headline.next_payout, language, country)
              if headline.next_payout is not None else None)
    if headline.minimum is not None and headline.add == 0:
        sentences.append(words["minimum_no_wire"])
    elif payout and headline.urgent and headline.minimum is not None:
        sentences.append(words["payout_takes_balance"].format(date=payout))
    elif payout and headline.urgent and headline.shortfall > 0:
        sentences.append(words["payout_keeps_prefunding"].format(date=payout))
    return HeadlineParagraph(action=action, detail=" ".join(sentences))


def headline_view(
    headlines: Sequence[Headline], findings: Sequence[Finding], language: str,
    country: str | None, platform: str | None, *, settles_all: bool = True,
) -> HeadlineView | None:
    """The email's first block, or None when no headline asks anything. `settles_all`:
    every critical card's currency has a headline, so doing them settles every one."""
    if not headlines:
        return None
    paragraphs = tuple(headline_paragraph(h, language, country, platform,
                                          _blocked_total(findings, h.currency))
                       for h in headlines)
    return HeadlineView(label=strings(language)["headline_label"], paragraphs=paragraphs,
                        closing=strings(language)["headline_settles"] if settles_all else None,
                        urgent=any(h.urgent for h in headlines))


def _blocked_total(findings: Sequence[Finding], currency: str) -> int:
    return sum(f.amount or 0 for f in findings
               if f.code is RuleCode.REFUND_BLOCKED and f.currency == currency)


def card_part(
    finding: Finding, headline: Headline | None, language: str, country: str | None,
) -> str | None:
    """How a card's figure is part of its currency's headline: `This $450.00 is part of the
    $3,500.00 to add today.` when the figure is one part of the amount, `Included in …`
    when the headline settles the card some other way; None when it is not part of it."""
    if headline is None:
        return None
    words = strings(language)
    figures = {RuleCode.NEGATIVE_BALANCE: headline.negative,
               RuleCode.REFUND_BLOCKED: headline.blocked,
               RuleCode.REFUND_CAPACITY_SHORT: headline.shortfall}
    critical = finding.severity is Severity.CRITICAL
    part = figures.get(finding.code, 0) if critical else 0
    if 0 < part < headline.add and finding.amount == part:
        return words["card_part"].format(
            amount=format_money(part, headline.currency, language, country),
            total=format_money(headline.add, headline.currency, language, country),
            deadline=_deadline(headline, language, country))
    minimum_card = finding.code in MINIMUM_CODES or (
        critical and finding.code is RuleCode.REFUND_CAPACITY_SHORT and headline.add == 0)
    if minimum_card and headline.minimum is not None:
        return words["card_minimum"].format(
            minimum=format_money(headline.minimum, headline.currency, language, country))
    return words["card_included"] if critical else None


def action_label(
    finding: Finding, headline: Headline | None, language: str, country: str | None,
) -> str | None:
    """`What to do by Friday, August 7, 2026` on a critical card whose headline can wait
    for the next automatic payout, so the card does not say "today" against it."""
    if (headline is None or finding.severity is not Severity.CRITICAL
            or _deadline(headline, language, country) == strings(language)["deadline_today"]):
        return None
    return strings(language)["do_by"].format(
        date=format_day(headline.deadline, language, country))


def portal_url(url: str | None) -> str:
    """Where "Open my Stripe account" leads: the platform's portal page when it set an
    https one (`Policy.platform_portal_url` checks it; checked again, as it becomes a
    link), else Stripe's Express dashboard login."""
    return url if url and is_portal_address(url) else STRIPE_EXPRESS_LOGIN


def buttons(
    language: str, docs_base_url: str, portal: str, *, add_funds: bool,
) -> tuple[Button, ...]:
    words = strings(language)
    found = []
    if add_funds:
        found.append(Button(
            label=words["button_add_funds"], primary=True,
            url=f"{docs_base_url.rstrip('/')}/{language}/{ADDING_FUNDS_PAGE}"))
    found.append(Button(label=words["button_stripe"], url=portal, primary=not add_funds))
    return tuple(found)


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
    portal: str | None = None,
) -> RenderedEmail:
    """The email listing `findings` (worst first) for one account, in its languages.

    `contact` is whom to write to (`Policy.support_contact`: `Name <address>`, an address
    or a name); `platform_name` names the platform as the sender, in the first sentence
    and in the footer; `portal` is its page leading to the admin's Stripe account
    (`Policy.platform_portal_url`).
    """
    if not findings:
        raise ValueError("an email needs at least one finding")
    building = clean_text(account.name, NAME_LIMIT) or clean_text(account.account_id, 60)
    platform = clean_text(platform_name or "", PLATFORM_LIMIT) or None
    wording = plan_wording(findings)
    shown_findings = [(f, wording.contexts.get(i)) for i, f in enumerate(findings)
                      if i not in wording.hidden]
    # A currency's headline leads when one of the email's cards in it is critical.
    critical_in = {f.currency for f, _ in shown_findings if f.severity is Severity.CRITICAL}
    headlines = [h for h in account.headlines if h.asks_anything and h.currency in critical_in]
    by_currency = {h.currency: h for h in headlines}
    add_funds = (any(h.add > 0 for h in headlines) if headlines
                 else any(f.code in ADD_FUNDS_CODES for f, _ in shown_findings))
    stripe_account = portal_url(portal)
    sections = []
    for index, lang in enumerate(languages):
        words = strings(lang)
        others = len(languages) > 1
        sections.append(SectionView(
            lang=lang,
            colon=colon(lang),
            headline=headline_view(headlines, findings, lang, country, platform,
                                   settles_all=critical_in <= by_currency.keys()),
            buttons=buttons(lang, docs_base_url, stripe_account, add_funds=add_funds),
            greeting=words["greeting"],
            intro=words["intro"].format(platform=platform or "Balance Guard",
                                        building=building,
                                        date=format_day(as_of, lang, country)),
            other_language=(other_language_banner(lang, languages[1]) if others and index == 0
                            else None),
            findings=tuple(
                finding_view(f, lang, country=country, docs_base_url=docs_base_url,
                             releases=account.reserve_releases, context=context,
                             part=card_part(f, by_currency.get(f.currency or ""), lang,
                                            country),
                             label=action_label(f, by_currency.get(f.currency or ""), lang,
                                                country))
                for f, context in shown_findings
            ),
            footer_why=words["footer_why"].format(building=building,
                                                  platform=platform or words["platform"]),
            contact=contact_view(lang, contact, platform),
            footer_policy=words["footer_policy"],
        ))
    subject = subject_for(building, [f for f, _ in shown_findings], languages)
    first = sections[0]
    preheader = (f"{first.headline.label}{first.colon}{first.headline.paragraphs[0].text}"
                 if first.headline else first.findings[0].summary)
    context = {"subject": subject, "sections": sections, "lang": languages[0],
               "preheader": preheader}
    env = environment()
    return RenderedEmail(
        subject=subject,
        text=env.get_template("account.txt.j2").render(context),
        html=env.get_template("account.html.j2").render(context),
        languages=tuple(languages),
        sender_name=platform,
    )


def sender_header(sender: str, display_name: str | None = None) -> Address:
    """The configured From, parsed and rebuilt so nothing but a name and address remains;
    `display_name` (the platform's name) replaces the configured name when given.

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
    shown_name = header_text(display_name or "", PLATFORM_LIMIT) or header_text(name, 80)
    return Address(display_name=shown_name, username=user, domain=domain)


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
    comes from `reply_to_header`, which validated it. The From keeps `sender`'s address,
    under the platform's name when the email carries one (`RenderedEmail.sender_name`).
    """
    from_address = sender_header(sender, rendered.sender_name)
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
