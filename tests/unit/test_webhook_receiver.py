"""The webhook receiver over real HTTP on 127.0.0.1: exact statuses and one log line each."""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from balance_guard.domain.findings import RuleCode
from balance_guard.sandbox.webhooks import sign
from balance_guard.webhook.coalesce import SinkFullError
from balance_guard.webhook.events import Trigger
from balance_guard.webhook.receiver import Receiver
from balance_guard.webhook.seen import SqliteSeenEvents
from balance_guard.webhook.server import WebhookServer
from balance_guard.webhook.verify import MAX_BODY_BYTES

SECRET = "whsec_test_receiver_secret"
ACCOUNT = "acct_1RtmStuckRefund01"


class Sink:
    def __init__(self, full: bool = False) -> None:
        self.triggers: list[Trigger] = []
        self.full = full

    def add(self, trigger: Trigger) -> bool:
        if self.full:
            raise SinkFullError("10000 accounts already wait for a re-check")
        self.triggers.append(trigger)
        return len(self.triggers) == 1


def stuck_refund_event(event_id: str = "evt_1StuckRefund0001") -> bytes:
    return json.dumps({
        "id": event_id, "object": "event", "type": "refund.created", "account": ACCOUNT,
        "created": 1_785_672_000, "data": {"object": {
            "id": "re_1", "object": "refund", "amount": 150000, "currency": "cad",
            "status": "pending", "pending_reason": "insufficient_funds"}},
    }).encode()


@pytest.fixture
def sink() -> Sink:
    return Sink()


@pytest.fixture
def seen(tmp_path: Path) -> Iterator[SqliteSeenEvents]:
    store = SqliteSeenEvents(tmp_path / "state.sqlite")
    yield store
    store.close()


@pytest.fixture
def url(seen: SqliteSeenEvents, sink: Sink) -> Iterator[str]:
    server = WebhookServer(Receiver(SECRET, seen, sink), 0)
    yield server.start()
    server.stop()


def post(url: str, body: bytes, signature: str | None) -> tuple[int, dict[str, object]]:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["Stripe-Signature"] = signature
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "balance_guard.webhook.receiver"]


