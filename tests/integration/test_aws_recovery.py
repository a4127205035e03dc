"""What the AWS run does when things go wrong: retries, crashes, dead letters, SES outages.

Same setting as test_aws_handlers.py: moto for AWS, the sandbox over HTTP for Stripe, the
functions called as Lambda would.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, ConnectTimeoutError, ReadTimeoutError
from botocore.stub import Stubber

from balance_guard.aws import check_account as check_fn
from balance_guard.aws import common
from balance_guard.aws import dead_letter as dead_letter_fn
from balance_guard.aws import plan_run as plan_run_fn
from balance_guard.aws.dynamo import QUEUED, Lease, RunRecord
from balance_guard.aws.messages import PlanRequest
from balance_guard.aws.sending import is_temporary
from balance_guard.notify.sender import RecipientRejectedError, SendError
from balance_guard.notify.ses import SesSender
from balance_guard.stripe.reader import PlatformError
from tests.integration.conftest import KEY, account, scenario
from tests.integration.test_aws_handlers import (
    AS_OF,
    BUCKET,
    CRITICAL,
    HEALTHY,
    PLAN_RUN,
    RUN_DIGEST,
    Collect,
    Context,
    Stack,
    aws,
    check,
    dead_letters,
    in_lambda,
    plan,
    received,
    sent_emails,
    sqs_record,
    stored_report,
)

__all__ = ["aws", "in_lambda"]  # fixtures, used by name

MALFORMED = account("acct_malformed1", object_overrides={"account": {"metadata": "not a map"}})
SCHEDULED = {"scheduled_time": "2026-08-01T07:00:00Z", "execution_id": "d32c5kddcf5bb8c3"}


def runtime_of(stack: Stack) -> Any:
    assert stack.runtime is not None
    return stack.runtime


def redelivered(record: dict[str, Any], count: int) -> dict[str, Any]:
    return {**record, "attributes": {**record["attributes"],
                                     "ApproximateReceiveCount": str(count)}}


def metric(output: str, name: str) -> list[float]:
    """The values of a metric in the EMF blobs Powertools printed."""
    values: list[float] = []
    for line in output.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            value = json.loads(line).get(name)
            if value is not None:
                values += value if isinstance(value, list) else [value]
    return values


# -- plan_run: the run's identity, resumed rather than repeated -----------------------------


@pytest.mark.parametrize(("scheduled", "as_of"), [
    ("2026-08-01T07:00:00Z", date(2026, 8, 1)),  # 03:00 in Toronto (EDT)
    ("2026-03-08T07:00:00Z", date(2026, 3, 8)),  # the spring DST day: 03:00 EDT exists
    ("2026-08-01T03:30:00Z", date(2026, 7, 31)),  # still the evening before in Toronto
])
def test_a_scheduled_run_is_dated_by_its_scheduled_time_in_the_platform_timezone(
    scheduled: str, as_of: date,
) -> None:
    request = PlanRequest.model_validate({"scheduled_time": scheduled, "execution_id": "a"})
    retry = PlanRequest.model_validate({"scheduled_time": scheduled, "execution_id": "b"})
    run_id, day = plan_run_fn.run_identity(request, Context(aws_request_id="1"), "America/Toronto")

    assert day == as_of
    assert run_id.startswith(scheduled)
    # another attempt, another Lambda request: the same run
    assert plan_run_fn.run_identity(retry, Context(aws_request_id="2"), "America/Toronto") == (
        run_id, day)


def test_a_run_by_hand_is_the_same_run_for_lambdas_retry_of_the_invocation() -> None:
    request = PlanRequest(as_of=date(2026, 8, 1))
    first = plan_run_fn.run_identity(request, Context(aws_request_id="r-1"), "America/Toronto")

    assert plan_run_fn.run_identity(request, Context(aws_request_id="r-1"), "UTC") == first
    assert plan_run_fn.run_identity(request, Context(aws_request_id="r-2"), "UTC")[0] != first[0]


def test_the_schedule_delivering_twice_plans_one_run(
    serve: Any, aws: Callable[..., Stack],
) -> None:
    sandbox = serve(scenario(CRITICAL, HEALTHY))
    stack = aws(sandbox)

    first = PLAN_RUN.handler(SCHEDULED, Context(aws_request_id="a"))
    requests = sandbox.request_count
    again = PLAN_RUN.handler({**SCHEDULED, "execution_id": "other"}, Context(aws_request_id="b"))

    assert first == again == {"run_id": first["run_id"], "accounts": 2}
    assert first["run_id"].startswith("2026-08-01T07:00:00Z-")
    bodies = [json.loads(r["body"]) for r in received(stack)]
    assert len(bodies) == 2  # not sent again
    assert {b["as_of"] for b in bodies} == {AS_OF}
    assert sandbox.request_count == requests  # not even listed again
    run = runtime_of(stack).ledger.run(first["run_id"])
    assert (run.expected, run.phase) == (2, QUEUED)


class CrashingSqs:
    """The moto SQS client; its `crash_on`-th SendMessageBatch "times the Lambda out"."""

    def __init__(self, client: Any, crash_on: int) -> None:
        self.client = client
        self.crash_on = crash_on
        self.calls = 0

    def send_message_batch(self, **call: Any) -> Any:
        self.calls += 1
        if self.calls == self.crash_on:
            raise RuntimeError("Task timed out after 900.00 seconds")
        return self.client.send_message_batch(**call)


def test_a_plan_that_died_while_queuing_is_resumed_without_resending(
    serve: Any, aws: Callable[..., Stack], monkeypatch: pytest.MonkeyPatch,
) -> None:
    sandbox = serve(scenario(CRITICAL, HEALTHY, account("acct_third0001")))
    stack = aws(sandbox)
    rt = runtime_of(stack)
    monkeypatch.setattr(plan_run_fn, "QUEUE_CHUNK", 1)
    rt.__dict__["sqs"] = CrashingSqs(boto3.client("sqs"), crash_on=2)

    with pytest.raises(RuntimeError, match="timed out"):
        plan(request_id="async-1")
    requests = sandbox.request_count
    assert len(received(stack)) == 1
    rt.__dict__["sqs"] = boto3.client("sqs")
    result = plan(request_id="async-1")  # Lambda's retry of the same invocation

    resent = [json.loads(r["body"])["account_id"] for r in received(stack)]
    assert len(resent) == 2  # only those not sent before the crash
    assert result["accounts"] == 3
    run = rt.ledger.run(result["run_id"])
    assert (run.expected, run.done, run.phase, run.queued) == (3, 0, QUEUED, 3)
    assert sandbox.request_count == requests  # the recorded accounts, not a new listing


def test_an_attempt_leaves_a_run_another_attempt_is_planning(
    serve: Any, aws: Callable[..., Stack],
) -> None:
    stack = aws(serve(scenario(HEALTHY)))
    rt = runtime_of(stack)
    run_id, as_of = plan_run_fn.run_identity(PlanRequest(as_of=date(2026, 8, 1)),
                                          Context(aws_request_id="dup"), "America/Toronto")
    busy = Lease(token="other", until=datetime(2099, 1, 1, tzinfo=UTC))
    assert rt.ledger.open(RunRecord(run_id=run_id, as_of=as_of, started=datetime.now(UTC),
                                    expected=0), busy).held

    result = plan(request_id="dup")

    assert result == {"run_id": run_id, "accounts": 0}
    assert received(stack) == []
    assert stack.digests == []  # a run still recording is not complete


def test_a_malformed_account_is_reported_in_the_run_not_lost(
    serve: Any, aws: Callable[..., Stack],
) -> None:
    stack = aws(serve(scenario(MALFORMED, HEALTHY)))
    rt = runtime_of(stack)

    result = plan()

    assert result["accounts"] == 2
    [body] = [json.loads(r["body"]) for r in received(stack)]
    assert body["account_id"] == "acct_healthy001"
    bad = stored_report(stack, result["run_id"], "acct_malformed1")
    assert bad.status == "error"
    assert [f.code for f in bad.findings] == ["CHECK_FAILED"]
    assert "malformed account object" in (bad.error or "")
    progress = rt.ledger.progress(result["run_id"])
    assert (progress.done, progress.expected, progress.complete) == (1, 2, False)


def test_a_run_of_malformed_accounts_only_goes_straight_to_the_digest(
    serve: Any, aws: Callable[..., Stack],
) -> None:
    stack = aws(serve(scenario(MALFORMED)))

    result = plan()

    assert result["accounts"] == 1
    assert received(stack) == []
    assert stack.digests == [result["run_id"]]
    RUN_DIGEST.handler({"run_id": result["run_id"]}, Context())
    raw = boto3.client("s3").get_object(
        Bucket=BUCKET, Key=f"reports/{AS_OF}/{result['run_id']}.json")["Body"].read()
    assert [a["account_id"] for a in json.loads(raw)["accounts"]] == ["acct_malformed1"]


@pytest.mark.usefixtures("in_lambda")
def test_a_rejected_key_in_plan_run_is_not_logged(
    serve: Any, aws: Callable[..., Stack], caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    wrong = "sk_test_51WrongPlatformKeyXyZ0987"
    caplog.set_level(logging.DEBUG, logger="balance_guard")
    aws(serve(scenario(HEALTHY)), secret=json.dumps({"api_key": wrong}))
    collect = Collect(common.logger.registered_formatter)
    common.logger.addHandler(collect)
    try:
        with pytest.raises(PlatformError, match="rejected the platform key"):
            plan()
    finally:
        logging.getLogger(common.logger.name).removeHandler(collect)

    logged = "\n".join([*collect.lines, caplog.text, *capsys.readouterr()])
    assert "rejected the platform key" in logged  # the error is logged...
    assert "Stripe 401" in logged
    for secret in (wrong, KEY):  # ...without the key, whole or in part
        assert secret not in logged
        assert secret[:14] not in logged
        assert secret[-8:] not in logged


# -- check_account: temporary failures are retried, the last delivery records them ---------


class ThrottledSes:
    """An SES v2 client that answers every send with `code`."""

    def __init__(self, code: str = "TooManyRequestsException", status: int = 429) -> None:
        self.code = code
        self.status = status
        self.calls = 0

    def send_email(self, **_: Any) -> Any:
        self.calls += 1
        raise ClientError({"Error": {"Code": self.code, "Message": "slow down"},
                           "ResponseMetadata": {"HTTPStatusCode": self.status}}, "SendEmail")


def ses_down(stack: Stack, code: str = "TooManyRequestsException", status: int = 429) -> Any:
    """SES fails (after the sender's own retries, without waiting); returns the healthy one."""
    sender = runtime_of(stack).email_sender
    healthy = sender.inner
    sender.inner = SesSender(ThrottledSes(code, status), max_attempts=2,  # type: ignore[arg-type]
                             sleep=lambda _: None)
    return healthy


def test_ses_throttling_fails_the_record_for_a_retry_then_the_email_goes_once(
    serve: Any, aws: Callable[..., Stack], capsys: pytest.CaptureFixture[str],
) -> None:
    stack = aws(serve(scenario(CRITICAL)))
    run_id = plan()["run_id"]
    [record] = received(stack)
    healthy = ses_down(stack)

    with pytest.raises(Exception, match="All records failed"):
        check([record])
    assert sent_emails() == []
    assert runtime_of(stack).ledger.progress(run_id).done == 0  # not final: not counted
    assert not runtime_of(stack).notification_log.already_sent("acct_critical01",
                                                               date(2026, 8, 1))

    runtime_of(stack).email_sender.inner = healthy
    assert check([redelivered(record, 2)]) == []

    assert len(sent_emails()) == 1
    report = stored_report(stack, run_id, "acct_critical01")
    assert report.status == "critical"
    assert len(report.emails) == 1
    assert not [n for n in report.notices if "not sent" in n]
    assert stack.digests == [run_id]
    assert metric(capsys.readouterr().out, "EmailsFailed") == [0.0]


def test_an_ses_outage_on_the_last_delivery_is_a_notice_and_a_metric(
    serve: Any, aws: Callable[..., Stack], capsys: pytest.CaptureFixture[str],
) -> None:
    stack = aws(serve(scenario(CRITICAL)))
    run_id = plan()["run_id"]
    [record] = received(stack)
    ses_down(stack, "InternalFailure", 500)

    assert check([redelivered(record, 5)]) == []  # the queue's maxReceiveCount

    assert sent_emails() == []
    report = stored_report(stack, run_id, "acct_critical01")
    assert report.status == "critical"  # checked: the findings stand for the digest
    [notice] = [n for n in report.notices if "not sent" in n]
    assert notice.startswith("email not sent after 5 attempts: SES could not send")
    assert runtime_of(stack).ledger.progress(run_id).complete
    assert stack.digests == [run_id]
    assert metric(capsys.readouterr().out, "EmailsFailed") == [1.0]


def test_a_refused_sender_is_not_retried_but_counted(
    serve: Any, aws: Callable[..., Stack], capsys: pytest.CaptureFixture[str],
) -> None:
    stack = aws(serve(scenario(CRITICAL)))
    run_id = plan()["run_id"]
    [record] = received(stack)
    ses_down(stack, "AccessDeniedException", 403)  # configuration: a retry would not help

    assert check([record]) == []

    report = stored_report(stack, run_id, "acct_critical01")
    assert [n for n in report.notices if n.startswith("email not sent: SES could not send")]
    assert metric(capsys.readouterr().out, "EmailsFailed") == [1.0]


def test_a_claim_held_by_another_delivery_is_retried_then_noted_on_the_last_delivery(
    serve: Any, aws: Callable[..., Stack],
) -> None:
    stack = aws(serve(scenario(CRITICAL)))
    run_id = plan()["run_id"]
    [record] = received(stack)
    # A delivery that died after claiming the email: within the lease, it may be sending.
    assert runtime_of(stack).notification_log.claim("acct_critical01", date(2026, 8, 1),
                                                    "died-delivery")

    with pytest.raises(Exception, match="All records failed"):
        check([record])
    assert runtime_of(stack).ledger.progress(run_id).done == 0
    assert check([redelivered(record, 5)]) == []

    assert sent_emails() == []
    report = stored_report(stack, run_id, "acct_critical01")
    assert report.status == "critical"
    assert [n for n in report.notices if "(run died-delivery) holds this account's claim" in n]
    assert stack.digests == [run_id]


def test_a_notifier_that_cannot_be_built_costs_the_email_not_the_check(
    serve: Any, aws: Callable[..., Stack], monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    stack = aws(serve(scenario(CRITICAL)))
    monkeypatch.delenv("SENDER_EMAIL")
    stack.install()
    run_id = plan()["run_id"]
    [record] = received(stack)

    assert check([record]) == []

    report = stored_report(stack, run_id, "acct_critical01")
    assert report.status == "critical"
    assert "email not sent: ConfigError" in report.notices
    assert runtime_of(stack).ledger.progress(run_id).complete
    assert metric(capsys.readouterr().out, "EmailsFailed") == [1.0]


def test_a_state_store_error_is_retried_and_the_last_delivery_records_it(
    serve: Any, aws: Callable[..., Stack], monkeypatch: pytest.MonkeyPatch,
) -> None:
    stack = aws(serve(scenario(HEALTHY)))
    run_id = plan()["run_id"]
    [record] = received(stack)
    store = runtime_of(stack).state_store

    def unavailable(*_: Any) -> None:
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException",
                                     "Message": "slow down"}}, "PutItem")

    monkeypatch.setattr(store, "save", unavailable)
    with pytest.raises(Exception, match="All records failed"):
        check([record])
    assert runtime_of(stack).ledger.progress(run_id).done == 0
    assert check([redelivered(record, 5)]) == []

    report = stored_report(stack, run_id, "acct_healthy001")
    assert report.status == "error"
    assert report.error == "not checked after 5 attempts: ClientError"
    assert stack.digests == [run_id]


