"""webhook: Stripe's Connect webhooks through a Function URL -> a re-check of the account on
the check queue, a coalescing window later.

The Lambda is the local `listen`'s receiver (`webhook.Receiver`: signature, size, replay,
which events matter) with the AWS implementations of its two stores: `DynamoSeenEvents`
(the event ids received, in the state table) and `SqsSink` (the account's window in the
state table; the window's first event queues one message onto the check queue, delayed by
the window, which check_account answers with `webhook.recheck_account`). Nothing here
reads Stripe: the answer goes back within a second, whatever the burst.

The Function URL takes any request (AuthType NONE: Stripe does not sign with AWS
credentials); what is not POST / is answered 405 / 404 before the body is looked at, a body
over the limit 413 before it is decoded, and everything else is the receiver's answer.
When DynamoDB or SQS fails, the event is answered 503 and not remembered, so Stripe's retry
of it is taken.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from balance_guard.aws.common import logger, metrics, package_logs_as_json, tracer
from balance_guard.aws.dynamo import RecheckWindows, WindowThrottledError
from balance_guard.aws.messages import RecheckMessage
from balance_guard.aws.runtime import Runtime, runtime
from balance_guard.webhook.coalesce import MAX_COALESCE_S, SinkFullError
from balance_guard.webhook.events import Trigger
from balance_guard.webhook.receiver import Answer, Receiver
from balance_guard.webhook.verify import RefusedError, check_size

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

PATH = "/"
PASSING_AWS_ERRORS = (WindowThrottledError, ClientError, BotoCoreError)


class SinkUnavailableError(SinkFullError):
    """DynamoDB or SQS could not take the re-check: the receiver answers 503 and forgets
    the event, so that Stripe's retry of it is taken."""


@dataclass
class SqsSink:
    """`RecheckSink` on AWS: the account's window in the state table (a conditional put:
    the first event of a burst opens it, the others join it) and, for the event that opened
    it, one message onto the check queue delayed by the window (SQS's DelaySeconds, at
    most 900 s: BALANCE_GUARD_COALESCE_SECONDS is bounded by the same)."""

    sqs: SQSClient
    queue_url: str
    windows: RecheckWindows
    window_s: float

    @property
    def delay_s(self) -> int:
        return min(int(MAX_COALESCE_S), max(0, math.ceil(self.window_s)))

    def add(self, trigger: Trigger) -> bool:
        rules = [rule.value for rule in trigger.rules]
        try:
            opened = self.windows.open_or_join(trigger.account, self.window_s,
                                               trigger.event_type, rules)
        except PASSING_AWS_ERRORS as error:
            raise SinkUnavailableError(f"the window could not be written: "
                                       f"{_reason(error)}") from None
        if opened is None:
            return False
        window, _ = opened
        body = RecheckMessage(recheck=1, account_id=trigger.account, window=window)
        try:
            self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=body.model_dump_json(),
                                  DelaySeconds=self.delay_s)
        except (ClientError, BotoCoreError) as error:
            try:
                self.windows.forget(trigger.account, window)  # the next event opens another
            except PASSING_AWS_ERRORS:
                logger.warning("an unqueued window stays open until it is due",
                               extra={"account_id": trigger.account})
            raise SinkUnavailableError(f"the re-check could not be queued: "
                                       f"{_reason(error)}") from None
        metrics.add_metric(name="RechecksQueued", unit=MetricUnit.Count, value=1)
        return True


def _reason(error: Exception) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", "error"))
    return type(error).__name__


class _Receivers:
    """This container's receiver, rebuilt when the signing secret changes (a rotation is
    picked up once Parameters' cache expires, within five minutes) or the runtime does."""

    runtime: Runtime | None = None
    fingerprint: str = ""
    receiver: Receiver | None = None


def receiver(rt: Runtime) -> Receiver:
    secret = rt.settings.webhook_secret()
    fingerprint = hashlib.sha256(secret.encode()).hexdigest()
    if (_Receivers.receiver is None or _Receivers.runtime is not rt
            or _Receivers.fingerprint != fingerprint):
        sink = SqsSink(rt.sqs, rt.settings.require("check_queue_url"), rt.recheck_windows,
                       rt.settings.coalesce_s)
        _Receivers.receiver = Receiver(secret, rt.seen_events, sink)
        _Receivers.runtime, _Receivers.fingerprint = rt, fingerprint
    return _Receivers.receiver


def response(answer: Answer, **headers: str) -> dict[str, Any]:
    """A Function URL response (payload format 2.0)."""
    return {"statusCode": answer.status, "headers": {**answer.headers, **headers},
            "body": answer.body.decode("utf-8"), "isBase64Encoded": False}


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def webhook(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """One Function URL request: Stripe's event in, the receiver's answer out."""
    package_logs_as_json()
    rt = runtime()
    answer, extra = handle_request(rt, event)
    metrics.add_metric(name="WebhooksReceived", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="WebhooksRefused", unit=MetricUnit.Count,
                       value=int(400 <= answer.status < 500))
    metrics.add_metric(name="WebhooksUnavailable", unit=MetricUnit.Count,
                       value=int(answer.status >= 500))
    return response(answer, **extra)


def handle_request(rt: Runtime, event: dict[str, Any]) -> tuple[Answer, dict[str, str]]:
    http = (event.get("requestContext") or {}).get("http") or {}
    method = str(http.get("method") or "").upper()
    if method != "POST":
        return Answer(405, b'{"error":"POST only"}', ""), {"Allow": "POST"}
    if (event.get("rawPath") or PATH) != PATH:
        return Answer(404, b'{"error":"not found"}', ""), {}
    got = receiver(rt)
    raw = event.get("body") or ""
    try:
        # A base64 body is a third longer than the bytes it holds: refused on its length
        # before anything is decoded.
        check_size(len(raw) * 3 // 4 if event.get("isBase64Encoded") else len(raw), got.limit)
        body = _body(raw, bool(event.get("isBase64Encoded")))
    except RefusedError as refusal:
        return got.refuse(refusal), {}
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    try:
        return got.handle(body, headers), {}
    except PASSING_AWS_ERRORS as error:
        # The replay store failed (the sink's failures are the receiver's 503 already).
        logger.warning("webhook not taken: the state table failed (%s); Stripe sends it "
                       "again", _reason(error))
        return Answer(503, b'{"error":"busy; send it again later"}', ""), {}


def _body(raw: str, encoded: bool) -> bytes:
    if not encoded:
        return raw.encode("utf-8")
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise RefusedError(400, "body is not valid base64") from None
