"""out/report.html read on a phone and on a laptop: nothing pushes the page sideways, the
columns that matter first are on screen, bars and "new" marks are drawn."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from balance_guard.cli.main import main
from balance_guard.domain.policy import Policy
from balance_guard.report.html import render_report_html
from balance_guard.report.model import Report
from tests.browser.conftest import CHROMIUM

# Building, status, to add, deadline: what an operator reads first, on any screen.
FIRST_COLUMNS = 4

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory) -> tuple[Report, Report, Path]:
    """The demo's two nights, the second night's page as the CLI writes it, and that page
    marked against the first night."""
    out = tmp_path_factory.mktemp("report")
    for night in ("2026-08-01", "2026-08-02"):
        main(["run", "--as-of", night, "--state", str(out / "s.sqlite"), "--outbox",
              str(out / "outbox"), "--report-html", str(out / f"{night}.html"),
              "--report-json", str(out / f"{night}.json")])
    first, second = (Report.model_validate_json((out / f"{n}.json").read_text())
                     for n in ("2026-08-01", "2026-08-02"))
    (out / "compared.html").write_text(render_report_html(second, Policy(), first))
    return first, second, out


def on_screen(page: Any, selector: str, width: int) -> list[str]:
    """The elements matching `selector` that do not lie wholly within the viewport's width."""
    off: list[str] = page.evaluate(
        """([selector, width]) => [...document.querySelectorAll(selector)]
             .filter(e => { const r = e.getBoundingClientRect();
                            return r.left < 0 || r.right > width + 0.5; })
             .map(e => e.textContent.trim())""", [selector, width])
    return off


@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("name", ["2026-08-02.html", "compared.html"])
def test_report_never_scrolls_sideways(nights: tuple[Report, Report, Path], browser: Any,
                                       width: int, name: str, tmp_path: Path) -> None:
    _, second, out = nights
    page = browser.new_page(viewport={"width": width, "height": 800})
    page.goto((out / name).as_uri())
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=str(tmp_path / f"report-{width}.png"), full_page=True)
    assert page.locator("article").count() == len(second.accounts)
    assert page.locator(".fill.short").count() >= 1
    page.close()


@pytest.mark.parametrize("width", [390, 1280])
def test_building_status_to_add_and_deadline_are_on_screen(
    nights: tuple[Report, Report, Path], browser: Any, width: int,
) -> None:
    _, second, out = nights
    page = browser.new_page(viewport={"width": width, "height": 800})
    page.goto((out / "compared.html").as_uri())
    heads = page.locator("#glance tr:first-child th").all_inner_texts()
    assert [h.lower() for h in heads[:FIRST_COLUMNS]] == ["building", "status", "to add",
                                                          "deadline"]
    assert page.locator("#glance tr").count() >= len(second.accounts) + 1
    for column in range(1, FIRST_COLUMNS + 1):
        cells = f"#glance tr > :nth-child({column})"
        assert on_screen(page, cells, width) == [], column
    # Les Tours du Parc: one total, today.
    row = page.locator("#glance tr", has_text="Les Tours du Parc")
    assert row.locator("td").nth(2).inner_text() == "$3,500.00"
    assert row.locator("td").nth(3).inner_text().startswith("August 2, 2026")
    if width >= 1280:
        assert on_screen(page, "#glance th, #glance td", width) == []
    page.close()


@pytest.mark.parametrize("width", [390, 1280])
def test_every_figure_of_a_building_is_on_screen(nights: tuple[Report, Report, Path],
                                                 browser: Any, width: int) -> None:
    """Exposure, available and minimum balance were off-screen on a phone."""
    _, _, out = nights
    page = browser.new_page(viewport={"width": width, "height": 800})
    page.goto((out / "compared.html").as_uri())
    assert page.locator(".positions td").count() > 0
    assert on_screen(page, ".positions td, .findings td", width) == []
    minimum = page.locator("#acct_1QmcQueenMaryCrt1 td[data-label='Minimum balance']")
    assert minimum.inner_text() == "unknown"
    payouts = page.locator("#acct_1RdgRideauGardens td[data-label='Payouts']")
    assert payouts.inner_text() == "disabled"
    page.close()


def test_what_is_new_since_last_night_is_marked(nights: tuple[Report, Report, Path],
                                                browser: Any) -> None:
    _, _, out = nights
    page = browser.new_page(viewport={"width": 390, "height": 800})
    page.goto((out / "compared.html").as_uri())
    marked = page.locator("article .pill.new")
    assert marked.count() >= 1
    assert marked.first.is_visible()
    assert page.locator(".legend", has_text="New: not found on the night of August 1, 2026.") \
        .count() == 1
    # The CLI's own page has no earlier night to compare with, and says so.
    page.goto((out / "2026-08-02.html").as_uri())
    assert page.locator(".pill.new").count() == 0
    assert page.locator(".legend", has_text="nothing is marked new").count() == 1
    page.close()
