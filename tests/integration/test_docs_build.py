"""The help site builds in both languages with warnings as errors, and says what it must."""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from babel.numbers import format_currency

from balance_guard.domain.findings import CapacityShortCause, RuleCode
from balance_guard.text import catalog
from balance_guard.text.typography import NO_BREAK_SPACE

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
# The help site's Sphinx extension, for the cause headings it renders.
sys.path.insert(0, str(DOCS / "_ext"))
DOCS_EXTENSION = importlib.import_module("balance_guard_docs")
cause_anchor = DOCS_EXTENSION.cause_anchor
cause_label = catalog.cause_label
CATALOGS = DOCS / "locales" / "fr" / "LC_MESSAGES"
PAGES = ("index", "minimum-balance-vs-prefunding", "adding-funds", "reserves", "rules",
         "operator-guide")
# The source documents' reserve figures, as the engine computes them.
RESERVE_FIGURES = ("24.20", "48.47", "72.67", "25072.67")

pytestmark = pytest.mark.slow


def sphinx(builder: str, language: str, work: Path) -> Path:
    out = work / builder / language
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", builder,
         "-D", f"language={language}", "-d", str(work / "doctrees" / f"{builder}-{language}"),
         str(DOCS), str(out)],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    work = tmp_path_factory.mktemp("docs")
    return {language: sphinx("html", language, work) for language in ("en", "fr")}


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sphinx("gettext", "en", tmp_path_factory.mktemp("gettext"))


def page(site: dict[str, Path], language: str, name: str) -> str:
    return (site[language] / f"{name}.html").read_text(encoding="utf-8")


def as_shown(text: str) -> str:
    """A catalog text as the page shows it: Sphinx's smart quotes give English the
    typographic apostrophe too (French has it from gettext already)."""
    return " ".join(text.replace("'", "’").replace("\u00a0", " ").split())


@pytest.mark.parametrize("language", ["en", "fr"])
def test_every_page_is_built(site: dict[str, Path], language: str) -> None:
    for name in PAGES:
        assert (site[language] / f"{name}.html").is_file(), name
    assert f'<html class="no-js" lang="{language}"' in page(site, language, "index")


@pytest.mark.parametrize("language", ["en", "fr"])
def test_every_rule_has_its_anchor_and_words(site: dict[str, Path], language: str) -> None:
    html = page(site, language, "rules")
    for code in RuleCode:
        assert f'<section id="{code.anchor}">' in html, code
        assert as_shown(catalog.rule_text(code, language).title) in html, code


@pytest.mark.parametrize("language", ["en", "fr"])
def test_capacity_rule_lists_every_cause_in_order(site: dict[str, Path], language: str) -> None:
    html = page(site, language, "rules")
    section = html[html.index('<section id="rule-refund-capacity-short">'):]
    section = section[:section.index("</section>")]
    flat = " ".join(section.replace("\u00a0", " ").replace("\u202f", " ").split())
    positions = []
    for cause in CapacityShortCause:
        # A human heading for building administrators, the code only as a link target.
        anchor = f'<li id="{cause_anchor(cause)}">'
        assert anchor in flat, cause
        positions.append(flat.index(anchor))
        label = as_shown(cause_label(cause, language))
        assert f"<strong>{label}</strong>" in flat, cause
        words = as_shown(catalog.cause(cause, language))
        assert words in flat, cause
        assert f">{cause.value}<" not in flat, cause
        # The catalog's value-free action for the cause (emails name the figures; the
        # rule's own action points to these).
        generic = as_shown(catalog.cause_action_generic(cause, language))
        assert generic
        assert generic in flat, cause
        assert f"{cause.value} —" not in flat, cause
    assert positions == sorted(positions)


def test_cause_labels_exist_in_both_languages_and_differ() -> None:
    for language in ("en", "fr"):
        labels = [cause_label(cause, language) for cause in CapacityShortCause]
        assert len(set(labels)) == len(labels)
        assert all("_" not in label for label in labels)
    assert cause_label(CapacityShortCause.MANUAL_PAYOUTS, "fr").startswith("Virements")


def test_switcher_links_every_page_to_itself_in_the_other_language(
    site: dict[str, Path],
) -> None:
    for name in PAGES:
        assert f'href="../fr/{name}.html"' in page(site, "en", name), name
        assert f'href="../en/{name}.html"' in page(site, "fr", name), name
        assert (site["fr"] / f"{name}.html").is_file()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_every_table_scrolls_in_its_own_box(site: dict[str, Path], language: str) -> None:
    for name in PAGES:
        html = page(site, language, name)
        tables = html.count("<table")
        assert html.count('class="table-scroll"') == tables, name
        assert html.count('class="table-scroll" role="region" tabindex="0"><table') == tables


