"""`balance-guard reserve-simulate` reads real spreadsheets: French Excel's CSV (`;`, `1 234,56`,
a BOM), standard input, ISO currencies only, the account's country from its currency, and
money marked for a reader in the platform's country. Every bad input is one line, exit 2."""

from __future__ import annotations

import codecs
import io
import json
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from balance_guard.cli import main as cli_main
from balance_guard.cli.simulate import (
    SimulationInputError,
    checked_currency,
    currency_home,
    main,
    parse_day,
    parse_major,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "shared" / "balance_guard" / "cli" / "examples"
EXCEL_FR = EXAMPLES / "reserve_transactions_excel_fr.csv"
NBSP, NNBSP = "\u00a0", "\u202f"
FIXED = ["--type", "fixed", "--percent", "25", "--release-date", "2026-08-30"]
ERROR = "balance-guard reserve-simulate: error: "
NO_PAYMENTS = (f"{ERROR}no payments to simulate: give a CSV file with --csv FILE (columns date, "
               "gross; optional: fee, currency), or pipe one into standard input\n")


class Terminal(io.StringIO):
    """Standard input as a person at a terminal has it: nothing piped in."""

    def isatty(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> str:
        raise AssertionError("a terminal's input must not be read")


def piped(data: bytes) -> io.TextIOWrapper:
    """Standard input with `data` piped into it, as `balance-guard ... < payments.csv`."""
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")


@pytest.fixture(autouse=True)
def _at_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", Terminal())


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path: Path, data: bytes | str, name: str = "payments.csv") -> str:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return str(path)


def nb(text: str) -> str:
    """`~` marks a no-break space, so expected French reads as printed."""
    return text.replace("~", NBSP)


# What French Excel saves (UTF-8 with a BOM, `;`, CRLF, no-break spaces in `1 234,56`), for a
# reader on the Canadian platform: CAD, the account's currency, is plain `$`; the account is
# in Canada because its currency is.
FRENCH_TIMELINE = nb("""\
Réserve fixe de 25~% sur le montant net de chaque paiement, débloquée après le 30~août 2026.
Virements~: quotidiens, les jours ouvrables des banques (Canada); un virement arrive à la \
banque 2 jours ouvrables après son envoi.

1er~août 2026
  Paiement 1~234,56~$, frais 36,10~$, net 1~198,46~$
  Mis en réserve~: 299,61~$ (en réserve~: 299,61~$)
4~août 2026
  Paiement 2~000,00~$, frais 58,30~$, net 1~941,70~$
  Mis en réserve~: 485,42~$ (en réserve~: 785,03~$)
31~août 2026
  Paiement 1~000,50~$, frais 29,31~$, net 971,19~$
  Débloqué~: 785,03~$ (en réserve~: 0,00~$)
    Viré le 31~août 2026, à la banque le 2~septembre 2026

Totaux en CAD~: mis en réserve 785,03~$, débloqué 785,03~$; au plus 785,03~$ en réserve en \
fin de journée.
""")


# --- French Excel ---------------------------------------------------------------------------

def test_the_example_is_what_french_excel_saves() -> None:
    data = EXCEL_FR.read_bytes()
    assert data.startswith(codecs.BOM_UTF8)
    assert data.splitlines()[0] == codecs.BOM_UTF8 + b"Date;Montant;Frais;Devise"
    assert b"\r\n" in data
    assert "1\u00a0234,56".encode() in data


def test_french_excel_csv_gives_the_exact_timeline(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, *FIXED, "--locale", "fr", "--csv", str(EXCEL_FR))
    assert (code, err) == (0, "")
    assert out == FRENCH_TIMELINE


@pytest.mark.parametrize(
    ("space", "encoding"),
    [(space, encoding) for space in (" ", NBSP, NNBSP, "\u2009")
     for encoding in ("utf-8-sig", "utf-8", "utf-16", "cp1252")
     if encoding != "cp1252" or space in (" ", NBSP)],  # Windows-1252 has no narrow space
)
def test_any_french_thousands_space_and_excel_encoding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], space: str, encoding: str,
) -> None:
    text = ("date;brut;frais;devise\r\n"
            f"2026-08-01;1{space}234,56;;CAD\r\n"
            f"04/08/2026;2{space}000,00;58,30;cad\r\n"
            f"2026-08-31;1{space}000,50;;\r\n;;;\r\n")
    csv_file = write(tmp_path, text.encode(encoding))
    code, out, err = run_cli(capsys, *FIXED, "--locale", "fr", "--csv", csv_file)
    assert (code, err) == (0, "")
    assert out == FRENCH_TIMELINE


