"""Bench 2: throughput against a slow, rate-limited Stripe (SPEC §14: ≥ 90 % of the bound).

The sandbox answers after 150 ms and allows 25 requests a second (a 429 with
`Stripe-Should-Retry: true` beyond that, as Stripe's test mode). The same steady-state night
of a 60-building platform is read twice from the same saved state: by the product (a pool of
workers paced just under the limit), by a plain sequential scan (one worker, no pacing), and
— to show what the pacing is for — by the same pool of workers without pacing.

efficiency = (requests needed ÷ allowed rate) ÷ actual duration, where the requests needed
are those the run made minus the ones the sandbox refused with a 429.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from balance_guard.adapters.state_store import SqliteStateStore
from balance_guard.bench import synthetic_platform
from balance_guard.sandbox.server import Sandbox
from tests.bench.helpers import (
    Night,
    check_failed,
    copy_state,
    count_429s,
    prewarm,
    run,
    unthrottled,
)
from tests.bench.support import BenchLog

BUILDINGS = 60
LATENCY_MS = 150
LIMIT_RPS = 25.0
MAX_RPS = 24.0  # the product's pacing, just under the limit
CONCURRENCY = 12
TARGET = 0.90
NAME = "2 throughput"


def _rows(bench: BenchLog, label: str, night: Night, refused: int) -> dict[str, float]:
    needed = night.reader_requests - refused
    duration = night.report.totals.duration_s
    efficiency = needed / LIMIT_RPS / duration
    bench.row(NAME, f"{label}: requests", f"{night.reader_requests:,} (429: {refused})")
    bench.row(NAME, f"{label}: duration", duration, "s")
    bench.row(NAME, f"{label}: achieved rate", needed / duration, "req/s")
    return {"requests": night.reader_requests, "refused_429": refused, "needed": needed,
            "duration_s": duration, "achieved_rps": needed / duration,
            "efficiency": efficiency, "by_endpoint": night.by_endpoint}


def test_throughput_under_a_rate_limit(bench: BenchLog, tmp_path: Path) -> None:
    platform = synthetic_platform(BUILDINGS, seed=11)
    night1, night2 = platform.nights[:2]
    base = tmp_path / "night1.sqlite"
    with Sandbox(platform.scenario, clock=night1, latency_ms=LATENCY_MS,
                 rate_limit_rps=LIMIT_RPS) as sandbox:
        for day in (night1, night2):
            prewarm(sandbox, day)
        with unthrottled(sandbox):
            store = SqliteStateStore(base)
            assert not check_failed(run(sandbox, store, night1).report)
            store.close()
        for copy in ("product", "sequential", "unpaced"):
            copy_state(base, tmp_path / f"{copy}.sqlite")
        refusals = count_429s(sandbox)

        time.sleep(1.1)  # the sandbox's bucket is full again: both runs start alike
        product = run(sandbox, SqliteStateStore(tmp_path / "product.sqlite"), night2,
                      max_rps=MAX_RPS, concurrency=CONCURRENCY)
        product_429 = refusals.refused
        time.sleep(1.1)
        sequential = run(sandbox, SqliteStateStore(tmp_path / "sequential.sqlite"), night2,
                         max_rps=None, concurrency=1)
        sequential_429 = refusals.refused - product_429
        time.sleep(1.1)
        # Why pacing: the same pool of workers without it meets the limit head-on.
        unpaced = run(sandbox, SqliteStateStore(tmp_path / "unpaced.sqlite"), night2,
                      max_rps=None, concurrency=CONCURRENCY)
        unpaced_429 = refusals.refused - product_429 - sequential_429

    # Every 429 was retried: every account checked, and the same answers as the slow scan.
    assert not check_failed(product.report), "accounts left unchecked after 429s"
    assert not check_failed(sequential.report)
    assert {a.account_id: a.positions for a in product.report.accounts} == {
        a.account_id: a.positions for a in sequential.report.accounts}
    assert product.reader_requests - product_429 == sequential.reader_requests - sequential_429

    bench.title(NAME, f"{BUILDINGS} buildings, one steady-state night, sandbox latency "
                f"{LATENCY_MS} ms, limit {LIMIT_RPS:g} req/s")
    seq = _rows(bench, "sequential (c=1, unpaced)", sequential, sequential_429)
    prod = _rows(bench, f"product (c={CONCURRENCY}, {MAX_RPS:g} rps)", product, product_429)
    bound = prod["needed"] / LIMIT_RPS
    bench.row(NAME, "rate-limit bound (needed ÷ 25/s)", bound, "s")
    bench.row(NAME, "product efficiency", f"{prod['efficiency']:.1%}", "",
              f">= {TARGET:.0%}", prod["efficiency"] >= TARGET)
    bench.row(NAME, "sequential efficiency", f"{seq['efficiency']:.1%}")
    bench.row(NAME, "speed-up over sequential", seq["duration_s"] / prod["duration_s"], "x")
    bench.row(NAME, "429s left unretried (product)", 0, "", "0", True)
    bench.row(NAME, f"unpaced (c={CONCURRENCY}): requests",
              f"{unpaced.reader_requests:,} (429: {unpaced_429})")
    bench.row(NAME, f"unpaced (c={CONCURRENCY}): duration", unpaced.report.totals.duration_s, "s")
    bench.row(NAME, f"unpaced (c={CONCURRENCY}): CHECK_FAILED after 429s",
              len(check_failed(unpaced.report)))
    bench.detail(NAME, buildings=BUILDINGS, latency_ms=LATENCY_MS, limit_rps=LIMIT_RPS,
                 max_rps=MAX_RPS, concurrency=CONCURRENCY, bound_s=bound,
                 product=prod, sequential=seq,
                 unpaced={"requests": unpaced.reader_requests, "refused_429": unpaced_429,
                          "duration_s": unpaced.report.totals.duration_s,
                          "check_failed": check_failed(unpaced.report)})
    if os.environ.get("BENCH_STRICT") == "1":
        assert prod["efficiency"] >= TARGET
