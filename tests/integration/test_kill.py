"""The real CLI killed (SIGKILL) while it sends, then run again once the claims' lease has
passed: every building that should be emailed is, with at most one duplicate per email that
was in flight when the run died.

The outbox writes an email in a millisecond, a window a random kill seldom hits: the runs use
an outbox that takes 300 ms per email, as a mail service does, or one that dies at the worst
instants on its own.

Each run of a night writes into an outbox of its own (the outbox names a file by account and
date, so a shared one would hide duplicates), and shares the state file with the others. After
each kill the log's `sending` claims are read: a duplicate is only allowed for a claim a killed
run left behind.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import balance_guard

pytestmark = pytest.mark.slow

NIGHT = "2026-08-01"
LEASE_S = 1
# The sample platform's buildings that get an email on the first night.
DUE = (
    "acct_1BvtBayviewTerrace", "acct_1CslCarreStLouis1", "acct_1DdeDomaineErable",
    "acct_1HblHarbourview01", "acct_1MplMapleCourtRes", "acct_1PkcParksideCommon",
    "acct_1RdgRideauGardens", "acct_1RslStLaurent0001", "acct_1TdpToursDuParc",
    "acct_1VppVictoriaPark1",
)
# The runs import the very code under test, wherever it was imported from.
CODE = str(Path(balance_guard.__file__).resolve().parents[1])
RUN_TIMEOUT_S = 60
# The real CLI, with an outbox that is slow like a mail service ("slow"), or that dies right
# after writing its first email, before the log records it ("after"), or right before writing
# it, once the send is claimed ("before").
CLI_WITH_OUTBOX = """
import os, signal, sys, time
from balance_guard.notify.outbox import OutboxSender
from balance_guard.cli.main import main

write, mode = OutboxSender.send, sys.argv.pop(1)
def send(self, message):
    if mode == "before":
        os.kill(os.getpid(), signal.SIGKILL)
    message_id = write(self, message)
    if mode == "after":
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(0.3)
    return message_id
OutboxSender.send = send
sys.exit(main(sys.argv[1:]))
"""


def cli(outbox: str) -> list[str]:
    return [sys.executable, "-c", CLI_WITH_OUTBOX, outbox]


@dataclass
class Night:
    """The runs of one night on one state file; run `n` writes into outbox `n`."""

    root: Path
    runs: int = 0
    # (account, run_id) of every claim a killed run left behind.
    left_sending: set[tuple[str, str]] = field(default_factory=set)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def state(self) -> Path:
        return self.root / "state.sqlite"

    def outbox(self, run: int) -> Path:
        return self.root / f"outbox-{run}"

    def start(self, command: list[str]) -> tuple[subprocess.Popen[bytes], Path]:
        self.runs += 1
        outbox = self.outbox(self.runs)
        args = ["run", "--as-of", NIGHT, "--state", str(self.state), "--outbox", str(outbox),
                "--report-json", str(self.root / f"report-{self.runs}.json")]
        for account in DUE:
            args += ["--account", account]
        # No Stripe key: the built-in sample platform. Nothing else from the caller's shell.
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.root),
               "PYTHONPATH": CODE, "BALANCE_GUARD_CLAIM_LEASE_SECONDS": str(LEASE_S)}
        log = (self.root / f"run-{self.runs}.log").open("wb")
        process = subprocess.Popen([*command, *args], env=env, stdout=log, stderr=log)
        log.close()
        self.processes.append(process)
        return process, outbox

    def killed(self, process: subprocess.Popen[bytes]) -> None:
        """Wait for a killed run and note the claims it left."""
        process.wait(timeout=RUN_TIMEOUT_S)
        self.left_sending |= set(self.claims("sending"))

    def claims(self, state: str) -> list[tuple[str, str]]:
        return [(account, run) for account, run, _ in self.rows(state)]

    def rows(self, state: str) -> list[tuple[str, str, float]]:
        if not self.state.exists():
            return []
        with sqlite3.connect(self.state) as db:
            rows = db.execute("SELECT account_id, run_id, lease_until FROM notification_sends"
                              " WHERE state = ? AND as_of = ?", (state, NIGHT)).fetchall()
        return [row for row in rows if row[0] in DUE]  # not the digest

    def emails(self) -> dict[str, int]:
        """Per account, how many emails all the runs wrote."""
        return {account: sum(len(list(self.outbox(run).glob(f"{account}_{NIGHT}*.eml")))
                             for run in range(1, self.runs + 1))
                for account in DUE}

    def run_to_the_end(self) -> str:
        """The run after the kills, once every claim they left has lapsed: its report."""
        lapsed = max((until for _, _, until in self.rows("sending")), default=0.0)
        time.sleep(max(0.0, lapsed - time.time() + 0.1))
        process, _ = self.start([str(Path(sys.executable).parent / "balance-guard")])
        code = process.wait(timeout=RUN_TIMEOUT_S)
        report = (self.root / f"report-{self.runs}.json").read_text(encoding="utf-8")
        assert code == 0, (self.root / f"run-{self.runs}.log").read_text(errors="replace")
        return report

    def assert_nothing_lost(self) -> None:
        counts = self.emails()
        assert [a for a, n in counts.items() if n == 0] == []  # nobody left out
        assert sorted(a for a, _ in self.claims("sent")) == sorted(DUE)
        assert self.claims("sending") == []
        for account, count in counts.items():
            in_flight = sum(1 for a, _ in self.left_sending if a == account)
            assert count - 1 <= in_flight, (account, count, self.left_sending)


@pytest.fixture
def night(tmp_path: Path) -> Iterator[Night]:
    night = Night(tmp_path)
    yield night
    for process in night.processes:  # a run a failed test left behind
        if process.poll() is None:
            process.kill()
            process.wait()


def first_email(outbox: Path, process: subprocess.Popen[bytes]) -> None:
    """Wait until the run has written an email, or ended."""
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while process.poll() is None and time.monotonic() < deadline:
        if any(outbox.glob("acct_*.eml")):
            return
        time.sleep(0.005)


def test_a_run_killed_at_the_worst_instants_loses_no_email(night: Night) -> None:
    for when in ("after", "before"):  # the email written but not recorded; claimed, not sent
        process, _ = night.start(cli(when))
        assert process.wait(timeout=RUN_TIMEOUT_S) == -signal.SIGKILL
        night.killed(process)
    assert night.left_sending  # the window was hit, not merely hoped for
    assert sum(night.emails().values()) >= 1

    report = night.run_to_the_end()

    night.assert_nothing_lost()
    assert report.count('"message_id"') == len(DUE)  # the rerun's report lists every email


def test_runs_killed_at_random_instants_lose_no_email(night: Night) -> None:
    draw = random.Random(20260801)
    for kill in range(4):
        process, outbox = night.start(cli("slow"))
        if kill % 2:  # anywhere in the run, start-up included
            time.sleep(draw.uniform(0.0, 3.5))
        else:  # while the emails are being sent
            first_email(outbox, process)
            time.sleep(draw.uniform(0.0, 0.6))
        process.send_signal(signal.SIGKILL)
        night.killed(process)

    night.run_to_the_end()

    night.assert_nothing_lost()
