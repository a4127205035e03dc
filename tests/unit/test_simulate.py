"""`balance-guard reserve-simulate`: the reserve timeline in French and English."""

from __future__ import annotations

import argparse
import io
import json
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from babel.numbers import format_currency

from balance_guard.cli.simulate import (
    FeeRule,
    SimulationInputError,
    add_parser,
    main,
    parse_fee_rule,
    parse_major,
)
from balance_guard.domain.money import to_major
from balance_guard.domain.reserves import card_fee, reserved_part

EXAMPLES = Path(__file__).resolve().parents[2] / "shared" / "balance_guard" / "cli" / "examples"
SOURCE_CSV = EXAMPLES / "reserve_transactions.csv"
ROLLING_CSV = EXAMPLES / "reserve_transactions_rolling.csv"
NBSP = "\u00a0"  # French: a no-break space before ":" (and none before ; ? !)

FIXED = ["--csv", str(SOURCE_CSV), "--type", "fixed", "--percent", "25",
         "--release-date", "2026-08-30"]
TRANSFER = ["--csv", str(SOURCE_CSV), "--type", "balance-transfer", "--percent", "25",
            "--release-date", "2026-08-30", "--balance", "100000.00"]


class Terminal(io.StringIO):
    """Standard input as a person at a terminal has it: nothing piped in."""

    def isatty(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> str:
        raise AssertionError("a terminal's input must not be read")


@pytest.fixture(autouse=True)
def _at_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", Terminal())


@pytest.fixture
def us_platform(monkeypatch: pytest.MonkeyPatch) -> None:
    """A platform in the United States: its operators read USD as `$`."""
    monkeypatch.setenv("PLATFORM_COUNTRY", "US")


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def source_total() -> int:
    """25 % of the source payments' net, computed from the gross amounts and the fee rule."""
    return sum(reserved_part(gross - card_fee(gross), Decimal(25)) for gross in (10000, 20000))


# --- English and French timelines ---------------------------------------------------------

@pytest.mark.usefixtures("us_platform")
def test_fixed_reserve_timeline_in_english(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, *FIXED, "--locale", "en")
    assert (code, err) == (0, "")
    total = format_currency(to_major(source_total(), "usd"), "USD", locale="en_US")
    assert total == "$72.67"
    assert "Fixed reserve of 25% on each payment's net amount, released after August 30, " \
           "2026." in out
    assert "  Payment $100.00, fee $3.20, net $96.80\n" in out
    assert "  Held in reserve: $24.20 (in reserve: $24.20)\n" in out
    assert "  Held in reserve: $48.47 (in reserve: $72.67)\n" in out
    assert "August 31, 2026\n  Released: $72.67 (in reserve: $0.00)\n" in out
    assert "    Paid out on August 31, 2026, at the bank on September 2, 2026\n" in out
    assert f"Totals in USD: held {total}, released {total}" in out


def test_fixed_reserve_timeline_in_french(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, *FIXED, "--locale", "fr")
    assert code == 0
    assert f"Réserve fixe de 25{NBSP}% sur le montant net" in out
    # Amounts for a reader on the (Canadian) platform, as its digest writes them: USD is
    # marked, "48,47 $ US", even for a US account.
    assert (f"  Mis en réserve{NBSP}: 48,47{NBSP}${NBSP}US "
            f"(en réserve{NBSP}: 72,67{NBSP}${NBSP}US)\n") in out
    assert f"31{NBSP}août 2026\n" in out
    assert (f"    Viré le 31{NBSP}août 2026, à la banque le 2{NBSP}septembre 2026\n"
            ) in out
    # The first of the month is an ordinal in French.
    assert out.splitlines()[3] == f"1er{NBSP}août 2026"
    # Payouts are "virements", as on Stripe's French dashboard, in a named country.
    assert (f"Virements{NBSP}: quotidiens, les jours ouvrables des banques (États-Unis)"
            "; un virement arrive à la banque 2 jours ouvrables après son envoi.\n"
            ) in out
    assert "(US)" not in out


@pytest.mark.parametrize("extra", [[], ["--schedule", "manual"], ["--country", "ZZ"],
                                   ["--schedule", "weekly", "--payout-days", "monday"]])
def test_french_typography_is_the_one_rule_of_the_product(
    capsys: pytest.CaptureFixture[str], extra: list[str]
) -> None:
    _, out, _ = run_cli(capsys, *TRANSFER, *extra, "--locale", "fr")
    colons = [i for i, char in enumerate(out) if char == ":"]
    assert colons
    for index in colons:  # `Versements\u00a0: ...`
        assert out[index - 2:index] not in (" " + NBSP, NBSP + NBSP)
        assert out[index - 1] == NBSP, out[max(0, index - 30):index + 1]
    for index in (i for i, char in enumerate(out) if char in ";!?"):  # `(États-Unis); un`
        assert not out[index - 1].isspace(), out[max(0, index - 30):index + 1]
    assert "\u202f:" not in out
    assert " :" not in out
    assert "'" not in out  # typographic apostrophes, as in the catalog
    assert "n’est" in out or "d’un" in out


def test_balance_transfer_in_french_canada(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, *TRANSFER, "--country", "CA", "--locale", "fr")
    assert code == 0
    expected = reserved_part(100_000_00, Decimal(25)) + source_total()
    formatted = format_currency(to_major(expected, "usd"), "USD", locale="fr_CA")
    # Babel's convention: USD in fr-CA is written 25 072,67 $ US.
    assert formatted == f"25{NBSP}072,67{NBSP}${NBSP}US"
    assert f"  Débloqué{NBSP}: {formatted} (en réserve{NBSP}: 0,00{NBSP}${NBSP}US)\n" in out
    assert f"transféré le 1er{NBSP}août 2026" in out
    assert (f"    Viré le 31{NBSP}août 2026, à la banque le 2{NBSP}septembre 2026\n"
            ) in out
    assert "les jours ouvrables des banques (Canada)" in out
    assert "(CA)" not in out


def test_balance_transfer_in_english_canada(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, *TRANSFER, "--country", "CA", "--currency", "cad",
                           "--locale", "en")
    assert code == 0
    # The CSV rows say usd; the balance is in the account's cad.
    assert "Moved from the balance into the reserve: $25,000.00 (25% of $100,000.00)" in out
    assert "Totals in CAD: held $25,000.00" in out
    assert "Totals in USD: held US$72.67" in out


def test_rolling_reserve_over_canadian_thanksgiving(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "--csv", str(ROLLING_CSV), "--type", "rolling",
                           "--percent", "25", "--window-days", "42", "--country", "CA",
                           "--locale", "en")
    assert code == 0
    # Aug 31 + 42 days = Monday Oct 12, Thanksgiving in Canada: paid Tuesday, at the bank
    # two business days later.
    assert "October 12, 2026\n  Released: US$72.75" in out
    assert "Paid out on October 13, 2026, at the bank on October 15, 2026" in out


def test_manual_payouts_in_both_languages(capsys: pytest.CaptureFixture[str]) -> None:
    _, out_en, _ = run_cli(capsys, *FIXED, "--schedule", "manual")
    _, out_fr, _ = run_cli(capsys, *FIXED, "--schedule", "manual", "--locale", "fr")
    assert "Payouts: manual." in out_en
    assert "    Available for a manual payout\n" in out_en
    assert f"Virements{NBSP}: manuels." in out_fr
    assert "    Disponible pour un virement manuel\n" in out_fr


def test_weekly_schedule_is_named_in_the_readers_language(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, out_en, _ = run_cli(capsys, *FIXED, "--schedule", "weekly", "--payout-days",
                           "tuesday,friday")
    _, out_fr, _ = run_cli(capsys, *FIXED, "--schedule", "weekly", "--payout-days",
                           "tuesday,friday", "--locale", "fr")
    assert "Payouts: weekly on Tuesday and Friday, on bank business days (United States)" \
        in out_en
    assert "Paid out on September 1, 2026, at the bank on September 3, 2026" in out_en
    assert "hebdomadaires, le mardi et le vendredi," in out_fr
    assert (f"Viré le 1er{NBSP}septembre 2026, à la banque le 3{NBSP}septembre 2026"
            in out_fr)


def test_monthly_days_in_french_read_le_1er(capsys: pytest.CaptureFixture[str]) -> None:
    _, out_en, _ = run_cli(capsys, *FIXED, "--schedule", "monthly", "--payout-days", "1,15")
    _, out_fr, _ = run_cli(capsys, *FIXED, "--schedule", "monthly", "--payout-days", "1,15",
                           "--locale", "fr")
    assert "Payouts: monthly on day 1 and 15 (or the month's last day)" in out_en
    assert "mensuels, le 1er et le 15 du mois (ou le dernier jour du mois)" in out_fr
    assert f"Viré le 1er{NBSP}septembre 2026" in out_fr


def test_unknown_country_says_holidays_are_not_skipped(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, out, _ = run_cli(capsys, *FIXED, "--country", "ZZ")
    assert "No holiday calendar for this country (ZZ): only weekends are skipped." in out
    _, out, _ = run_cli(capsys, *FIXED, "--country", "AC", "--locale", "fr")
    assert ("Pas de calendrier des jours fériés pour ce pays (Île de l’Ascension)"
            f"{NBSP}: seules") in out


def test_json_output_matches_the_report_shape(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, *FIXED, "--json")
    assert code == 0
    document = json.loads(out)
    assert document["releases"] == [{
        "currency": "usd", "amount": source_total(), "release_date": "2026-08-31",
        "payout_date": "2026-08-31", "arrival_date": "2026-09-02"}]
    assert document["totals"] == {"usd": {"held": 7267, "released": 7267, "peak": 7267}}
    assert [t["net"] for t in document["transactions"]] == [9680, 19390]
    assert document["terms"]["release_after"] == "2026-08-30"


def test_peak_counts_what_is_held_at_the_end_of_each_day(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, out, _ = run_cli(capsys, "--csv", str(ROLLING_CSV), "--type", "rolling",
                        "--percent", "25", "--window-days", "30", "--json")
    totals = json.loads(out)["totals"]["usd"]
    # On Aug 31 the first part (24.20) is released as the third payment is reserved.
    assert totals["peak"] == totals["held"] - reserved_part(10000 - card_fee(10000),
                                                              Decimal(25))


def test_registers_as_a_subcommand(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="balance-guard")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["reserve-simulate", *FIXED, "--json"])
    assert args.func(args) == 0
    assert json.loads(capsys.readouterr().out)["releases"][0]["amount"] == source_total()


# --- CSV and option handling --------------------------------------------------------------

def write_csv(tmp_path: Path, text: str) -> str:
    path = tmp_path / "payments.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_fee_column_accepts_an_amount_a_rule_or_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv_file = write_csv(tmp_path, "Date,Amount,Fee,Note\n"
                                   "2026-08-01,100.00,3.20,by amount\n"
                                   "2026-08-01,100.00,2.9%+30,by rule\n"
                                   "2026-08-01,100.00,,default rule\n"
                                   ",,,\n")
    code, out, _ = run_cli(capsys, "--csv", csv_file, "--type", "rolling", "--percent", "25",
                           "--window-days", "30", "--json")
    assert code == 0
    assert [t["fee"] for t in json.loads(out)["transactions"]] == [card_fee(10000)] * 3


def test_zero_decimal_currency_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv_file = write_csv(tmp_path, "date,gross,fee,currency\n2026-08-01,10000,0,JPY\n")
    code, out, _ = run_cli(capsys, "--csv", csv_file, "--type", "rolling", "--percent", "25",
                           "--window-days", "30", "--json")
    assert code == 0
    assert json.loads(out)["movements"][0] == {
        "date": "2026-08-01", "kind": "hold", "amount": 2500, "currency": "jpy",
        "source": "transaction"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("when,how much\n2026-08-01,1\n", "first line must name the columns"),
        ("date,gross\n2026-13-01,100.00\n", "line 2: '2026-13-01' is not a date"),
        ("date,gross\n2026-08-01,abc\n", "line 2: 'abc' is not an amount"),
        ("date,gross\n2026-08-01,-5\n", "line 2: '-5' is not an amount of zero or more"),
        ("date,gross\n2026-08-01,1.001\n", "more decimals than USD allows"),
        ("date,gross\n2026-08-01,\n", "the gross amount is missing"),
        ("date,gross,currency\n2026-08-01,1,dollars\n",
         "line 2: 'dollars' is not an ISO 4217 currency code (like cad, usd or eur)"),
        ("date,gross,fee\n2026-08-01,1,lots\n", "'lots' is not an amount"),
    ],
)
def test_bad_csv_is_one_clear_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    code, out, err = run_cli(capsys, "--csv", write_csv(tmp_path, content), "--type", "rolling",
                             "--percent", "25", "--window-days", "30")
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("balance-guard reserve-simulate: error: ")
    assert message in err


def test_unreadable_files_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    binary = tmp_path / "payments.csv"
    binary.write_bytes(b"date,gross\n\xff\xfe,1\n")
    for path in (str(tmp_path / "missing.csv"), str(binary)):
        code, _, err = run_cli(capsys, "--csv", path, "--type", "rolling", "--percent", "25",
                               "--window-days", "30")
        assert code == 2
        assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--type", "fixed", "--percent", "25"], "needs --release-date"),
        (["--type", "rolling", "--percent", "25"], "needs --window-days"),
        (["--type", "balance-transfer", "--percent", "25", "--release-date", "2026-08-30"],
         "needs --balance"),
        (["--type", "balance-transfer", "--percent", "25", "--release-date", "2026-08-30",
          "--balance", "100"], "a balance transfer needs --transfer-date or payments: give "
         "a CSV file with --csv FILE"),
        (["--type", "rolling", "--percent", "25", "--window-days", "0"], "at least one day"),
        (["--type", "fixed", "--percent", "25", "--release-date", "2026-08-30",
          "--window-days", "30"], "no rolling window"),
        (["--type", "fixed", "--percent", "25", "--release-date", "2026-08-30",
          "--currency", "dollars"], "--currency"),
        (["--type", "fixed", "--percent", "25", "--release-date", "2026-08-30",
          "--fee-rule", "cheap"], "--fee-rule"),
        (["--type", "fixed", "--percent", "25", "--release-date", "2026-08-30",
          "--country", "Canada"], "--country"),
        (["--type", "fixed", "--percent", "25", "--release-date", "2026-08-30",
          "--schedule", "weekly", "--payout-days", "someday"], "not a weekday"),
        (["--type", "fixed", "--percent", "25", "--release-date", "2026-08-30",
          "--schedule", "monthly", "--payout-days", "32"], "from 1 to 31"),
        (["--type", "fixed", "--percent", "25", "--release-date", "2026-08-30",
          "--payout-days", "1"], "weekly and monthly schedules only"),
        (["--type", "fixed", "--percent", "25", "--release-date", "2026-08-30",
          "--arrival-days", "-1"], "zero or more"),
    ],
)
def test_bad_options_are_one_clear_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run_cli(capsys, *argv)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert message in err


