"""Sphinx extension: the help site's rule pages, comparison table and reserve examples.

Everything here is rendered from the `balance_guard` package in the language of the build
(`-D language=fr`), so the words come from the same gettext catalog as the emails
(`balance_guard.text`), the money and dates from the same formatter, and the figures from the
same reserve engine as the nightly check. Generated nodes are marked untranslatable: they are
already in the build's language and need no entry in the help pages' catalogs.

Directives:

- ``.. rule-catalog::`` — one section per rule code, anchored ``rule-<code-in-kebab-case>``;
- ``.. comparison-table::`` — minimum balance vs refund and dispute prefunding;
- ``.. reserve-example:: fixed|rolling|balance_transfer`` — a worked reserve example.

It also gives every page a link to the same page in the other language and the page
frame's words in the build's language (see ``_templates/page.html`` and
``_templates/sidebar/search.html``, for the Furo theme), and wraps every table in a box that
scrolls sideways on its own, so that no page is wider than a phone. In a French build, the
text of the help pages themselves (their `.po` catalogs) is set by the product's one French
typography, `balance_guard.text.typography.french`, like every other surface.

It may import Sphinx, docutils, Babel and `balance_guard` (domain and text); it holds no
French and no typography of its own.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.transforms import SphinxTransform
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import is_smartquotable
from sphinx.writers.html5 import HTML5Translator

from balance_guard.domain.catalog import entry
from balance_guard.domain.findings import CapacityShortCause, RuleCode
from balance_guard.domain.payout_calendar import DEFAULT_ARRIVAL_BUSINESS_DAYS
from balance_guard.domain.reserves import (
    Movement,
    ReserveKind,
    ReserveTerms,
    Transaction,
    card_fee,
    project,
    release_schedule,
    releases_from_movements,
    reserved_part,
)
from balance_guard.domain.snapshot import PayoutSchedule
from balance_guard.text import catalog
from balance_guard.text.formatting import format_long_day, format_money, format_percent
from balance_guard.text.i18n import N_, gettext, language_of, words
from balance_guard.text.typography import colon, french

# The worked examples are in US dollars, for a US business (its bank holidays), read by the
# platform's buildings: money is marked as their home market reads it (`US$24.20`,
# `24,20 $ US` on a Canadian platform, the default), the country `PLATFORM_COUNTRY` names.
EXAMPLE_COUNTRY = "US"
READER_COUNTRY = (os.environ.get("PLATFORM_COUNTRY") or "CA").strip().upper()
SITE_TITLE = N_("Balance Guard help")
# Words of the page frame (Furo's, see `_templates/page.html`) that Sphinx's own catalogs
# leave in English or lack: Furo writes them in English, and Sphinx's French says
# "Recherche" (the noun) in a search field.
SITE_WORDS: dict[str, str] = {
    "search": N_("Search"),
    "table_scroll": N_("Table, scrolls sideways"),
    "skip_to_content": N_("Skip to content"),
    "back_to_top": N_("Back to top"),
    "site_navigation": N_("Site navigation"),
    "on_this_page": N_("On this page"),
    "next": N_("Next"),
    "previous": N_("Previous"),
    "search_needs_javascript": N_(
        "Search needs JavaScript: turn it on in your browser, or find the page in the menu."),
}

CARD_FEE_PERCENT = Decimal("2.9")
CARD_FEE_FIXED = 30


def build_language(language: str | None) -> str:
    """The catalog language of a build: `fr_CA` -> `fr`; anything unknown -> English."""
    return language_of(language or "en")


def other_language(language: str) -> str:
    return "fr" if language == "en" else "en"


def switch_href(pagename: str, language: str) -> str:
    """Relative link to the same page in the other language's tree (/en/ <-> /fr/)."""
    return "../" * (pagename.count("/") + 1) + f"{other_language(language)}/{pagename}.html"


def _untranslatable(node: nodes.Element) -> nodes.Element:
    """Mark generated text so gettext neither extracts nor replaces it."""
    for text_node in node.findall(nodes.TextElement):
        text_node["translatable"] = False
    return node


