"""The operations digest in a browser, at a phone's 390 px and a laptop's 1280 px: nothing
pushes the page sideways, every account to act on is there with its headline and a link to
its Stripe Dashboard page, and the full report is one click away."""

from __future__ import annotations

from datetime import date
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from balance_guard.cli.main import main
from balance_guard.domain.findings import Finding, RuleCode
from balance_guard.domain.headline import Headline
from balance_guard.notify.digest import render_digest
from balance_guard.report.model import AccountReport, Report, totals_of

WIDTHS = [390, 1280]
DASHBOARD = "https://dashboard.stripe.com/connect/accounts/"
PRESIGNED = ("https://balance-guard-reports.s3.ca-central-1.amazonaws.com/reports/2026-08-02/"
             "2026-08-02T06:00:00Z-3f2a.html?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="
             + "A" * 40 + "&X-Amz-Expires=604800&X-Amz-Security-Token=" + "T" * 900
             + "&X-Amz-Signature=" + "f" * 64)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def sample_digest(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The sample platform's digest for 2026-08-02, as `run` sends it."""
    out = tmp_path_factory.mktemp("digest")
    main(["run", "--as-of", "2026-08-02", "--state", str(out / "s.sqlite"), "--outbox",
          str(out / "outbox"), "--report-html", str(out / "report.html")])
    message = message_from_bytes((out / "outbox" / "digest_2026-08-02.eml").read_bytes(),
                                 policy=policy.default)
    assert isinstance(message, EmailMessage)
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    html: str = part.get_content()
    return html


def crowded_digest() -> str:
    """Names, ids and notices far longer than a line, bilingual, a presigned link."""
    short = Finding.of(RuleCode.REFUND_CAPACITY_SHORT, "usd", 1_000_000_000,
                       exposure=1_000_000_000, capacity=0, cause="manual_payouts")
    accounts = [
        AccountReport(account_id=f"acct_{'X' * 60}{i}", name="Résidence " + "Z" * 400,
                      locale="fr", status=status, findings=[short] if status != "error" else [],
                      error="Stripe 500: " + "e" * 400 if status == "error" else None,
                      notices=["n" * 400],
                      headlines=[Headline(currency="usd", add=1_000_000_000,
                                          minimum=2_000_000_000, deadline=date(2026, 8, 2),
                                          urgent=True)] if status == "critical" else [])
        for i, status in enumerate(["critical", "critical", "warning", "error"])
    ]
    report = Report(run_id="2026-08-02T06:00:00Z-3f2a", as_of=date(2026, 8, 2),
                    accounts=accounts, totals=totals_of(accounts, 15, 2.5),
                    notices=["p" * 600])
    return render_digest(report, ("fr", "en"), country="CA", report_location=PRESIGNED).html


def layout(browser: Any, html: str, width: int, shot: Path) -> tuple[int, str, list[str]]:
    """(scrollWidth, visible text, every link's href) of the page at `width`."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    try:
        page.set_content(html, wait_until="load")
        scroll = int(page.evaluate("document.documentElement.scrollWidth"))
        text = str(page.evaluate("document.body.innerText"))
        links = [str(h) for h in page.eval_on_selector_all("a", "els => els.map(a => a.href)")]
        page.screenshot(path=str(shot), full_page=True)
    finally:
        page.close()
    return scroll, text, links


@pytest.mark.parametrize("width", WIDTHS)
def test_the_sample_nights_digest_fits_and_links_every_account_to_act_on(
    browser: Any, sample_digest: str, width: int, tmp_path: Path,
) -> None:
    scroll, text, links = layout(browser, sample_digest, width, tmp_path / "digest.png")

    assert scroll <= width
    headings = ["Critical accounts (5)", "Accounts with a warning (3)",
                "Accounts that could not be checked (1)"]
    assert [text.index(h) for h in headings] == sorted(text.index(h) for h in headings)
    assert "Add $3,500.00 to the prefunding balance today." in text
    assert ("Set the minimum balance to $1,850.00 before the automatic payout of Friday, "
            "August 7, 2026.") in text
    assert "Payouts disabled" in text  # a warning is named, not only counted
    dashboards = [link for link in links if link.startswith(DASHBOARD)]
    assert len(dashboards) == 9  # 5 critical, 3 warnings, 1 not checked
    assert f"{DASHBOARD}acct_1TdpToursDuParc" in dashboards
    [report] = [link for link in links if link.startswith("file://")]
    assert report.endswith("/report.html")
    assert text.count("Open in the Stripe Dashboard") == 9


@pytest.mark.parametrize("width", WIDTHS)
def test_a_crowded_bilingual_digest_still_fits(
    browser: Any, width: int, tmp_path: Path,
) -> None:
    scroll, text, links = layout(browser, crowded_digest(), width, tmp_path / "crowded.png")

    assert scroll <= width
    assert text.index("Avis sur la plateforme (1)") < text.index("Comptes critiques (2)")
    assert text.index("Comptes critiques (2)") < text.index("Critical accounts (2)")
    assert "Verser 10\u00a0000\u00a0000,00\u00a0$\u00a0US dans le solde de préfinancement" in text
    assert links.count(PRESIGNED) == 2  # one per language, linked whole
    assert "2026-08-02T06:00:00Z-3f2a.html" in text  # ...and read as the file's name
    assert len([link for link in links if link.startswith(DASHBOARD)]) == 8
