"""Stripe's Connect webhooks on AWS, end to end in-process: a signed event through the
webhook Lambda (a Function URL event), the coalescing window in the state table, one delayed
message on the check queue, check_account's re-check against the sandbox, and the email in
SES (moto). Same setting as test_aws_handlers.py: moto for AWS, the sandbox over HTTP."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from datetime import date
from typing import Any

import boto3
import pytest

from balance_guard.aws import webhook as webhook_fn
from balance_guard.aws.dynamo import Claim
from balance_guard.aws.recheck import RECHECK_ATTEMPTS
from balance_guard.sandbox.server import Sandbox
from balance_guard.sandbox.templates import JsonObject
from balance_guard.sandbox.webhooks import event, sign
from balance_guard.webhook.verify import MAX_BODY_BYTES
from tests.integration.conftest import account, scenario
from tests.integration.test_aws_handlers import (
    TABLE,
    Stack,
    aws,
    check,
    dead_letters,
    load_app,
    plan,
    received,
    sent_emails,
    sqs_record,
)

__all__ = ["aws"]  # a fixture, used by name

WEBHOOK = load_app("webhook")
SECRET = "whsec_moto_function_url_secret"
STUCK = "acct_1RtmStuckRefund01"
QUIET = "acct_1RtmQuietBuilding1"
DAY1, DAY2 = date(2026, 8, 1), date(2026, 8, 2)
WINDOW_S = 1


def platform() -> Any:
    """Two sound buildings on night 1; on day 2 one refund gets stuck for lack of funds
    after a payout swept the balance, and the other building's balance grows."""
    return scenario(
        account(STUCK, business_name="Stuck Refund Towers", email="admin@stuck.example",
                charges=[{"id": "ch_1RtmStuckRent000001", "amount": 50_000, "currency": "cad",
                          "created": "2026-07-20"}],
                refunds=[{"amount": 50_000, "currency": "cad",
                          "charge": "ch_1RtmStuckRent000001",
                          "created": "2026-08-02T14:00:00Z", "status": "pending",
                          "pending_reason": "insufficient_funds"}],
                balance_history={"2026-08-02": {"available": {"cad": 0}}}),
        account(QUIET, business_name="Quiet Building",
                balance_history={"2026-08-02": {"available": {"cad": 160_000}}}),
    )


class Collected:
    """The sandbox's webhooks, kept instead of posted: the test delivers them."""

    url = "https://function-url.invalid/"

    def __init__(self) -> None:
        self.events: list[JsonObject] = []

    def send(self, events: list[JsonObject]) -> None:
        self.events += events

    def stop(self, timeout: float = 5.0) -> None:
        pass


def function_url_event(body: bytes, *, signature: str | None = None, method: str = "POST",
                       path: str = "/", encode: bool = False) -> dict[str, Any]:
    """What a Function URL hands the Lambda (payload format 2.0): headers lower-cased, the
    body as text or base64."""
    headers = {"content-type": "application/json; charset=utf-8",
               "content-length": str(len(body)), "user-agent": "Stripe/1.0"}
    if signature is not None:
        headers["stripe-signature"] = signature
    return {
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
        "headers": headers,
        "requestContext": {"http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                                    "sourceIp": "3.18.12.63", "userAgent": "Stripe/1.0"},
                           "requestId": "req-1", "stage": "$default"},
        "body": base64.b64encode(body).decode() if encode else body.decode(),
        "isBase64Encoded": encode,
    }


def deliver(shaped: JsonObject, *, secret: str = SECRET, at: int | None = None,
            encode: bool = False) -> dict[str, Any]:
    """Sign `shaped` as Stripe would and hand it to the webhook Lambda; its response."""
    payload = json.dumps(shaped, separators=(",", ":")).encode()
    signature = sign(payload, secret, int(time.time()) if at is None else at)
    return call(function_url_event(payload, signature=signature, encode=encode))