def _para(*children: nodes.Node | str, classes: Sequence[str] = ()) -> nodes.paragraph:
    para = nodes.paragraph(classes=list(classes))
    for child in children:
        para += nodes.Text(child) if isinstance(child, str) else child
    return para


def _table(
    header: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[int],
    classes: Sequence[str] = (), footer: Sequence[str] | None = None,
) -> nodes.table:
    table = nodes.table(classes=["bg-table", *classes])
    group = nodes.tgroup(cols=len(header))
    table += group
    for width in widths:
        group += nodes.colspec(colwidth=width)

    def row_of(cells: Sequence[str], strong: bool = False) -> nodes.row:
        row = nodes.row()
        for cell in cells:
            content: nodes.Node = nodes.strong(text=cell) if strong and cell else nodes.Text(cell)
            row += nodes.entry("", _para(content))
        return row

    head = nodes.thead()
    head += row_of(header)
    group += head
    body = nodes.tbody()
    for cells in rows:
        body += row_of(cells)
    if footer is not None:
        body += row_of(footer, strong=True)
    group += body
    return table


class _CatalogDirective(SphinxDirective):
    """A directive that writes in the language of the current build."""

    @property
    def lang(self) -> str:
        return build_language(self.config.language)

    @property
    def labels(self) -> dict[str, str]:
        return catalog.labels(self.lang)

    def _label(self, key: str) -> nodes.strong:
        """`Code: `, `Code\u00a0: ` in bold, before a value."""
        return nodes.strong(text=self.labels[key] + colon(self.lang))


class RuleCatalogDirective(_CatalogDirective):
    """Every rule code, one section each, in the catalog's order."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        return [self._section(code) for code in RuleCode]

    def _section(self, code: RuleCode) -> nodes.section:
        rule = entry(code)
        text = catalog.rule_text(code, self.lang)
        labels = self.labels
        # No class on the section: emails and tests rely on `<section id="rule-…">` exactly.
        section = nodes.section(ids=[rule.anchor], names=[rule.anchor])
        section += nodes.title(text=text.title)
        section += _para(
            self._label("code"),
            nodes.literal(text=code.value),
            " · ",
            self._label("severity"),
            nodes.inline(text=catalog.severity_label(rule.severity, self.lang),
                         classes=["severity", rule.severity.value]),
            classes=["rule-meta"],
        )
        items = nodes.definition_list(classes=["rule-texts"])
        for key, value in (("meaning", text.meaning), ("why", text.why),
                           ("action", text.action)):
            items += nodes.definition_list_item(
                "", nodes.term(text=labels[key]), nodes.definition("", _para(value)),
            )
        if code is RuleCode.REFUND_CAPACITY_SHORT:
            causes = nodes.bullet_list(classes=["rule-causes"])
            for cause in CapacityShortCause:
                # Linkable (`#cause-manual-payouts`), but the code itself is not shown:
                # readers are building administrators.
                item = nodes.list_item(ids=[cause_anchor(cause)])
                item += _para(nodes.strong(text=catalog.cause_label(cause, self.lang)),
                              classes=["cause-label"])
                item += _para(catalog.cause(cause, self.lang))
                action = catalog.cause_action_generic(cause, self.lang)
                if action:
                    item += _para(self._label("action"), action, classes=["cause-action"])
                causes += item
            items += nodes.definition_list_item(
                "", nodes.term(text=labels["causes"]), nodes.definition("", causes),
            )
        section += items
        # An explicit target makes the anchor referable with :ref:`rule-…` from any page.
        self.state.document.note_explicit_target(section, section)
        _untranslatable(section)
        return section


def cause_anchor(cause: CapacityShortCause) -> str:
    return "cause-" + cause.value.replace("_", "-")


class ComparisonTableDirective(_CatalogDirective):
    """Minimum balance vs refund and dispute prefunding, from the catalog's rows."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        labels = self.labels
        header = (labels["aspect"], labels["minimum_balance"], labels["prefunding"])
        rows = [row.cells for row in catalog.comparison_rows(self.lang)]
        return [_untranslatable(_table(header, rows, (24, 38, 38), classes=["comparison"]))]


