"""The sandbox's rate limits and 429 faults, answered as Stripe answers them, on a fake clock.

No network: `SandboxApp.handle` is called directly, and its `timer` is a list the test moves.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from balance_guard.cli.main import build_parser
from balance_guard.sandbox.app import RecordedRequest, Reply, SandboxApp, busiest_second
from balance_guard.sandbox.faults import (
    ALL_FAULTS,
    DEFAULT_FAULTS,
    FaultKind,
    FaultPlan,
    parse_fault_kinds,
)
from balance_guard.sandbox.scenario import parse_scenario

ACCOUNT = "acct_1TestBuilding01"
HEADERS = {"authorization": "Bearer sk_test_balance_guard_sandbox", "stripe-account": ACCOUNT}


def _scenario(**account: Any) -> Any:
    building = {"id": ACCOUNT, "business_name": "Test",
                "charges": [{"amount": 100, "currency": "cad", "created": "2026-07-01"}],
                **account}
    return parse_scenario(json.dumps({
        "clock": "2026-08-01",
        "platform": {"account_id": "acct_1TestPlatform01", "business_name": "Test platform"},
        "accounts": [building]}))


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def app_with(clock: Clock, **options: Any) -> SandboxApp:
    return SandboxApp(_scenario(**options.pop("account", {})), timer=clock, **options)


def answer(app: SandboxApp, path: str) -> Reply:
    reply = app.handle("GET", path, HEADERS)
    assert reply is not None
    return reply


def statuses(app: SandboxApp, *paths: str) -> list[int]:
    return [answer(app, path).status for path in paths]


def headers_of(reply: Reply) -> dict[str, str]:
    return dict(reply.headers)


def error_of(reply: Reply) -> dict[str, Any]:
    error: dict[str, Any] = json.loads(reply.body)["error"]
    return error


# -- fault kinds ---------------------------------------------------------------------------


def test_default_faults_are_the_original_four_in_their_order() -> None:
    assert [k.value for k in DEFAULT_FAULTS] == ["500", "503", "drop", "malformed"]
    assert [k.value for k in ALL_FAULTS] == [
        "500", "503", "drop", "malformed", "lock_timeout", "429"]
    assert FaultKind("429") is FaultKind.RATE_LIMITED
    assert FaultPlan(0.5).kinds == DEFAULT_FAULTS


def test_fault_kinds_parse_from_a_comma_separated_list() -> None:
    assert parse_fault_kinds("lock_timeout, 429,500,429") == (
        FaultKind.LOCK_TIMEOUT, FaultKind.RATE_LIMITED, FaultKind.SERVER_ERROR)
    assert parse_fault_kinds("all") == ALL_FAULTS
    with pytest.raises(ValueError, match="unknown fault kind 'timeout'"):
        parse_fault_kinds("500,timeout")
    with pytest.raises(ValueError, match="at least one"):
        parse_fault_kinds(" , ")


def test_cli_sandbox_options_for_endpoint_limit_and_fault_kinds(
    capsys: pytest.CaptureFixture[str],
) -> None:
    parser = build_parser()
    defaults = parser.parse_args(["sandbox"])
    assert (defaults.endpoint_rate_limit, defaults.fault_kinds) == (None, DEFAULT_FAULTS)
    args = parser.parse_args(["sandbox", "--endpoint-rate-limit", "25",
                              "--fault-kinds", "lock_timeout,429"])
    assert args.endpoint_rate_limit == 25.0
    assert args.fault_kinds == (FaultKind.LOCK_TIMEOUT, FaultKind.RATE_LIMITED)
    for wrong in (["--fault-kinds", "teapot"], ["--endpoint-rate-limit", "0"]):
        with pytest.raises(SystemExit) as stopped:
            parser.parse_args(["sandbox", *wrong])
        assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "unknown fault kind 'teapot'" in err
    assert "must be positive: '0'" in err


# -- the global and per-endpoint limits ----------------------------------------------------


def test_global_limit_answers_like_stripe_and_refills_at_its_rate() -> None:
    clock = Clock()
    app = app_with(clock, rate_limit_rps=2)
    assert statuses(app, "/v1/balance", "/v1/account", "/v1/balance") == [200, 200, 429]
    refused = answer(app, "/v1/charges")
    assert refused.status == 429
    headers = headers_of(refused)
    assert headers["Stripe-Rate-Limited-Reason"] == "global-rate"
    assert "Stripe-Should-Retry" not in headers
    error = error_of(refused)
    assert (error["type"], error["code"]) == ("invalid_request_error", "rate_limit")
    assert error["message"].startswith("Request rate limit exceeded.")
    clock.now += 0.5  # one token back at 2 a second
    assert statuses(app, "/v1/balance", "/v1/balance") == [200, 429]
    assert app.rate_limited_count == 3


def test_endpoint_limit_keeps_one_bucket_per_route() -> None:
    clock = Clock()
    app = app_with(clock, endpoint_rate_limit_rps=2)
    assert statuses(app, *["/v1/balance"] * 3) == [200, 200, 429]
    assert headers_of(answer(app, "/v1/balance"))["Stripe-Rate-Limited-Reason"] == "endpoint-rate"
    # Other routes have budgets of their own; a list and a retrieve are different routes.
    assert statuses(app, "/v1/account", "/v1/account", "/v1/account") == [200, 200, 429]
    assert statuses(app, "/v1/charges", "/v1/charges/ch_x", "/v1/charges/ch_y",
                    "/v1/charges/ch_z") == [200, 404, 404, 429]
    # A URL Stripe would not know has no endpoint and no budget: always its 404.
    assert statuses(app, *["/v1/nowhere"] * 4) == [404] * 4
    clock.now += 1.0
    assert statuses(app, "/v1/balance", "/v1/balance", "/v1/balance") == [200, 200, 429]
    assert app.rate_limited_count == 5


def test_a_request_over_the_global_limit_spends_nothing_from_its_endpoint() -> None:
    clock = Clock()
    app = app_with(clock, rate_limit_rps=1, endpoint_rate_limit_rps=3)
    assert statuses(app, "/v1/balance", "/v1/balance", "/v1/balance") == [200, 429, 429]
    app.bucket = None  # lift the global limit: the endpoint still holds 2 of its 3 tokens
    assert statuses(app, "/v1/balance", "/v1/balance", "/v1/balance") == [200, 200, 429]


def test_endpoint_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="endpoint_rate_limit_rps"):
        app_with(Clock(), endpoint_rate_limit_rps=0)


# -- 429 faults ----------------------------------------------------------------------------


def test_lock_timeout_fault_is_the_only_retryable_429() -> None:
    app = app_with(Clock(), fault_rate=1.0, fault_kinds=[FaultKind.LOCK_TIMEOUT])
    reply = answer(app, "/v1/balance")
    assert reply.status == 429
    headers = headers_of(reply)
    assert headers["Stripe-Should-Retry"] == "true"
    assert "Stripe-Rate-Limited-Reason" not in headers
    assert error_of(reply)["code"] == "lock_timeout"
    assert app.rate_limited_count == 1


def test_random_429_fault_is_a_global_rate_limit() -> None:
    app = app_with(Clock(), fault_rate=1.0, fault_kinds=[FaultKind.RATE_LIMITED])
    reply = answer(app, "/v1/balance")
    assert reply.status == 429
    headers = headers_of(reply)
    assert headers["Stripe-Rate-Limited-Reason"] == "global-rate"
    assert "Stripe-Should-Retry" not in headers
    assert error_of(reply)["code"] == "rate_limit"


def test_seeded_faults_mix_the_429_kinds_only_when_asked() -> None:
    kinds = [FaultKind.LOCK_TIMEOUT, FaultKind.RATE_LIMITED, FaultKind.SERVER_ERROR]
    app = app_with(Clock(), fault_rate=1.0, seed=5, fault_kinds=kinds)
    plan = FaultPlan(1.0, seed=5, kinds=kinds)
    replies = [app.handle("GET", "/v1/balance", HEADERS) for _ in range(30)]
    expected = [plan.decide(n) for n in range(1, 31)]
    assert set(expected) == set(kinds)
    got = [r.status if r else None for r in replies]
    assert got == [500 if k is FaultKind.SERVER_ERROR else 429 for k in expected]
    assert app.rate_limited_count == sum(k is not FaultKind.SERVER_ERROR for k in expected)


@pytest.mark.parametrize(("should_retry", "header"), [(None, None), (True, "true"),
                                                      (False, "false")])
def test_account_429_is_a_rate_limit_with_the_scenarios_retry_header(
    should_retry: bool | None, header: str | None,
) -> None:
    account: dict[str, Any] = {"fail_with": 429, "fail_on": ["balance"]}
    if should_retry is not None:
        account["fail_should_retry"] = should_retry
    app = app_with(Clock(), account=account)
    assert statuses(app, "/v1/account") == [200]
    reply = answer(app, "/v1/balance")
    assert reply.status == 429
    headers = headers_of(reply)
    assert headers["Stripe-Rate-Limited-Reason"] == "global-rate"
    assert headers.get("Stripe-Should-Retry") == header
    assert error_of(reply)["code"] == "rate_limit"
    assert app.rate_limited_count == 1


# -- arrival times -------------------------------------------------------------------------


@pytest.mark.parametrize(("times", "busiest"), [
    ([], 0),
    ([5.0], 1),
    ([0.0, 1.0], 1),  # exactly a second apart: two different seconds
    ([0.0, 0.999], 2),
    ([0.0, 0.5, 0.99, 1.0, 1.2, 3.0], 4),  # 0.5 to 1.2
    ([2.0, 0.1, 2.5, 0.2, 2.9, 0.3, 2.95], 4),  # unsorted: 2.0, 2.5, 2.9, 2.95
])
def test_busiest_second_counts_a_sliding_window(times: list[float], busiest: int) -> None:
    assert busiest_second(times) == busiest


def test_requests_record_their_arrival_on_the_apps_clock() -> None:
    clock = Clock()
    app = app_with(clock)
    for step in (0.0, 0.2, 0.3, 0.4, 0.6, 0.2):
        clock.now += step
        app.handle("GET", "/v1/balance", HEADERS)
    assert [round(r.at, 6) for r in app.requests] == [100.0, 100.2, 100.5, 100.9, 101.5, 101.7]
    assert app.busiest_second() == 4  # 100.0 to 100.9; then 100.9 to 101.7 holds only 3
    method, path, account = app.requests[0]
    assert (method, path, account) == ("GET", "/v1/balance", ACCOUNT)
    # `at` sits beside the tuple: it plays no part in equality.
    assert app.requests[0] == RecordedRequest("GET", "/v1/balance", ACCOUNT, at=1.0)
    app.reset_counters()
    assert (app.busiest_second(), app.requests) == (0, [])


def test_rate_limited_count_counts_every_429_and_resets() -> None:
    clock = Clock()
    app = app_with(clock, rate_limit_rps=1, endpoint_rate_limit_rps=1,
                   account={"fail_with": 429, "fail_on": ["account"]})
    assert statuses(app, "/v1/balance", "/v1/balance") == [200, 429]  # global-rate
    clock.now += 1.0
    assert statuses(app, "/v1/account") == [429]  # the scenario's own 429
    app.bucket = None
    assert statuses(app, "/v1/account") == [429]  # endpoint-rate
    assert statuses(app, "/v1/charges") == [200]
    app.handle("POST", "/v1/refunds", HEADERS)  # a refused write is a 405, not a 429
    assert app.rate_limited_count == 3
    app.reset_counters()
    assert app.rate_limited_count == 0