def call(request: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = WEBHOOK.handler(request, _context())
    return answer


def _context() -> Any:
    from tests.integration.test_aws_handlers import Context

    return Context(function_name="balance-guard-webhook", remaining_ms=5_000)


def queue_counts(stack: Stack) -> tuple[int, int]:
    """(messages visible, messages delayed) on the check queue."""
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=stack.queue_url, AttributeNames=["ApproximateNumberOfMessages",
                                                  "ApproximateNumberOfMessagesDelayed"])
    found = attributes["Attributes"]
    return (int(found["ApproximateNumberOfMessages"]),
            int(found["ApproximateNumberOfMessagesDelayed"]))


def after_the_window(stack: Stack) -> list[dict[str, Any]]:
    """The re-check messages, once their delay (the window) has passed."""
    time.sleep(WINDOW_S + 0.2)
    return received(stack)


@pytest.fixture
def webhooks(aws: Callable[..., Stack], monkeypatch: pytest.MonkeyPatch,
             ) -> Callable[[Sandbox], Stack]:
    """The stack of test_aws_handlers.py plus the webhook's secret and window."""
    def create(sandbox: Sandbox) -> Stack:
        stack = aws(sandbox)
        arn = boto3.client("secretsmanager").create_secret(
            Name="balance-guard/stripe-webhook", SecretString=SECRET)["ARN"]
        monkeypatch.setenv("STRIPE_WEBHOOK_SECRET_ARN", arn)
        monkeypatch.setenv("BALANCE_GUARD_COALESCE_SECONDS", str(WINDOW_S))
        runtime = stack.install()
        runtime.clock_date = lambda: DAY2
        return stack
    return create


def night_one(stack: Stack) -> None:
    run_id = plan(DAY1.isoformat())["run_id"]
    assert check(received(stack)) == []
    assert stack.digests == [run_id]
    assert sent_emails() == []  # both buildings are sound tonight


def test_a_refund_stuck_during_the_day_reaches_the_building_through_the_function_url(
    serve: Any, webhooks: Callable[[Sandbox], Stack],
) -> None:
    sandbox = serve(platform(), clock=DAY1)
    stack = webhooks(sandbox)
    night_one(stack)
    collected = Collected()
    sandbox.webhooks = collected
    sandbox.set_clock(DAY2)  # the refund gets stuck, the payout sweeps, balances move
    sandbox.reset_counters()

    answers = [deliver(shaped) for shaped in collected.events]

    assert [a["statusCode"] for a in answers] == [200] * 5
    assert all(json.loads(a["body"])["recheck"] is True for a in answers)
    stuck_types = [e["type"] for e in collected.events if e["account"] == STUCK]
    assert stuck_types == ["refund.created", "payout.created", "payout.paid",
                           "balance.available"]
    assert sandbox.request_count == 0  # the webhook never reads Stripe
    assert queue_counts(stack) == (0, 2)  # one per account, delayed by the window
    records = after_the_window(stack)
    bodies = [json.loads(r["body"]) for r in records]
    assert sorted(b["account_id"] for b in bodies) == sorted([STUCK, QUIET])
    assert all(b["recheck"] == 1 and set(b) == {"recheck", "account_id", "window"}
               for b in bodies)

    assert check(records) == []

    [email] = sent_emails()
    assert email.destinations == ["admin@stuck.example"]
    requests = list(sandbox.requests)
    assert [r.path for r in requests].count(f"/v1/accounts/{STUCK}") == 1
    assert [r.path for r in requests if r.stripe_account == STUCK].count("/v1/balance") == 1
    # the real-time email is recorded: the same re-check again adds nothing
    assert stack.runtime is not None
    realtime = stack.runtime.notifier.realtime_emails(STUCK, DAY2)
    assert [e.to for e in realtime] == [["admin@stuck.example"]]
    assert realtime[0].realtime is True
    # the night's baseline is left alone: a re-check is a look, not a night
    assert stack.runtime.state_store.load(STUCK).last_as_of == DAY1
    assert check(records) == []  # a duplicate delivery: its window is done
    assert len(sent_emails()) == 1
    assert [r.path for r in sandbox.requests].count(f"/v1/accounts/{STUCK}") == 1


