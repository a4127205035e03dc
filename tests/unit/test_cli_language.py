"""The CLI speaks the reader's language: the one the gettext variables ask for, French from
the one catalog, English byte for byte when they ask for nothing; and no sentence it shows
is written outside a gettext call."""

from __future__ import annotations

import ast
import io
import re
import sys
from datetime import date
from pathlib import Path

import pytest

from balance_guard.cli.console import print_summary
from balance_guard.cli.language import GETTEXT_VARIABLES, cli_language, figure
from balance_guard.cli.main import main
from balance_guard.domain.findings import Finding, RuleCode
from balance_guard.report.model import AccountReport, Report, totals_of

CLI = Path(__file__).resolve().parents[2] / "shared" / "balance_guard" / "cli"
NBSP = "\u00a0"


@pytest.fixture
def english(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in GETTEXT_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def french(english: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANG", "fr_CA.UTF-8")


@pytest.mark.parametrize(("environment", "language"), [
    ({}, "en"),
    ({"LANG": "fr_CA.UTF-8"}, "fr"),
    ({"LANG": "fr"}, "fr"),
    ({"LANG": "fr.UTF-8"}, "fr"),
    ({"LANG": "fr_BE@euro"}, "fr"),
    ({"LANG": "C.UTF-8"}, "en"),
    ({"LANG": "POSIX"}, "en"),
    ({"LANG": "de_DE.UTF-8"}, "en"),
    ({"LANG": "en_CA.UTF-8"}, "en"),
    # The first variable set decides, in gettext's order: LANGUAGE, LC_ALL, LC_MESSAGES, LANG.
    ({"LANGUAGE": "fr_CA", "LC_ALL": "en_US.UTF-8"}, "fr"),
    ({"LANGUAGE": "en", "LC_ALL": "fr_CA.UTF-8"}, "en"),
    ({"LC_ALL": "fr_CA.UTF-8", "LC_MESSAGES": "en_US.UTF-8", "LANG": "en_US.UTF-8"}, "fr"),
    ({"LC_ALL": "en_US.UTF-8", "LC_MESSAGES": "fr_CA.UTF-8"}, "en"),
    ({"LC_MESSAGES": "fr_CA.UTF-8", "LANG": "en_US.UTF-8"}, "fr"),
    ({"LC_MESSAGES": "en_US.UTF-8", "LANG": "fr_CA.UTF-8"}, "en"),
    # An empty variable is not set; LANGUAGE is a list by preference.
    ({"LANGUAGE": "", "LC_ALL": "", "LANG": "fr_CA.UTF-8"}, "fr"),
    ({"LANGUAGE": "de:fr_CA:en"}, "fr"),
    ({"LANGUAGE": "de:es"}, "en"),
])
def test_the_language_comes_from_the_gettext_variables_in_their_order(
    environment: dict[str, str], language: str,
) -> None:
    assert cli_language(environment) == language


def test_the_language_is_read_from_the_environment_at_each_call(
    english: None, monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert cli_language() == "en"
    monkeypatch.setenv("LC_MESSAGES", "fr_CA.UTF-8")
    assert cli_language() == "fr"


def test_figures_read_as_the_english_lines_always_wrote_them_and_as_french_writes_them(
) -> None:
    assert [figure(x, ".1f", "en") for x in (5.0, 1234.5)] == ["5.0", "1234.5"]
    assert [figure(x, ".1f", "fr") for x in (5.0, 0.1, 1234.5)] == ["5", "0,1", f"1{NBSP}234,5"]
    assert figure(12.5, "g", "fr") == "12,5"


# --- one command's error -------------------------------------------------------------------


def _check_with_an_empty_key_on_standard_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> str:
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n"))
    code = main(["check", "acct_1", "--as-of", "2026-08-01", "--state",
                 str(tmp_path / "state.sqlite"), "--api-key-file", "-"])
    assert code == 2
    return capsys.readouterr().err


def test_a_command_s_error_in_english(
    english: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    err = _check_with_an_empty_key_on_standard_input(tmp_path, monkeypatch, capsys)
    assert err == "balance-guard: --api-key-file standard input holds no key\n"


def test_a_command_s_error_in_french(
    french: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    err = _check_with_an_empty_key_on_standard_input(tmp_path, monkeypatch, capsys)
    assert err == (f"balance-guard{NBSP}: --api-key-file entrée standard ne contient "
                   "aucune clé\n")


def test_reserve_simulate_s_error_in_both_languages(
    english: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["reserve-simulate", "--type", "fixed", "--percent", "25"]
    assert main(argv) == 2
    assert capsys.readouterr().err == ("balance-guard reserve-simulate: error: a fixed reserve "
                                       "needs --release-date\n")
    monkeypatch.setenv("LANG", "fr_CA.UTF-8")
    assert main(argv) == 2
    assert capsys.readouterr().err == (f"balance-guard reserve-simulate{NBSP}: erreur{NBSP}: "
                                       "une réserve fixe demande --release-date\n")


def test_help_texts_are_translated_when_the_parser_is_built(
    french: None, capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["reserve-simulate", "--help"])
    out = capsys.readouterr().out
    # argparse still fills in the default of a French help text (and wraps it at spaces,
    # never at the no-break one before the colon).
    assert (f"par défaut 2.9%+30{NBSP}: pourcentage plus sous-unités"
            in re.sub(r"[ \n]+", " ", out))
    assert out.startswith("usage: balance-guard reserve-simulate")  # argparse's own words


# --- one console summary line --------------------------------------------------------------


def _summary() -> list[str]:
    account = AccountReport(account_id="acct_1", name="Tour Nord", locale="fr",
                            status="warning", findings=[Finding.of(RuleCode.PAYOUTS_DISABLED)])
    report = Report(run_id="r-1", as_of=date(2026, 8, 1), accounts=[account],
                    totals=totals_of([account], 5, 0.1))
    out = io.StringIO()
    print_summary(report, out, outputs=[("state", "s.sqlite")])
    return out.getvalue().splitlines()


def test_the_summary_in_english(english: None) -> None:
    lines = _summary()
    assert "1 accounts (warning 1); 0 emails; 5 Stripe requests (5.0 per account); 0.1 s" in lines
    assert "Stripe rate limit: 0 answers of 429, retried (unpaced run)" in lines
    assert "  state: s.sqlite" in lines
    assert "┃ worst finding    ┃ emails ┃" in lines[2]


def test_the_summary_in_french(french: None) -> None:
    lines = _summary()
    assert ("1 comptes (warning 1); 0 courriels; 5 requêtes Stripe (5 par compte); "
            f"0,1{NBSP}s") in lines
    assert (f"Limite de débit de Stripe{NBSP}: 0 réponses 429, réessayées (vérification sans "
            "cadence)") in lines
    assert f"  state{NBSP}: s.sqlite" in lines  # the label is the caller's, the colon French
    assert "┃ constat le plus grave ┃" in lines[2]


# --- no sentence outside gettext -----------------------------------------------------------

# Calls whose string arguments the reader reads: printed lines, errors, table words.
SHOWN = {"print", "UsageError", "SimulationInputError", "UnknownRuleError",
         "UnknownLanguageError", "ArgumentTypeError", "Table", "TextColumn", "add_column",
         "add_row"}
# argparse's words for the reader, by keyword.
HELP_KEYWORDS = {"help", "description", "epilog", "title"}
GETTEXT = {"_", "gettext", "N_"}


def _name(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else (
        func.attr if isinstance(func, ast.Attribute) else "")


def _literal(node: ast.AST) -> str | None:
    """A str constant, or the constant parts of an f-string."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(part.value for part in node.values
                       if isinstance(part, ast.Constant) and isinstance(part.value, str))
    return None


def _sentence(text: str | None) -> bool:
    return text is not None and " " in text and any(char.isalpha() for char in text)


def sentences_outside_gettext(source: str, where: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = _name(node)
        if name in GETTEXT:
            # Babel extracts only a literal first argument.
            if not node.args or not (isinstance(node.args[0], ast.Constant)
                                     and isinstance(node.args[0].value, str)):
                found.append(f"{where}:{node.lineno}: {name}() of a non-literal")
            continue
        shown = [*node.args, *(k.value for k in node.keywords)] if name in SHOWN else [
            k.value for k in node.keywords if k.arg in HELP_KEYWORDS]
        found += [f"{where}:{arg.lineno}: {_literal(arg)!r}" for arg in shown
                  if _sentence(_literal(arg))]
    return found


def test_the_scan_finds_a_sentence_written_outside_gettext() -> None:
    source = '''
print(f"balance-guard: {error}")
console.print("checked")
raise UsageError("no such account")
parser.add_argument("--x", help="the x option")
_(f"{n} accounts")
print(_("{n} accounts").format(n=n), file=sys.stderr)
parser.add_argument("--y", metavar="YYYY-MM-DD", help=_("the y option"))
log.info("checked %s", account)
'''
    assert sorted(sentences_outside_gettext(source, "x.py")) == [
        "x.py:2: 'balance-guard: '", "x.py:4: 'no such account'", "x.py:5: 'the x option'",
        "x.py:6: _() of a non-literal"]


def test_no_sentence_of_the_cli_is_written_outside_gettext() -> None:
    found = []
    for path in sorted(CLI.glob("*.py")):
        found += sentences_outside_gettext(path.read_text(encoding="utf-8"), path.name)
    # `cli.language` defines `_` itself, on the message it is given.
    defined = [f for f in found
               if re.fullmatch(r"language\.py:\d+: gettext\(\) of a non-literal", f)]
    assert len(defined) == 1
    assert [f for f in found if f not in defined] == []
