"""Which platform a run reads is never a guess: keys and addresses are explicit."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from balance_guard.cli.main import main
from tests.integration.conftest import KEY, account, scenario

AS_OF = "2026-08-01"


def run(tmp_path: Path, *options: str) -> int:
    return main(["run", "--as-of", AS_OF, "--state", str(tmp_path / "state.sqlite"),
                 "--outbox", str(tmp_path / "outbox"), "--report-json",
                 str(tmp_path / "report.json"), *options])


@pytest.mark.parametrize(("options", "environment", "message"), [
    (["--api-key", ""], {}, "--api-key is empty"),
    (["--api-key", "   "], {}, "--api-key is empty"),
    ([], {"STRIPE_API_KEY": ""}, "STRIPE_API_KEY is set but empty"),
    (["--stripe-api-base", "http://127.0.0.1:9"], {}, "--stripe-api-base (or STRIPE_API_BASE) "
                                                       "needs a key"),
    ([], {"STRIPE_API_BASE": "http://127.0.0.1:9"}, "needs a key"),
    (["--api-key-file", "/nonexistent/key"], {}, "--api-key-file /nonexistent/key: cannot "
                                                  "read it (No such file or directory)"),
    (["--api-key", KEY, "--stripe-api-base", "http://stripe.example.com"], {},
     "'http://stripe.example.com' must use https"),
    (["--api-key", KEY, "--stripe-api-base", "ftp://127.0.0.1"], {}, "is not an http(s) address"),
])
def test_a_key_or_address_given_wrong_is_one_line_and_exit_two(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    options: list[str], environment: dict[str, str], message: str,
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert run(tmp_path, *options) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("balance-guard: ")
    assert message in err[-1]
    assert "Traceback" not in "\n".join(err)
    assert not (tmp_path / "state.sqlite").exists()  # nothing was checked, nothing stored


def test_an_empty_key_file_is_refused(tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "key"
    empty.write_text("\n")
    assert run(tmp_path, "--api-key-file", str(empty)) == 2
    assert f"--api-key-file {empty} holds no key" in capsys.readouterr().err


def test_the_key_is_read_from_a_file_with_its_trailing_newline_stripped(
    serve: Any, tmp_path: Path,
) -> None:
    sandbox = serve(scenario(account("acct_healthy01")))
    key_file = tmp_path / "key"
    key_file.write_text(KEY + "\n")
    assert run(tmp_path, "--stripe-api-base", sandbox.base_url, "--api-key-file",
               str(key_file)) == 0
    assert json.loads((tmp_path / "report.json").read_text())["totals"]["accounts"] == 1


def test_the_key_is_read_from_standard_input(
    serve: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    sandbox = serve(scenario(account("acct_healthy01")))
    monkeypatch.setattr("sys.stdin", io.StringIO(KEY + "\n"))
    assert run(tmp_path, "--stripe-api-base", sandbox.base_url, "--api-key-file", "-") == 0


def test_a_key_on_the_command_line_works_but_warns(
    serve: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    sandbox = serve(scenario(account("acct_healthy01")))
    assert run(tmp_path, "--stripe-api-base", sandbox.base_url, "--api-key", KEY) == 0
    assert "prefer --api-key-file" in caplog.text
    assert KEY not in caplog.text
