"""The emails on a phone: rendered by headless Chromium at 375 and 390 px, nothing wider,
not blank, and the buttons where the admin acts whole and on screen."""

from __future__ import annotations

import base64
from datetime import date
from pathlib import Path

import pytest

from balance_guard.domain.findings import Finding, RuleCode, most_severe_first
from balance_guard.domain.headline import Headline
from balance_guard.notify.digest import render_digest
from balance_guard.notify.render import render_account_email
from balance_guard.report.model import AccountReport, Report, ReserveRelease, totals_of

pytestmark = pytest.mark.browser

PHONE_WIDTH = 375
WIDE_PHONE = 390
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
HEADLINES = [
    Headline(currency="cad", add=0, minimum=250_000, deadline=date(2026, 8, 6), urgent=False,
             next_payout=date(2026, 8, 6)),
    Headline(currency="jpy", add=2_507_267, minimum=None, deadline=AS_OF, urgent=True,
             negative=2_507_267),
]
# Les Tours du Parc: three problems, one total to add today.
THREE_PROBLEMS = [
    Finding.of(RuleCode.NEGATIVE_BALANCE, "cad", 45_000, available=-45_000),
    Finding.of(RuleCode.REFUND_BLOCKED, "cad", 120_000, refunds=1),
    Finding.of(RuleCode.REFUND_CAPACITY_SHORT, "cad", 185_000, exposure=185_000, capacity=0,
               cause="balance_below_minimum", available=-45_000, prefund=0, minimum=200_000),
]
TOURS = Headline(currency="cad", add=350_000, minimum=None, deadline=AS_OF, urgent=True,
                 next_payout=date(2026, 8, 3), negative=45_000, blocked=120_000,
                 blocked_refunds=1, shortfall=185_000)
BUTTONS = {"fr": ("Ajouter des fonds", "Ouvrir mon compte Stripe"),
           "en": ("Add funds", "Open my Stripe account")}
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


def account_html(name: str) -> str:
    report = AccountReport(account_id="acct_1", name=name, locale="fr+en", status="critical",
                           findings=FINDINGS, reserve_releases=RELEASES, headlines=HEADLINES)
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
    # The headline on what to do opens each language, above its greeting.
    assert text.index("QUE FAIRE") < text.index("Bonjour")
    assert text.index("Hello") > text.index("WHAT TO DO") > text.index("Bonjour")
    assert "support-team-of-the-property-management-platform@example.com" in text


def three_problems_html(languages: tuple[str, ...]) -> str:
    report = AccountReport(account_id="acct_1TdpToursDuParc", name="Les Tours du Parc",
                           locale="+".join(languages), status="critical",
                           findings=THREE_PROBLEMS, headlines=[TOURS])
    return render_account_email(
        report, THREE_PROBLEMS, languages=languages, as_of=date(2026, 8, 2),
        docs_base_url="https://help.boreal-gestion.example", contact=(
            "Soutien Boréal <soutien@boreal-gestion.example>"),
        country="CA", platform_name="Boréal Gestion immobilière",
        portal="https://portail.boreal-gestion.example/paiements/compte-stripe",
    ).html


@pytest.mark.parametrize("languages", [("fr",), ("en",), ("fr", "en")])
def test_three_problems_read_one_total_with_whole_buttons_at_390_px(
    browser: object, languages: tuple[str, ...],
) -> None:
    from playwright.sync_api import Browser

    assert isinstance(browser, Browser)
    page = browser.new_page(viewport={"width": WIDE_PHONE, "height": 844})
    try:
        page.set_content(three_problems_html(languages), wait_until="load")
        width = int(page.evaluate("document.documentElement.scrollWidth"))
        text = str(page.evaluate("document.body.innerText")).replace("\u00a0", " ")
        found = []
        for lang in languages:
            for label in BUTTONS[lang]:
                link = page.locator(f'td[lang="{lang}"] a', has_text=label).first
                box = link.bounding_box()
                assert box is not None, label
                fits = bool(link.evaluate("a => a.scrollWidth <= a.clientWidth + 1"))
                found.append((label, box, fits, link.is_visible()))
    finally:
        page.close()

    assert width <= WIDE_PHONE
    for label, box, fits, visible in found:
        assert visible, label
        assert fits, label  # the label is not cut inside its button
        assert box["x"] >= 0, label
        assert box["x"] + box["width"] <= WIDE_PHONE - 16, label  # inside the card's padding
        assert box["height"] >= 40, label  # a thumb's target
    if "fr" in languages:
        assert "Versez 3 500,00 $ dans votre solde de préfinancement" in text
        assert "lundi 3 août 2026" in text
        assert text.count("font partie des 3 500,00 $ à verser aujourd’hui.") == 3
    if "en" in languages:
        assert "Add $3,500.00 to your prefunding balance" in text
        assert "Monday, August 3, 2026" in text
        assert text.count("is part of the $3,500.00 to add today.") == 3


def test_digest_fits_a_phone_and_is_not_blank(browser: object, tmp_path: Path) -> None:
    width, ink, text = open_on_a_phone(browser, digest_html(), tmp_path / "digest.png")

    assert width <= PHONE_WIDTH
    assert ink > 1_000
    assert "Comptes critiques (3)" in text
