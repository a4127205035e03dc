"""`--help` works for the CLI and every subcommand: argparse %-formats every help text, so
one bare `%` in an option's help (or its default) crashes the help screen."""

from __future__ import annotations

import argparse

import pytest

from balance_guard.cli import simulate
from balance_guard.cli.main import build_parser, main

SUBCOMMANDS = ("run", "check", "explain", "sandbox", "reserve-simulate", "listen")


def help_of(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as stopped:
        main([*argv, "--help"])
    out, err = capsys.readouterr()
    assert stopped.value.code == 0, err
    assert err == ""
    return out


def test_top_level_help(capsys: pytest.CaptureFixture[str]) -> None:
    out = help_of(capsys)
    assert out.startswith("usage: balance-guard")
    for command in SUBCOMMANDS:
        assert command in out, command


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_every_subcommand_help(capsys: pytest.CaptureFixture[str], command: str) -> None:
    out = help_of(capsys, command)
    assert out.startswith(f"usage: balance-guard {command}")
    assert "options:" in out
    assert len(out.splitlines()) > 3


def test_the_parser_knows_no_other_subcommand() -> None:
    """A new subcommand must be added to SUBCOMMANDS, so its help is tested too."""
    parser = build_parser()
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert len(actions) == 1
    assert set(actions[0].choices) == set(SUBCOMMANDS)


def test_reserve_simulate_help_shows_the_default_fee_rule(
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = " ".join(help_of(capsys, "reserve-simulate").split())
    assert f"default {simulate.DEFAULT_FEE_RULE}: percent plus minor units" in out


def test_standalone_simulate_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        simulate.main(["--help"])
    assert stopped.value.code == 0
    assert "--fee-rule" in capsys.readouterr().out
