"""Sphinx extension: the help site's rule pages, comparison table and reserve examples.

Everything here is rendered from the `balance_guard` package in the language of the build
(`-D language=fr`), so the words come from the same catalog as the emails and the figures
from the same reserve engine as the nightly check. Generated nodes are marked
untranslatable: they are already in the build's language and need no gettext entry.

Directives:

- ``.. rule-catalog::`` — one section per rule code, anchored ``rule-<code-in-kebab-case>``;
- ``.. comparison-table::`` — minimum balance vs refund and dispute prefunding;
- ``.. reserve-example:: fixed|rolling|balance_transfer`` — a worked reserve example.

It also gives every page a link to the same page in the other language (see
``_templates/layout.html``), the search field's words in the build's language (see
``_templates/searchfield.html``), and wraps every table in a box that scrolls sideways on
its own, so that no page is wider than a phone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

from babel.dates import format_date
from babel.numbers import format_currency, format_percent
from docutils import nodes
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util.docutils import SphinxDirective
from sphinx.writers.html5 import HTML5Translator

from balance_guard.domain import catalog
from balance_guard.domain.catalog import (
    CAUSES,
    LABELS,
    LANGUAGES,
    MIN_BALANCE_VS_PREFUNDING,
    entry,
    severity_label,
)
from balance_guard.domain.findings import CapacityShortCause, RuleCode
from balance_guard.domain.money import to_major
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

# Babel locales of the worked examples: they are in US dollars, for a US business.
BABEL_LOCALES = {"en": "en_US", "fr": "fr_CA"}
SITE_TITLES = {"en": "Balance Guard help", "fr": "Aide de Balance Guard"}
# Words of the page frame that Sphinx's own catalogs leave in English (the search field's
# placeholder is hard-coded, and Sphinx translates "Go" as "Go").
SITE_WORDS: dict[str, dict[str, str]] = {
    "en": {"search": "Search", "search_button": "Go", "table_scroll": "Table, scrolls sideways"},
    "fr": {"search": "Rechercher", "search_button": "OK",
           "table_scroll": "Tableau, défile horizontalement"},
}

CARD_FEE_PERCENT = Decimal("2.9")
CARD_FEE_FIXED = 30


def build_language(language: str | None) -> str:
    """The catalog language of a build: `fr_CA` -> `fr`; anything unknown -> English."""
    lang = (language or "en").replace("-", "_").split("_")[0].lower()
    return lang if lang in LANGUAGES else "en"


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
        return LABELS[self.lang]


class RuleCatalogDirective(_CatalogDirective):
    """Every rule code, one section each, in the catalog's order."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        return [self._section(code) for code in RuleCode]

    def _section(self, code: RuleCode) -> nodes.section:
        rule = entry(code)
        text = rule.text(self.lang)
        labels = self.labels
        # No class on the section: emails and tests rely on `<section id="rule-…">` exactly.
        section = nodes.section(ids=[rule.anchor], names=[rule.anchor])
        section += nodes.title(text=text.title)
        section += _para(
            nodes.strong(text=labels["code"] + labels["colon"].rstrip() + " "),
            nodes.literal(text=code.value),
            " · ",
            nodes.strong(text=labels["severity"] + labels["colon"].rstrip() + " "),
            nodes.inline(text=severity_label(rule.severity, self.lang),
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
            for cause, sentences in CAUSES.items():
                # Linkable (`#cause-manual-payouts`), but the code itself is not shown:
                # readers are building administrators.
                item = nodes.list_item(ids=[cause_anchor(cause)])
                item += _para(nodes.strong(text=cause_label(cause, self.lang)),
                              classes=["cause-label"])
                item += _para(sentences[self.lang])
                action = generic_cause_action(cause, self.lang)
                if action:
                    item += _para(
                        nodes.strong(text=labels["action"] + labels["colon"].rstrip() + " "),
                        action, classes=["cause-action"])
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


def cause_label(cause: CapacityShortCause, language: str) -> str:
    return catalog.CAUSE_LABELS[cause][language]


def generic_cause_action(cause: CapacityShortCause, language: str) -> str:
    """What to do about this cause in general, without any account's figures."""
    return catalog.CAUSE_ACTIONS_GENERIC[cause][language]


class ComparisonTableDirective(_CatalogDirective):
    """Minimum balance vs refund and dispute prefunding, from the catalog's rows."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        labels = self.labels
        header = (labels["aspect"], labels["minimum_balance"], labels["prefunding"])
        rows = [row.text(self.lang) for row in MIN_BALANCE_VS_PREFUNDING]
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

TERMS_SENTENCES: dict[str, dict[str, str]] = {
    "en": {
        "fixed": "Terms: {percent} of the net amount of each payment received up to "
                 "{release_on}, all of it released on {release_day}.",
        "rolling": "Terms: {percent} of the net amount of each payment, each share held for "
                   "{window} days.",
        "balance_transfer": "Terms: {percent} of the existing balance of {balance} moved into "
                            "the reserve on {transfer_on}, plus {percent} of the net amount of "
                            "each payment received up to {release_on}; all of it is released "
                            "on {release_day}.",
        "fee": "Card fee in this example: {fee_percent} + {fee_fixed} per payment.",
        "payout": "Released money leaves with the next daily payout and reaches the bank "
                  "{days} business days later, not counting weekends and US bank holidays.",
    },
    "fr": {
        "fixed": "Conditions : {percent} du montant net de chaque paiement reçu jusqu'au "
                 "{release_on}, le tout débloqué le {release_day}.",
        "rolling": "Conditions : {percent} du montant net de chaque paiement, chaque part "
                   "étant retenue pendant {window} jours.",
        "balance_transfer": "Conditions : {percent} du solde existant de {balance} transférés "
                            "dans la réserve le {transfer_on}, plus {percent} du montant net "
                            "de chaque paiement reçu jusqu'au {release_on}; le tout est "
                            "débloqué le {release_day}.",
        "fee": "Frais de carte dans cet exemple : {fee_percent} + {fee_fixed} par paiement.",
        "payout": "L'argent débloqué part avec le versement quotidien suivant et arrive à la "
                  "banque {days} jours ouvrables plus tard, sans compter les fins de semaine "
                  "et les jours fériés bancaires américains.",
    },
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

    # -- formatting, in the build's locale ------------------------------------------------
    @property
    def locale(self) -> str:
        return BABEL_LOCALES[self.lang]

    def _money(self, amount: int, currency: str = "usd") -> str:
        return str(format_currency(to_major(amount, currency), currency.upper(),
                                   locale=self.locale))

    def _date(self, day: date) -> str:
        """`August 1, 2026`; `1er août 2026` (French writes the first as an ordinal)."""
        text = str(format_date(day, format="long", locale=self.locale))
        if self.lang == "fr" and day.day == 1 and text.startswith("1 "):
            text = "1er" + text[1:]
        return text

    def _percent(self, percent: Decimal) -> str:
        return str(format_percent(percent / 100, locale=self.locale, decimal_quantization=False))

    def _sentence(self, key: str, **values: str) -> str:
        return TERMS_SENTENCES[self.lang][key].format(**values)

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
                releases_from_movements(movements), PayoutSchedule(), "US")
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
        label = SITE_WORDS[build_language(self.config.language)]["table_scroll"]
        for table in list(self.document.findall(nodes.table)):
            parent = table.parent
            if parent is None or isinstance(parent, table_scroll):
                continue
            box = table_scroll(label=label)
            parent.replace(table, box)
            box += table


def _grouped_movements(movements: list[Movement]) -> list[tuple[date, str, str, int]]:
    """Holds by day and source (a payment vs the balance transfer); releases by day, since
    the reader sees one amount come back on a release date."""
    totals: dict[tuple[date, str, str], int] = {}
    for m in movements:
        key = (m.day, m.kind, m.source if m.kind == "hold" else "")
        totals[key] = totals.get(key, 0) + m.amount
    return [(day, kind, source, amount) for (day, kind, source), amount in totals.items()]


def _set_titles(_app: Sphinx, config: Config) -> None:
    title = SITE_TITLES[build_language(config.language)]
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
    context["bg_switch_label"] = LABELS[other]["language_name"]
    context["bg_search_label"] = SITE_WORDS[lang]["search"]
    context["bg_search_button"] = SITE_WORDS[lang]["search_button"]


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("rule-catalog", RuleCatalogDirective)
    app.add_directive("comparison-table", ComparisonTableDirective)
    app.add_directive("reserve-example", ReserveExampleDirective)
    app.add_node(table_scroll, html=(_visit_table_scroll, _depart_table_scroll))
    app.add_post_transform(WrapTables)
    app.connect("config-inited", _set_titles)
    app.connect("html-page-context", _add_language_switch)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
