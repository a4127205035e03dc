from __future__ import annotations

import html as html_text
import re
from datetime import date
from typing import Any

import pytest

from balance_guard.domain.findings import Finding, RuleCode
from balance_guard.domain.headline import Headline
from balance_guard.domain.policy import Policy
from balance_guard.report.html import FIGURES, MINIMUM_NOT_SET, MINIMUM_UNKNOWN, PAYOUTS
from balance_guard.report.html import render_report_html as render_html
from balance_guard.report.model import (
    AccountReport,
    EmailRecord,
    Report,
    ReserveRelease,
    totals_of,
)
from balance_guard.text.i18n import gettext

NIGHT = date(2026, 8, 2)


def report_of(*accounts: AccountReport, as_of: date = NIGHT,
              run_id: str = "2026-12-02T06:00:00Z-abcd") -> Report:
    return Report(run_id=run_id, as_of=as_of, accounts=list(accounts),
                  totals=totals_of(list(accounts), 12, 0.5))


def render_report_html(report: Report, policy: Policy | None = None,
                       previous: Report | None = None) -> str:
    return render_html(report, policy or Policy(), previous)


def position(**changes: Any) -> dict[str, Any]:
    return {"currency": "cad", "available": 300_000, "prefund": 0, "minimum": None,
            "exposure": 182_000, "capacity": 0, "automatic_payouts": True, **changes}


def short_account(name: str = "Les Tours du Parc") -> AccountReport:
    finding = Finding.of(RuleCode.REFUND_CAPACITY_SHORT, "cad", 182_000, exposure=240_000,
                         capacity=58_000, cause="no_minimum_balance")
    return AccountReport(
        account_id="acct_1", name=name, locale="fr", status="critical", findings=[finding],
        positions=[{"currency": "cad", "available": 58_000, "prefund": 0, "minimum": None,
                    "exposure": 240_000, "capacity": 58_000, "automatic_payouts": True}],
    )


def saint_laurent() -> AccountReport:
    """The money is in the balance: the headline asks for a minimum, not a wire."""
    return AccountReport(
        account_id="acct_rsl", name="Résidence Saint-Laurent", locale="fr", status="critical",
        findings=[
            Finding.of(RuleCode.REFUND_CAPACITY_SHORT, "cad", 182_000, exposure=182_000,
                       capacity=0, cause="no_minimum_balance"),
            Finding.of(RuleCode.MIN_BALANCE_NOT_SET, "cad", 185_000, exposure=182_000),
        ],
        positions=[position()],
        headlines=[Headline(currency="cad", add=0, minimum=185_000, deadline=date(2026, 8, 7),
                            urgent=False, next_payout=date(2026, 8, 7))],
    )


def tours_du_parc() -> AccountReport:
    """Three problems, one total to add today."""
    return AccountReport(
        account_id="acct_tdp", name="Les Tours du Parc", locale="fr", status="critical",
        findings=[
            Finding.of(RuleCode.NEGATIVE_BALANCE, "cad", 45_000, available=-45_000),
            Finding.of(RuleCode.REFUND_BLOCKED, "cad", 120_000, refunds=1),
            Finding.of(RuleCode.REFUND_CAPACITY_SHORT, "cad", 185_000, exposure=185_000,
                       capacity=0, cause="balance_below_minimum"),
        ],
        positions=[position(available=-45_000, minimum=200_000, exposure=185_000)],
        headlines=[Headline(currency="cad", add=350_000, minimum=None, deadline=NIGHT,
                            urgent=True, next_payout=date(2026, 8, 3), negative=45_000,
                            blocked=120_000, blocked_refunds=1, shortfall=185_000)],
    )


def text_of(cell: str) -> str:
    return re.sub(r"\s+", " ", html_text.unescape(re.sub(r"<[^>]+>", "", cell))).strip()