def test_a_burst_of_50_events_on_one_account_queues_one_message_and_one_check(
    serve: Any, webhooks: Callable[[Sandbox], Stack],
) -> None:
    sandbox = serve(platform(), clock=DAY2)
    stack = webhooks(sandbox)
    balance = {"object": "balance", "available": [{"amount": 160_000, "currency": "cad"}]}

    answers = [deliver(event("balance.available", QUIET, balance, 1_785_672_000, n))
               for n in range(50)]

    assert [a["statusCode"] for a in answers] == [200] * 50
    assert queue_counts(stack) == (0, 1)
    item = boto3.client("dynamodb").get_item(
        TableName=TABLE, Key={"pk": {"S": f"ACCOUNT#{QUIET}"}, "sk": {"S": "RECHECK"}})["Item"]
    assert item["events"] == {"N": "50"}
    assert item["event_types"] == {"SS": ["balance.available"]}
    [record] = after_the_window(stack)
    assert check([record]) == []
    quiet = [r for r in sandbox.requests
             if r.stripe_account == QUIET or r.path == f"/v1/accounts/{QUIET}"]
    assert [r.path for r in quiet].count("/v1/balance") == 1
    assert len(quiet) <= 7
    assert sent_emails() == []  # nothing critical: the night tells the rest


def test_an_event_after_the_check_started_opens_the_next_window(
    serve: Any, webhooks: Callable[[Sandbox], Stack],
) -> None:
    sandbox = serve(platform(), clock=DAY2)
    stack = webhooks(sandbox)
    balance = {"object": "balance", "available": [{"amount": 160_000, "currency": "cad"}]}
    deliver(event("balance.available", QUIET, balance, 1_785_672_000, "a"))
    [record] = after_the_window(stack)
    assert check([record]) == []

    deliver(event("balance.available", QUIET, balance, 1_785_672_000, "b"))

    [later] = after_the_window(stack)
    assert json.loads(later["body"])["window"] != json.loads(record["body"])["window"]


def test_refused_requests_queue_nothing(
    serve: Any, webhooks: Callable[[Sandbox], Stack],
) -> None:
    stack = webhooks(serve(platform(), clock=DAY2))
    refund = {"id": "re_1", "object": "refund", "status": "pending",
              "pending_reason": "insufficient_funds"}
    shaped = event("refund.created", STUCK, refund, 1_785_672_000)
    payload = json.dumps(shaped).encode()

    wrong = deliver(shaped, secret="whsec_another_endpoint")
    expired = deliver(shaped, at=int(time.time()) - 600)
    unsigned = call(function_url_event(payload))
    big = b'{"pad":"' + b"x" * MAX_BODY_BYTES + b'"}'
    oversized = call(function_url_event(big, signature=sign(big, SECRET, int(time.time()))))
    oversized_b64 = call(function_url_event(big, signature="t=1,v1=0", encode=True))
    get = call(function_url_event(b"", method="GET"))
    elsewhere = call(function_url_event(payload, path="/admin"))

    assert [r["statusCode"] for r in (wrong, expired, unsigned)] == [400, 400, 400]
    assert "signature does not match" in json.loads(wrong["body"])["error"]
    assert "more than 300 s away" in json.loads(expired["body"])["error"]
    assert oversized["statusCode"] == oversized_b64["statusCode"] == 413
    assert (get["statusCode"], get["headers"]["Allow"]) == (405, "POST")
    assert elsewhere["statusCode"] == 404
    assert queue_counts(stack) == (0, 0)

    first = deliver(shaped)
    replay = deliver(shaped)  # the same event id again, freshly signed

    assert first["statusCode"] == replay["statusCode"] == 200
    assert json.loads(replay["body"]) == {"received": True, "duplicate": True}
    assert queue_counts(stack) == (0, 1)


def test_a_base64_body_is_decoded_before_its_signature_is_checked(
    serve: Any, webhooks: Callable[[Sandbox], Stack],
) -> None:
    stack = webhooks(serve(platform(), clock=DAY2))
    refund = {"id": "re_2", "object": "refund", "status": "pending",
              "pending_reason": "insufficient_funds", "description": "Loyer d'août"}

    answer = deliver(event("refund.created", STUCK, refund, 1_785_672_000), encode=True)

    assert answer["statusCode"] == 200
    assert queue_counts(stack) == (0, 1)