@dataclass(frozen=True)
class ReserveExample:
    terms: ReserveTerms
    payments: tuple[tuple[date, int], ...]  # day, gross amount in cents

    def transactions(self) -> list[Transaction]:
        return [
            Transaction(day, gross, card_fee(gross, CARD_FEE_PERCENT, CARD_FEE_FIXED), "usd")
            for day, gross in self.payments
        ]


# The source documents' examples: a US business, a 25 % reserve, card payments of $100
# and $200 (and $300 for the rolling window), standard payout timing.
_PERCENT = Decimal(25)
_AUG = 8
EXAMPLES: dict[str, ReserveExample] = {
    ReserveKind.FIXED.value: ReserveExample(
        ReserveTerms(ReserveKind.FIXED, _PERCENT, release_on=date(2026, _AUG, 30)),
        ((date(2026, _AUG, 1), 10_000), (date(2026, _AUG, 4), 20_000)),
    ),
    ReserveKind.ROLLING.value: ReserveExample(
        ReserveTerms(ReserveKind.ROLLING, _PERCENT, window_days=30),
        ((date(2026, _AUG, 1), 10_000), (date(2026, _AUG, 4), 20_000),
         (date(2026, _AUG, 31), 30_000)),
    ),
    ReserveKind.BALANCE_TRANSFER.value: ReserveExample(
        ReserveTerms(ReserveKind.BALANCE_TRANSFER, _PERCENT, release_on=date(2026, _AUG, 30),
                     transfer_on=date(2026, _AUG, 1), balance=10_000_000, currency="usd"),
        ((date(2026, _AUG, 1), 10_000), (date(2026, _AUG, 4), 20_000)),
    ),
}

# The sentences around a worked example; `_terms_sentence` fills them with formatted values.
TERMS_SENTENCES: dict[str, str] = {
    "fixed": N_(
        "Terms: {percent} of the net amount of each payment received up to {release_on}, "
        "all of it released on {release_day}."
    ),
    "rolling": N_(
        "Terms: {percent} of the net amount of each payment, each share held for {window} days."
    ),
    "balance_transfer": N_(
        "Terms: {percent} of the existing balance of {balance} moved into the reserve on "
        "{transfer_on}, plus {percent} of the net amount of each payment received up to "
        "{release_on}; all of it is released on {release_day}."
    ),
    "fee": N_("Card fee in this example: {fee_percent} + {fee_fixed} per payment."),
    "payout": N_(
        "Released money leaves with the next daily payout and reaches the bank {days} "
        "business days later, not counting weekends and US bank holidays."
    ),
}


