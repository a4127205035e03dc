"""The emails on a phone: rendered by headless Chromium at 375 px, nothing wider, not blank."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from balance_guard.domain.findings import Finding, RuleCode, most_severe_first
from balance_guard.notify.digest import render_digest
from balance_guard.notify.render import render_account_email
from balance_guard.report.model import AccountReport, Report, ReserveRelease, totals_of

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE_WIDTH = 375
AS_OF = date(2026, 8, 1)

FINDINGS = most_severe_first([
    Finding.of(RuleCode.REFUND_CAPACITY_SHORT, "cad", 182_000, exposure=240_000,
               capacity=58_000, cause="minimum_below_exposure"),
    Finding.of(RuleCode.NEGATIVE_BALANCE, "jpy", 2_507_267, available=-2_507_267),
    Finding.of(RuleCode.MIN_BALANCE_BELOW_EXPOSURE, "cad", 40_000, exposure=240_000,
               minimum=150_000, prefund=50_000),
    Finding.of(RuleCode.RESERVE_RELEASE_UPCOMING, "usd", 1_000_000_000,
               releases=[{"date": "2026-08-31", "amount": 1_000_000_000}],
               first_release_date="2026-08-31", minimum_balance_retains=2_500),
])
RELEASES = [ReserveRelease(currency="usd", amount=1_000_000_000, release_date=date(2026, 8, 31),
                           payout_date=date(2026, 8, 31), arrival_date=date(2026, 9, 2))]
COUNT_INK = """async (data) => {
  const image = new Image();
  image.src = data;
  await image.decode();
  const canvas = document.createElement("canvas");
  canvas.width = image.width;
  canvas.height = image.height;
  const context = canvas.getContext("2d");
  context.drawImage(image, 0, 0);
  const pixels = context.getImageData(0, 0, image.width, image.height).data;
  let ink = 0;
  for (let i = 0; i < pixels.length; i += 4) {
    if (pixels[i] < 200 || pixels[i + 1] < 200 || pixels[i + 2] < 200) ink++;
  }
  return ink;
}"""


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


def account_html(name: str) -> str:
    report = AccountReport(account_id="acct_1", name=name, locale="fr+en", status="critical",
                           findings=FINDINGS, reserve_releases=RELEASES)
    return render_account_email(
        report, FINDINGS, languages=("fr", "en"), as_of=AS_OF,
        docs_base_url="https://help.a-very-long-subdomain-for-the-platform.example.com/docs",
        contact="Service à la clientèle de Boréal Gestion immobilière "
                "<support-team-of-the-property-management-platform@example.com>",
        country="CA", platform_name="Boréal Gestion immobilière et associés",
    ).html


def digest_html() -> str:
    accounts = [
        AccountReport(account_id=f"acct_{'x' * 40}{i}", name="Z" * 500, locale="en",
                      status="critical", findings=FINDINGS, notices=["n" * 400])
        for i in range(3)
    ]
    return render_digest(Report(run_id="2026-08-01T06:00:00Z-3f2a", as_of=AS_OF,
                                accounts=accounts, totals=totals_of(accounts, 15, 2.5)),
                         ("fr", "en")).html


def open_on_a_phone(browser: object, html: str, shot: Path) -> tuple[int, int, str]:
    """(scrollWidth, pixels with ink, visible text) of the page at phone width."""
    from playwright.sync_api import Browser

    assert isinstance(browser, Browser)
    page = browser.new_page(viewport={"width": PHONE_WIDTH, "height": 812})
    try:
        page.set_content(html, wait_until="load")
        width = int(page.evaluate("document.documentElement.scrollWidth"))
        text = str(page.evaluate("document.body.innerText"))
        png = page.screenshot(path=str(shot), full_page=True)
        data = "data:image/png;base64," + base64.b64encode(png).decode()
        page.set_content("<html><body></body></html>")
        ink = int(page.evaluate(COUNT_INK, data))
    finally:
        page.close()
    return width, ink, text


@pytest.mark.parametrize("name", ["Les Tours du Parc", "B" * 10_000,
                                  "Résidence <b>du</b> Parc-Lafontaine-et-des-Érables-Nord"])
def test_account_email_fits_a_phone_and_is_not_blank(
    browser: object, tmp_path: Path, name: str,
) -> None:
    shot = tmp_path / "account.png"

    width, ink, text = open_on_a_phone(browser, account_html(name), shot)

    assert shot.stat().st_size > 0
    assert width <= PHONE_WIDTH
    assert ink > 1_000
    assert "Les fonds mis de côté ne suffisent pas" in text
    assert "Not enough money set aside" in text
    assert text.index("Bonjour") < text.index("Hello")
    # The line on what to do today opens each language, above its greeting.
    assert text.index("Aujourd’hui") < text.index("Bonjour")
    assert text.index("Hello") > text.index("Today:") > text.index("Bonjour")
    assert "support-team-of-the-property-management-platform@example.com" in text


def test_digest_fits_a_phone_and_is_not_blank(browser: object, tmp_path: Path) -> None:
    width, ink, text = open_on_a_phone(browser, digest_html(), tmp_path / "digest.png")

    assert width <= PHONE_WIDTH
    assert ink > 1_000
    assert "Comptes critiques (3)" in text
