"""The help site (Furo) on a phone (390 px) and a laptop (1280 px), in headless Chromium: no
page scrolls sideways (wide tables scroll inside their own box), the reserve tables fit a
laptop screen in both languages, the reserve figures stay readable, the French pages show
no English, search finds pages in each language, and the language switcher keeps the
`#rule-…` anchor and stays on screen."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from babel.numbers import format_currency

from tests.browser.conftest import CHROMIUM

PHONE_WIDTH = 390
LAPTOP_WIDTH = 1280
DOCS = Path(__file__).resolve().parents[2] / "docs"
LANGUAGES = ("en", "fr")
RESERVE_FIGURES = ("24.20", "48.47", "72.67", "25072.67")
RULE_ANCHOR = "rule-negative-balance"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed "
                       "(apt-get install chromium)"),
]

# Every piece of text a reader can see or hear: text, shown now or later (the theme's
# "Back to top" appears when the reader scrolls up), placeholders, button captions,
# accessible names, tooltips and icon titles.
READABLE_TEXT = """() => {
  const parts = [document.title];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {
    acceptNode: n => n.parentElement.closest("script, style")
      ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT});
  while (walk.nextNode()) parts.push(walk.currentNode.textContent);
  for (const el of document.querySelectorAll("input, button, [aria-label], [title]")) {
    if (el.placeholder) parts.push(el.placeholder);
    if (el.type === "submit" || el.type === "button") parts.push(el.value);
    if (el.getAttribute("aria-label")) parts.push(el.getAttribute("aria-label"));
    if (el.getAttribute("title")) parts.push(el.getAttribute("title"));
  }
  return parts.join("\\n");
}"""
# The language switch the reader sees: in the header on a phone, at the top of the page on
# a laptop (the other one is hidden).
SWITCH = ".language-switch a:visible"
SEARCH_FIELD = "form[role=search] input[name=q]"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A fresh HTML build of both languages, as published under /en/ and /fr/."""
    work = tmp_path_factory.mktemp("docs-site")
    for language in LANGUAGES:
        result = subprocess.run(
            [sys.executable, "-m", "sphinx", "-q", "-W", "--keep-going", "-b", "html",
             "-D", f"language={language}", "-d", str(work / "doctrees" / language),
             str(DOCS), str(work / "site" / language)],
            capture_output=True, text=True, check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
    return {language: work / "site" / language for language in LANGUAGES}


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    page = browser.new_page(viewport={"width": PHONE_WIDTH, "height": 844})
    yield page
    page.close()


def html_pages(root: Path) -> list[Path]:
    pages = sorted(root.glob("*.html"))
    assert {p.stem for p in pages} >= {"index", "rules", "reserves", "operator-guide",
                                       "minimum-balance-vs-prefunding", "adding-funds"}
    return pages


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_page_scrolls_sideways_on_a_phone(
    site: dict[str, Path], phone: Any, language: str, tmp_path: Path,
) -> None:
    too_wide = {}
    for path in html_pages(site[language]):
        phone.goto(path.as_uri())
        width = phone.evaluate("document.documentElement.scrollWidth")
        if width > PHONE_WIDTH:
            too_wide[path.name] = width
            phone.screenshot(path=str(tmp_path / f"{language}-{path.stem}.png"), full_page=True)
    assert not too_wide, f"wider than {PHONE_WIDTH} px: {too_wide} (screenshots in {tmp_path})"


@pytest.mark.parametrize("language", LANGUAGES)
def test_wide_tables_scroll_inside_their_own_box(
    site: dict[str, Path], phone: Any, language: str,
) -> None:
    phone.goto((site[language] / "reserves.html").as_uri())
    boxes = phone.evaluate("""() => [...document.querySelectorAll("table")].map(t => {
      const box = t.parentElement;
      return {scrolls: getComputedStyle(box).overflowX, boxWidth: box.clientWidth,
              tableWidth: t.scrollWidth, wrapped: box.classList.contains("table-scroll")};
    })""")
    assert len(boxes) >= 6
    for box in boxes:
        assert box["wrapped"], box
        assert box["scrolls"] == "auto", box
        assert box["boxWidth"] <= PHONE_WIDTH, box
    # The timeline is wider than a phone: it scrolls in its box rather than being cut.
    assert any(box["tableWidth"] > box["boxWidth"] for box in boxes)


# Each reserve table of the page: how wide its box is and what it needs, where it ends on
# the screen, the cells whose content is cut off, and the figures set on more than one line.
RESERVE_TABLES = """() => [...document.querySelectorAll(
    "table.reserve-payments, table.reserve-timeline")].map(t => {
  const box = t.parentElement;
  const cells = [...t.querySelectorAll("th, td")];
  const lines = c => {  // lines of text in a cell: the distinct tops of its text's boxes
    const tops = new Set(), walk = document.createTreeWalker(c, NodeFilter.SHOW_TEXT);
    while (walk.nextNode()) {
      const r = document.createRange(); r.selectNodeContents(walk.currentNode);
      for (const x of r.getClientRects()) tops.add(Math.round(x.top));
    }
    return tops.size;
  };
  return {kind: t.className, boxWidth: box.clientWidth, tableWidth: t.scrollWidth,
          scrolls: getComputedStyle(box).overflowX, right: t.getBoundingClientRect().right,
          clipped: cells.filter(c => c.scrollWidth > c.clientWidth + 1).map(c => c.innerText),
          broken: cells.filter(c => /\\d/.test(c.innerText) && /[$€]/.test(c.innerText)
                                    && lines(c) > 1).map(c => c.innerText)};
})"""


# The examples' US dollars as a reader in Canada has them, the widest they get:
# `25 072,67 $ US` for `25 072,67 $`, `US$25,072.67` for `$25,072.67` (the help site may be
# built for either country).
MARK_US_DOLLARS = """() => {
  for (const el of document.querySelectorAll(
      "table.reserve-payments p, table.reserve-timeline p, table.bg-table strong")) {
    if (el.children.length > 0) continue;
    el.textContent = el.textContent.replace(/(\\d\u00a0\\$)$/, "$1\u00a0US")
                                   .replace(/^\\$(?=\\d)/, "US$$");
  }
}"""


@pytest.mark.parametrize("marked", [False, True], ids=["as-built", "usd-marked"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_reserve_tables_fit_a_laptop_screen(
    site: dict[str, Path], browser: Any, language: str, marked: bool,
) -> None:
    page = browser.new_page(viewport={"width": LAPTOP_WIDTH, "height": 800})
    try:
        page.goto((site[language] / "reserves.html").as_uri())
        if marked:
            page.evaluate(MARK_US_DOLLARS)
        tables = page.evaluate(RESERVE_TABLES)
        assert page.evaluate("document.documentElement.scrollWidth") <= LAPTOP_WIDTH
    finally:
        page.close()
    assert len(tables) == 6  # fixed, rolling, balance transfer: payments and timeline
    for table in tables:
        # The whole table shows at once: nothing to scroll, nothing cut, no figure broken
        # across lines ("25 072,67 $ US" is the widest).
        assert table["tableWidth"] <= table["boxWidth"], table
        assert table["right"] <= LAPTOP_WIDTH, table
        assert table["clipped"] == [], table
        assert table["broken"] == [], table


@pytest.mark.parametrize("language", LANGUAGES)
def test_reserve_tables_scroll_sideways_on_a_phone(
    site: dict[str, Path], phone: Any, language: str,
) -> None:
    phone.goto((site[language] / "reserves.html").as_uri())
    tables = phone.evaluate(RESERVE_TABLES)
    assert len(tables) == 6
    for table in tables:
        assert table["scrolls"] == "auto", table
        assert table["boxWidth"] <= PHONE_WIDTH, table
        assert table["clipped"] == [], table
        assert table["broken"] == [], table
    assert all(t["tableWidth"] > t["boxWidth"] for t in tables if "timeline" in t["kind"])
    # Scrolled to its end, a timeline shows its last column ("at the bank") on the screen.
    box = phone.locator("table.reserve-timeline").last.locator("xpath=..")
    box.evaluate("b => { b.scrollLeft = b.scrollWidth; }")
    last = phone.locator("table.reserve-timeline").last.locator("thead th").last
    bounds = last.bounding_box()
    assert bounds is not None
    assert bounds["x"] >= 0
    assert bounds["x"] + bounds["width"] <= PHONE_WIDTH + 1


def figure(amount: str, language: str) -> str:
    """The examples are a US business's, in US dollars read by a reader in the US (the
    help site's `EXAMPLE_COUNTRY`): `$24.20`, `24,20 $`, a no-break space inside."""
    if language == "en":
        return str(format_currency(Decimal(amount), "USD", locale="en_US"))
    return str(format_currency(Decimal(amount), "USD", locale="fr_CA")).replace(
        "\xa0$\xa0US", "\xa0$")


@pytest.mark.parametrize("language", LANGUAGES)
def test_reserve_figures_are_readable_on_a_phone(
    site: dict[str, Path], phone: Any, language: str,
) -> None:
    phone.goto((site[language] / "reserves.html").as_uri())
    text = phone.evaluate("document.body.innerText")
    for amount in RESERVE_FIGURES:
        shown = figure(amount, language)
        assert shown in text, shown
        cell = phone.locator("td", has_text=shown).first
        cell.scroll_into_view_if_needed()
        assert cell.is_visible(), shown
        # Nothing cut off inside the cell, and the cell can be brought into view.
        clipped = cell.evaluate("td => td.scrollWidth > td.clientWidth + 1")
        assert not clipped, shown
        box = cell.bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= PHONE_WIDTH + 1, shown
    # US dollars read by a Canadian platform's buildings: the currency is marked.
    if language == "en":
        assert "US$25,072.67" in text
    else:
        assert "24,20\xa0$\xa0US" in text


def test_french_pages_show_no_english(site: dict[str, Path], phone: Any) -> None:
    # Sphinx's words and the theme's (Furo writes its own in English). ("Navigation" and
    # "Menu" are French too.)
    english = ("Search", "Go", "Quick search", "Contents", "Previous", "Next",
               "Hide Search Matches", "Related Topics", "Skip", "Back", "Toggle", "sidebar",
               "this", "Home", "Made", "Furo", "Expand", "Copyright", "English")
    pages = [*html_pages(site["fr"]), site["fr"] / "search.html"]
    for path in pages:
        phone.goto(path.as_uri())
        words = set(phone.evaluate(READABLE_TEXT).replace("\n", " ").split())
        # The switcher names the other language in that language, on purpose.
        found = [w for w in english if w in words and w != "English"]
        assert not found, (path.name, found)
    phone.goto((site["fr"] / "index.html").as_uri())
    search = phone.locator(SEARCH_FIELD)
    assert search.get_attribute("placeholder") == "Rechercher"
    assert search.get_attribute("aria-label") == "Rechercher"
    assert phone.locator(".skip-to-content").inner_text() == "Aller au contenu"
    assert phone.locator(".back-to-top").text_content().strip() == "Haut de la page"


def test_english_search_box_is_unchanged(site: dict[str, Path], phone: Any) -> None:
    phone.goto((site["en"] / "index.html").as_uri())
    assert phone.locator(SEARCH_FIELD).get_attribute("placeholder") == "Search"
    assert phone.locator(SEARCH_FIELD).get_attribute("aria-label") == "Search"


@pytest.mark.parametrize(("language", "query", "title"), [
    ("en", "reserve", "Reserves"), ("fr", "réserve", "Réserves"),
])
def test_search_from_the_menu_finds_pages_in_the_page_language(
    site: dict[str, Path], phone: Any, language: str, query: str, title: str,
) -> None:
    # On a phone the field is in the menu: open it, type, press the keyboard's search key.
    phone.goto((site[language] / "adding-funds.html").as_uri())
    phone.locator("label.nav-overlay-icon").click()
    field = phone.locator(SEARCH_FIELD)
    field.fill(query)
    field.press("Enter")
    phone.wait_for_url("**/search.html?q=*")
    results = phone.locator("#search-results ul.search li a")
    results.first.wait_for()
    assert title in results.all_inner_texts()
    assert phone.evaluate("document.documentElement.lang") == language
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH


@pytest.mark.parametrize("width", [PHONE_WIDTH, LAPTOP_WIDTH], ids=["phone", "laptop"])
@pytest.mark.parametrize(("source", "target"), [("en", "fr"), ("fr", "en")])
def test_language_switch_keeps_the_rule_anchor(
    site: dict[str, Path], browser: Any, source: str, target: str, width: int,
) -> None:
    page = browser.new_page(viewport={"width": width, "height": 844})
    try:
        page.goto((site[source] / "rules.html").as_uri() + f"#{RULE_ANCHOR}")
        assert page.locator(SWITCH).count() == 1
        page.locator(SWITCH).click()
        page.wait_for_url(f"**/{target}/rules.html#{RULE_ANCHOR}")
        assert page.locator(f"#{RULE_ANCHOR}").count() == 1
        # An anchor reached after the page loaded (a click in the page) is carried too.
        page.evaluate("location.hash = '#rule-refund-capacity-short'")
        page.locator(SWITCH).click()
        page.wait_for_url(f"**/{source}/rules.html#rule-refund-capacity-short")
    finally:
        page.close()


def test_language_switch_stays_on_screen_on_a_phone(site: dict[str, Path], phone: Any) -> None:
    # A reader who arrives from an email at a rule, far down the page, sees the switch
    # without scrolling back up: it is in the header, which stays on screen.
    phone.goto((site["fr"] / "rules.html").as_uri() + "#rule-refund-capacity-short")
    phone.wait_for_function("scrollY > 1000")
    box = phone.locator(SWITCH).bounding_box()
    assert box is not None
    assert box["y"] >= 0
    assert box["y"] + box["height"] <= 60
    assert box["x"] + box["width"] <= PHONE_WIDTH
    assert phone.locator(SWITCH).inner_text() == "English"


def test_language_switch_without_javascript_lands_on_the_same_page(
    site: dict[str, Path], browser: Any,
) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto((site["en"] / "reserves.html").as_uri() + f"#{RULE_ANCHOR}")
        page.locator(SWITCH).click()
        page.wait_for_url("**/fr/reserves.html*")
        assert page.title().startswith("Réserves")
    finally:
        context.close()
