"""The whole local path over real HTTP on 127.0.0.1 with the real stripe SDK: the sandbox's
clock moves, it signs and posts Stripe's events, `balance-guard listen` verifies them,
coalesces them per account, re-checks the account and puts one email in the outbox."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date
from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path

import pytest

from balance_guard.check.state_store import SqliteStateStore
from balance_guard.cli.listen import Listener
from balance_guard.cli.main import main
from balance_guard.domain.policy import Policy
from balance_guard.notify.notifier import Notifier
from balance_guard.notify.outbox import OutboxSender
from balance_guard.notify.send_log import SqliteNotificationLog
from balance_guard.sandbox.scenario import Scenario
from balance_guard.sandbox.server import Sandbox
from balance_guard.sandbox.webhooks import WebhookPoster, event
from balance_guard.stripe.reader import StripeReader
from balance_guard.webhook.recheck import RecheckResult
from balance_guard.webhook.seen import SqliteSeenEvents
from tests.integration.conftest import KEY, account, scenario

SECRET = "whsec_integration_listen_secret"
STUCK = "acct_1RtmStuckRefund01"
QUIET = "acct_1RtmQuietBuilding1"
DAY1, DAY2 = date(2026, 8, 1), date(2026, 8, 2)


def platform() -> Scenario:
    """Two sound buildings on night 1; on day 2 one refund gets stuck for lack of funds
    after a payout swept the balance, and the other building's balance grows."""
    return scenario(
        account(STUCK, business_name="Stuck Refund Towers", email="admin@stuck.example",
                charges=[{"id": "ch_1RtmStuckRent000001", "amount": 50_000, "currency": "cad",
                          "created": "2026-07-20"}],
                refunds=[{"amount": 50_000, "currency": "cad", "charge": "ch_1RtmStuckRent000001",
                          "created": "2026-08-02T14:00:00Z", "status": "pending",
                          "pending_reason": "insufficient_funds"}],
                balance_history={"2026-08-02": {"available": {"cad": 0}}}),
        account(QUIET, business_name="Quiet Building",
                balance_history={"2026-08-02": {"available": {"cad": 160_000}}}),
    )


