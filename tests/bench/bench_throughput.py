"""Bench 2 and 5: a night against a slow, rate-limited Stripe, paced right and paced wrong.

The sandbox answers after 150 ms and allows 25 requests a second, globally and per endpoint;
beyond that it answers as Stripe does: a 429 with code `rate_limit`, a
`Stripe-Rate-Limited-Reason` header and no `Stripe-Should-Retry`, so retrying is the
client's own job. Every run reads the same steady-state night of a 100-building platform
from the same saved state.

- Bench 2, the fraction of the rate-limit bound reached: the product paced at the server's
  own rate (`max_rps` 25, not just under it) with enough workers to keep every slot used.
  With `BENCH_UNPACED=1`, beside it, the same pool of workers without pacing, to show what
  the pacing is for (half a minute more: off by default to keep `make bench` short).
- Bench 5, a mis-set rate: the client set to 1.6 × the server's rate (40 against 25 req/s),
  and on top of the server's own limit 10 % of requests answered 429 at random. Every
  building must still be checked, with the answers of the clean run; the figure is the time
  it cost.

fraction of the bound = (requests needed ÷ allowed rate) ÷ actual duration, where the
requests needed are those the run made minus the ones the sandbox answered with a 429.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from balance_guard.check.state_store import SqliteStateStore
from balance_guard.sandbox.faults import FaultKind, FaultPlan
from balance_guard.sandbox.server import Sandbox
from balance_guard.sandbox.synthetic import synthetic_platform
from tests.bench.helpers import (
    Night,
    check_failed,
    copy_state,
    prewarm,
    run,
    unthrottled,
)
from tests.bench.support import BenchLog

BUILDINGS = 100
# The history before the first night only shapes night 1's scan; a steady-state night reads
# the same few requests per building whatever its length, and a short one builds faster.
HISTORY_DAYS = 14
LATENCY_MS = 150
LIMIT_RPS = 25.0
MAX_RPS = 25.0  # the product's pacing at the server's own rate
CONCURRENCY = 12
TARGET = 0.90
OVER_RPS = 1.6 * LIMIT_RPS
RANDOM_429 = 0.1
NAME = "2 throughput"
OVER = "5 over the limit"


@dataclass(frozen=True)
class Prepared:
    sandbox: Sandbox
    night: date
    base: Path  # the state after night 1, copied for every timed run
    folder: Path


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prepared]:
    folder = tmp_path_factory.mktemp("throughput")
    platform = synthetic_platform(BUILDINGS, seed=11, nights=2, history_days=HISTORY_DAYS)
    night1, night2 = platform.nights[:2]
    base = folder / "night1.sqlite"
    with Sandbox(platform.scenario, clock=night1, latency_ms=LATENCY_MS,
                 rate_limit_rps=LIMIT_RPS, endpoint_rate_limit_rps=LIMIT_RPS) as sandbox:
        for day in (night1, night2):
            prewarm(sandbox, day)
        with unthrottled(sandbox):
            store = SqliteStateStore(base)
            assert not check_failed(run(sandbox, store, night1).report)
            store.close()
        yield Prepared(sandbox, night2, base, folder)


def _timed(prepared: Prepared, label: str, max_rps: float | None, concurrency: int) -> Night:
    state = prepared.folder / f"{label}.sqlite"
    copy_state(prepared.base, state)
    time.sleep(1.1)  # the sandbox's buckets are full again: every run starts alike
    store = SqliteStateStore(state)
    try:
        return run(prepared.sandbox, store, prepared.night, max_rps=max_rps,
                   concurrency=concurrency)
    finally:
        store.close()


@pytest.fixture(scope="module")
def clean(prepared: Prepared) -> Night:
    """The product's night at the server's rate, no fault: bench 2's figure, bench 5's
    reference."""
    return _timed(prepared, "product", MAX_RPS, CONCURRENCY)


def _needed(night: Night) -> int:
    return night.reader_requests - night.answered_429


def _rows(bench: BenchLog, name: str, label: str, night: Night) -> dict[str, object]:
    needed = _needed(night)
    duration = night.report.totals.duration_s
    bench.row(name, f"{label}: requests", f"{night.reader_requests:,} "
              f"(429 answered: {night.answered_429})")
    bench.row(name, f"{label}: duration", duration, "s")
    bench.row(name, f"{label}: achieved rate", needed / duration, "req/s")
    bench.row(name, f"{label}: busiest second at the server", night.busiest_second, "req")
    return {"requests": night.reader_requests, "answered_429": night.answered_429,
            "needed": needed, "duration_s": duration, "achieved_rps": needed / duration,
            "fraction_of_bound": needed / LIMIT_RPS / duration,
            "busiest_second": night.busiest_second,
            "check_failed": check_failed(night.report),
            "stripe_limits": night.report.totals.stripe_limits.model_dump(),
            "by_endpoint": night.by_endpoint}


def _positions(night: Night) -> dict[str, object]:
    return {a.account_id: a.positions for a in night.report.accounts}


def test_fraction_of_the_rate_limit_bound(bench: BenchLog, prepared: Prepared,
                                          clean: Night) -> None:
    product_failed = check_failed(clean.report)
    assert not product_failed, f"accounts left unchecked: {product_failed[:5]}"
    assert clean.report.totals.stripe_requests == clean.reader_requests
    assert len(clean.report.accounts) == BUILDINGS

    limits = clean.report.totals.stripe_limits
    bench.title(NAME, f"{BUILDINGS} buildings, one steady-state night, sandbox latency "
                f"{LATENCY_MS} ms, limit {LIMIT_RPS:g} req/s (global and per endpoint)")
    prod = _rows(bench, NAME, f"product (c={CONCURRENCY}, {MAX_RPS:g} rps)", clean)
    fraction = _needed(clean) / LIMIT_RPS / clean.report.totals.duration_s
    bound = _needed(clean) / LIMIT_RPS
    bench.row(NAME, f"rate-limit bound ({_needed(clean)} needed ÷ {LIMIT_RPS:g}/s)", bound, "s")
    bench.row(NAME, "fraction of the bound reached", f"{fraction:.1%}", "",
              f">= {TARGET:.0%}", fraction >= TARGET)
    bench.row(NAME, "429s met (server) / counted by the pacer",
              f"{clean.answered_429} / {limits.rate_limited}")
    bench.row(NAME, "429s left unretried (CHECK_FAILED)", len(product_failed), "", "0",
              not product_failed)
    bench.detail(NAME, buildings=BUILDINGS, latency_ms=LATENCY_MS, limit_rps=LIMIT_RPS,
                 endpoint_limit_rps=LIMIT_RPS, max_rps=MAX_RPS, concurrency=CONCURRENCY,
                 bound_s=bound, product=prod)
    if os.environ.get("BENCH_UNPACED") == "1":
        # Why pacing: the same pool of workers without it meets the limit head-on.
        # No assertion beyond the answers: an account that met too many 429s in a row is
        # read again in the second pass (more requests), or fails; that is the point made.
        unpaced = _timed(prepared, "unpaced", None, CONCURRENCY)
        failed = set(check_failed(unpaced.report))
        checked = {a: p for a, p in _positions(unpaced).items() if a not in failed}
        assert checked == {a: p for a, p in _positions(clean).items() if a in checked}
        label = f"unpaced (c={CONCURRENCY})"
        unpaced_rows = _rows(bench, NAME, label, unpaced)
        bench.row(NAME, f"{label}: second passes / CHECK_FAILED",
                  f"{unpaced.report.totals.stripe_limits.accounts_retried} / {len(failed)}")
        bench.detail(NAME, unpaced=unpaced_rows)
    if os.environ.get("BENCH_STRICT") == "1":
        assert fraction >= TARGET


def test_client_over_the_limit_with_random_429s(bench: BenchLog, prepared: Prepared,
                                                clean: Night) -> None:
    app = prepared.sandbox.app
    saved = app.faults
    app.faults = FaultPlan(RANDOM_429, seed=5, kinds=(FaultKind.RATE_LIMITED,))
    try:
        over = _timed(prepared, "over", OVER_RPS, CONCURRENCY)
    finally:
        app.faults = saved

    failed = check_failed(over.report)
    checked = len(over.report.accounts) - len(failed)
    limits = over.report.totals.stripe_limits
    assert checked == BUILDINGS, f"{len(failed)} building(s) CHECK_FAILED: {failed[:5]}"
    assert not over.report.notices, over.report.notices  # with the above: the CLI's exit 0
    assert _positions(over) == _positions(clean)
    # More only if an account was read again in the second pass.
    assert _needed(over) >= _needed(clean)
    assert over.answered_429 > 0
    assert limits.rate_limited > 0

    extra = over.report.totals.duration_s - clean.report.totals.duration_s
    bench.title(OVER, f"the same night, client at {OVER_RPS:g} req/s ({OVER_RPS / LIMIT_RPS:g} × "
                f"the server's {LIMIT_RPS:g}), {RANDOM_429:.0%} of requests answered 429 at "
                "random")
    rows = _rows(bench, OVER, f"client {OVER_RPS:g} rps (c={CONCURRENCY})", over)
    bench.row(OVER, "buildings checked", f"{checked} / {BUILDINGS}", "",
              f"{BUILDINGS} / {BUILDINGS}", checked == BUILDINGS)
    bench.row(OVER, "CHECK_FAILED (exit 0)", len(failed), "", "0", not failed)
    bench.row(OVER, "429s met (server) / counted by the pacer",
              f"{over.answered_429} / {limits.rate_limited}")
    bench.row(OVER, "rate settled at / lowest", f"{limits.settled_rps:g} / "
              f"{limits.lowest_rps:g}", "req/s")
    bench.row(OVER, "accounts given a second pass", limits.accounts_retried)
    bench.row(OVER, "time it cost over the clean run", f"+{extra:.1f} s "
              f"(× {over.report.totals.duration_s / clean.report.totals.duration_s:.2f})")
    bench.detail(OVER, buildings=BUILDINGS, latency_ms=LATENCY_MS, limit_rps=LIMIT_RPS,
                 client_max_rps=OVER_RPS, random_429=RANDOM_429, concurrency=CONCURRENCY,
                 over=rows, clean_duration_s=clean.report.totals.duration_s, extra_s=extra)
