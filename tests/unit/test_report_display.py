"""What Stripe's users typed reaches operators as text, never as terminal or page commands."""

from __future__ import annotations

import io

from balance_guard.cli.console import print_account_table
from balance_guard.domain.findings import Finding, RuleCode
from balance_guard.report.model import AccountReport

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