def test_comma_separated_file_with_quoted_french_amounts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    csv_file = write(tmp_path, 'date,gross,fee\n2026-08-01,"1 234,56","36,10"\n'
                               "2026-08-04,100,\n")
    code, out, _ = run_cli(capsys, *FIXED, "--locale", "fr", "--csv", csv_file, "--json")
    assert code == 0
    assert [(t["gross"], t["fee"]) for t in json.loads(out)["transactions"]] == [
        (123456, 3610), (10000, 320)]


def test_excel_sep_line_names_the_separator(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    csv_file = write(tmp_path, "sep=;\ndate;gross;note\n2026-08-01;1 234,56;a, b\n")
    code, out, _ = run_cli(capsys, *FIXED, "--locale", "fr", "--csv", csv_file, "--json")
    assert code == 0
    assert json.loads(out)["transactions"][0]["gross"] == 123456


def test_english_amounts_may_group_thousands_with_commas(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    csv_file = write(tmp_path, 'date,gross\n2026-08-01,"1,234.56"\n2026-08-04,1234.56\n')
    code, out, _ = run_cli(capsys, *FIXED, "--csv", csv_file, "--json")
    assert code == 0
    assert [t["gross"] for t in json.loads(out)["transactions"]] == [123456, 123456]


def test_a_french_amount_without_locale_fr_says_what_to_add(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run_cli(capsys, *FIXED, "--csv", str(EXCEL_FR))
    assert (code, out) == (2, "")
    assert err == (f"{ERROR}reserve_transactions_excel_fr.csv line 2: '1 234,56' is not an "
                   "amount like 1,234.56 (amounts like 1 234,56 need --locale fr)\n")


# --- standard input -------------------------------------------------------------------------

def test_payments_piped_into_standard_input(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(sys, "stdin", piped(EXCEL_FR.read_bytes()))
    code, out, err = run_cli(capsys, *FIXED, "--locale", "fr")
    assert (code, err) == (0, "")
    assert out == FRENCH_TIMELINE


def test_csv_dash_reads_standard_input_through_the_main_cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(sys, "stdin", piped(EXCEL_FR.read_bytes()))
    code = cli_main.main(["reserve-simulate", *FIXED, "--locale", "fr", "--csv", "-"])
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    assert out == FRENCH_TIMELINE


def test_bad_row_on_standard_input_is_named_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(sys, "stdin", piped(b"date;gross\n2026-08-01;12\n2026-08-02;douze\n"))
    code, _, err = run_cli(capsys, *FIXED, "--locale", "fr")
    assert code == 2
    assert err == (f"{ERROR}standard input line 3: 'douze' is not an amount like 1 234,56\n")


def test_no_input_at_a_terminal_says_what_it_needs(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(capsys, *FIXED) == (2, "", NO_PAYMENTS)


def test_an_empty_pipe_is_no_input(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(sys, "stdin", piped(b""))
    assert run_cli(capsys, *FIXED) == (2, "", NO_PAYMENTS)


def test_a_balance_transfer_on_a_date_needs_no_payments(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["--type", "balance-transfer", "--percent", "10", "--window-days", "30",
            "--balance", "1000", "--transfer-date", "2026-08-03", "--json"]
    code, at_terminal, _ = run_cli(capsys, *argv)
    monkeypatch.setattr(sys, "stdin", piped(b""))
    assert run_cli(capsys, *argv) == (code, at_terminal, "")
    assert code == 0
    assert json.loads(at_terminal)["transactions"] == []


def test_a_header_without_payments_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = run_cli(capsys, *FIXED, "--csv", write(tmp_path, "date,gross\n\n"))
    assert code == 2
    assert err == f"{ERROR}payments.csv has no payments, only its header line\n"


# --- currencies and countries ---------------------------------------------------------------

@pytest.mark.parametrize("code", ["xyz", "XXX", "dollars", "us", "€"])
def test_only_iso_currency_codes_are_accepted(
    capsys: pytest.CaptureFixture[str], code: str,
) -> None:
    exit_code, out, err = run_cli(capsys, *FIXED, "--currency", code)
    assert (exit_code, out) == (2, "")
    assert err == (f"{ERROR}--currency: '{code}' is not an ISO 4217 currency code "
                   "(like cad, usd or eur)\n")


def test_a_row_in_an_unknown_currency_names_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    csv_file = write(tmp_path, "date,gross,currency\n2026-08-01,1,cad\n2026-08-02,1,xyz\n")
    code, _, err = run_cli(capsys, *FIXED, "--csv", csv_file)
    assert code == 2
    assert err == (f"{ERROR}payments.csv line 3: 'xyz' is not an ISO 4217 currency code "
                   "(like cad, usd or eur)\n")


def test_currency_codes_and_their_countries() -> None:
    assert [checked_currency(c) for c in ("CAD", " usd ", "eur", "jpy", "ang")] == [
        "cad", "usd", "eur", "jpy", "ang"]
    assert [currency_home(c) for c in ("cad", "usd", "chf", "jpy", "eur", "xof")] == [
        "CA", "US", "CH", "JP", None, None]


def test_the_country_comes_from_the_currency(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    rolling = ["--type", "rolling", "--percent", "25", "--window-days", "42"]
    csv_file = write(tmp_path, "date,gross,currency\n2026-08-31,300.00,cad\n")
    _, cad, _ = run_cli(capsys, *rolling, "--csv", csv_file)
    _, usd, _ = run_cli(capsys, *rolling, "--csv", csv_file, "--currency", "usd",
                        "--country", "US")
    # Aug 31 + 42 days is Monday Oct 12, Thanksgiving in Canada: paid on Tuesday.
    assert "on bank business days (Canada)" in cad
    assert "Paid out on October 13, 2026, at the bank on October 15, 2026" in cad
    assert json.loads(run_cli(capsys, *rolling, "--csv", csv_file, "--json")[1])[
        "country"] == "CA"
    assert "on bank business days (United States)" in usd


def test_a_shared_currency_needs_the_country(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    csv_file = write(tmp_path, "date,gross,currency\n2026-08-03,100.00,eur\n")
    code, _, err = run_cli(capsys, *FIXED, "--csv", csv_file)
    assert code == 2
    assert err == (f"{ERROR}EUR is the money of several countries: say which is the account's "
                   "with --country (for its bank holidays)\n")
    code, out, _ = run_cli(capsys, *FIXED, "--csv", csv_file, "--country", "FR", "--locale",
                           "fr")
    assert code == 0
    assert nb("  Paiement 100,00~€, frais 3,20~€, net 96,80~€\n") in out


def test_payments_in_several_currencies_need_the_accounts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    csv_file = write(tmp_path, "date,gross,currency\n2026-08-03,1,cad\n2026-08-03,1,usd\n")
    code, _, err = run_cli(capsys, *FIXED, "--csv", csv_file)
    assert code == 2
    assert err == (f"{ERROR}the payments are in CAD and USD: say which is the account's "
                   "currency with --currency\n")
    assert run_cli(capsys, *FIXED, "--csv", csv_file, "--currency", "cad")[0] == 0


# --- which dollar: the reader is in the platform's country -----------------------------------

TOTALS = {
    "en": "Totals in {code}: held {x}, released {x}; at most {x} in reserve at the end of a day.",
    "fr": nb("Totaux en {code}~: mis en réserve {x}, débloqué {x}; au plus {x} en réserve en "
             "fin de journée."),
}


@pytest.mark.parametrize(
    ("platform", "language", "cad", "usd"),
    [
        (None, "en", "$25,000.00", "US$72.67"),  # the platform's default country: Canada
        ("CA", "en", "$25,000.00", "US$72.67"),
        ("CA", "fr", nb("25~000,00~$"), nb("72,67~$~US")),
        ("US", "en", "CA$25,000.00", "$72.67"),
        ("US", "fr", nb("25~000,00~$~CA"), nb("72,67~$")),
    ],
)
def test_money_is_marked_for_a_reader_in_the_platforms_country(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    platform: str | None, language: str, cad: str, usd: str,
) -> None:
    if platform is not None:
        monkeypatch.setenv("PLATFORM_COUNTRY", platform)
    # A Canadian account (its balance in cad) with card payments in usd.
    code, out, err = run_cli(
        capsys, "--csv", str(EXAMPLES / "reserve_transactions.csv"), "--type",
        "balance-transfer", "--percent", "25", "--release-date", "2026-08-30",
        "--balance", "100000.00", "--currency", "cad", "--locale", language)
    assert (code, err) == (0, "")
    assert out.splitlines()[-2:] == [TOTALS[language].format(code="CAD", x=cad),
                                     TOTALS[language].format(code="USD", x=usd)]
    # The account's country (its bank holidays) is its currency's, whoever reads.
    assert "(Canada)" in out.splitlines()[1]


def test_a_bad_platform_country_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PLATFORM_COUNTRY", "Canada")
    code, _, err = run_cli(capsys, *FIXED, "--csv", str(EXCEL_FR), "--locale", "fr")
    assert code == 2
    assert err.startswith(f"{ERROR}invalid policy setting platform_country")
    assert err.count("\n") == 1


# --- bad rows: one line naming the line and what is wrong -----------------------------------

@pytest.mark.parametrize(
    ("content", "locale", "message"),
    [
        ("date;gross\n2026-08-01;1 234,56\n2026-08-01;1.234,56\n", "fr",
         "payments.csv line 3: '1.234,56' is not an amount like 1 234,56"),
        ("date;gross\n2026-08-01;12 34,56\n", "fr",
         "payments.csv line 2: '12 34,56' is not an amount like 1 234,56"),
        ("date;gross\n31/08/2026;1\n", "en",
         "payments.csv line 2: '31/08/2026' is not a date (YYYY-MM-DD)"),
        ("date;gross\n31/02/2026;1\n", "fr",
         "payments.csv line 2: '31/02/2026' is not a date (YYYY-MM-DD or DD/MM/YYYY)"),
        ("date;gross\n;1\n", "fr", "payments.csv line 2: the date is missing"),
        ("date;gross;fee\n2026-08-01;10,00;12,00\n", "fr",
         "payments.csv line 2: the fee '12,00' is more than the payment '10,00'"),
        ("date;gross\n2026-08-01;-5\n", "fr",
         "payments.csv line 2: '-5' is not an amount of zero or more"),
        ("date;gross\n2026-08-01;1,005\n", "fr",
         "payments.csv line 2: '1,005' has more decimals than USD allows"),
        ("quand;combien\n2026-08-01;1\n", "fr",
         "payments.csv: the first line must name the columns, with at least date and gross "
         "(optional: fee, currency), separated by , or ;"),
        ("\n\n", "fr", "payments.csv is empty: it needs a header line naming the columns "
         "(date, gross; optional: fee, currency) and one line per payment"),
        ("date;gross;currency\n2026-08-01;1,5;jpy\n", "fr",
         "payments.csv line 2: '1,5' has more decimals than JPY allows"),
    ],
)
def test_bad_rows_are_one_line_naming_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, locale: str,
    message: str,
) -> None:
    code, out, err = run_cli(capsys, *FIXED, "--locale", locale, "--csv",
                             write(tmp_path, content))
    assert (code, out, err) == (2, "", f"{ERROR}{message}\n")


@pytest.mark.parametrize("argv", [["--type", "fixed", "--release-date", "9999-12-31"],
                                  ["--type", "rolling", "--window-days", "30"]])
def test_dates_past_the_calendar_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
) -> None:
    csv_file = write(tmp_path, "date,gross\n9999-12-30,100\n")
    code, _, err = run_cli(capsys, *argv, "--percent", "25", "--csv", csv_file)
    assert (code, err) == (2, f"{ERROR}the dates are too late: a release or a payout would "
                              "fall after the year 9999\n")


def test_not_a_text_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # 0x81 is undefined in Windows-1252 and invalid in UTF-8.
    code, _, err = run_cli(capsys, *FIXED, "--csv", write(tmp_path, b"date,gross\n\x81,1\n"))
    assert (code, err) == (2, f"{ERROR}payments.csv is not a text file (UTF-8, UTF-16 or "
                              "Windows-1252)\n")


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=200) | st.text(
    alphabet=st.sampled_from([*"0123456789,;.-/ \n\"'%+abcdefgrsu€$", NBSP, NNBSP]),
    max_size=120).map(str.encode), locale=st.sampled_from(["fr", "en"]),
       header=st.sampled_from([b"date;gross;fee;currency\n", b"sep=,\ndate,montant,frais\n",
                               b"\xef\xbb\xbfdate\tgross\n", b""]))
def test_no_input_ever_gives_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], body: bytes, locale: str, header: bytes,
) -> None:
    csv_file = write(tmp_path, header + body)
    code, out, err = run_cli(capsys, "--type", "rolling", "--percent", "25", "--window-days",
                             "30", "--locale", locale, "--csv", csv_file)
    if code == 0:
        assert err == ""
        assert out
    else:
        assert (code, out) == (2, "")
        assert err.startswith(ERROR)
        assert err.count("\n") == 1


# --- the parsers on their own ---------------------------------------------------------------

def test_french_and_english_amounts() -> None:
    assert parse_major("1 234,56", "cad", "fr") == 123456
    assert parse_major(f"1{NBSP}234{NBSP}567,8", "cad", "fr") == 123456780
    assert parse_major(f"1{NNBSP}000", "jpy", "fr") == 1000
    assert parse_major("100.00", "cad", "fr") == 10000  # a file written by a program
    assert parse_major("1,234,567.89", "usd", "en") == 123456789
    assert parse_major("12,5", "usd", "fr") == 1250
    for text, language in (("1,234", "fr"), ("1 234", "en"), ("12,5", "en"), ("1,2345", "en")):
        with pytest.raises(SimulationInputError):
            parse_major(text, "usd", language)


def test_french_dates_may_put_the_day_first() -> None:
    assert parse_day("01/08/2026", "fr") == parse_day("2026-08-01", "en")
    assert parse_day("1/8/2026", "fr") == parse_day("2026-08-01", "fr")
    with pytest.raises(SimulationInputError, match=r"\(YYYY-MM-DD\)"):
        parse_day("08/01/2026", "en")