@pytest.mark.parametrize("argv", [["--type", "fixed", "--percent", "125"],
                                  ["--type", "fixed", "--percent", "25",
                                   "--release-date", "30/08/2026"]])
def test_malformed_option_values_exit_2_through_argparse(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2


def test_balance_transfer_without_csv_uses_the_transfer_date(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run_cli(capsys, "--type", "balance-transfer", "--percent", "10",
                           "--window-days", "30", "--balance", "1000", "--transfer-date",
                           "2026-08-03", "--json")
    assert code == 0
    assert json.loads(out)["releases"] == [{
        "currency": "usd", "amount": reserved_part(1000_00, Decimal(10)),
        "release_date": "2026-09-02", "payout_date": "2026-09-02",
        "arrival_date": "2026-09-04"}]


def test_nothing_to_reserve(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    csv_file = write_csv(tmp_path, "date,gross\n2026-08-01,0.10\n")
    _, out, _ = run_cli(capsys, "--csv", csv_file, "--type", "rolling", "--percent", "25",
                        "--window-days", "30")
    assert "Nothing is held" in out


# --- helpers ------------------------------------------------------------------------------

def test_fee_rule_parsing() -> None:
    assert parse_fee_rule("2.9%+30") == FeeRule(Decimal("2.9"), 30)
    assert parse_fee_rule(" 3 % ") == FeeRule(Decimal(3), 0)
    assert parse_fee_rule("3.20") is None
    assert FeeRule(Decimal("2.9"), 30).fee(10000) == card_fee(10000)


def test_major_amounts_follow_the_currency_exponent() -> None:
    assert parse_major("100.00", "usd") == 10000
    assert parse_major("100", "jpy") == 100
    assert parse_major("1.234", "kwd") == 1234
    with pytest.raises(SimulationInputError, match="more decimals"):
        parse_major("1.5", "jpy")
    with pytest.raises(SimulationInputError, match="too large"):
        parse_major("1e20", "usd")