class ReserveExampleDirective(_CatalogDirective):
    """A worked example computed by the reserve engine: payments, then the reserve's days."""

    required_arguments = 1
    has_content = False
    KINDS: ClassVar[tuple[str, ...]] = tuple(EXAMPLES)

    def run(self) -> list[nodes.Node]:
        kind = self.arguments[0].strip()
        if kind not in EXAMPLES:
            raise self.error(
                f"reserve-example: unknown kind {kind!r}; use one of {', '.join(self.KINDS)}")
        example = EXAMPLES[kind]
        transactions = example.transactions()
        movements = project(example.terms, transactions)
        container = nodes.container(classes=["reserve-example", f"reserve-{kind}"])
        container += _para(self._terms_sentence(kind, example.terms))
        container += _para(self._sentence("fee", fee_percent=self._percent(CARD_FEE_PERCENT),
                                          fee_fixed=self._money(CARD_FEE_FIXED)))
        container += self._payments_table(example.terms, transactions)
        container += self._timeline_table(movements)
        container += _para(self._sentence("payout", days=str(DEFAULT_ARRIVAL_BUSINESS_DAYS)))
        return [_untranslatable(container)]

    # -- formatting, in the build's language, for the example's US business ----------------
    def _money(self, amount: int, currency: str = "usd") -> str:
        return format_money(amount, currency, self.lang, READER_COUNTRY)

    def _date(self, day: date) -> str:
        """`August 1, 2026`; `1er août 2026`."""
        return format_long_day(day, self.lang, READER_COUNTRY)

    def _percent(self, percent: Decimal) -> str:
        return format_percent(percent, self.lang, READER_COUNTRY)

    def _sentence(self, key: str, **values: str) -> str:
        return gettext(TERMS_SENTENCES[key], self.lang).format(**values)

    def _terms_sentence(self, kind: str, terms: ReserveTerms) -> str:
        values = {"percent": self._percent(terms.percent)}
        if terms.window_days is not None:
            values["window"] = str(terms.window_days)
        if terms.release_on is not None:
            release_day = terms.release_day(terms.release_on)
            assert release_day is not None
            values |= {"release_on": self._date(terms.release_on),
                       "release_day": self._date(release_day)}
        if terms.transfer_on is not None and terms.balance is not None:
            values |= {"transfer_on": self._date(terms.transfer_on),
                       "balance": self._money(terms.balance)}
        return self._sentence(kind, **values)

    # -- tables -----------------------------------------------------------------------------
    def _payments_table(self, terms: ReserveTerms, transactions: list[Transaction]) -> nodes.table:
        labels = self.labels
        reserved_header = f"{labels['reserved']} ({self._percent(terms.percent)})"
        header = (labels["date"], labels["payment"], labels["fee"], labels["net"],
                  reserved_header)
        rows = []
        for tx in transactions:
            held = reserved_part(tx.net, terms.percent) if terms.release_day(tx.day) else 0
            rows.append((self._date(tx.day), self._money(tx.gross), self._money(tx.fee),
                         self._money(tx.net), self._money(held)))
        return _table(header, rows, (22, 18, 18, 20, 22), classes=["reserve-payments"])

    def _timeline_table(self, movements: list[Movement]) -> nodes.table:
        labels = self.labels
        arrivals = {
            release.release_date: arrives
            for release, _paid, arrives in release_schedule(
                releases_from_movements(movements), PayoutSchedule(), EXAMPLE_COUNTRY)
        }
        rows: list[tuple[str, str, str, str, str, str]] = []
        in_reserve = 0
        for day, kind, source, amount in _grouped_movements(movements):
            in_reserve += amount if kind == "hold" else -amount
            if kind == "hold":
                event, held, released, at_bank = (
                    labels[f"event_hold_{source}"], self._money(amount), "", "")
            else:
                arrives = arrivals.get(day)
                event, held, released = labels["event_release"], "", self._money(amount)
                at_bank = self._date(arrives) if arrives else ""
            rows.append((self._date(day), event, held, released, self._money(in_reserve),
                         at_bank))
        total_held = sum(m.amount for m in movements if m.kind == "hold")
        total_released = sum(m.amount for m in movements if m.kind == "release")
        header = (labels["date"], labels["event"], labels["held"], labels["released"],
                  labels["in_reserve"], labels["at_bank"])
        footer = (labels["total"], "", self._money(total_held), self._money(total_released),
                  "", "")
        return _table(header, rows, (17, 27, 14, 14, 14, 17), classes=["reserve-timeline"],
                      footer=footer)


class table_scroll(nodes.General, nodes.Element):  # type: ignore[misc]  # noqa: N801
    """A box around a table that scrolls sideways by itself (HTML only)."""


def _visit_table_scroll(translator: HTML5Translator, node: table_scroll) -> None:
    # Focusable and named, so that keyboard and screen-reader users can scroll it too.
    translator.body.append(translator.starttag(
        node, "div", "", CLASS="table-scroll", tabindex="0", role="region",
        **{"aria-label": node["label"]}))


def _depart_table_scroll(translator: HTML5Translator, _node: table_scroll) -> None:
    translator.body.append("</div>\n")


