"""What Stripe's users typed reaches operators as text, never as terminal or page commands."""

from __future__ import annotations

import io
from datetime import date

from balance_guard.cli.console import print_account_table
from balance_guard.domain.findings import Finding, RuleCode
from balance_guard.domain.policy import Policy
from balance_guard.report.html import render_report_html
from balance_guard.report.model import AccountReport, Report, totals_of

HOSTILE = "Tour\x1b[31m Rouge\x00\u202eexe.txt"


def test_a_report_keeps_names_errors_and_notices_inert() -> None:
    report = AccountReport(account_id="acct_1", name=HOSTILE, locale="fr", status="error",
                           findings=[Finding.of(RuleCode.CHECK_FAILED, reason="x")],
                           error=f"Stripe 500: {HOSTILE}", notices=[f"metadata: {HOSTILE}"])
    for text in (report.name, report.error or "", *report.notices):
        assert not any(c in text for c in ("\x1b", "\x00", "\u202e"))
    assert report.name == "Tour[31m Rougeexe.txt"


def test_the_console_prints_no_escape_sequence() -> None:
    report = AccountReport(account_id="acct_\x1b[2J1", name=HOSTILE, locale="en", status="ok")
    stream = io.StringIO()
    print_account_table(report, stream)
    assert "\x1b" not in stream.getvalue()
    assert "\u202e" not in stream.getvalue()


def test_the_html_page_shows_hostile_text_inert_in_the_glance_and_the_notices() -> None:
    failed = Finding.of(RuleCode.CHECK_FAILED, reason="x")
    account = AccountReport(account_id="acct_1", name=HOSTILE + "<img src=x>", locale="fr",
                            status="error", findings=[failed], error="x",
                            notices=[f"metadata: {HOSTILE}"])
    report = Report(run_id="r", as_of=date(2026, 8, 2), accounts=[account],
                    totals=totals_of([account], 0, 0.0), notices=["key lacks <b>rights</b>"])
    page = render_report_html(report, Policy())
    assert not any(c in page for c in ("\x1b", "\x00", "\u202e"))
    assert '<a href="#acct_1">Tour[31m Rougeexe.txt&lt;img src=x&gt;</a>' in page
    assert '<p class="notice">Notice: key lacks &lt;b&gt;rights&lt;/b&gt;</p>' in page