def test_records_are_not_started_without_time_to_finish_them(
    serve: Any, aws: Callable[..., Stack], monkeypatch: pytest.MonkeyPatch,
) -> None:
    stack = aws(serve(scenario(CRITICAL, HEALTHY)))
    run_id = plan()["run_id"]
    first, second = received(stack)
    context = Context(remaining_ms=200_000)
    ledger = runtime_of(stack).ledger
    finish = ledger.finish

    def finish_then_run_late(*args: Any) -> Any:
        context.remaining_ms = check_fn.CHECK_RECORD_BUDGET_MS - 1  # the first one was slow
        return finish(*args)

    monkeypatch.setattr(ledger, "finish", finish_then_run_late)
    assert check([first, second], context) == [second["messageId"]]
    assert ledger.progress(run_id).done == 1

    with pytest.raises(Exception, match="All records failed"):
        check([second], context)  # still no time: failed, not started
    assert ledger.progress(run_id).done == 1


# -- the digest trigger ---------------------------------------------------------------------


def stubbed_lambda(stack: Stack) -> Stubber:
    """The runtime's real InvokeDigest, on a Lambda client whose calls a Stubber answers (and
    checks against Lambda's API model)."""
    rt = runtime_of(stack)
    rt.trigger_digest = None
    client = boto3.client("lambda")
    rt.__dict__["lambda_client"] = client
    return Stubber(client)


