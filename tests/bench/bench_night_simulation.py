"""Bench 7: a simulated night of 10 000 buildings at 100 req/s, paced by the real Pacer.

Over real HTTP such a night is 50 000 requests and at least eight minutes of waiting, so it
is simulated in virtual time instead. What is simulated is the network and Stripe's answer
time; what paces the requests is the product's own `Pacer` (global slots 1/100 s apart,
Stripe's 25 req/s per endpoint, the adaptive ceiling), on a fake clock whose `sleep` moves
time forward.

- The requests of one building are measured, not assumed: a real steady-state night (night
  2) of a 20-building platform against the sandbox gives each building's requests in the
  reader's order; simulated building `i` makes the requests of measured building `i % 20`.
- The platform's own calls are those of `run_night`: `/v1/account`, then the connected
  accounts listed 100 a page, one page after the other, before any building is checked.
- A discrete-event loop over W worker threads that take turns (`VirtualTime`): a heap of
  sleepers by wake-up time; the earliest one gets the clock set to its time and runs until
  it sleeps again. A worker calls `pacer.acquire(endpoint)`, which sleeps until its slots;
  the request is sent then, and the worker sleeps a simulated latency (uniform between 100
  and 200 ms, seeded) for its answer. Slots are thus reserved in the order the workers
  become ready, as real threads would reserve them.

Stripe time = when the last answer arrives. The busiest one-second windows are counted as
the sandbox counts them (`balance_guard.sandbox.app.busiest_second`).
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from balance_guard.check.state_store import SqliteStateStore
from balance_guard.sandbox.app import busiest_second
from balance_guard.sandbox.server import Sandbox
from balance_guard.sandbox.synthetic import synthetic_platform
from balance_guard.stripe.pacing import STRIPE_ENDPOINT_RPS, LocalSlots, Pacer, endpoint_of
from balance_guard.stripe.reader import PAGE_SIZE
from tests.bench.helpers import check_failed, prewarm, run
from tests.bench.support import BenchLog

BUILDINGS = 10_000
MAX_RPS = 100.0  # Stripe's live-mode global limit
WORKERS = 24  # enough to keep every slot used: 100 req/s × 150 ms = 15 requests in flight
CLI_WORKERS = 8  # `balance-guard run --concurrency`'s default, for comparison
LATENCY_S = (0.100, 0.200)
SEED = 7
MEASURED = 20  # buildings of the real night the per-building requests are taken from
MINUTES_BAR = 10.0
PER_BUILDING_BAR = 5.0
NAME = "7 simulated night"


class VirtualTime:
    """Threads taking turns in virtual time: one runs at once, and its `sleep` parks it
    until the clock, moved by `run`, reaches its wake-up time (ties: first come, first
    served). The product's Pacer sleeps in several steps per request (its adaptive slot,
    the endpoint's, the global one); each step is a turn, so a worker waiting on a busy
    endpoint leaves the global slots in between to the others, as a thread would."""

    WAIT_S = 60.0  # a real-time bound on one turn: a stuck worker fails the bench

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, threading.Event]] = []
        self._order = itertools.count()
        self._parked = threading.Event()
        self._errors: list[BaseException] = []
        self._running = False  # every thread of `run` has been started

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        at = self.now + max(0.0, seconds)
        if self._running and (not self._sleepers or at < self._sleepers[0][0]):
            self.now = at  # its turn would come next anyway: no hand-over needed
            return
        wake = threading.Event()
        heapq.heappush(self._sleepers, (at, next(self._order), wake))
        self._parked.set()
        wake.wait()

    def run(self, targets: list[Callable[[], None]]) -> None:
        """Run `targets`, one thread each, from the clock's current time until all end."""

        def body(target: Callable[[], None]) -> None:
            try:
                self.sleep(0.0)  # its first turn comes from the loop below
                target()
            except BaseException as error:  # re-raised by `run`
                self._errors.append(error)
            finally:
                self._parked.set()

        threads = []
        for target in targets:
            self._parked.clear()
            thread = threading.Thread(target=body, args=(target,), daemon=True)
            thread.start()
            threads.append(thread)
            self._turn_ended()
        self._running = True
        while self._sleepers:
            self.now, _, wake = heapq.heappop(self._sleepers)
            self._parked.clear()
            wake.set()
            self._turn_ended()
        self._running = False
        for thread in threads:
            thread.join(self.WAIT_S)
        if self._errors:
            raise self._errors[0]

    def _turn_ended(self) -> None:
        if not self._parked.wait(self.WAIT_S):
            raise RuntimeError("a simulated worker neither slept nor ended")


@dataclass(frozen=True)
class Measured:
    sequences: list[list[str]]  # each building's endpoints, in the order it requested them
    per_building: float  # requests per building in steady state
    platform_requests: int
    night_requests: int


@dataclass(frozen=True)
class Simulated:
    stripe_s: float
    listing_s: float
    requests: int
    platform_requests: int
    busiest_second: int
    busiest_endpoint_second: dict[str, int]
    lowest_rps: float
    cpu_s: float

    @property
    def per_building(self) -> float:
        return (self.requests - self.platform_requests) / BUILDINGS