class WrapTables(SphinxPostTransform):
    """Put every table in a `table-scroll` box: a table wider than a phone scrolls inside
    it, and the page itself never scrolls sideways."""

    default_priority = 900
    formats = ("html",)

    def run(self, **_kwargs: Any) -> None:
        label = words(SITE_WORDS, build_language(self.config.language))["table_scroll"]
        for table in list(self.document.findall(nodes.table)):
            parent = table.parent
            if parent is None or isinstance(parent, table_scroll):
                continue
            box = table_scroll(label=label)
            if _is_theme_table_wrapper(parent):
                # Furo's own box (`div.table-wrapper`) gives way to this one: one box that
                # scrolls, named for screen readers.
                parent.parent.replace(parent, box)
                parent.remove(table)
            else:
                parent.replace(table, box)
            box += table


def _is_theme_table_wrapper(node: nodes.Element) -> bool:
    return (isinstance(node, nodes.container) and "table-wrapper" in node["classes"]
            and len(node.children) == 1 and node.parent is not None)


class FrenchTypography(SphinxTransform):
    """In a French build, set the help pages' own text (from their `.po` catalogs) by the
    product's French typography: `Remarque\u00a0:`, `«\u00a0…\u00a0»`, `questions?`, `l’argent`.

    It runs after Sphinx's smart quotes and before the titles are collected, so that the
    navigation, the page titles and the search index read as the page does. Code, literals
    and URLs are left as written; so is the text this extension generates, which gettext
    has already set.
    """

    default_priority = 760  # after SphinxSmartQuotes (750)

    def apply(self, **_kwargs: Any) -> None:
        if build_language(self.config.language) != "fr":
            return
        for text in list(self.document.findall(nodes.Text)):
            parent = text.parent
            if parent is None or not _typesettable(text, parent):
                continue
            typeset = _french_in_context(text, parent)
            if typeset != str(text):
                parent.replace(text, nodes.Text(typeset))


def _typesettable(text: nodes.Text, parent: nodes.Element) -> bool:
    if not is_smartquotable(text) or isinstance(parent, nodes.comment):
        return False
    if parent.get("translatable") is False:
        return False
    # A bare URL shown as its own link text.
    return not (isinstance(parent, nodes.reference) and parent.get("refuri") == str(text))


def _french_in_context(text: nodes.Text, parent: nodes.Element) -> str:
    """`french(text)`, knowing the character just before it: in ``--port`` : la valeur,
    the colon's text node starts after a literal, and still needs its no-break space."""
    source = str(text)
    index = parent.index(text)
    before = parent[index - 1].astext()[-1:] if index > 0 else ""
    if not before or before.isspace() or before in "«»":
        return french(source)
    return french(before + source)[len(before):]


def _grouped_movements(movements: list[Movement]) -> list[tuple[date, str, str, int]]:
    """Holds by day and source (a payment vs the balance transfer); releases by day, since
    the reader sees one amount come back on a release date."""
    totals: dict[tuple[date, str, str], int] = {}
    for m in movements:
        key = (m.day, m.kind, m.source if m.kind == "hold" else "")
        totals[key] = totals.get(key, 0) + m.amount
    return [(day, kind, source, amount) for (day, kind, source), amount in totals.items()]


def _set_titles(_app: Sphinx, config: Config) -> None:
    title = gettext(SITE_TITLE, build_language(config.language))
    config.html_title = title
    config.html_short_title = title


def _add_language_switch(
    _app: Sphinx, pagename: str, _template: str, context: dict[str, Any], _doctree: Any,
) -> None:
    lang = build_language(context.get("language"))
    other = other_language(lang)
    context["bg_language"] = lang
    context["bg_other_language"] = other
    context["bg_switch_href"] = switch_href(pagename, lang)
    context["bg_switch_label"] = catalog.label("language_name", other)
    context["bg_words"] = words(SITE_WORDS, lang)


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("rule-catalog", RuleCatalogDirective)
    app.add_directive("comparison-table", ComparisonTableDirective)
    app.add_directive("reserve-example", ReserveExampleDirective)
    app.add_node(table_scroll, html=(_visit_table_scroll, _depart_table_scroll))
    app.add_transform(FrenchTypography)
    app.add_post_transform(WrapTables)
    app.connect("config-inited", _set_titles)
    app.connect("html-page-context", _add_language_switch)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