def test_an_event_that_changes_no_rule_or_is_the_platforms_queues_nothing(
    serve: Any, webhooks: Callable[[Sandbox], Stack],
) -> None:
    stack = webhooks(serve(platform(), clock=DAY2))
    succeeded = {"id": "re_3", "object": "refund", "status": "succeeded"}
    platform_event = event("balance.available", STUCK, {"object": "balance"}, 1_785_672_000)
    platform_event["account"] = None

    answers = [deliver(event("refund.created", STUCK, succeeded, 1_785_672_000)),
               deliver(platform_event)]

    assert [json.loads(a["body"]) for a in answers] == [{"received": True,
                                                        "recheck": False}] * 2
    assert queue_counts(stack) == (0, 0)


class DownSqs:
    def send_message(self, **call: Any) -> Any:
        from botocore.exceptions import ClientError

        raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "down"}},
                          "SendMessage")


def test_when_sqs_is_down_the_event_is_answered_503_and_its_retry_is_taken(
    serve: Any, webhooks: Callable[[Sandbox], Stack],
) -> None:
    stack = webhooks(serve(platform(), clock=DAY2))
    runtime = stack.runtime
    assert runtime is not None
    real = runtime.sqs
    runtime.__dict__["sqs"] = DownSqs()  # the cached client, swapped
    refund = {"id": "re_4", "object": "refund", "status": "failed"}
    shaped = event("refund.updated", STUCK, refund, 1_785_672_000)

    down = deliver(shaped)
    runtime.__dict__["sqs"] = real
    webhook_fn._Receivers.receiver = None  # the container's receiver, rebuilt on the client
    retried = deliver(shaped)

    assert down["statusCode"] == 503
    assert retried["statusCode"] == 200
    assert json.loads(retried["body"]) == {"received": True, "recheck": True}
    assert queue_counts(stack) == (0, 1)


def test_a_recheck_beside_a_poisoned_record_fails_only_the_poisoned_one(
    serve: Any, webhooks: Callable[[Sandbox], Stack],
) -> None:
    sandbox = serve(platform(), clock=DAY2)
    stack = webhooks(sandbox)
    refund = {"id": "re_5", "object": "refund", "status": "pending",
              "pending_reason": "insufficient_funds"}
    deliver(event("refund.created", STUCK, refund, 1_785_672_000))
    [record] = after_the_window(stack)

    failures = check([record, sqs_record('{"recheck": 1, "account_id": "nope"}', "poison-1")])

    assert failures == ["poison-1"]
    assert [m.destinations for m in sent_emails()] == [["admin@stuck.example"]]


def test_a_recheck_that_fails_for_a_passing_reason_is_handed_back_then_left_for_the_night(
    serve: Any, webhooks: Callable[[Sandbox], Stack], monkeypatch: pytest.MonkeyPatch,
) -> None:
    sandbox = serve(platform(), clock=DAY2)
    stack = webhooks(sandbox)
    runtime = stack.runtime
    assert runtime is not None
    deliver(event("refund.failed", STUCK, {"id": "re_6", "object": "refund"}, 1_785_672_000))
    [record] = after_the_window(stack)
    from balance_guard.webhook import recheck as recheck_module

    calls: list[int] = []

    def flaky(account_id: str, **kwargs: Any) -> Any:
        calls.append(1)
        return recheck_module.RecheckResult(account_id, "failed", transient=True,
                                            reason="Stripe answered 503")

    monkeypatch.setattr(recheck_module, "recheck_account", flaky)

    def delivery(count: int) -> dict[str, Any]:
        return {**record, "attributes": {**record["attributes"],
                                         "ApproximateReceiveCount": str(count)}}

    with pytest.raises(Exception, match="All records failed"):  # a lone record failed
        check([delivery(1)])
    window = json.loads(record["body"])["window"]
    claim, _ = runtime.recheck_windows.claim(STUCK, window, 1)
    assert claim is Claim.TAKEN  # released for the next delivery
    runtime.recheck_windows.release(STUCK, window)
    assert check([delivery(RECHECK_ATTEMPTS), delivery(RECHECK_ATTEMPTS)]) == []
    assert len(calls) == 2  # the last attempt, once: then the window is done
    assert runtime.recheck_windows.claim(STUCK, window, 1)[0] is Claim.DONE


