"""The report as a CSV for operations: exact rows, amounts a machine reads, cells a
spreadsheet shows rather than runs; and `run --report-csv`, checked before the night."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from balance_guard.cli.main import main
from balance_guard.domain.findings import Finding, RuleCode
from balance_guard.domain.headline import Headline
from balance_guard.report.csv import COLUMNS, dashboard_url, major, report_csv, safe_cell
from balance_guard.report.model import AccountReport, Report, totals_of
from balance_guard.sandbox.server import Sandbox
from tests.integration.conftest import KEY, account, scenario

AS_OF = date(2026, 8, 2)
HEADER = ("account_id,name,status,currency,available,prefund,minimum,exposure,capacity,"
          "to_add,suggested_minimum,deadline,top_finding,dashboard_url\r\n")
DASHBOARD = "https://dashboard.stripe.com/connect/accounts/"


def position(currency: str, available: int, prefund: int, minimum: int | None, exposure: int,
             capacity: int) -> dict[str, object]:
    return {"currency": currency, "available": available, "prefund": prefund,
            "minimum": minimum, "exposure": exposure, "capacity": capacity,
            "automatic_payouts": True}


def night() -> Report:
    accounts = [
        AccountReport(
            account_id="acct_1TdpToursDuParc", name="Les Tours du Parc", locale="fr",
            status="critical",
            findings=[
                Finding.of(RuleCode.NEGATIVE_BALANCE, "cad", 45_000, available=-45_000),
                Finding.of(RuleCode.REFUND_BLOCKED, "cad", 120_000, count=1),
                Finding.of(RuleCode.REFUND_CAPACITY_SHORT, "cad", 185_000, exposure=185_000,
                           capacity=0, cause="balance_below_minimum"),
                Finding.of(RuleCode.PREFUND_USED, "jpy", 5_000),
            ],
            positions=[position("cad", -45_000, 0, 200_000, 185_000, 0),
                       position("jpy", 230_000, 0, 200_000, 167_520, 200_000)],
            headlines=[Headline(currency="cad", add=350_000, minimum=None, deadline=AS_OF,
                                urgent=True, next_payout=date(2026, 8, 3), negative=45_000,
                                blocked=120_000, blocked_refunds=1, shortfall=185_000)],
        ),
        AccountReport(
            account_id="acct_1RslStLaurent0001", name="Résidence Saint-Laurent", locale="fr",
            status="critical",
            findings=[
                Finding.of(RuleCode.REFUND_CAPACITY_SHORT, "cad", 182_000, exposure=182_000,
                           capacity=0, cause="no_minimum_balance"),
                Finding.of(RuleCode.MIN_BALANCE_NOT_SET, "cad", 185_000, exposure=182_000),
            ],
            positions=[position("cad", 300_000, 0, None, 182_000, 0)],
            headlines=[Headline(currency="cad", add=0, minimum=185_000,
                                deadline=date(2026, 8, 7), urgent=False,
                                next_payout=date(2026, 8, 7))],
        ),
        AccountReport(
            account_id="acct_1HblHarbourview01", name="Harbourview Lofts", locale="en",
            status="warning",
            findings=[Finding.of(RuleCode.MIN_BALANCE_BELOW_EXPOSURE, "cad", 130_000,
                                 exposure=250_000, minimum=100_000),
                      Finding.of(RuleCode.PAYOUTS_DISABLED)],
            positions=[position("cad", 500_000, 20_000, 100_000, 250_000, 120_000)],
        ),
        AccountReport(account_id="acct_1MtcLeMontcalm001", name="Le Montcalm", locale="fr",
                      status="error", error="Stripe 500",
                      findings=[Finding.of(RuleCode.CHECK_FAILED, reason="Stripe 500")]),
        AccountReport(account_id="acct_1WmhWestmountHts1", name='=HYPERLINK("http://x")',
                      locale="en", status="ok",
                      positions=[position("usd", 80_000, 0, 50_000, 45_000, 50_000)]),
        AccountReport(account_id="-not,an id", name="@SUM(1+1)", locale="en", status="ok"),
    ]
    return Report(run_id="r", as_of=AS_OF, accounts=accounts,
                  totals=totals_of(accounts, stripe_requests=1, duration_s=1.0))


def test_one_row_per_account_and_currency_exactly() -> None:
    text = report_csv(night())

    assert text == HEADER + (
        f"acct_1TdpToursDuParc,Les Tours du Parc,critical,cad,-450.00,0.00,2000.00,1850.00,"
        f"0.00,3500.00,,2026-08-02,NEGATIVE_BALANCE,{DASHBOARD}acct_1TdpToursDuParc\r\n"
        f"acct_1TdpToursDuParc,Les Tours du Parc,critical,jpy,230000,0,200000,167520,200000,"
        f",,,PREFUND_USED,{DASHBOARD}acct_1TdpToursDuParc\r\n"
        f"acct_1RslStLaurent0001,Résidence Saint-Laurent,critical,cad,3000.00,0.00,,1820.00,"
        f"0.00,0.00,1850.00,2026-08-07,REFUND_CAPACITY_SHORT,"
        f"{DASHBOARD}acct_1RslStLaurent0001\r\n"
        f"acct_1HblHarbourview01,Harbourview Lofts,warning,cad,5000.00,200.00,1000.00,2500.00,"
        f"1200.00,,2500.00,,MIN_BALANCE_BELOW_EXPOSURE,{DASHBOARD}acct_1HblHarbourview01\r\n"
        f"acct_1MtcLeMontcalm001,Le Montcalm,error,,,,,,,,,,CHECK_FAILED,"
        f"{DASHBOARD}acct_1MtcLeMontcalm001\r\n"
        f"acct_1WmhWestmountHts1,\"'=HYPERLINK(\"\"http://x\"\")\",ok,usd,800.00,0.00,500.00,"
        f"450.00,500.00,,,,,{DASHBOARD}acct_1WmhWestmountHts1\r\n"
        "\"'-not,an id\",'@SUM(1+1),ok,,,,,,,,,,,\r\n"
    )


def test_every_row_has_every_column_and_reads_back() -> None:
    rows = list(csv.DictReader(io.StringIO(report_csv(night()), newline="")))

    assert len(rows) == 7
    assert all(list(row) == list(COLUMNS) and None not in row.values() for row in rows)
    assert rows[0]["to_add"] == "3500.00"
    assert rows[4]["top_finding"] == "CHECK_FAILED"


@pytest.mark.parametrize(("amount", "currency", "expected"), [
    (185_000, "cad", "1850.00"), (-45_000, "cad", "-450.00"), (5, "usd", "0.05"),
    (-5, "usd", "-0.05"), (0, "cad", "0.00"), (167_520, "jpy", "167520"),
    (1_234_567, "kwd", "1234.567"), (None, "cad", ""),
])
def test_amounts_are_major_units_with_a_dot(amount: int | None, currency: str,
                                            expected: str) -> None:
    assert major(amount, currency) == expected


@pytest.mark.parametrize(("cell", "expected"), [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0"),
    ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"), ("\r=1", "'\r=1"),
    ("-450.00", "-450.00"), ("-3", "-3"), ("Le Montcalm", "Le Montcalm"), ("", ""),
    ("1+1", "1+1"),
])
def test_a_cell_that_could_run_as_a_formula_is_quoted(cell: str, expected: str) -> None:
    assert safe_cell(cell) == expected


@pytest.mark.parametrize(("account_id", "expected"), [
    ("acct_1TdpToursDuParc", f"{DASHBOARD}acct_1TdpToursDuParc"),
    ("acct_", None), ("acct_1/../../x", None), ("acct_1?x=1", None), ("acct_1\n", None),
    ("ACCT_1", None), ("acct_1é", None), ("https://evil.example", None),
])
def test_only_a_stripe_account_id_makes_a_dashboard_link(account_id: str,
                                                         expected: str | None) -> None:
    assert dashboard_url(account_id) == expected


# -- run --report-csv ------------------------------------------------------------------------


@pytest.fixture
def healthy() -> Iterator[Sandbox]:
    with Sandbox(scenario(account("acct_healthy001"),
                          account("acct_critical01", balances={"available": {"cad": -20_000}})),
                 ) as sandbox:
        yield sandbox


def run(sandbox: Sandbox, tmp_path: Path, *extra: str) -> int:
    return main(["run", "--stripe-api-base", sandbox.base_url, "--api-key", KEY,
                 "--as-of", "2026-08-01", "--state", str(tmp_path / "state.sqlite"),
                 "--outbox", str(tmp_path / "outbox"), "--max-rps", "500", *extra])


def digest_of(outbox: Path) -> str:
    message = message_from_bytes((outbox / "digest_2026-08-01.eml").read_bytes(),
                                 policy=policy.default)
    assert isinstance(message, EmailMessage)
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    text: str = part.get_content()
    return text.replace("\r\n", "\n")


def test_run_writes_the_csv_and_the_digest_links_the_report(
    healthy: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "out"

    code = run(healthy, tmp_path, "--report-csv", str(out / "report.csv"),
               "--report-json", str(out / "report.json"))

    assert code == 0
    lines = (out / "report.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == HEADER.strip()
    assert [line.split(",")[:4] for line in lines[1:]] == [
        ["acct_critical01", "Building al01", "critical", "cad"],
        ["acct_healthy001", "Building y001", "ok", "cad"],
    ]
    assert "  report (CSV): " + str(out / "report.csv") in capsys.readouterr().out
    assert f"Full report: {(out / 'report.json').resolve().as_uri()}\n" in digest_of(
        tmp_path / "outbox")


def test_an_unwritable_csv_path_is_one_line_and_exit_two_before_any_read(
    healthy: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    bad = blocker / "inside" / "report.csv"

    assert run(healthy, tmp_path, "--report-csv", str(bad)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"balance-guard: --report-csv {bad}: cannot write there (Not a directory)"]
    assert healthy.request_count == 0


def test_a_csv_that_cannot_be_written_is_exit_four_and_the_digest_links_what_was(
    healthy: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    taken = tmp_path / "taken.csv"
    taken.mkdir()  # a folder where the file should go
    html = tmp_path / "report.html"

    assert run(healthy, tmp_path, "--report-csv", str(taken), "--report-html", str(html)) == 4
    err = capsys.readouterr().err
    assert f"balance-guard: --report-csv {taken}: not written (Is a directory)\n" in err
    assert "Traceback" not in err
    assert f"Full report: {html.resolve().as_uri()}\n" in digest_of(tmp_path / "outbox")


def test_a_report_not_written_is_not_linked(healthy: Sandbox, tmp_path: Path) -> None:
    taken = tmp_path / "taken.html"
    taken.mkdir()

    assert run(healthy, tmp_path, "--report-html", str(taken)) == 4
    assert "Full report" not in digest_of(tmp_path / "outbox")
