"""Failures to deliver reach the exit code (4), wrong paths are one line (2), and SIGTERM
stops a run cleanly: the send in flight is finished and recorded, the report says why."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import balance_guard
from balance_guard.cli.main import main
from balance_guard.notify.notifier import Notifier
from balance_guard.notify.outbox import OutboxSender
from tests.integration.conftest import KEY, account, scenario

AS_OF = "2026-08-01"
CRITICAL = account("acct_critical01", balances={"available": {"cad": -20_000}})
HEALTHY = account("acct_healthy001")


def run(sandbox: Any, tmp_path: Path, *extra: str, outbox: Path | None = None,
        report: Path | None = None) -> int:
    return main([
        "run", "--stripe-api-base", sandbox.base_url, "--api-key", KEY, "--as-of", AS_OF,
        "--state", str(tmp_path / "state.sqlite"),
        "--outbox", str(outbox or tmp_path / "outbox"),
        "--report-json", str(report or tmp_path / "report.json"), "--max-rps", "500", *extra])


@pytest.mark.parametrize("option", ["--outbox", "--report-json", "--report-html"])
def test_an_unwritable_output_is_one_line_and_exit_two_before_any_read(
    serve: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str,
) -> None:
    sandbox = serve(scenario(CRITICAL))
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    bad = blocker / "inside" / "out"
    extra = [] if option in ("--outbox", "--report-json") else [option, str(bad)]
    code = run(sandbox, tmp_path, *extra,
               outbox=bad if option == "--outbox" else None,
               report=bad if option == "--report-json" else None)
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == f"balance-guard: {option} {bad}: cannot write there (Not a directory)"
    assert "Traceback" not in "\n".join(err)
    assert sandbox.request_count == 0


def test_an_email_that_cannot_be_sent_is_exit_four(
    serve: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    sandbox = serve(scenario(CRITICAL, HEALTHY))

    def broken(self: OutboxSender, message: Any) -> str:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(OutboxSender, "send", broken)
    assert run(sandbox, tmp_path) == 4
    report = json.loads((tmp_path / "report.json").read_text())
    critical = next(a for a in report["accounts"] if a["account_id"] == "acct_critical01")
    assert critical["emails"] == []
    assert "email not sent: OSError" in critical["notices"]
    assert "undelivered" not in critical  # for the exit code, not part of report@1


def test_a_digest_that_cannot_be_sent_is_exit_four(
    serve: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sandbox = serve(scenario(HEALTHY))

    def broken(self: Notifier, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the notification log is unavailable")

    monkeypatch.setattr(Notifier, "send_digest", broken)
    assert run(sandbox, tmp_path) == 4
    assert "the operations digest could not be sent" in caplog.text


def test_a_report_that_cannot_be_written_is_exit_four_with_one_line(
    serve: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    sandbox = serve(scenario(HEALTHY))
    folder = tmp_path / "taken"
    folder.mkdir()  # a folder where the report file should go
    assert run(sandbox, tmp_path, report=folder) == 4
    err = capsys.readouterr().err
    assert f"balance-guard: --report-json {folder}: not written (Is a directory)" in err
    assert "Traceback" not in err


def test_a_healthy_night_still_exits_zero(serve: Any, tmp_path: Path) -> None:
    assert run(serve(scenario(CRITICAL, HEALTHY)), tmp_path) == 0


# -- SIGTERM ----------------------------------------------------------------------------------

CODE = str(Path(balance_guard.__file__).resolve().parents[1])
# The real CLI on the sample platform, with an outbox that asks for SIGTERM as soon as it has
# started writing its first email, and takes a while per email, as a mail service does.
TERMINATED_AT_FIRST_SEND = """
import os, signal, sys, time
from balance_guard.notify.outbox import OutboxSender
from balance_guard.cli.main import main

write = OutboxSender.send
def send(self, message):
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(0.3)
    return write(self, message)
OutboxSender.send = send
sys.exit(main(sys.argv[1:]))
"""


def test_sigterm_finishes_the_send_in_flight_records_it_and_stops(tmp_path: Path) -> None:
    state, outbox, report = tmp_path / "state.sqlite", tmp_path / "outbox", tmp_path / "r.json"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path),
           "PYTHONPATH": CODE}
    done = subprocess.run(
        [sys.executable, "-c", TERMINATED_AT_FIRST_SEND, "run", "--as-of", AS_OF,
         "--state", str(state), "--outbox", str(outbox), "--report-json", str(report),
         "--concurrency", "1"],
        env=env, capture_output=True, timeout=120, check=False)
    assert done.returncode in (1, 4), done.stderr.decode(errors="replace")
    written = sorted(outbox.glob("*.eml"))
    assert len(written) == 1  # the send in flight, and no other
    with sqlite3.connect(state) as db:
        states = dict(db.execute(
            "SELECT account_id, state FROM notification_sends WHERE as_of = ?", (AS_OF,)))
    assert "sending" not in states.values()  # recorded, or never claimed
    assert list(states.values()).count("sent") == 1
    result = json.loads(report.read_text())
    assert any(n.startswith("run interrupted (received SIGTERM)") for n in result["notices"])
    assert b"Traceback" not in done.stderr


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("SENDER_EMAIL", "not an address <", "balance-guard: SENDER_EMAIL: not a sender address"),
    ("SUPPORT_EMAIL", "x <bad", "balance-guard: SUPPORT_EMAIL: not a support contact"),
    ("BALANCE_GUARD_CLAIM_LEASE_SECONDS", "soon", "BALANCE_GUARD_CLAIM_LEASE_SECONDS"),
])
def test_a_bad_delivery_setting_is_one_line_and_exit_two(
    serve: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], variable: str, value: str, message: str,
) -> None:
    monkeypatch.setenv(variable, value)
    assert run(serve(scenario(HEALTHY)), tmp_path) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("balance-guard: ")
    assert message in err[-1]
    assert "Traceback" not in "\n".join(err)


def test_an_unexpected_error_is_one_line_without_verbose(
    serve: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def bug(*args: Any, **kwargs: Any) -> None:
        raise KeyError("a bug of ours")

    monkeypatch.setattr("balance_guard.cli.commands.print_summary", bug)
    assert run(serve(scenario(HEALTHY)), tmp_path) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == ("balance-guard: internal error: KeyError: 'a bug of ours' "
                       "(--verbose shows the details)")


def truncated_state(tmp_path: Path, serve: Any) -> Path:
    """A real state file, cut in half."""
    whole = tmp_path / "whole"
    whole.mkdir()
    assert run(serve(scenario(CRITICAL, HEALTHY)), whole) == 0
    with sqlite3.connect(whole / "state.sqlite") as db:  # everything into the main file
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = (whole / "state.sqlite").read_bytes()
    cut = tmp_path / "cut.sqlite"
    cut.write_bytes(data[: len(data) // 2])
    return cut


@pytest.mark.parametrize("kind", ["garbage", "truncated", "directory"])
def test_an_unusable_state_file_is_one_line_and_exit_two(
    serve: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str,
) -> None:
    state = tmp_path / "bad.sqlite"
    if kind == "garbage":
        state.write_bytes(bytes(range(256)) * 20)
    elif kind == "truncated":
        state = truncated_state(tmp_path, serve)
    else:
        state.mkdir()
    capsys.readouterr()
    sandbox = serve(scenario(HEALTHY))
    code = main(["run", "--stripe-api-base", sandbox.base_url, "--api-key", KEY,
                 "--as-of", AS_OF, "--state", str(state), "--outbox", str(tmp_path / "o")])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"balance-guard: state file {state}: cannot be used (")
    assert "Traceback" not in "\n".join(err)