def rows(page: str, table: str) -> list[list[str]]:
    """The text of each cell of the first table whose opening tag holds `table`."""
    start = page.index(table)
    body = page[start:page.index("</table>", start)]
    return [[text_of(c) for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def glance_row(page: str, name: str) -> list[str]:
    return next(row for row in rows(page, 'id="glance"') if row[0].startswith(name))


def article(page: str, account_id: str) -> str:
    start = page.index(f'<article id="{account_id}">')
    return page[start:page.index("</article>", start)]


def test_findings_name_their_figure_and_link_to_their_help_anchor() -> None:
    html = render_report_html(report_of(short_account()), Policy(docs_base_url="https://h.example"))
    assert "<strong>Capacity short by: $1,820.00</strong>; exposure: $2,400.00" in html
    assert "cause: no minimum balance" in html
    assert '<a href="https://h.example/en/rules.html#rule-refund-capacity-short">Largest ' \
           'refund not covered</a> <span class="acct">REFUND_CAPACITY_SHORT</span>' in html


def test_a_shortfall_and_a_suggested_minimum_are_never_under_one_word() -> None:
    findings = rows(render_report_html(report_of(saint_laurent())), "stack findings")
    assert findings[0] == ["Severity", "Finding", "Details"]
    assert findings[1][2] == "Capacity short by: $1,820.00; exposure: $1,820.00; capacity: " \
                             "$0.00; cause: no minimum balance"
    assert findings[2][2] == "Suggested minimum: $1,850.00; exposure: $1,820.00"


@pytest.mark.parametrize(("code", "english", "french"), [
    (RuleCode.NEGATIVE_BALANCE, "Below zero by", "Sous zéro de"),
    (RuleCode.REFUND_BLOCKED, "Refunds on hold", "Remboursements en attente"),
    (RuleCode.REFUND_CAPACITY_SHORT, "Capacity short by", "Capacité insuffisante de"),
    (RuleCode.MIN_BALANCE_NOT_SET, "Suggested minimum", "Minimum suggéré"),
    (RuleCode.MIN_BALANCE_BELOW_EXPOSURE, "Minimum short by", "Minimum insuffisant de"),
    (RuleCode.PREFUND_DEPLETED, "To refill", "À remettre"),
    (RuleCode.PREFUND_BELOW_TARGET, "Below target by", "Sous la cible de"),
    (RuleCode.PREFUND_USED, "Used since the previous check",
     "Utilisé depuis la vérification précédente"),
    (RuleCode.RESERVE_HELD, "Held", "Retenu"),
    (RuleCode.RESERVE_RELEASE_UPCOMING, "To be released", "À libérer"),
])
def test_every_figure_has_its_name_in_both_languages(code: RuleCode, english: str,
                                                     french: str) -> None:
    assert gettext(FIGURES[code], "en") == english
    assert gettext(FIGURES[code], "fr") == french


def test_the_glance_separates_what_to_add_from_the_minimum_to_ask_for() -> None:
    page = render_report_html(report_of(saint_laurent(), tours_du_parc()))
    assert rows(page, 'id="glance"')[0] == [
        "Building", "Status", "To add", "Deadline", "Suggested minimum", "Findings"]
    assert glance_row(page, "Les Tours du Parc") == [
        "Les Tours du Parc", "Critical", "$3,500.00", "August 2, 2026 now: a refund can fail",
        "—", "Balance below zero · Refunds on hold for lack of funds · Largest refund not "
        "covered"]
    assert glance_row(page, "Résidence Saint-Laurent") == [
        "Résidence Saint-Laurent", "Critical", "—",
        "August 7, 2026 the next automatic payout", "$1,850.00",
        "Largest refund not covered · No minimum balance"]


def test_money_is_marked_as_the_platform_s_home_market_reads_it() -> None:
    # Canadian buildings on a US platform: their dollars are the operator's foreign ones.
    page = render_report_html(report_of(tours_du_parc()), Policy(platform_country="US"))
    assert glance_row(page, "Les Tours du Parc")[2] == "CA$3,500.00"
    page = render_report_html(report_of(tours_du_parc()), Policy(platform_country="CA"))
    assert glance_row(page, "Les Tours du Parc")[2] == "$3,500.00"


def test_a_warning_s_suggested_minimum_is_shown_without_a_deadline() -> None:
    warned = AccountReport(
        account_id="acct_w", name="Parc Lafontaine", locale="fr", status="warning",
        findings=[Finding.of(RuleCode.MIN_BALANCE_NOT_SET, "cad", 150_000, exposure=142_000)],
        positions=[position(prefund=200_000, capacity=200_000, exposure=142_000)])
    ok = AccountReport(account_id="acct_ok", name="Aardvark Court", locale="en", status="ok")
    page = render_report_html(report_of(warned, ok))
    assert glance_row(page, "Parc Lafontaine") == [
        "Parc Lafontaine", "Warning", "—", "—", "$1,500.00", "No minimum balance"]
    assert glance_row(page, "Aardvark Court") == ["Aardvark Court", "OK", "—", "—", "—", "—"]


def test_a_building_with_two_currencies_has_a_row_for_each() -> None:
    account = tours_du_parc().model_copy(update={
        "findings": [*tours_du_parc().findings,
                     Finding.of(RuleCode.PREFUND_BELOW_TARGET, "usd", 10_000, target=50_000,
                                prefund=40_000)],
        "positions": [*tours_du_parc().positions,
                      position(currency="usd", available=80_000, prefund=40_000, minimum=50_000,
                               exposure=45_000, capacity=90_000)],
    })
    glance = rows(render_report_html(report_of(account)), 'id="glance"')
    assert glance[1][:3] == ["Les Tours du Parc CAD", "Critical", "$3,500.00"]
    assert glance[2] == ["Les Tours du Parc USD", "Critical", "—", "—", "—",
                         "Prefunding below target"]


@pytest.mark.parametrize(("pos", "findings", "shown"), [
    (position(minimum_known=False), [], "unknown"),
    (position(minimum_known=True), [], "not set"),
    (position(minimum=150_000), [], "$1,500.00"),
    # Reports written before positions said whether the minimum is known:
    (position(), [Finding.of(RuleCode.MIN_BALANCE_NOT_SET, "cad", 185_000)], "not set"),
    (position(), [], "unknown"),
    (position(), [Finding.of(RuleCode.REFUND_CAPACITY_SHORT, "cad", 182_000,
                             cause="minimum_balance_unknown")], "unknown"),
    (position(automatic_payouts=False), [], "not set"),
])
def test_an_unknown_minimum_is_never_called_not_set(pos: dict[str, Any],
                                                    findings: list[Finding],
                                                    shown: str) -> None:
    account = AccountReport(account_id="acct_m", name="Queen Mary Court", locale="en",
                            status="ok", findings=findings, positions=[pos])
    cells = rows(render_report_html(report_of(account)), "stack positions")
    assert cells[0][5] == "Minimum balance"
    assert cells[1][5] == shown
    assert f'<td class="num" data-label="Minimum balance">{shown}</td>' in \
        render_report_html(report_of(account))


@pytest.mark.parametrize(("automatic", "findings", "shown"), [
    (True, [], "automatic"),
    (False, [], "manual"),
    (False, [Finding.of(RuleCode.PAYOUTS_DISABLED)], "disabled"),
])
def test_manual_payouts_and_payouts_turned_off_read_differently(
    automatic: bool, findings: list[Finding], shown: str,
) -> None:
    account = AccountReport(account_id="acct_p", name="Rideau Gardens", locale="en",
                            status="ok", findings=findings,
                            positions=[position(automatic_payouts=automatic)])
    assert f'<td data-label="Payouts">{shown}</td>' in render_report_html(report_of(account))


def test_the_minimum_and_payout_words_in_french() -> None:
    assert gettext(MINIMUM_UNKNOWN, "fr") == "inconnu"
    assert gettext(MINIMUM_NOT_SET, "fr") == "non défini"
    assert {k: gettext(v, "fr") for k, v in PAYOUTS.items()} == {
        "automatic": "automatiques", "manual": "manuels", "disabled": "désactivés"}


def test_the_page_leads_with_the_night_checked_not_the_run_s_date() -> None:
    html = render_report_html(report_of(short_account()))
    assert "<title>Night of August 2, 2026 · Balance Guard</title>" in html
    assert "<h1>Night of Sunday, August 2, 2026</h1>" in html
    assert html.index("2026-12-02") > html.index("</main>")
    assert "<footer>Run id: 2026-12-02T06:00:00Z-abcd</footer>" in html


def test_a_short_position_draws_a_red_bar_stopping_before_the_exposure_mark() -> None:
    html = render_report_html(report_of(short_account()))
    assert 'class="fill short" style="width: 24.2%"' in html
    assert "left: calc(100.0% - 1px)" in html


def test_worst_accounts_come_first() -> None:
    ok = AccountReport(account_id="acct_ok", name="Aardvark Court", locale="en", status="ok")
    html = render_report_html(report_of(ok, short_account("Zebra Towers")))
    assert html.index("Zebra Towers") < html.index("Aardvark Court")
    assert [row[0] for row in rows(html, 'id="glance"')[1:]] == ["Zebra Towers",
                                                                 "Aardvark Court"]


def test_the_page_s_words_come_from_the_catalog_and_only_the_values_are_escaped() -> None:
    failed = AccountReport(account_id="acct_2", name="Place Verte", locale="en",
                           status="error", error="<b>timeout</b>", reserves_known=False)
    html = render_report_html(report_of(failed))
    assert "<p>Each bar shows the <strong>guaranteed capacity</strong> (what is sure" in html
    assert '<p class="notice">Could not be checked: &lt;b&gt;timeout&lt;/b&gt;</p>' in html
    assert "cannot read Stripe's Reserves API.</p>" in html
    assert "<div>Buildings: 1 · Emails sent: 0 · Stripe requests: 12 · Duration: 0.5 s</div>" \
        in html
    assert '<span class="pill error">Not checked: 1</span>' in html


def test_hostile_building_names_are_escaped() -> None:
    html = render_report_html(report_of(short_account('<script>alert("x")</script>')))
    assert "<script>alert" not in html
    assert '<a href="#acct_1">&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</a>' in html


def test_an_email_a_re_check_sent_during_the_day_reads_sent_in_real_time() -> None:
    emails = [
        EmailRecord(to=["gestion@habitations-beaubien.example"], message_id="<rt@x>",
                    subject="Les Habitations Beaubien : un remboursement est en attente",
                    realtime=True),
        EmailRecord(to=["gestion@habitations-beaubien.example", "ca@beaubien.example"],
                    message_id="<night@x>", subject="Les Habitations Beaubien : bilan"),
    ]
    building = AccountReport(account_id="acct_hbb", name="Les Habitations Beaubien",
                             locale="fr", status="critical", emails=emails)
    page = render_report_html(report_of(building))
    assert '<p class="acct">Emailed: gestion@habitations-beaubien.example — “Les Habitations ' \
           'Beaubien : un remboursement est en attente” <span class="pill realtime">sent in ' \
           'real time</span>; gestion@habitations-beaubien.example, ca@beaubien.example — ' \
           '“Les Habitations Beaubien : bilan”</p>' in article(page, "acct_hbb")
    assert page.count("sent in real time") == 1
    assert gettext("sent in real time", "fr") == "envoyé en temps réel"


def test_a_night_s_own_email_is_not_called_real_time() -> None:
    night = EmailRecord(to=["a@b.example"], subject="Bilan", message_id="<n@x>")
    page = render_report_html(report_of(AccountReport(
        account_id="acct_n", name="Night Court", locale="en", status="ok", emails=[night])))
    assert '<p class="acct">Emailed: a@b.example — “Bilan”</p>' in page
    assert "real time" not in page


# New since last night: what the previous night's report did not have.

def yesterday(*accounts: AccountReport) -> Report:
    return report_of(*accounts, as_of=date(2026, 8, 1), run_id="2026-12-01T06:00:00Z-0000")


def new_marks(page: str, account_id: str) -> list[str]:
    """The titles of the findings marked new in one building's table."""
    return [text_of(title) for title in re.findall(
        r'<span class="pill new">new</span> <a [^>]*>(.*?)</a>', article(page, account_id))]


def test_only_what_the_previous_night_did_not_have_is_marked_new() -> None:
    before = tours_du_parc().model_copy(update={"findings": tours_du_parc().findings[:1]})
    page = render_report_html(report_of(tours_du_parc()), previous=yesterday(before))
    assert new_marks(page, "acct_tdp") == ["Refunds on hold for lack of funds",
                                           "Largest refund not covered"]
    assert glance_row(page, "Les Tours du Parc")[1] == "Critical new"
    assert "<p class=\"legend\"><strong>New</strong>: not found on the night of August 1, " \
           "2026.</p>" in page


def test_nothing_is_marked_new_without_a_night_to_compare_with() -> None:
    for previous in (None, report_of(saint_laurent()), report_of(saint_laurent(),
                                                                 as_of=date(2026, 8, 3))):
        page = render_report_html(report_of(tours_du_parc()), previous=previous)
        assert new_marks(page, "acct_tdp") == []
        assert '<p class="legend">No report of an earlier night to compare with: nothing ' \
               'is marked new.</p>' in page


def test_a_building_not_checked_last_night_has_nothing_called_new() -> None:
    failed = AccountReport(account_id="acct_tdp", name="Les Tours du Parc", locale="fr",
                           status="error", findings=[Finding.of(RuleCode.CHECK_FAILED, reason="x")])
    page = render_report_html(report_of(tours_du_parc(), saint_laurent()),
                              previous=yesterday(failed))
    assert new_marks(page, "acct_tdp") == []
    assert new_marks(page, "acct_rsl") == []  # not in last night's report at all


def test_a_failure_after_a_good_night_is_new() -> None:
    failed = AccountReport(account_id="acct_tdp", name="Les Tours du Parc", locale="fr",
                           status="error", findings=[Finding.of(RuleCode.CHECK_FAILED, reason="x")])
    page = render_report_html(report_of(failed), previous=yesterday(tours_du_parc()))
    assert new_marks(page, "acct_tdp") == ["Check failed"]


def test_new_follows_what_the_emails_remember_a_finding_by() -> None:
    """A prefunding drop is new every night it is seen; a release is new by its date."""
    def reserves(release_day: date) -> AccountReport:
        return AccountReport(
            account_id="acct_bt", name="Bayview Terrace", locale="en", status="info",
            findings=[
                Finding.of(RuleCode.PREFUND_USED, "usd", 5_000, previous=10_000, prefund=5_000),
                Finding.of(RuleCode.RESERVE_RELEASE_UPCOMING, "usd", 20_388,
                           releases=[{"date": release_day.isoformat(), "amount": 20_388}]),
                Finding.of(RuleCode.RESERVE_HELD, "usd", 81_551, holds=4),
            ],
            reserve_releases=[ReserveRelease(currency="usd", amount=20_388,
                                             release_date=release_day, payout_date=None,
                                             arrival_date=None)],
        )
    last_night = yesterday(reserves(date(2026, 8, 6)))
    same = render_report_html(report_of(reserves(date(2026, 8, 6))), previous=last_night)
    assert new_marks(same, "acct_bt") == ["Prefunding used"]
    moved = render_report_html(report_of(reserves(date(2026, 8, 10))),
                               previous=last_night)
    assert new_marks(moved, "acct_bt") == ["Prefunding used", "Reserve release coming"]
