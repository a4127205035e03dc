"""Bench 8: from the sandbox's webhook to the email in the outbox (target: under 5 s,
the coalescing window excluded), and the Stripe requests one burst of events costs.

Fifty buildings are checked on night 1; on day 2 each has a refund stuck for lack of
funds. The sandbox's `refund.created` events (signed, over real HTTP) are posted one at a
time to the receiver of `balance-guard listen` (its `Listener`, in this process, coalescing
window 0); each time is measured from the post to the building's real-time `.eml` in the
outbox, through the re-check against the sandbox with the real stripe SDK. Then 100
`balance.available` events of one building within a 2-second window: the Stripe requests
they cost, all together.
"""

from __future__ import annotations

import statistics
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from balance_guard.check.state_store import SqliteStateStore
from balance_guard.cli.listen import Listener
from balance_guard.cli.main import main
from balance_guard.domain.policy import Policy
from balance_guard.notify.notifier import Notifier, realtime_key
from balance_guard.notify.outbox import OutboxSender
from balance_guard.notify.send_log import SqliteNotificationLog
from balance_guard.sandbox.scenario import Scenario
from balance_guard.sandbox.server import Sandbox
from balance_guard.sandbox.webhooks import WebhookPoster, event, world_events
from balance_guard.stripe.reader import StripeReader
from balance_guard.webhook.recheck import RecheckResult
from balance_guard.webhook.seen import SqliteSeenEvents
from tests.bench.support import BenchLog

NAME = "8 webhooks"
BUILDINGS = 50
BURST = 100
BAR_S = 5.0
BAR_BURST = 10  # one check: one account read and the night's five or six reads
KEY = "sk_test_benchWebhookKey000"
SECRET = "whsec_bench_webhook_secret"
DAY1, DAY2 = date(2026, 8, 1), date(2026, 8, 2)


def _building(n: int) -> dict[str, Any]:
    ident = f"acct_1Bwh{n:04d}Building"
    charge = f"ch_1Bwh{n:04d}Rent00000001"
    return {
        "id": ident, "business_name": f"Building {n}", "email": f"admin{n}@example.com",
        "payout_schedule": {"interval": "daily"},
        "balance_settings": {"minimum_balance_by_currency": {"cad": 100_000}},
        "balances": {"available": {"cad": 150_000}},
        "balance_history": {"2026-08-02": {"available": {"cad": 0}}},
        "charges": [{"id": charge, "amount": 50_000, "currency": "cad", "created": "2026-07-20"},
                    {"amount": 40_000, "currency": "cad", "created": "2026-07-10", "count": 20}],
        "refunds": [{"amount": 50_000, "currency": "cad", "charge": charge,
                     "created": "2026-08-02T14:00:00Z", "status": "pending",
                     "pending_reason": "insufficient_funds"}],
    }


def _platform() -> Scenario:
    return Scenario.model_validate({
        "clock": DAY1.isoformat(),
        "platform": {"account_id": "acct_1BenchWebhookPlat", "business_name": "Bench",
                     "secret_key": KEY},
        "accounts": [_building(n) for n in range(BUILDINGS)],
    })


def _wait_for(path: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise AssertionError(f"{path.name} never arrived")
        time.sleep(0.002)


def test_event_to_email_latency_and_burst_cost(bench: BenchLog, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    state, outbox = tmp_path / "state.sqlite", tmp_path / "outbox"
    policy = Policy()
    with Sandbox(_platform(), clock=DAY1) as sandbox:
        monkeypatch.setenv("STRIPE_API_KEY", KEY)
        assert main(["run", "--as-of", DAY1.isoformat(), "--stripe-api-base",
                     sandbox.base_url, "--state", str(state), "--outbox", str(outbox)]) == 0
        sandbox.set_clock(DAY2)
        stuck = [e for e in world_events(sandbox.app.world, DAY1, DAY2)
                 if e["type"] == "refund.created"]
        assert len(stuck) == BUILDINGS

        def listener(window_s: float, results: list[RecheckResult]) -> Listener:
            return Listener(
                reader=StripeReader(KEY, api_base=sandbox.base_url, max_rps=20),
                store=SqliteStateStore(state), seen=SqliteSeenEvents(state),
                notifier=Notifier(OutboxSender(outbox), SqliteNotificationLog(state), policy),
                policy=policy, as_of=lambda: DAY2, secret=SECRET, window_s=window_s,
                on_result=results.append)

        results: list[RecheckResult] = []
        now = listener(0.0, results)
        poster = WebhookPoster(now.start(), SECRET)
        times = []
        for shaped in stuck:
            email = outbox / f"{realtime_key(shaped['account'], 1)}_{DAY2.isoformat()}.eml"
            started = time.perf_counter()
            assert poster.post(shaped) == 200
            _wait_for(email)
            times.append(time.perf_counter() - started)
        now.stop()

        burst: list[RecheckResult] = []
        coalescing = listener(2.0, burst)
        poster = WebhookPoster(coalescing.start(), SECRET)
        target = stuck[0]["account"]
        sandbox.reset_counters()
        balance = {"object": "balance", "available": [{"amount": 0, "currency": "cad"}]}
        posted = time.perf_counter()
        for n in range(BURST):
            assert poster.post(event("balance.available", target, balance, 1_785_672_000,
                                     f"burst-{n}")) == 200
        posting_s = time.perf_counter() - posted
        deadline = time.monotonic() + 30
        while not burst and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.5)  # a second check, if any, would have started by now
        coalescing.stop()
        requests = [r for r in sandbox.requests
                    if r.stripe_account == target or r.path == f"/v1/accounts/{target}"]

    median, worst = statistics.median(times), max(times)
    checks = [r.stripe_requests for r in results]
    bench.title(NAME, f"{BUILDINGS} refund.created events, one at a time, window 0; then "
                      f"{BURST} balance.available of one building, window 2 s")
    bench.row(NAME, "event to email: median", median, "s", f"< {BAR_S:g} s", median < BAR_S)
    bench.row(NAME, "event to email: worst", worst, "s", f"< {BAR_S:g} s", worst < BAR_S)
    bench.row(NAME, "Stripe requests per re-check (median)", statistics.median(checks))
    bench.row(NAME, f"checks for a burst of {BURST} events", len(burst), "", "1",
              len(burst) == 1)
    bench.row(NAME, f"Stripe requests for a burst of {BURST} events", len(requests), "",
              f"<= {BAR_BURST}", len(requests) <= BAR_BURST)
    bench.row(NAME, f"posting the {BURST} events (each answered 2xx)", posting_s, "s")
    bench.detail(NAME, latencies_s=[round(t, 4) for t in times],
                 burst_paths=[r.path for r in requests])
    assert median < BAR_S
    assert worst < BAR_S
    assert len(burst) == 1
    assert len(requests) <= BAR_BURST