def night_one(sandbox: Sandbox, state: Path, outbox: Path,
              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRIPE_API_KEY", KEY)
    code = main(["run", "--as-of", DAY1.isoformat(), "--stripe-api-base", sandbox.base_url,
                 "--state", str(state), "--outbox", str(outbox)])
    assert code == 0


class Listening:
    """`balance-guard listen` in a process of its own; its stderr collected line by line."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float = 20.0) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if (found := re.search(pattern, line)) is not None:
                    return found
            assert self.process.poll() is None, "\n".join(self.lines)
            time.sleep(0.05)
        raise AssertionError(f"no line matching {pattern!r} in:\n" + "\n".join(self.lines))


@pytest.fixture
def listening(tmp_path: Path) -> Iterator[Callable[[Sandbox], Listening]]:
    started: list[Listening] = []

    def start(sandbox: Sandbox) -> Listening:
        secret_file = tmp_path / "whsec.txt"
        secret_file.write_text(SECRET + "\n", encoding="utf-8")  # as `echo` writes it
        env = {**os.environ, "STRIPE_API_KEY": KEY, "BALANCE_GUARD_COALESCE_SECONDS": "1"}
        env.pop("STRIPE_WEBHOOK_SECRET", None)
        command = [sys.executable, "-m", "balance_guard.cli.main", "listen", "--port", "0",
                   "--stripe-api-base", sandbox.base_url, "--as-of", DAY2.isoformat(),
                   "--state", str(tmp_path / "state.sqlite"),
                   "--outbox", str(tmp_path / "outbox"),
                   "--webhook-secret-file", str(secret_file)]
        process = Listening(command, env)
        started.append(process)
        return process

    yield start
    for listening in started:
        if listening.process.poll() is None:
            listening.process.kill()
            listening.process.wait(5)


def wait_for_file(path: Path, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} never arrived"
        time.sleep(0.02)


def test_a_refund_stuck_during_the_day_emails_the_building_within_seconds(
        tmp_path: Path, listening: Callable[[Sandbox], Listening],
        monkeypatch: pytest.MonkeyPatch) -> None:
    outbox = tmp_path / "outbox"
    with Sandbox(platform(), clock=DAY1) as sandbox:
        night_one(sandbox, tmp_path / "state.sqlite", outbox, monkeypatch)
        night_files = sorted(p.name for p in outbox.glob("*.eml"))
        assert night_files == ["digest_2026-08-01.eml"]  # both buildings are sound tonight
        listen = listening(sandbox)
        url = listen.wait_for(r"listening for Stripe webhooks on (http://127\.0\.0\.1:\d+/)")[1]
        poster = WebhookPoster(url, SECRET)
        sandbox.webhooks = poster
        sandbox.reset_counters()
        moved = time.monotonic()
        sandbox.set_clock(DAY2)
        realtime = outbox / f"{STUCK}-realtime-1_2026-08-02.eml"
        wait_for_file(realtime)
        elapsed = time.monotonic() - moved
        listen.wait_for(rf"re-check of {QUIET} after 1 event\(s\) \(balance\.available\): ok, "
                        r"0 email\(s\)")
        listen.process.send_signal(signal.SIGTERM)
        assert listen.process.wait(15) == 0
        requests = list(sandbox.requests)
    # The coalescing window (1 s here) plus one check and one email.
    assert elapsed < 5.0
    assert [status for _, _, status in poster.sent] == [200] * 5
    assert sorted(p.name for p in outbox.glob("*.eml")) == sorted([*night_files, realtime.name])
    message = message_from_bytes(realtime.read_bytes(), policy=email_policy.default)
    assert message["To"] == "admin@stuck.example"
    # Four events of the stuck building (its refund, the payout sweep twice, the balance)
    # cost one check: one read of the account, one of its balance.
    stuck = [r.path for r in requests if r.stripe_account == STUCK]
    assert stuck.count("/v1/balance") == 1
    assert [r.path for r in requests].count(f"/v1/accounts/{STUCK}") == 1
    text = "\n".join(listen.lines)
    assert (f"re-check of {STUCK} after 4 event(s) (refund.created, payout.created, "
            "payout.paid, balance.available): critical, 1 email(s)") in text
    assert "stopped (received SIGTERM): 2 re-check(s) done, 0 left for the night" in text
    assert SECRET not in text


def test_a_burst_of_100_balance_events_costs_one_check(tmp_path: Path) -> None:
    policy = Policy()
    results: list[RecheckResult] = []
    with Sandbox(platform(), clock=DAY2) as sandbox:
        reader = StripeReader(KEY, api_base=sandbox.base_url, max_rps=20)
        store = SqliteStateStore(tmp_path / "state.sqlite")
        seen = SqliteSeenEvents(tmp_path / "state.sqlite")
        notifier = Notifier(OutboxSender(tmp_path / "outbox"),
                            SqliteNotificationLog(tmp_path / "state.sqlite"), policy)
        listener = Listener(reader=reader, store=store, seen=seen, notifier=notifier,
                            policy=policy, as_of=lambda: DAY2, secret=SECRET, window_s=3.0,
                            on_result=results.append)
        poster = WebhookPoster(listener.start(), SECRET)
        balance = {"object": "balance", "available": [{"amount": 0, "currency": "cad"}]}
        for n in range(100):
            assert poster.post(event("balance.available", QUIET, balance, 1_785_672_000,
                                     n)) == 200
        deadline = time.monotonic() + 15
        while not results and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        listener.stop()
        store.close()
        seen.close()
        requests = [r for r in sandbox.requests
                    if r.stripe_account == QUIET or r.path == f"/v1/accounts/{QUIET}"]
    [result] = results
    assert result.account_id == QUIET
    assert result.stripe_requests == len(requests)
    assert [r.path for r in requests].count("/v1/balance") == 1
    assert len(requests) <= 7
