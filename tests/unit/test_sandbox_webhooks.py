"""The sandbox's webhooks: Stripe's signature scheme, the events of a clock move, the
scenario's steps, and the `listen` / `sandbox --webhook-url` options around them."""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path

import pytest
import stripe

from balance_guard.cli.listen import webhook_secret
from balance_guard.cli.main import main
from balance_guard.cli.options import UsageError
from balance_guard.sandbox.scenario import Scenario
from balance_guard.sandbox.server import Sandbox
from balance_guard.sandbox.webhooks import WebhookPoster, sign, world_events
from balance_guard.sandbox.world import World
from balance_guard.webhook.verify import verify

SECRET = "whsec_sandbox_unit_secret"
DAY1, DAY2 = date(2026, 8, 1), date(2026, 8, 2)


def world() -> Scenario:
    return Scenario.model_validate({
        "clock": "2026-08-01",
        "platform": {"account_id": "acct_1PlatformUnit01", "business_name": "Unit"},
        "steps": [{"after_seconds": 0.2, "clock": "2026-08-02"}],
        "accounts": [
            {"id": "acct_1StuckBuilding01", "business_name": "Stuck",
             "balances": {"available": {"cad": 150_000}},
             "balance_history": {"2026-08-02": {"available": {"cad": 0}}},
             "charges": [{"id": "ch_1StuckRent00000001", "amount": 50_000, "currency": "cad",
                          "created": "2026-07-20"},
                         {"amount": 9_000, "currency": "cad", "created": "2026-08-02T09:00:00Z",
                          "disputed": True}],
             "refunds": [{"amount": 50_000, "currency": "cad", "charge": "ch_1StuckRent00000001",
                          "created": "2026-08-02T14:00:00Z", "status": "pending",
                          "pending_reason": "insufficient_funds"}]},
            {"id": "acct_1ManualBuilding1", "business_name": "Manual",
             "payout_schedule": {"interval": "manual"},
             "balances": {"available": {"cad": 80_000}},
             "balance_history": {"2026-08-02": {"available": {"cad": 30_000}}}},
            {"id": "acct_1UnchangedBuild1", "business_name": "Unchanged",
             "balances": {"available": {"cad": 80_000}}},
        ],
    })


def test_the_signature_is_the_one_stripes_sdk_verifies() -> None:
    payload = b'{"id":"evt_1","object":"event"}'
    at = int(time.time())
    header = sign(payload, SECRET, at)
    assert header.startswith(f"t={at},v1=")
    assert stripe.Webhook.construct_event(payload, header, SECRET)["id"] == "evt_1"


def test_a_clock_move_announces_what_changed_account_by_account() -> None:
    events = world_events(World(world()), DAY1, DAY2)
    assert [(e["type"], e["account"]) for e in events] == [
        ("refund.created", "acct_1StuckBuilding01"),
        ("charge.dispute.created", "acct_1StuckBuilding01"),
        ("payout.created", "acct_1StuckBuilding01"),
        ("payout.paid", "acct_1StuckBuilding01"),
        ("balance.available", "acct_1StuckBuilding01"),
        ("balance.available", "acct_1ManualBuilding1"),  # manual payouts: no sweep
    ]
    refund, dispute, created, paid = (e["data"]["object"] for e in events[:4])
    assert (refund["object"], refund["status"], refund["pending_reason"]) == (
        "refund", "pending", "insufficient_funds")
    assert (dispute["object"], dispute["amount"], dispute["currency"]) == ("dispute", 9_000, "cad")
    assert (created["status"], paid["status"], paid["amount"]) == ("in_transit", "paid", 150_000)
    assert all(e["object"] == "event" and e["id"].startswith("evt_") for e in events)
    assert len({e["id"] for e in events}) == len(events)
    assert world_events(World(world()), DAY2, DAY1) == []


def test_each_event_passes_the_receivers_verification() -> None:
    for shaped in world_events(World(world()), DAY1, DAY2):
        body = json.dumps(shaped).encode()
        verified = verify(body, {"Stripe-Signature": sign(body, SECRET, int(time.time()))},
                          SECRET)
        assert (verified.id, verified.account) == (shaped["id"], shaped["account"])


def test_the_scenarios_steps_move_the_clock_and_post_the_events() -> None:
    class Poster(WebhookPoster):
        def __init__(self) -> None:
            super().__init__("http://127.0.0.1:9/", SECRET)
            self.queued: list[str] = []

        def send(self, events: list[dict[str, object]]) -> None:
            self.queued += [str(e["type"]) for e in events]

    poster = Poster()
    with Sandbox(world(), webhooks=poster) as sandbox:
        assert sandbox.clock == DAY1
        deadline = time.monotonic() + 5
        while sandbox.clock != DAY2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert sandbox.clock == DAY2
    assert poster.queued[0] == "refund.created"
    assert len(poster.queued) == 6


def test_steps_are_kept_in_time_order() -> None:
    raw = world().model_dump(mode="json")
    raw["steps"] = [{"after_seconds": 9, "clock": "2026-08-03"},
                    {"after_seconds": 1, "clock": "2026-08-02"}]
    assert [s.after_seconds for s in Scenario.model_validate(raw).steps] == [1, 9]


def test_the_secret_file_loses_its_trailing_newline(tmp_path: Path) -> None:
    path = tmp_path / "whsec"
    path.write_text(SECRET + "\r\n", encoding="utf-8")
    assert webhook_secret(path, {}) == SECRET
    assert webhook_secret(None, {"STRIPE_WEBHOOK_SECRET": SECRET}) == SECRET


@pytest.mark.parametrize(("path_text", "env", "problem"), [
    (None, {}, "the webhook signing secret is needed: --webhook-secret-file or "
               "STRIPE_WEBHOOK_SECRET"),
    ("\n", {}, "no usable signing secret (empty, or spaces around it)"),
    (None, {"STRIPE_WEBHOOK_SECRET": ""}, "STRIPE_WEBHOOK_SECRET: no usable signing secret "
                                          "(empty, or spaces around it)"),
])
def test_a_missing_or_empty_secret_is_a_usage_error(
        tmp_path: Path, path_text: str | None, env: dict[str, str], problem: str) -> None:
    path = None
    if path_text is not None:
        path = tmp_path / "whsec"
        path.write_text(path_text, encoding="utf-8")
    with pytest.raises(UsageError) as error:
        webhook_secret(path, env)
    assert str(error.value).endswith(problem)


def test_listen_without_a_secret_exits_2(capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET", raising=False)
    assert main(["listen", "--port", "0"]) == 2
    assert capsys.readouterr().err == (
        "balance-guard: the webhook signing secret is needed: --webhook-secret-file or "
        "STRIPE_WEBHOOK_SECRET\n")


def test_sandbox_webhooks_need_an_http_address(capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", SECRET)
    assert main(["sandbox", "--webhook-url", "ftp://example.com/"]) == 2
    assert capsys.readouterr().err == (
        "balance-guard: --webhook-url 'ftp://example.com/' is not an http(s) address\n")
