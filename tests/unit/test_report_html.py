from __future__ import annotations

from datetime import date

from balance_guard.domain.findings import Finding, RuleCode
from balance_guard.domain.policy import Policy
from balance_guard.report.html import render_report_html
from balance_guard.report.model import AccountReport, Report, totals_of


def report_of(*accounts: AccountReport) -> Report:
    return Report(run_id="2026-08-01T06:00:00Z-abcd", as_of=date(2026, 8, 1),
                  accounts=list(accounts), totals=totals_of(list(accounts), 12, 0.5))


def short_account(name: str = "Les Tours du Parc") -> AccountReport:
    finding = Finding.of(RuleCode.REFUND_CAPACITY_SHORT, "cad", 182_000, exposure=240_000,
                         capacity=58_000, cause="no_minimum_balance")
    return AccountReport(
        account_id="acct_1", name=name, locale="fr", status="critical", findings=[finding],
        positions=[{"currency": "cad", "available": 58_000, "prefund": 0, "minimum": None,
                    "exposure": 240_000, "capacity": 58_000, "automatic_payouts": True}],
    )


def test_findings_show_formatted_amounts_and_link_to_their_help_anchor() -> None:
    html = render_report_html(report_of(short_account()), Policy(docs_base_url="https://h.example"))
    assert "$1,820.00" in html
    assert "exposure: $2,400.00" in html
    assert "cause: no minimum balance" in html
    assert 'href="https://h.example/en/rules.html#rule-refund-capacity-short"' in html


def test_a_short_position_draws_a_red_bar_stopping_before_the_exposure_mark() -> None:
    html = render_report_html(report_of(short_account()), Policy())
    assert 'class="fill short" style="width: 24.2%"' in html
    assert "left: calc(100.0% - 1px)" in html


def test_worst_accounts_come_first() -> None:
    ok = AccountReport(account_id="acct_ok", name="Aardvark Court", locale="en", status="ok")
    html = render_report_html(report_of(ok, short_account("Zebra Towers")), Policy())
    assert html.index("Zebra Towers") < html.index("Aardvark Court")


def test_the_page_s_words_come_from_the_catalog_and_only_the_values_are_escaped() -> None:
    failed = AccountReport(account_id="acct_2", name="Place Verte", locale="en",
                           status="error", error="<b>timeout</b>", reserves_known=False)
    html = render_report_html(report_of(failed), Policy())
    assert "<p>Each bar shows the <strong>guaranteed capacity</strong> (what is sure" in html
    assert '<p class="notice">Could not be checked: &lt;b&gt;timeout&lt;/b&gt;</p>' in html
    assert "cannot read Stripe's Reserves API.</p>" in html
    assert "<div>Run 2026-08-01T06:00:00Z-abcd · 1 buildings · 0 emails · 12 Stripe requests " \
           "· 0.5 s</div>" in html


def test_hostile_building_names_are_escaped() -> None:
    html = render_report_html(report_of(short_account('<script>alert("x")</script>')), Policy())
    assert "<script>alert" not in html
    assert "&lt;script&gt;" in html