def measure_steady_state(folder: Path) -> Measured:
    """Two real nights of a small platform; what night 2 requests for each building."""
    platform = synthetic_platform(MEASURED, seed=SEED, nights=2, history_days=14)
    night1, night2 = platform.nights[:2]
    with Sandbox(platform.scenario, clock=night1) as sandbox:
        store = SqliteStateStore(folder / "measured.sqlite")
        for day in (night1, night2):
            prewarm(sandbox, day)
        assert not check_failed(run(sandbox, store, night1).report)
        night = run(sandbox, store, night2)
        requests = sandbox.requests
        store.close()
    assert not check_failed(night.report)
    by_account: dict[str, list[str]] = defaultdict(list)
    for request in requests:  # in arrival order; one account's requests are sequential
        if request.stripe_account:
            by_account[request.stripe_account].append(endpoint_of(request.path))
    sequences = [by_account[account] for account in sorted(platform.account_ids)]
    assert night.report.totals.stripe_requests == night.reader_requests
    per_building = (night.report.totals.stripe_requests - night.platform_requests) / MEASURED
    assert sum(map(len, sequences)) == night.account_requests
    return Measured(sequences, per_building, night.platform_requests, night.reader_requests)


def simulate(sequences: list[list[str]], workers: int) -> Simulated:
    started = time.process_time()
    clock = VirtualTime()
    pacer = Pacer(MAX_RPS, slots=LocalSlots(clock), endpoint_rps=STRIPE_ENDPOINT_RPS,
                  clock=clock, sleep=clock.sleep)
    latency = random.Random(SEED)
    sent: list[tuple[float, str]] = []

    def request(endpoint: str) -> None:
        """Sent when the pacer allows; returns when the answer has arrived."""
        pacer.acquire(endpoint)
        sent.append((clock.now, endpoint))
        clock.sleep(latency.uniform(*LATENCY_S))
        pacer.succeeded()

    def list_accounts() -> None:
        request("/v1/account")
        for _ in range(math.ceil(BUILDINGS / PAGE_SIZE)):
            request("/v1/accounts")

    # The platform's own calls, one after the other, before any building.
    clock.run([list_accounts])
    listing_s, platform_requests = clock.now, len(sent)

    buildings = iter(range(BUILDINGS))  # one worker runs at a time: no lock needed

    def check_buildings() -> None:
        for building in buildings:
            for endpoint in sequences[building % len(sequences)]:
                request(endpoint)

    clock.run([check_buildings] * workers)

    by_endpoint: dict[str, list[float]] = defaultdict(list)
    for at, endpoint in sent:
        by_endpoint[endpoint].append(at)
    return Simulated(
        stripe_s=clock.now, listing_s=listing_s, requests=len(sent),
        platform_requests=platform_requests,
        busiest_second=busiest_second([at for at, _ in sent]),
        busiest_endpoint_second={e: busiest_second(t) for e, t in sorted(by_endpoint.items())},
        lowest_rps=pacer.stats().lowest_rps, cpu_s=time.process_time() - started)


def test_simulated_night_of_ten_thousand_buildings(bench: BenchLog, tmp_path: Path) -> None:
    measured = measure_steady_state(tmp_path)
    night = simulate(measured.sequences, WORKERS)
    cli_default = simulate(measured.sequences, CLI_WORKERS)

    minutes = night.stripe_s / 60
    endpoint_peak = max(night.busiest_endpoint_second.values())
    bars = {
        "minutes": minutes < MINUTES_BAR,
        "per_building": night.per_building <= PER_BUILDING_BAR,
        "busiest": night.busiest_second <= MAX_RPS + 1,
        "endpoint": endpoint_peak <= STRIPE_ENDPOINT_RPS + 1,
    }
    bench.title(NAME, f"SIMULATION of the product's Pacer in virtual time: {BUILDINGS:,} "
                f"buildings at {MAX_RPS:g} req/s, {WORKERS} workers, latency "
                f"{LATENCY_S[0] * 1000:g}-{LATENCY_S[1] * 1000:g} ms; requests per building "
                f"measured on a real steady-state night of {MEASURED} buildings")
    bench.row(NAME, f"measured: requests per building ({MEASURED} buildings, night 2)",
              measured.per_building, "req")
    bench.row(NAME, "simulated: Stripe time", minutes, "min", f"< {MINUTES_BAR:g}",
              bars["minutes"])
    bench.row(NAME, "simulated: requests per building", night.per_building, "req",
              f"<= {PER_BUILDING_BAR:g}", bars["per_building"])
    bench.row(NAME, "simulated: requests (platform's own)",
              f"{night.requests:,} ({night.platform_requests})")
    bench.row(NAME, "simulated: listing the accounts", night.listing_s, "s")
    bench.row(NAME, "simulated: busiest 1-second window", night.busiest_second, "req",
              f"<= {MAX_RPS + 1:g}", bars["busiest"])
    bench.row(NAME, "simulated: busiest second on one endpoint", endpoint_peak, "req",
              f"<= {STRIPE_ENDPOINT_RPS + 1:g}", bars["endpoint"])
    bench.row(NAME, f"simulated: Stripe time with {CLI_WORKERS} workers (CLI default)",
              cli_default.stripe_s / 60, "min")
    bench.detail(NAME, simulation=True, buildings=BUILDINGS, max_rps=MAX_RPS,
                 endpoint_rps=STRIPE_ENDPOINT_RPS, workers=WORKERS, latency_s=LATENCY_S,
                 seed=SEED, measured_buildings=MEASURED,
                 measured_per_building=measured.per_building,
                 measured_night_requests=measured.night_requests,
                 measured_platform_requests=measured.platform_requests,
                 measured_sequences=sorted({" ".join(s) for s in measured.sequences}),
                 stripe_s=night.stripe_s, listing_s=night.listing_s, requests=night.requests,
                 platform_requests=night.platform_requests, per_building=night.per_building,
                 busiest_second=night.busiest_second,
                 busiest_endpoint_second=night.busiest_endpoint_second,
                 lowest_rps=night.lowest_rps, cpu_s=round(night.cpu_s, 2),
                 cli_default_workers=CLI_WORKERS, cli_default_stripe_s=cli_default.stripe_s)
    assert all(bars.values()), bars