def test_a_recheck_in_the_dead_letter_queue_is_dropped_for_the_night(
    serve: Any, webhooks: Callable[[Sandbox], Stack],
) -> None:
    webhooks(serve(platform(), clock=DAY2))
    body = json.dumps({"recheck": 1, "account_id": STUCK, "window": "abc123"})

    assert dead_letters([sqs_record(body, "dead-1")]) == []


# -- the two stores, on their own ---------------------------------------------------------------


def test_seen_events_refuse_a_second_sight_until_forgotten_or_expired(
    serve: Any, webhooks: Callable[[Sandbox], Stack],
) -> None:
    webhooks(serve(platform(), clock=DAY2))
    from balance_guard.aws.dynamo import DynamoSeenEvents

    now = [1_785_672_000.0]
    seen = DynamoSeenEvents(boto3.client("dynamodb"), TABLE, retention_s=60,
                            clock=lambda: now[0])

    assert seen.first_sight("evt_1")
    assert not seen.first_sight("evt_1")
    seen.forget("evt_1")
    assert seen.first_sight("evt_1")
    now[0] += 61  # past its TTL, not yet deleted by DynamoDB
    assert seen.first_sight("evt_1")


class Throttling:
    """The moto client, throttling the first `n` calls of every kind."""

    def __init__(self, client: Any, n: int) -> None:
        self.client, self.left = client, n

    def __getattr__(self, name: str) -> Any:
        from botocore.exceptions import ClientError

        call = getattr(self.client, name)

        def throttled(**kwargs: Any) -> Any:
            if self.left > 0:
                self.left -= 1
                raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow"}},
                                  name)
            return call(**kwargs)
        return throttled


def test_a_throttled_write_is_tried_again_then_answered_503(
    serve: Any, webhooks: Callable[[Sandbox], Stack],
) -> None:
    webhooks(serve(platform(), clock=DAY2))
    from balance_guard.aws.dynamo import DynamoSeenEvents, WindowThrottledError

    client = boto3.client("dynamodb")
    assert DynamoSeenEvents(Throttling(client, 2), TABLE, sleep=lambda s: None).first_sight(
        "evt_2")
    with pytest.raises(WindowThrottledError):
        DynamoSeenEvents(Throttling(client, 3), TABLE, sleep=lambda s: None).first_sight(
            "evt_3")


def test_a_window_opens_joins_and_is_taken_once(
    serve: Any, webhooks: Callable[[Sandbox], Stack],
) -> None:
    webhooks(serve(platform(), clock=DAY2))
    from balance_guard.aws.dynamo import RecheckWindows

    now = [1_785_672_000.0]
    windows = RecheckWindows(boto3.client("dynamodb"), TABLE, clock=lambda: now[0])
    opened = windows.open_or_join(QUIET, 60, "balance.available", ["NEGATIVE_BALANCE"])
    assert opened is not None
    first, due = opened
    assert due == now[0] + 60
    now[0] += 30
    assert windows.open_or_join(QUIET, 60, "payout.paid", ["REFUND_CAPACITY_SHORT"]) is None
    now[0] += 31  # due: the check takes it

    claim, window = windows.claim(QUIET, first, 300)

    assert claim is Claim.TAKEN
    assert window is not None
    assert (window.events, window.event_types) == (2, ("balance.available", "payout.paid"))
    assert window.rules == ("NEGATIVE_BALANCE", "REFUND_CAPACITY_SHORT")
    assert windows.claim(QUIET, first, 300)[0] is Claim.BUSY
    # an event once the check has started opens the next window
    later = windows.open_or_join(QUIET, 60, "balance.available", ["NEGATIVE_BALANCE"])
    assert later is not None
    assert later[0] != first
    assert windows.claim(QUIET, first, 300)[0] is Claim.REPLACED
    assert windows.claim(STUCK, "nothing", 300)[0] is Claim.GONE