def test_the_digest_is_started_by_an_asynchronous_invoke_of_run_digest(
    serve: Any, aws: Callable[..., Stack],
) -> None:
    stack = aws(serve(scenario(HEALTHY)))
    run_id = plan()["run_id"]
    [record] = received(stack)
    stub = stubbed_lambda(stack)
    stub.add_response("invoke", {"StatusCode": 202}, {
        "FunctionName": "run-digest", "InvocationType": "Event",
        "Payload": json.dumps({"run_id": run_id}).encode()})

    with stub:
        assert check([record]) == []
        assert check([redelivered(record, 2)]) == []  # a duplicate: no second invoke
    stub.assert_no_pending_responses()
    item = boto3.client("dynamodb").get_item(
        TableName="balance-guard-state", Key={"pk": {"S": f"RUN#{run_id}"}, "sk": {"S": "RUN"}})
    assert "digest_started_at" in item["Item"]


def test_a_refused_invoke_gives_the_claim_back_for_the_retry(
    serve: Any, aws: Callable[..., Stack],
) -> None:
    stack = aws(serve(scenario(HEALTHY)))
    plan()
    [record] = received(stack)
    stub = stubbed_lambda(stack)
    stub.add_client_error("invoke", "TooManyRequestsException", http_status_code=429)
    stub.add_response("invoke", {"StatusCode": 202})

    with stub:
        with pytest.raises(Exception, match="All records failed"):
            check([record])
        assert check([redelivered(record, 2)]) == []
    stub.assert_no_pending_responses()