def test_search_field_speaks_the_page_language(site: dict[str, Path]) -> None:
    # Furo's field submits with the keyboard's key: no button, no "Go".
    french = page(site, "fr", "index")
    assert 'placeholder="Rechercher" name="q" aria-label="Rechercher"' in french
    assert 'placeholder="Recherche"' not in french  # Sphinx's French, the noun
    assert 'placeholder="Search"' not in french
    assert 'type="submit"' not in french
    english = page(site, "en", "index")
    assert 'placeholder="Search" name="q" aria-label="Search"' in english


@pytest.mark.parametrize("language", ["en", "fr"])
def test_search_works_in_the_page_language(site: dict[str, Path], language: str) -> None:
    search = page(site, language, "search")
    assert f'<html class="no-js" lang="{language}"' in search
    assert 'src="searchindex.js' in search
    assert 'id="search-results"' in search
    assert (site[language] / "searchindex.js").is_file()
    # Sphinx stems the words of each language its own way: "réserves" finds "réserve".
    stemmer = "FrenchStemmer" if language == "fr" else "EnglishStemmer"
    assert stemmer in (site[language] / "_static" / "language_data.js").read_text("utf-8")
    index = (site[language] / "searchindex.js").read_text(encoding="utf-8")
    titles = json.loads(index.removeprefix("Search.setIndex(").removesuffix(")"))["titles"]
    assert ("Réserves" if language == "fr" else "Reserves") in titles
    # Without JavaScript, the page says so in its language.
    needs = ("La recherche a besoin de JavaScript" if language == "fr"
             else "Search needs JavaScript")
    assert needs in search


def test_switcher_carries_the_anchor(site: dict[str, Path]) -> None:
    html = page(site, "en", "rules")
    # One in the header (a phone), one at the top of the page (a laptop).
    assert html.count('class="language-switch-link" href="../fr/rules.html"') == 2
    assert "location.hash" in html
    assert 'addEventListener("hashchange"' in html
    assert '<link rel="alternate" hreflang="fr" href="../fr/rules.html"' in html


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_site_wears_furo_light(site: dict[str, Path], language: str) -> None:
    html = page(site, language, "rules")
    assert "_static/styles/furo.css" in html
    assert "_static/balance-guard.css" in html
    assert 'document.body.dataset.theme = "light";' in html
    assert 'localStorage.getItem("theme")' not in html  # no light/dark toggle
    assert 'class="theme-toggle"' not in html
    assert 'class="sidebar-brand-text">' + ("Aide de Balance Guard" if language == "fr"
                                           else "Balance Guard help") in html
    assert "Made with" not in html


# The theme's words, as the page frame writes them in each language.
FRAME_WORDS = {
    "en": ("Skip to content", "Back to top", "On this page", "Site navigation", "Next",
           "Previous"),
    "fr": ("Aller au contenu", "Haut de la page", "Sur cette page", "Navigation du site",
           "Suivant", "Précédent"),
}


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_page_frame_speaks_the_page_language(site: dict[str, Path], language: str) -> None:
    html = page(site, language, "reserves")  # it has a previous and a next page
    for word in FRAME_WORDS[language]:
        assert word in html, word
    if language == "fr":
        for word in (*FRAME_WORDS["en"], "Toggle", "Contents", "Expand"):
            assert word not in html, word


def test_french_pages_are_translated(site: dict[str, Path]) -> None:
    index = page(site, "fr", "index")
    assert "Aide de Balance Guard" in index
    assert "Residents pay their rent" not in index
    assert "Réserve glissante" in page(site, "fr", "reserves")
    assert "Guide de l’exploitant" in page(site, "fr", "operator-guide")


@pytest.mark.parametrize("language", ["en", "fr"])
def test_comparison_table_comes_from_the_catalog(site: dict[str, Path], language: str) -> None:
    html = page(site, language, "minimum-balance-vs-prefunding")
    flat = " ".join(html.replace("\u00a0", " ").split())
    for row in catalog.comparison_rows(language):
        for cell in row.cells:
            assert f"<p>{as_shown(cell)}</p>" in flat, cell


def test_reserve_examples_show_the_engine_figures_in_english(site: dict[str, Path]) -> None:
    html = page(site, "en", "reserves")
    for figure in ("$24.20", "$48.47", "$72.67", "$25,072.67", "$96.80", "$193.90"):
        assert figure in html, figure
    assert "August 31, 2026" in html


