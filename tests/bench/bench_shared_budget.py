"""Bench 6: one Stripe budget for a whole AWS stack, held in DynamoDB (at most 21 requests in
any one-second window for a budget of 20 req/s).

Nine simulated processes share one budget of 20 requests a second through `DynamoSlots` on
one DynamoDB table (moto, in-process): eight check_account workers, each its own
`StripeReader` (its own pacer, as each Lambda instance has, reserving up to RESERVATION
slots at a time) taking first-night checks of a 60-building platform from one queue, and a
plan_run lister paging `/v1/accounts` again and again until the workers are done (a manual
run planned while the nightly one checks). The sandbox answers after 100 ms and enforces 20
requests a second itself, so a request over the budget would also show as a 429. The figure
is the largest number of requests the sandbox saw arrive in any one-second window.

For contrast, the pacing AWS used before the shared budget: each worker at StripeMaxRps /
MaxConcurrency on its own and plan_run at the full rate, for a few seconds.

Two artefacts of simulating nine processes in one interpreter are taken out (see `_quiet`),
and moto applies conditional writes without a lock (two threads can both pass a condition
before either writes, which DynamoDB never allows), so the table's calls are serialized, as
DynamoDB serializes the writes to one item.
"""

from __future__ import annotations

import gc
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import boto3
import pytest
from moto import mock_aws

from balance_guard.aws.budget import BudgetStats, DynamoSlots
from balance_guard.aws.runtime import RESERVATION
from balance_guard.check.account import check_account
from balance_guard.domain.ledger import AccountState
from balance_guard.sandbox.server import Sandbox
from balance_guard.sandbox.synthetic import synthetic_platform
from balance_guard.stripe.models import StripeAccount
from balance_guard.stripe.pacing import OutOfTimeError
from balance_guard.stripe.reader import PlatformError, StripeReader
from tests.bench.helpers import POLICY, by_endpoint, prewarm, unthrottled
from tests.bench.support import BenchLog
from tests.integration.test_aws_budget import Serialized
from tests.integration.test_aws_handlers import TABLE, create_table

BUILDINGS = 60
LATENCY_MS = 100
BUDGET_RPS = 20.0
WORKERS = 8
BAR = int(BUDGET_RPS) + 1
CONTRAST_S = 6.0
SWITCH_INTERVAL_S = 0.001  # the GIL handed over every millisecond (default: 5)
NAME = "6 shared budget"


@dataclass
class Outcome:
    duration_s: float = 0.0
    requests: int = 0
    rate_limited: int = 0
    busiest_second: int = 0
    checked: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    listings: int = 0
    by_endpoint: dict[str, int] = field(default_factory=dict)
    errors: list[BaseException] = field(default_factory=list)


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("dynamodb")
        create_table(client)
        yield client


@contextmanager
def _quiet() -> Iterator[None]:
    """Nine processes, the sandbox and moto share one interpreter here. A garbage collection
    (up to half a second over the sandbox's prebuilt platform) would stall all of them at
    once and release their waiting requests together, which separate processes never do:
    no collection while the night runs (reference counting still frees nearly everything).
    And a thread whose slot has come waits less for the GIL."""
    gc.collect()
    gc.freeze()
    gc.disable()
    switch = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    try:
        yield
    finally:
        sys.setswitchinterval(switch)
        gc.enable()
        gc.unfreeze()


def _check(reader: StripeReader, pending: queue.SimpleQueue[StripeAccount], day: date,
           out: Outcome, stop_on_failure: bool) -> None:
    """One check_account process: accounts off the queue until it is empty."""
    try:
        while True:
            try:
                account = pending.get_nowait()
            except queue.Empty:
                return
            result = check_account(reader, account, AccountState(), day, POLICY)
            if result.report.status != "error":
                out.checked.append(account.id)
                continue
            out.failed.append(account.id)
            if stop_on_failure:
                return  # out of time: this invocation is over
    except BaseException as error:
        out.errors.append(error)


def _plan(reader: StripeReader, done: threading.Event, out: Outcome, timed: bool) -> None:
    """plan_run: the platform's accounts listed again and again until the workers are done."""
    try:
        while not done.is_set():
            reader.list_accounts()
            out.listings += 1
    except BaseException as error:
        if not (timed and isinstance(error, PlatformError | OutOfTimeError)):
            out.errors.append(error)


def _night(
    sandbox: Sandbox, accounts: list[StripeAccount], day: date,
    worker: Callable[[], StripeReader], planner: StripeReader, deadline_s: float | None = None,
) -> Outcome:
    """Eight workers drain the queue while the planner keeps listing; then the counts."""
    pending: queue.SimpleQueue[StripeAccount] = queue.SimpleQueue()
    for account in accounts:
        pending.put(account)
    out = Outcome()
    done = threading.Event()
    readers = [worker() for _ in range(WORKERS)]
    timed = deadline_s is not None
    threads = [threading.Thread(target=_check, args=(r, pending, day, out, timed),
                                name=f"check_account-{n}") for n, r in enumerate(readers)]
    lister = threading.Thread(target=_plan, args=(planner, done, out, timed), name="plan_run")
    with _quiet():
        sandbox.reset_counters()
        time.sleep(1.1)  # the sandbox's own bucket is full again
        for reader in [*readers, planner]:
            reader.set_deadline(deadline_s)
        started = time.monotonic()
        for thread in [*threads, lister]:
            thread.start()
        for thread in threads:
            thread.join()
        done.set()
        lister.join()
        out.duration_s = time.monotonic() - started
    assert not out.errors, out.errors
    out.requests, out.rate_limited = sandbox.request_count, sandbox.rate_limited_count
    out.busiest_second = sandbox.busiest_second()
    out.by_endpoint = by_endpoint(sandbox.requests)
    return out


