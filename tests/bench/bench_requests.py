"""Bench 1: Stripe requests per account per night in steady state (target: ≤ 5 on average).

A platform of 200 buildings, none with 100 or more new charges a day, is checked on four
consecutive nights against the sandbox (whose clock moves with the run date): night 1 scans
the whole exposure lookback; nights 2-4 should read only what is new. The average counts
the requests made for the connected accounts (`Stripe-Account`); the platform's own
(`/v1/account`, `/v1/accounts` pages) are shown beside it.

Incremental reads only count if they see what a full read sees: on the last night a sample
of accounts is also checked from empty state, and their positions must match.
"""

from __future__ import annotations

import time
from pathlib import Path

from balance_guard.check.state_store import SqliteStateStore
from balance_guard.sandbox.server import Sandbox
from balance_guard.sandbox.synthetic import charges_per_day, synthetic_platform
from tests.bench.helpers import Night, check_failed, prewarm, run
from tests.bench.support import BenchLog

BUILDINGS = 200
RESCANNED = 25  # accounts re-read from empty state on the last night
BAR = 5.0
NAME = "1 requests/account"


def _average(nights: list[Night], accounts: set[str]) -> float:
    if not accounts:
        return 0.0
    total = sum(n.by_account.get(a, 0) for n in nights for a in accounts)
    return total / (len(nights) * len(accounts))


def test_steady_state_requests_per_account(bench: BenchLog, tmp_path: Path) -> None:
    platform = synthetic_platform(BUILDINGS)
    shape = charges_per_day(platform)
    assert shape["max_per_account_day"] < 100
    reserved = {a.id for a in platform.scenario.accounts if a.reserve_holds}
    holds = {a.id: len(a.reserve_holds) for a in platform.scenario.accounts}
    nights: list[Night] = []
    started = time.perf_counter()
    with Sandbox(platform.scenario, clock=platform.nights[0]) as sandbox:
        store = SqliteStateStore(tmp_path / "state.sqlite")
        for day in platform.nights:
            prewarm(sandbox, day)
            night = run(sandbox, store, day)
            assert not check_failed(night.report), f"{day}: accounts not checked"
            assert night.report.totals.stripe_requests == night.reader_requests
            assert night.reader_requests == night.account_requests + night.platform_requests
            nights.append(night)
        store.close()
        sample = tuple(sorted(platform.account_ids)[:: BUILDINGS // RESCANNED])
        rescan = run(sandbox, SqliteStateStore(tmp_path / "rescan.sqlite"), platform.nights[-1],
                     only=sample)
    incremental = {a.account_id: a.positions for a in nights[-1].report.accounts
                   if a.account_id in sample}
    assert {a.account_id: a.positions for a in rescan.report.accounts} == incremental, (
        "an incremental night sees other positions than a full read")

    steady = nights[1:]
    everyone = set(platform.account_ids)
    per_account = _average(steady, everyone)
    with_platform = sum(n.reader_requests for n in steady) / (len(steady) * BUILDINGS)
    bench.title(NAME, f"{BUILDINGS} buildings ({len(reserved)} under a reserve), at most "
                f"{shape['max_per_account_day']:g} new charges per account a day, 4 nights")
    for index, night in enumerate(nights, start=1):
        kind = "full lookback scan" if index == 1 else "incremental"
        bench.row(NAME, f"night {index} ({kind})", night.reader_requests, "requests")
    bench.row(NAME, "night 1: per account", _average(nights[:1], everyone), "req")
    bench.row(NAME, "steady state: per account", per_account, "req", f"<= {BAR:g}",
              per_account <= BAR)
    bench.row(NAME, "  incl. the platform's own calls", with_platform, "req")
    bench.row(NAME, "  accounts without a reserve", _average(steady, everyone - reserved), "req")
    bench.row(NAME, f"  accounts under a reserve (~{_mean(holds, reserved):.0f} holds)",
              _average(steady, reserved), "req")
    bench.row(NAME, f"incremental = full read ({len(sample)} accounts, night 4)", "yes", "",
              "yes", True)
    bench.detail(
        NAME, buildings=BUILDINGS, charges_per_day=shape, reserved_accounts=len(reserved),
        holds_per_reserved_account=_mean(holds, reserved),
        nights=[{"as_of": str(d), "requests": n.reader_requests,
                 "account_requests": n.account_requests,
                 "platform_requests": n.platform_requests, "by_endpoint": n.by_endpoint,
                 "duration_s": n.report.totals.duration_s}
                for d, n in zip(platform.nights, nights, strict=True)],
        steady_state_per_account=per_account, steady_state_with_platform=with_platform,
        steady_state_without_reserve=_average(steady, everyone - reserved),
        steady_state_with_reserve=_average(steady, reserved),
        wall_s=round(time.perf_counter() - started, 1),
    )
    assert per_account <= BAR, (
        f"{per_account:.3f} requests per account per night in steady state (bar {BAR:g}); "
        f"see out/bench.json for the endpoints")


def _mean(values: dict[str, int], keys: set[str]) -> float:
    return sum(values[k] for k in keys) / len(keys) if keys else 0.0