def test_reserve_examples_show_the_engine_figures_in_french(site: dict[str, Path]) -> None:
    html = page(site, "fr", "reserves")
    for figure in RESERVE_FIGURES:
        formatted = format_currency(Decimal(figure), "USD", locale="fr_CA")
        assert formatted in html, formatted
    assert "24,20\xa0$\xa0US" in html
    assert "31\xa0août 2026" in html
    assert "1er\xa0août 2026" in html
    assert ">1 août 2026<" not in html
    assert "Terms:" not in html
    assert "<p>Conditions\xa0: 25\xa0% du montant net de chaque paiement reçu jusqu’au " \
        "30\xa0août 2026, le tout débloqué le 31\xa0août 2026.</p>" in html
    assert "jusqu’au 1er septembre 2026" not in html  # (a fixed reserve ends on the 31st)


def test_rule_meta_labels_take_the_french_colon(site: dict[str, Path]) -> None:
    html = page(site, "fr", "rules")
    assert "<strong>Code\xa0: </strong>" in html
    assert "<strong>Gravité\xa0: </strong>" in html
    assert "<strong>Que faire\xa0: </strong>" in html
    english = page(site, "en", "rules")
    assert "<strong>Code: </strong>" in english
    assert "<strong>What to do: </strong>" in english


class _ReadableText(HTMLParser):
    """The text of a page body as read, with each piece of code replaced by `CODE`."""

    CODE = frozenset({"code", "pre", "script", "style"})

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, _attrs: object) -> None:
        if tag in self.CODE:
            if not self.depth:
                self.parts.append("CODE")
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.CODE:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if not self.depth:
            self.parts.append(data)


def readable_text(html: str) -> str:
    parser = _ReadableText()
    parser.feed(html)
    return "".join(parser.parts)


# What the French typography rules out, as (pattern, what it is).
NOT_FRENCH = (
    (r"[ \u202f]:", "a colon after anything but a no-break space"),
    (r"\w:\s", "a colon glued to its word"),
    (r"\s[;?!]", "a space before ; ? !"),
    (r"'", "a typewriter apostrophe"),
    (r"«(?!\u00a0)", "« without its no-break space"),
    (r"(?<!\u00a0)»", "» without its no-break space"),
)


def test_french_pages_follow_the_french_typography(site: dict[str, Path]) -> None:
    # The pages' own words come from their .po catalogs, written with ordinary spaces
    # (`Note :`, `Options\u202f:`, `défaut ;`): the build sets them as gettext sets the
    # product's French.
    for path in sorted(site["fr"].glob("*.html")):
        text = readable_text(path.read_text(encoding="utf-8"))
        for pattern, what in NOT_FRENCH:
            found = re.search(pattern, text)
            assert found is None, (path.name, what, text[max(0, found.start() - 40):][:60])
    guide = page(site, "fr", "operator-guide")
    assert "<p>Autres cibles\xa0:</p>" in guide
    # A colon after a literal, and a semicolon after one.
    assert '<span class="pre">K,K</span></code>\xa0: ce que' in guide
    assert '<span class="pre">all</span></code>; par défaut' in guide
    # Code keeps its own colons.
    assert '<span class="pre">::1</span></code>' in guide
    rules = page(site, "fr", "rules")
    assert "<li><p><strong>Critique</strong>\xa0: un remboursement" in rules
    assert "page d’aide «\xa0Ajouter des fonds pour les remboursements et les différends\xa0»" \
        in rules
    # A bare URL stays as written.
    assert ">https://connect.stripe.com/express_login</a>" in page(site, "fr", "adding-funds")


def test_english_pages_keep_their_typography(site: dict[str, Path]) -> None:
    html = page(site, "en", "operator-guide")
    assert "<p>Other targets:</p>" in html
    assert NO_BREAK_SPACE + ":" not in readable_text(html)


def test_french_catalogs_are_complete_and_never_fuzzy(templates: Path) -> None:
    pots = sorted(templates.glob("*.pot"))
    assert {p.stem for p in pots} == set(PAGES)
    for pot in pots:
        with pot.open("rb") as handle:
            wanted = {m.id for m in read_po(handle) if m.id}
        po = CATALOGS / f"{pot.stem}.po"
        with po.open("rb") as handle:
            catalog = read_po(handle)
        assert not catalog.fuzzy, po.name
        translated = {}
        for message in catalog:
            if not message.id:
                continue
            assert "fuzzy" not in message.flags, (po.name, message.id)
            assert message.string, (po.name, message.id)
            translated[message.id] = message.string
        missing = wanted - translated.keys()
        assert not missing, (po.name, sorted(missing)[:3])


def test_po_files_have_no_fuzzy_marker_or_empty_translation() -> None:
    for po in sorted(CATALOGS.glob("*.po")):
        text = po.read_text(encoding="utf-8")
        assert "#, fuzzy" not in text, po.name
        body = text.split("\n\n", 1)[1]  # past the header entry, whose msgstr is metadata
        assert 'msgstr ""\n\n' not in body + "\n", po.name
