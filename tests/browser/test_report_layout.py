"""out/report.html read on a phone: nothing pushes the page sideways, bars are drawn."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from balance_guard.cli.main import main

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="Debian's chromium is not installed"),
]


@pytest.fixture(scope="module")
def report_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    main(["run", "--as-of", "2026-08-02", "--state", str(out / "s.sqlite"), "--outbox",
          str(out / "outbox"), "--report-html", str(out / "report.html"),
          "--report-json", str(out / "report.json")])
    return out / "report.html"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.mark.parametrize("width", [390, 1200])
def test_report_never_scrolls_sideways(report_page: Path, browser: Any, width: int,
                                       tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": width, "height": 800})
    page.goto(report_page.as_uri())
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=str(tmp_path / f"report-{width}.png"), full_page=True)
    accounts = json.loads(report_page.with_suffix(".json").read_text())["accounts"]
    assert page.locator("article").count() == len(accounts)
    assert page.locator(".fill.short").count() >= 1
    page.close()