def test_a_validly_signed_event_is_answered_200_and_queued(
        url: str, sink: Sink, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    body = stuck_refund_event()
    started = time.monotonic()
    status, answer = post(url, body, sign(body, SECRET, int(time.time())))
    assert time.monotonic() - started < 1.0
    assert (status, answer) == (200, {"received": True, "recheck": True})
    assert sink.triggers == [Trigger("evt_1StuckRefund0001", "refund.created", ACCOUNT,
                                     (RuleCode.REFUND_BLOCKED,))]
    assert lines(caplog) == [f"webhook evt_1StuckRefund0001 (refund.created, {ACCOUNT}): "
                             "re-check queued (REFUND_BLOCKED)"]


def test_another_endpoints_secret_is_refused_400(
        url: str, sink: Sink, caplog: pytest.LogCaptureFixture) -> None:
    body = stuck_refund_event()
    status, answer = post(url, body, sign(body, "whsec_someone_else", int(time.time())))
    reason = ("signature does not match (another endpoint's secret, or a body changed on "
              "the way)")
    assert (status, answer) == (400, {"error": reason})
    assert sink.triggers == []
    assert lines(caplog) == [f"webhook refused (400): {reason}"]


def test_a_body_changed_after_signing_is_refused_400(url: str, sink: Sink) -> None:
    body = stuck_refund_event()
    signature = sign(body, SECRET, int(time.time()))
    status, _ = post(url, body.replace(b"150000", b"1"), signature)
    assert status == 400
    assert sink.triggers == []


def test_a_timestamp_older_than_five_minutes_is_refused_400(
        url: str, sink: Sink, caplog: pytest.LogCaptureFixture) -> None:
    body = stuck_refund_event()
    status, answer = post(url, body, sign(body, SECRET, int(time.time()) - 301))
    reason = "signature timestamp is more than 300 s away (an old or replayed request)"
    assert (status, answer) == (400, {"error": reason})
    assert sink.triggers == []
    assert lines(caplog) == [f"webhook refused (400): {reason}"]


def test_a_timestamp_within_the_tolerance_is_taken(url: str, sink: Sink) -> None:
    body = stuck_refund_event()
    status, _ = post(url, body, sign(body, SECRET, int(time.time()) - 240))
    assert status == 200
    assert len(sink.triggers) == 1


def test_no_signature_is_refused_400(url: str, caplog: pytest.LogCaptureFixture) -> None:
    status, answer = post(url, stuck_refund_event(), None)
    assert (status, answer) == (400, {"error": "no Stripe-Signature header"})
    assert lines(caplog) == ["webhook refused (400): no Stripe-Signature header"]


def test_a_replayed_event_id_is_refused_but_answered_200(
        url: str, sink: Sink, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    body = stuck_refund_event()
    assert post(url, body, sign(body, SECRET, int(time.time())))[0] == 200
    # The same signed request again, and a fresh signature of the same event (Stripe's retry).
    again = post(url, body, sign(body, SECRET, int(time.time())))
    assert again == (200, {"received": True, "duplicate": True})
    assert len(sink.triggers) == 1
    assert lines(caplog)[1] == (f"webhook evt_1StuckRefund0001 (refund.created, {ACCOUNT}): "
                                "already received; ignored (a replay, or Stripe's retry)")


def test_the_replay_store_outlives_the_receiver(tmp_path: Path, sink: Sink) -> None:
    body = stuck_refund_event()
    for _ in range(2):
        store = SqliteSeenEvents(tmp_path / "state.sqlite")
        answer = Receiver(SECRET, store, sink).handle(
            body, {"Stripe-Signature": sign(body, SECRET, int(time.time()))})
        store.close()
    assert answer.status == 200
    assert len(sink.triggers) == 1


def test_an_oversized_body_is_refused_413_before_it_is_read(
        url: str, sink: Sink, caplog: pytest.LogCaptureFixture) -> None:
    body = b"x" * (MAX_BODY_BYTES + 1)
    status, answer = post(url, body, sign(body, SECRET, int(time.time())))
    reason = f"body of {MAX_BODY_BYTES + 1} bytes is over the {MAX_BODY_BYTES}-byte limit"
    assert (status, answer) == (413, {"error": reason})
    assert sink.triggers == []
    assert lines(caplog) == [f"webhook refused (413): {reason}"]


def test_an_event_that_changes_no_rule_is_answered_200_without_a_recheck(
        url: str, sink: Sink, seen: SqliteSeenEvents, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    raw = json.loads(stuck_refund_event())
    raw["data"]["object"].update(status="succeeded", pending_reason=None)
    body = json.dumps(raw).encode()
    status, answer = post(url, body, sign(body, SECRET, int(time.time())))
    assert (status, answer) == (200, {"received": True, "recheck": False})
    assert sink.triggers == []
    assert lines(caplog) == [f"webhook evt_1StuckRefund0001 (refund.created, {ACCOUNT}): "
                             "changes no rule; ignored"]


def test_the_platforms_own_events_start_no_recheck(url: str, sink: Sink) -> None:
    raw = json.loads(stuck_refund_event())
    del raw["account"]
    body = json.dumps(raw).encode()
    assert post(url, body, sign(body, SECRET, int(time.time())))[0] == 200
    assert sink.triggers == []


def test_a_full_sink_answers_503_and_takes_stripes_retry(tmp_path: Path) -> None:
    store = SqliteSeenEvents(tmp_path / "state.sqlite")
    body = stuck_refund_event()
    full = Receiver(SECRET, store, Sink(full=True)).handle(
        body, {"stripe-signature": sign(body, SECRET, int(time.time()))})
    assert (full.status, full.body) == (503, b'{"error":"busy; send it again later"}')
    sink = Sink()
    retry = Receiver(SECRET, store, sink).handle(
        body, {"stripe-signature": sign(body, SECRET, int(time.time()))})
    assert retry.status == 200
    assert len(sink.triggers) == 1


def test_only_post_on_the_root_path(url: str) -> None:
    body = stuck_refund_event()
    assert post(url + "hooks", body, sign(body, SECRET, int(time.time())))[0] == 404
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url, timeout=5)
    assert refused.value.code == 405
