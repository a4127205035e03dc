"""Bench 1: Stripe requests per account per night in steady state (SPEC §14: ≤ 5 on average).

A platform of 200 buildings, none with 100 or more new charges a day, is checked on four
consecutive nights against the sandbox (whose clock moves with the run date): night 1 scans
the whole exposure lookback; nights 2-4 should read only what is new.
"""

from __future__ import annotations

import time
from pathlib import Path

from balance_guard.adapters.state_store import SqliteStateStore
from balance_guard.bench import charges_per_day, synthetic_platform
from balance_guard.sandbox.server import Sandbox
from tests.bench.helpers import Night, check_failed, run
from tests.bench.support import BenchLog

BUILDINGS = 200
BAR = 5.0
NAME = "1 requests/account"


def _positions(night: Night) -> dict[str, list[dict[str, object]]]:
    return {a.account_id: a.positions for a in night.report.accounts}


def test_steady_state_requests_per_account(bench: BenchLog, tmp_path: Path) -> None:
    platform = synthetic_platform(BUILDINGS)
    shape = charges_per_day(platform)
    assert shape["max_per_account_day"] < 100
    nights: list[Night] = []
    started = time.perf_counter()
    with Sandbox(platform.scenario, clock=platform.nights[0]) as sandbox:
        store = SqliteStateStore(tmp_path / "state.sqlite")
        for day in platform.nights:
            night = run(sandbox, store, day)
            assert not check_failed(night.report), f"{day}: accounts not checked"
            assert night.report.totals.stripe_requests == night.reader_requests
            assert night.reader_requests == night.account_requests + night.platform_requests
            nights.append(night)
        # The incremental nights must see what a full rescan sees, or saving requests is moot.
        rescan = run(sandbox, SqliteStateStore(tmp_path / "rescan.sqlite"), platform.nights[-1])
        store.close()
    assert _positions(rescan) == _positions(nights[-1]), "incremental != full rescan"

    steady = nights[1:]
    per_account = sum(n.account_requests for n in steady) / (len(steady) * BUILDINGS)
    with_platform = sum(n.reader_requests for n in steady) / (len(steady) * BUILDINGS)
    bench.row(NAME, "platform", f"{BUILDINGS} buildings, max {shape['max_per_account_day']} "
              f"charges/account/day")
    for index, night in enumerate(nights, start=1):
        kind = "full lookback scan" if index == 1 else "incremental"
        bench.row(NAME, f"night {index} ({kind})", night.reader_requests, "requests")
    bench.row(NAME, "night 4 full rescan (check)", rescan.reader_requests, "requests")
    bench.row(NAME, "night 1: per account", nights[0].account_requests / BUILDINGS, "req")
    bench.row(NAME, "steady state: per account", per_account, "req", f"<= {BAR:g}",
              per_account <= BAR)
    bench.row(NAME, "steady state: incl. platform calls", with_platform, "req")
    bench.detail(
        NAME, buildings=BUILDINGS, charges_per_day=shape,
        nights=[{"as_of": str(d), "requests": n.reader_requests,
                 "account_requests": n.account_requests,
                 "platform_requests": n.platform_requests, "by_endpoint": n.by_endpoint,
                 "duration_s": n.report.totals.duration_s}
                for d, n in zip(platform.nights, nights, strict=True)],
        steady_state_per_account=per_account, steady_state_with_platform=with_platform,
        rescan_requests=rescan.reader_requests, wall_s=round(time.perf_counter() - started, 1),
    )
    assert per_account <= BAR


def test_rolling_reserve_with_a_hold_per_charge(bench: BenchLog, tmp_path: Path) -> None:
    """Not a bar: what the hold list costs when Stripe makes one hold per reserved charge."""
    buildings = 6
    platform = synthetic_platform(buildings, seed=7, per_charge_holds=buildings)
    holds = sum(len(a.reserve_holds) for a in platform.scenario.accounts) / buildings
    with Sandbox(platform.scenario, clock=platform.nights[0]) as sandbox:
        store = SqliteStateStore(tmp_path / "state.sqlite")
        nights = [run(sandbox, store, day) for day in platform.nights]
        store.close()
    for night in nights:
        assert not check_failed(night.report)
    steady = nights[1:]
    per_account = sum(n.account_requests for n in steady) / (len(steady) * buildings)
    hold_pages = sum(n.by_endpoint.get("/v1/reserve/holds", 0) for n in steady) / (
        len(steady) * buildings)
    name = "1b hold per charge"
    bench.row(name, "platform", f"{buildings} buildings, rolling reserve, ~{holds:.0f} holds")
    bench.row(name, "steady state: per account", per_account, "req", "informative")
    bench.row(name, "  of which /v1/reserve/holds pages", hold_pages, "req")
    bench.detail(name, buildings=buildings, holds_per_account=holds,
                 steady_state_per_account=per_account, hold_pages_per_account=hold_pages,
                 nights=[n.by_endpoint for n in nights])