def test_a_handler_that_died_between_claim_and_invoke_is_replaced_by_its_redelivery(
    serve: Any, aws: Callable[..., Stack],
) -> None:
    stack = aws(serve(scenario(HEALTHY)))
    run_id = plan()["run_id"]
    [record] = received(stack)
    rt = runtime_of(stack)

    def crash(_: str) -> None:
        raise SystemExit("the container died")  # not an Exception: no release

    rt.trigger_digest = crash
    with pytest.raises(SystemExit):
        check([record])
    rt.trigger_digest = stack.digests.append
    assert check([record]) == []  # another message would have to wait for the claim to age

    assert stack.digests == [run_id]


# -- dead_letter ----------------------------------------------------------------------------


def test_a_dead_letter_records_its_account_and_completes_the_run(
    serve: Any, aws: Callable[..., Stack], capsys: pytest.CaptureFixture[str],
) -> None:
    stack = aws(serve(scenario(CRITICAL, HEALTHY)))
    run_id = plan()["run_id"]
    first, lost = received(stack)
    assert check([first]) == []  # the other one timed out five times: in the DLQ now

    assert dead_letters([lost]) == []
    assert dead_letters([lost]) == []  # delivered twice: counted once

    lost_id = json.loads(lost["body"])["account_id"]
    report = stored_report(stack, run_id, lost_id)
    assert report.status == "error"
    assert report.error == dead_letter_fn.DEAD_LETTER
    assert report.name.startswith("Building")  # the account's name, as listed
    progress = runtime_of(stack).ledger.progress(run_id)
    assert (progress.done, progress.expected) == (2, 2)
    assert stack.digests == [run_id]
    assert metric(capsys.readouterr().out, "DeadLetters") == [1.0, 1.0]


