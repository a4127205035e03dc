"""What the benchmarks share: running a night against the sandbox and counting requests."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from balance_guard.check.runner import RunOptions, run_night
from balance_guard.check.state_store import SqliteStateStore
from balance_guard.domain.policy import Policy
from balance_guard.report.model import Report
from balance_guard.sandbox.app import RecordedRequest
from balance_guard.sandbox.faults import FaultPlan
from balance_guard.sandbox.server import Sandbox
from balance_guard.stripe.reader import StripeReader

POLICY = Policy()


@dataclass(frozen=True)
class Night:
    report: Report
    reader_requests: int
    account_requests: int  # made for a connected account (Stripe-Account header)
    platform_requests: int  # the platform's own: /v1/account, /v1/accounts pages
    by_endpoint: dict[str, int]
    by_account: dict[str, int]
    answered_429: int = 0  # 429s the sandbox answered (its limits and injected faults)
    busiest_second: int = 0  # the most requests the sandbox saw within one second


def endpoint(path: str) -> str:
    """`/v1/reserve/plans/resplan_x` -> `/v1/reserve/plans/{id}`; lists stay as they are."""
    head, _, ident = path.rpartition("/")
    retrieve = head in {"/v1/reserve/plans", "/v1/accounts", "/v1/charges", "/v1/refunds"}
    return f"{head}/{{id}}" if retrieve and ident else path


def by_endpoint(requests: list[RecordedRequest]) -> dict[str, int]:
    return dict(sorted(Counter(endpoint(r.path) for r in requests).items()))


def run(
    sandbox: Sandbox, store: SqliteStateStore, as_of: date, *, max_rps: float | None = None,
    concurrency: int = 8, only: tuple[str, ...] = (),
) -> Night:
    """One night, as `balance-guard run` makes it: a new reader (process) every night."""
    sandbox.set_clock(as_of)
    sandbox.reset_counters()
    reader = StripeReader(sandbox.secret_key, api_base=sandbox.base_url, max_rps=max_rps)
    report = run_night(reader, store, None, RunOptions(
        as_of=as_of, policy=POLICY, concurrency=concurrency, only_accounts=only))
    requests = sandbox.requests
    accounts = Counter(r.stripe_account for r in requests if r.stripe_account)
    scoped = sum(accounts.values())
    return Night(report, reader.request_count, scoped, len(requests) - scoped,
                 by_endpoint(requests), dict(accounts), sandbox.rate_limited_count,
                 sandbox.busiest_second())


def prewarm(sandbox: Sandbox, day: date) -> None:
    """Build the sandbox's objects for `day` now, so a timed run measures the product only."""
    world = sandbox.app.world
    world.connected_accounts(day)
    for account in sandbox.scenario.accounts:
        world.view(account.id, day)


def check_failed(report: Report) -> list[str]:
    return [a.account_id for a in report.accounts
            if any(f.code == "CHECK_FAILED" for f in a.findings) or a.status == "error"]


def copy_state(source: Path, target: Path) -> None:
    """A consistent copy of a state file (SQLite's backup, WAL included)."""
    import sqlite3

    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def tune_sandbox() -> list[str]:
    """Take an artefact of the test server out of the measurements; returns what changed.

    Nagle: the sandbox's handler sends each response's headers and body in two writes on a
    keep-alive connection; with Nagle's algorithm on, the body waits for the client's
    delayed ACK, ~40 ms a request on Linux. Real Stripe does not do that. The sandbox now
    switches it off itself (and sends compact JSON, whose indenting encoder once dominated
    its CPU), so this only guards against that changing back.

    `BENCH_SANDBOX_AS_IS=1` measures the sandbox unchanged.
    """
    from balance_guard.sandbox import server

    changed = []
    if not getattr(server._Handler, "disable_nagle_algorithm", False):
        server._Handler.disable_nagle_algorithm = True
        changed.append("nagle off")
    return changed


@contextmanager
def unthrottled(sandbox: Sandbox) -> Iterator[None]:
    """No latency, no rate limit (global or per endpoint) and no injected fault for a
    while: to prepare state before the timed runs."""
    app = sandbox.app
    saved = app.latency_s, app.bucket, app.endpoint_rate_limit_rps, app.faults
    app.latency_s, app.bucket, app.endpoint_rate_limit_rps = 0.0, None, None
    app.faults = FaultPlan(0.0)
    try:
        yield
    finally:
        app.latency_s, app.bucket, app.endpoint_rate_limit_rps, app.faults = saved
