from __future__ import annotations

import io
from datetime import date

from balance_guard.cli.console import print_account_table, print_summary
from balance_guard.domain.findings import Finding, RuleCode
from balance_guard.report.model import AccountReport, Report, totals_of

HOSTILE = "Tour [/oops] Nord [link=https://evil.example]clic[/link]"


def hostile_report() -> Report:
    account = AccountReport(
        account_id="acct_1", name=HOSTILE, locale="en", status="warning",
        findings=[Finding.of(RuleCode.PAYOUTS_DISABLED)],
        notices=["balance_guard_[bold]x[/bold]: unknown Balance Guard setting; ignored"],
    )
    return Report(run_id="r-1", as_of=date(2026, 8, 1), accounts=[account],
                  totals=totals_of([account], 5, 0.1))


def test_hostile_names_are_printed_literally_in_the_summary() -> None:
    out = io.StringIO()
    print_summary(hostile_report(), out, outputs=[("state", "s.sqlite")])
    text = out.getvalue()
    assert "Tour [/oops] Nord" in text
    assert "5 Stripe requests (5.0 per account)" in text


def test_hostile_names_and_notices_are_printed_literally_by_check() -> None:
    out = io.StringIO()
    print_account_table(hostile_report().accounts[0], out)
    text = out.getvalue()
    assert "[link=https://evil.example]" in text
    assert "balance_guard_[bold]x[/bold]" in text


def short_report() -> Report:
    account = AccountReport(
        account_id="acct_2", name="Maple Court", locale="en", status="critical",
        findings=[Finding.of(RuleCode.NEGATIVE_BALANCE, "cad", 45_000, available=-45_000)],
    )
    return Report(run_id="r-2", as_of=date(2026, 8, 2), accounts=[account],
                  totals=totals_of([account], 5, 0.1))


def test_money_is_marked_as_the_platform_s_home_market_reads_it() -> None:
    canadian, american = io.StringIO(), io.StringIO()
    print_summary(short_report(), canadian, outputs=[])
    print_summary(short_report(), american, outputs=[], country="US")
    assert "NEGATIVE_BALANCE $450.00" in canadian.getvalue()
    assert "NEGATIVE_BALANCE CA$450.00" in american.getvalue()
    table = io.StringIO()
    print_account_table(short_report().accounts[0], table, "US")
    assert "CA$450.00" in table.getvalue()
    assert "available: -CA$450.00" in table.getvalue()