def test_a_dead_letter_for_a_checked_account_changes_nothing(
    serve: Any, aws: Callable[..., Stack],
) -> None:
    stack = aws(serve(scenario(CRITICAL)))
    run_id = plan()["run_id"]
    [record] = received(stack)
    assert check([record]) == []

    assert dead_letters([record]) == []

    assert stored_report(stack, run_id, "acct_critical01").status == "critical"
    assert stack.digests == [run_id]


def test_dead_letters_that_name_nothing_known_are_dropped(
    serve: Any, aws: Callable[..., Stack],
) -> None:
    stack = aws(serve(scenario(HEALTHY)))
    run_id = plan()["run_id"]
    stranger = json.dumps({"run_id": run_id, "account_id": "acct_notinrun1", "as_of": AS_OF})
    ghost = json.dumps({"run_id": "2026-01-01T07:00:00Z-dead", "account_id": "acct_healthy001",
                        "as_of": AS_OF})

    failures = dead_letters([sqs_record("{not json", "m-1"), sqs_record(stranger, "m-2"),
                             sqs_record(ghost, "m-3")])

    assert failures == []
    assert runtime_of(stack).ledger.progress(run_id).done == 0
    assert stack.digests == []


def test_dead_letters_fail_early_when_time_runs_out(
    serve: Any, aws: Callable[..., Stack],
) -> None:
    stack = aws(serve(scenario(HEALTHY)))
    run_id = plan()["run_id"]
    [record] = received(stack)

    with pytest.raises(Exception, match="All records failed"):
        dead_letters([record],
                     Context(remaining_ms=dead_letter_fn.DEAD_LETTER_RECORD_BUDGET_MS - 1))
    assert runtime_of(stack).ledger.progress(run_id).done == 0