def _total(stats: list[BudgetStats], name: str) -> int:
    return sum(int(getattr(s, name)) for s in stats)


def test_one_budget_shared_through_dynamodb(bench: BenchLog, dynamodb: Any) -> None:
    platform = synthetic_platform(BUILDINGS, seed=6)
    day = platform.nights[0]
    table = Serialized(dynamodb)
    budgets: list[DynamoSlots] = []

    def shared_reader(sandbox: Sandbox) -> StripeReader:
        slots = DynamoSlots(table, TABLE)  # type: ignore[arg-type]
        budgets.append(slots)
        return StripeReader(sandbox.secret_key, api_base=sandbox.base_url, max_rps=BUDGET_RPS,
                            slots=slots, reservation=RESERVATION)

    with Sandbox(platform.scenario, clock=day, latency_ms=LATENCY_MS,
                 rate_limit_rps=BUDGET_RPS) as sandbox:
        prewarm(sandbox, day)
        with unthrottled(sandbox):
            accounts = StripeReader(sandbox.secret_key,
                                    api_base=sandbox.base_url).list_accounts().items
        assert len(accounts) == BUILDINGS
        shared = _night(sandbox, accounts, day, lambda: shared_reader(sandbox),
                        shared_reader(sandbox))
        # Before: every process paced on its own, plan_run at the full rate.
        before = _night(
            sandbox, accounts, day,
            lambda: StripeReader(sandbox.secret_key, api_base=sandbox.base_url,
                                 max_rps=BUDGET_RPS / WORKERS),
            StripeReader(sandbox.secret_key, api_base=sandbox.base_url, max_rps=BUDGET_RPS),
            deadline_s=CONTRAST_S)

    stats = [b.stats() for b in budgets]
    dynamo = {name: _total(stats, name) for name in
              ("reservations", "slots", "writes", "conflicts", "resets", "fallbacks", "late")}
    ok = shared.busiest_second <= BAR
    used = shared.requests / (BUDGET_RPS * shared.duration_s)

    bench.title(NAME, f"{WORKERS} check_account workers + 1 plan_run lister, one DynamoDB "
                f"budget (moto) of {BUDGET_RPS:g} req/s, {BUILDINGS} buildings (first night), "
                f"sandbox latency {LATENCY_MS} ms, sandbox limit {BUDGET_RPS:g} req/s")
    bench.row(NAME, "budget", BUDGET_RPS, "req/s")
    bench.row(NAME, "processes (check_account + plan_run)", f"{WORKERS} + 1")
    bench.row(NAME, "busiest second (shared budget)", shared.busiest_second, "requests",
              f"<= {BAR}", ok)
    bench.row(NAME, "requests (429s)", f"{shared.requests:,} ({shared.rate_limited})")
    bench.row(NAME, "duration", shared.duration_s, "s")
    bench.row(NAME, "budget used", f"{used:.0%}")
    bench.row(NAME, "buildings checked", f"{len(shared.checked)} of {BUILDINGS}", "",
              f"{BUILDINGS}", len(shared.checked) == BUILDINGS)
    bench.row(NAME, "plan_run listings", shared.listings)
    bench.row(NAME, "DynamoDB reservations (writes)",
              f"{dynamo['reservations']:,} ({dynamo['writes']:,})")
    bench.row(NAME, "slots reserved, unused", f"{dynamo['slots']:,}, "
              f"{max(0, dynamo['slots'] - shared.requests):,}")
    bench.row(NAME, "local fallbacks", dynamo["fallbacks"])
    bench.row(NAME, f"before, {CONTRAST_S:g} s: busiest second", before.busiest_second,
              "requests")
    bench.row(NAME, f"before, {CONTRAST_S:g} s: requests (429s)",
              f"{before.requests:,} ({before.rate_limited})")
    bench.detail(NAME, buildings=BUILDINGS, latency_ms=LATENCY_MS, budget_rps=BUDGET_RPS,
                 workers=WORKERS, reservation=RESERVATION, bar=BAR,
                 shared={"busiest_second": shared.busiest_second, "requests": shared.requests,
                         "rate_limited": shared.rate_limited, "duration_s": shared.duration_s,
                         "budget_used": used, "checked": len(shared.checked),
                         "failed": shared.failed, "listings": shared.listings,
                         "by_endpoint": shared.by_endpoint},
                 dynamodb=dynamo,
                 before={"seconds": CONTRAST_S, "busiest_second": before.busiest_second,
                         "requests": before.requests, "rate_limited": before.rate_limited,
                         "checked": len(before.checked)})

    assert len(shared.checked) == BUILDINGS, shared.failed
    assert dynamo["fallbacks"] == 0
    assert ok, f"{shared.busiest_second} requests in one second, budget {BUDGET_RPS:g}"
