"""A night against a server that rate-limits as Stripe does: 429 with code `rate_limit`, a
`Stripe-Rate-Limited-Reason` header and never `Stripe-Should-Retry: true`. The stripe SDK
does not retry those; every building must still be checked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from balance_guard.cli.main import main
from balance_guard.sandbox.faults import FaultKind, FaultPlan
from tests.integration.conftest import KEY, account, scenario

AS_OF = "2026-08-01"


def run(sandbox: Any, tmp_path: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    report = tmp_path / "report.json"
    code = main([
        "run", "--stripe-api-base", sandbox.base_url, "--api-key", KEY, "--as-of", AS_OF,
        "--state", str(tmp_path / "state.sqlite"), "--outbox", str(tmp_path / "outbox"),
        "--report-json", str(report), *extra,
    ])
    return code, json.loads(report.read_text()) if report.exists() else {}


def buildings(count: int) -> list[dict[str, Any]]:
    return [account(f"acct_building{i:03d}") for i in range(count)]


def seed_limiting_first_requests(rate: float, first: int) -> int:
    """A fault seed whose first `first` requests are all answered 429."""
    return next(seed for seed in range(10_000)
                if all(FaultPlan(rate, seed, (FaultKind.RATE_LIMITED,)).decide(n)
                       for n in range(1, first + 1)))


def test_a_429_on_the_platform_reads_is_retried_not_fatal(serve: Any, tmp_path: Path) -> None:
    seed = seed_limiting_first_requests(0.3, 3)  # /v1/account, then /v1/accounts, twice
    sandbox = serve(scenario(*buildings(3)), fault_rate=0.3, seed=seed,
                    fault_kinds=(FaultKind.RATE_LIMITED,))
    code, report = run(sandbox, tmp_path, "--max-rps", "200")
    assert code == 0
    assert report["totals"]["by_status"] == {"ok": 3}
    assert report["totals"]["stripe_limits"]["rate_limited"] >= 3
    assert sandbox.requests[0].path == sandbox.requests[1].path == "/v1/account"


def test_a_server_that_never_says_retry_still_gets_every_building_checked(
    serve: Any, tmp_path: Path, capsys: Any,
) -> None:
    """The client's budget is set twice the server's: 429s cost time, never a building."""
    sandbox = serve(scenario(*buildings(12)), rate_limit_rps=10)
    code, report = run(sandbox, tmp_path, "--max-rps", "20", "--concurrency", "6")
    assert code == 0
    assert report["totals"]["by_status"] == {"ok": 12}
    limits = report["totals"]["stripe_limits"]
    assert limits["rate_limited"] == sandbox.rate_limited_count > 0
    assert limits["max_rps"] == 20
    assert limits["lowest_rps"] < 20
    assert "429" in capsys.readouterr().out


def test_random_429s_on_per_account_reads_never_fail_a_building(
    serve: Any, tmp_path: Path,
) -> None:
    sandbox = serve(scenario(*buildings(10)), fault_rate=0.1, seed=7,
                    fault_kinds=(FaultKind.RATE_LIMITED,))
    code, report = run(sandbox, tmp_path, "--max-rps", "200", "--concurrency", "4")
    assert code == 0
    assert report["totals"]["by_status"] == {"ok": 10}
    assert report["totals"]["stripe_limits"]["rate_limited"] == sandbox.rate_limited_count


def test_a_building_failing_for_a_passing_reason_gets_a_second_pass(
    serve: Any, tmp_path: Path,
) -> None:
    # Its first three reads answer 500: the first pass gives up on it, the second checks it.
    flaky = account("acct_flaky00001", fail_with=500, fail_first=3)
    sandbox = serve(scenario(flaky, *buildings(2)))
    code, report = run(sandbox, tmp_path, "--max-rps", "200")
    assert code == 0
    assert report["totals"]["by_status"] == {"ok": 3}
    assert report["totals"]["stripe_limits"]["accounts_retried"] == 1


def test_a_refusal_is_final_and_not_tried_again(serve: Any, tmp_path: Path) -> None:
    refused = account("acct_refused001", fail_with=403, fail_on=["balance"])
    sandbox = serve(scenario(refused, *buildings(1)))
    code, report = run(sandbox, tmp_path, "--max-rps", "200")
    assert code == 1
    assert report["totals"]["stripe_limits"]["accounts_retried"] == 0
    balance_reads = [r for r in sandbox.requests
                     if r.path == "/v1/balance" and r.stripe_account == "acct_refused001"]
    assert len(balance_reads) == 1