# -- which send errors are worth a retry ----------------------------------------------------


def send_error(cause: BaseException | None, message: str = "SES could not send") -> SendError:
    try:
        try:
            if cause is not None:
                raise cause
            raise SendError(message)
        except SendError:
            raise
        except BaseException:
            raise SendError(message) from None
    except SendError as error:
        return error


def client_error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "x"},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, "SendEmail")


@pytest.mark.parametrize(("error", "temporary"), [
    (send_error(None, "SES kept throttling after 6 attempts"), True),
    (send_error(client_error("TooManyRequestsException", 429)), True),
    (send_error(client_error("LimitExceededException", 400)), True),
    (send_error(client_error("InternalFailure", 500)), True),
    (send_error(client_error("SomethingNew", 503)), True),
    (send_error(ConnectTimeoutError(endpoint_url="https://email")), True),
    # SES may have taken the message: a retry could send it twice
    (send_error(ReadTimeoutError(endpoint_url="https://email")), False),
    (send_error(client_error("AccessDeniedException", 403)), False),
    (send_error(client_error("AccountSuspendedException", 400)), False),
    (RecipientRejectedError("SES rejected the message"), False),
])
def test_only_temporary_send_errors_are_retried(error: SendError, temporary: bool) -> None:
    assert is_temporary(error) is temporary
