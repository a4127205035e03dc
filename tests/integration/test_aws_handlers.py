"""The Lambda functions end to end, in-process: moto for AWS, the sandbox for Stripe.

Each test deploys the stack's resources in moto (table, queue, bucket, secret, SES identity),
points the functions at a sandbox over real HTTP, and calls `functions/*/app.py:handler` as
Lambda would. The digest trigger (a Lambda invoke in AWS) is replaced by a recorder, except
where its real invoke is exercised against a botocore Stubber.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo

import boto3
import pytest
import requests
from aws_lambda_powertools.utilities import parameters
from botocore.exceptions import NoCredentialsError
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID  # type: ignore[attr-defined]
from moto.ses.models import ses_backends

from balance_guard.aws import common
from balance_guard.aws import run_digest as run_digest_fn
from balance_guard.aws.runtime import Runtime, install
from balance_guard.aws.settings import Settings
from balance_guard.report.csv import report_csv
from balance_guard.report.model import Report
from balance_guard.stripe.reader import PlatformError
from tests.integration.conftest import KEY, account, scenario

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
AS_OF = "2026-08-01"
TABLE = "balance-guard-state"
BUCKET = "balance-guard-reports"
SENDER = "Balance Guard <alerts@balance-guard.example>"
OPS = "ops@platform.example"

CRITICAL = account("acct_critical01", balances={"available": {"cad": -20_000}})
HEALTHY = account("acct_healthy001")
BROKEN = account("acct_broken0001", fail_with=403, fail_on=["balance"])


def load_app(name: str) -> ModuleType:
    """`functions/<name>/app.py`, imported as Lambda would (each under its own name here)."""
    spec = importlib.util.spec_from_file_location(f"function_{name}",
                                                  ROOT / "functions" / name / "app.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PLAN_RUN = load_app("plan_run")
CHECK_ACCOUNT = load_app("check_account")
RUN_DIGEST = load_app("run_digest")
DEAD_LETTER = load_app("dead_letter")


@dataclass
class Context:
    """The parts of Lambda's context object Powertools (and the handlers) read."""

    function_name: str = "balance-guard-fn"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:balance-guard-fn"
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e812345678"
    remaining_ms: int = 300_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


CONTEXT = Context()


@dataclass
class Stack:
    """The moto resources and the knobs a test needs."""

    queue_url: str
    secret_arn: str
    digests: list[str] = field(default_factory=list)
    runtime: Runtime | None = None

    def install(self) -> Runtime:
        self.runtime = Runtime(Settings.from_env(), trigger_digest=self.digests.append)
        install(self.runtime)
        return self.runtime


def create_table(client: Any, name: str = TABLE) -> None:
    """The template's table: string pk / sk, on demand."""
    client.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "sk", "KeyType": "RANGE"}])


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Stack]]:
    """`aws(sandbox, secret=...)` creates the stack in moto and configures the functions."""
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION,
                        "POWERTOOLS_SERVICE_NAME": "balance-guard",
                        "POWERTOOLS_METRICS_NAMESPACE": "BalanceGuard",
                        "POWERTOOLS_TRACE_DISABLED": "true"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("STRIPE_API_KEY", raising=False)
    with mock_aws():
        def create(sandbox: Any, secret: str = KEY) -> Stack:
            create_table(boto3.client("dynamodb"))
            queue_url = boto3.client("sqs").create_queue(QueueName="checks")["QueueUrl"]
            boto3.client("s3").create_bucket(Bucket=BUCKET)
            boto3.client("sesv2").create_email_identity(
                EmailIdentity="alerts@balance-guard.example")
            arn = boto3.client("secretsmanager").create_secret(
                Name="balance-guard/stripe", SecretString=secret)["ARN"]
            for name, value in {
                "STATE_TABLE": TABLE, "CHECK_QUEUE_URL": queue_url, "REPORTS_BUCKET": BUCKET,
                "SENDER_EMAIL": SENDER, "OPS_EMAIL": OPS, "STRIPE_SECRET_ARN": arn,
                "STRIPE_API_BASE": sandbox.base_url, "STRIPE_MAX_RPS": "1000",
                "MAX_CONCURRENCY": "2", "DIGEST_FUNCTION_NAME": "run-digest",
                "DOCS_BASE_URL": "https://help.example.com", "DEFAULT_LOCALE": "en",
            }.items():
                monkeypatch.setenv(name, value)
            stack = Stack(queue_url=queue_url, secret_arn=arn)
            stack.install()
            return stack

        yield create
    install(None)
    parameters.clear_caches()


def received(stack: Stack, max_messages: int = 10) -> list[dict[str, Any]]:
    """Messages on the check queue, as SQS records of a Lambda event (and deleted)."""
    sqs = boto3.client("sqs")
    records: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=stack.queue_url, MaxNumberOfMessages=10,
                                    AttributeNames=["All"]).get("Messages", [])
        if not batch:
            return records[:max_messages]
        for message in batch:
            records.append(sqs_record(message["Body"], message["MessageId"],
                                      message["Attributes"]["ApproximateReceiveCount"]))
            sqs.delete_message(QueueUrl=stack.queue_url, ReceiptHandle=message["ReceiptHandle"])


def sqs_record(body: str, message_id: str, receive_count: str = "1") -> dict[str, Any]:
    sample = json.loads((ROOT / "functions/check_account/events/sqs_batch.json").read_text())
    record: dict[str, Any] = sample["Records"][0]
    return {**record, "messageId": message_id, "body": body,
            "attributes": {**record["attributes"], "ApproximateReceiveCount": receive_count}}


def plan(as_of: str = AS_OF, request_id: str | None = None) -> dict[str, Any]:
    """plan_run by hand; each call is a new invocation unless given the request id of one
    (an asynchronous retry keeps its request id)."""
    context = Context(aws_request_id=request_id or str(uuid.uuid4()))
    result: dict[str, Any] = PLAN_RUN.handler({"as_of": as_of}, context)
    return result


def check(records: list[dict[str, Any]], context: Context = CONTEXT) -> list[str]:
    """Deliver one batch; the ids of the records reported as failed."""
    response = CHECK_ACCOUNT.handler({"Records": records}, context)
    return [item["itemIdentifier"] for item in response["batchItemFailures"]]


def dead_letters(records: list[dict[str, Any]], context: Context = CONTEXT) -> list[str]:
    """Deliver a batch of the dead-letter queue; the ids reported as failed."""
    response = DEAD_LETTER.handler({"Records": records}, context)
    return [item["itemIdentifier"] for item in response["batchItemFailures"]]


def sent_emails() -> list[Any]:
    return list(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages)


def stored_report(stack: Stack, run_id: str, account_id: str) -> Any:
    assert stack.runtime is not None
    [result] = [r for r in stack.runtime.ledger.results(run_id) if r.account_id == account_id]
    return result.report


# -- plan_run ---------------------------------------------------------------------------------


def test_plan_run_queues_one_message_per_account_with_exactly_the_three_keys(
    serve: Any, aws: Callable[..., Stack],
) -> None:
    sandbox = serve(scenario(CRITICAL, HEALTHY, BROKEN))
    stack = aws(sandbox)

    result = plan()

    assert result["accounts"] == 3
    bodies = [json.loads(r["body"]) for r in received(stack)]
    assert sorted(b["account_id"] for b in bodies) == sorted(
        ["acct_critical01", "acct_healthy001", "acct_broken0001"])
    for body in bodies:
        assert set(body) == {"run_id", "account_id", "as_of"}
        assert body["run_id"] == result["run_id"]
        assert body["as_of"] == AS_OF
    assert stack.runtime is not None
    run = stack.runtime.ledger.run(result["run_id"])
    assert run is not None
    assert (run.expected, run.done, run.as_of) == (3, 0, date(2026, 8, 1))
    assert run.stripe_requests == sandbox.request_count  # the platform check and the listing
    assert stack.digests == []


def test_plan_run_without_a_date_runs_today_in_the_platform_timezone(
    serve: Any, aws: Callable[..., Stack],
) -> None:
    stack = aws(serve(scenario(HEALTHY)))

    toronto = ZoneInfo("America/Toronto")
    before = datetime.now(toronto).date().isoformat()
    PLAN_RUN.handler({}, CONTEXT)
    after = datetime.now(toronto).date().isoformat()

    [body] = [json.loads(r["body"]) for r in received(stack)]
    assert body["as_of"] in {before, after}  # a run that straddles midnight takes either


def test_plan_run_raises_when_the_platform_key_is_rejected(
    serve: Any, aws: Callable[..., Stack],
) -> None:
    stack = aws(serve(scenario(HEALTHY)), secret="sk_test_notTheRightKey0")

    with pytest.raises(PlatformError, match="rejected the platform key"):
        plan()

    assert received(stack) == []


def test_a_platform_without_accounts_goes_straight_to_the_digest(
    serve: Any, aws: Callable[..., Stack],
) -> None:
    stack = aws(serve(scenario()))

    result = plan()

    assert result["accounts"] == 0
    assert stack.digests == [result["run_id"]]


class FlakySqs:
    """The real (moto) SQS client, failing some entries of each batch as SQS may."""

    def __init__(self, client: Any, transient: set[str], refused: set[str]) -> None:
        self.client = client
        self.transient = set(transient)  # fails once, server side
        self.refused = refused  # always refused as the sender's fault

    def send_message_batch(self, **call: Any) -> Any:
        failed: list[dict[str, Any]] = []
        passed: list[dict[str, Any]] = []
        for entry in call["Entries"]:
            who = json.loads(entry["MessageBody"])["account_id"]
            if who in self.refused:
                failed.append({"Id": entry["Id"], "SenderFault": True,
                               "Code": "InvalidParameterValue", "Message": "refused"})
            elif who in self.transient:
                self.transient.discard(who)
                failed.append({"Id": entry["Id"], "SenderFault": False,
                               "Code": "InternalError", "Message": "try again"})
            else:
                passed.append(entry)
        response = self.client.send_message_batch(QueueUrl=call["QueueUrl"], Entries=passed) \
            if passed else {}
        return {"Successful": response.get("Successful", []), "Failed": failed}


def test_plan_run_retries_failed_entries_and_reports_refused_ones_as_not_checked(
    serve: Any, aws: Callable[..., Stack],
) -> None:
    stack = aws(serve(scenario(CRITICAL, HEALTHY, BROKEN)))
    assert stack.runtime is not None
    flaky = FlakySqs(boto3.client("sqs"), transient={"acct_healthy001"},
                     refused={"acct_broken0001"})
    stack.runtime.__dict__["sqs"] = flaky  # the cached client, swapped

    run_id = plan()["run_id"]

    queued = sorted(json.loads(r["body"])["account_id"] for r in received(stack))
    assert queued == ["acct_critical01", "acct_healthy001"]
    report = stored_report(stack, run_id, "acct_broken0001")
    assert report.status == "error"
    assert "could not be queued" in (report.error or "")
    assert stack.runtime.ledger.progress(run_id).done == 1


# -- check_account ---------------------------------------------------------------------------


def test_a_batch_is_checked_stored_and_notified_and_only_the_poisoned_record_fails(
    serve: Any, aws: Callable[..., Stack],
) -> None:
    stack = aws(serve(scenario(CRITICAL, HEALTHY, BROKEN)))
    run_id = plan()["run_id"]
    records = [*received(stack), sqs_record("{not json", "poisoned-1")]

    failures = check(records)

    assert failures == ["poisoned-1"]
    assert stored_report(stack, run_id, "acct_critical01").status == "critical"
    assert stored_report(stack, run_id, "acct_healthy001").status == "ok"
    broken = stored_report(stack, run_id, "acct_broken0001")
    assert broken.status == "error"  # a failed check is a completed check
    assert [f.code for f in broken.findings] == ["CHECK_FAILED"]
    [email] = sent_emails()
    assert email.destinations == ["acct_critical01@example.com"]
    assert stack.runtime is not None
    assert stack.runtime.state_store.load("acct_critical01").last_as_of == date(2026, 8, 1)
    assert stack.digests == [run_id]


def test_the_same_batch_delivered_twice_checks_and_emails_once(
    serve: Any, aws: Callable[..., Stack],
) -> None:
    sandbox = serve(scenario(CRITICAL, HEALTHY, BROKEN))
    stack = aws(sandbox)
    run_id = plan()["run_id"]
    records = received(stack)
    assert check(records) == []
    requests_after_first = sandbox.request_count

    assert check(records) == []
    stack.install()  # a fresh container: no local cache, only DynamoDB remembers
    assert check(records) == []

    assert len(sent_emails()) == 1
    assert sandbox.request_count == requests_after_first  # idempotent: not even re-read
    records_kept = boto3.client("dynamodb").query(
        TableName=TABLE, KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "IDEMPOTENCY#check_account"}})["Items"]
    assert len(records_kept) == 3
    assert all(r["sk"]["S"].startswith("check_account#") and "ttl" in r for r in records_kept)
    assert stack.runtime is not None
    assert stack.runtime.ledger.progress(run_id).done == 3
    assert stack.digests == [run_id]


def test_the_digest_starts_once_when_the_last_account_is_done(
    serve: Any, aws: Callable[..., Stack],
) -> None:
    stack = aws(serve(scenario(CRITICAL, HEALTHY, BROKEN)))
    run_id = plan()["run_id"]
    first, second, last = received(stack)

    assert check([first, second]) == []
    assert stack.digests == []
    assert check([last]) == []
    assert stack.digests == [run_id]
    assert check([last, first]) == []  # a redelivery after the end
    assert stack.digests == [run_id]


def test_a_digest_that_cannot_start_is_retried_with_the_record(
    serve: Any, aws: Callable[..., Stack],
) -> None:
    stack = aws(serve(scenario(HEALTHY)))
    run_id = plan()["run_id"]
    [record] = received(stack)
    runtime = stack.runtime
    assert runtime is not None

    def unavailable(run: str) -> None:
        raise RuntimeError("Lambda is throttling")

    runtime.trigger_digest = unavailable
    with pytest.raises(Exception, match="All records failed"):
        check([record])  # the only record failed: Powertools fails the whole batch
    runtime.trigger_digest = stack.digests.append
    assert check([record]) == []

    assert stack.digests == [run_id]


def test_the_last_delivery_records_the_account_as_not_checked(
    serve: Any, aws: Callable[..., Stack], monkeypatch: pytest.MonkeyPatch,
) -> None:
    stack = aws(serve(scenario(HEALTHY, CRITICAL)))
    run_id = plan()["run_id"]
    records = received(stack)
    runtime = stack.runtime
    assert runtime is not None
    original = runtime.ledger.account

    def account_or_fail(run: str, account_id: str) -> Any:
        if account_id == "acct_critical01":
            raise RuntimeError("DynamoDB is down")
        return original(run, account_id)

    monkeypatch.setattr(runtime.ledger, "account", account_or_fail)
    target = next(r for r in records if "acct_critical01" in r["body"])
    other = next(r for r in records if r is not target)

    def delivery(count: str) -> dict[str, Any]:
        return {**target, "attributes": {**target["attributes"],
                                         "ApproximateReceiveCount": count}}

    assert check([other, delivery("2")]) == [target["messageId"]]
    assert stack.digests == []
    assert check([delivery("5")]) == []  # the queue's maxReceiveCount

    report = stored_report(stack, run_id, "acct_critical01")
    assert report.status == "error"
    assert report.error == "not checked after 5 attempts: RuntimeError"
    assert stack.digests == [run_id]


# -- run_digest ------------------------------------------------------------------------------


def test_run_digest_writes_the_report_to_s3_and_emails_operations_once(
    serve: Any, aws: Callable[..., Stack],
) -> None:
    sandbox = serve(scenario(CRITICAL, HEALTHY, BROKEN))
    stack = aws(sandbox)
    run_id = plan()["run_id"]
    check(received(stack))

    result = RUN_DIGEST.handler({"run_id": run_id}, CONTEXT)
    again = RUN_DIGEST.handler({"run_id": run_id}, CONTEXT)

    key = f"reports/{AS_OF}/{run_id}.json"
    assert result == again == {"run_id": run_id, "report_key": key}
    body = boto3.client("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read()
    raw = json.loads(body)
    assert raw["schema"] == "balance-guard/report@1"
    report = Report.model_validate(raw)
    assert report.run_id == run_id
    assert report.as_of == date(2026, 8, 1)
    assert sorted(a.account_id for a in report.accounts) == [
        "acct_broken0001", "acct_critical01", "acct_healthy001"]
    assert report.totals.accounts == 3
    assert report.totals.by_status == {"critical": 1, "error": 1, "ok": 1}
    assert report.totals.emails_sent == 1
    assert report.totals.stripe_requests == sandbox.request_count
    assert report.totals.duration_s > 0
    digests = [m for m in sent_emails() if OPS in m.destinations]
    assert len(digests) == 1


def digest_text(message: Any) -> str:
    """The plain-text part of a message moto's SES kept."""
    raw = message.raw_data
    parsed = message_from_bytes(raw.encode() if isinstance(raw, str) else raw,
                                policy=email_policy.default)
    assert isinstance(parsed, EmailMessage)
    part = parsed.get_body(preferencelist=("plain",))
    assert part is not None
    text: str = part.get_content()
    return text.replace("\r\n", "\n")


def test_run_digest_writes_the_csv_and_html_beside_the_report_and_links_it_for_7_days(
    serve: Any, aws: Callable[..., Stack],
) -> None:
    stack = aws(serve(scenario(CRITICAL, HEALTHY, BROKEN)))
    run_id = plan()["run_id"]
    check(received(stack))

    RUN_DIGEST.handler({"run_id": run_id}, CONTEXT)

    s3 = boto3.client("s3")
    stem = f"reports/{AS_OF}/{run_id}"
    report = Report.model_validate_json(
        s3.get_object(Bucket=BUCKET, Key=f"{stem}.json")["Body"].read())
    stored_csv = s3.get_object(Bucket=BUCKET, Key=f"{stem}.csv")
    assert stored_csv["ContentType"] == "text/csv; charset=utf-8"
    assert stored_csv["Body"].read().decode() == report_csv(report)
    html = s3.get_object(Bucket=BUCKET, Key=f"{stem}.html")
    assert html["ContentType"] == "text/html; charset=utf-8"
    page = html["Body"].read()
    assert b"acct_critical01" in page

    [digest] = [m for m in sent_emails() if OPS in m.destinations]
    text = digest_text(digest)
    [link] = [line.removeprefix("Full report: ") for line in text.splitlines()
              if line.startswith("Full report: ")]
    url = urlsplit(link)
    query = parse_qs(url.query)
    assert (url.scheme, url.netloc) == ("https", f"{BUCKET}.s3.amazonaws.com")
    assert unquote(url.path) == f"/{stem}.html"
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Expires"] == ["604800"]  # 7 days, SigV4's longest
    assert query["X-Amz-SignedHeaders"] == ["host"]
    assert query["X-Amz-Credential"][0].endswith(f"/{REGION}/s3/aws4_request")
    fetched = requests.get(link, timeout=10)
    assert fetched.status_code == 200
    assert fetched.content == page
    # ...and the digest lists the account to act on, with its Stripe Dashboard page.
    assert "Critical accounts (1)\n- Building al01 (acct_critical01)\n" in text
    assert ("Open in the Stripe Dashboard: "
            "https://dashboard.stripe.com/connect/accounts/acct_critical01\n") in text


def test_run_digest_that_cannot_sign_a_link_names_the_report_in_s3(
    serve: Any, aws: Callable[..., Stack], monkeypatch: pytest.MonkeyPatch,
) -> None:
    stack = aws(serve(scenario(HEALTHY)))
    run_id = plan()["run_id"]
    check(received(stack))

    class Unsigned:
        def generate_presigned_url(self, *args: Any, **kwargs: Any) -> str:
            raise NoCredentialsError

    assert stack.runtime is not None
    assert stack.runtime.s3 is not None  # the reports are still written
    monkeypatch.setattr(run_digest_fn.boto3, "client", lambda *a, **k: Unsigned())
    RUN_DIGEST.handler({"run_id": run_id}, CONTEXT)

    [digest] = [m for m in sent_emails() if OPS in m.destinations]
    assert f"\nFull report: s3://{BUCKET}/reports/{AS_OF}/{run_id}.html\n" in digest_text(digest)


def test_run_digest_of_an_unfinished_run_reports_the_missing_accounts(
    serve: Any, aws: Callable[..., Stack],
) -> None:
    stack = aws(serve(scenario(CRITICAL, HEALTHY)))
    run_id = plan()["run_id"]
    first, _ = received(stack)
    check([first])

    RUN_DIGEST.handler({"run_id": run_id}, CONTEXT)

    raw = boto3.client("s3").get_object(Bucket=BUCKET, Key=f"reports/{AS_OF}/{run_id}.json")
    report = Report.model_validate_json(raw["Body"].read())
    missing = [a for a in report.accounts if a.error == run_digest_fn.NOT_FINISHED]
    assert len(missing) == 1
    assert missing[0].status == "error"


def test_run_digest_of_an_unknown_run_raises(serve: Any, aws: Callable[..., Stack]) -> None:
    aws(serve(scenario(HEALTHY)))

    with pytest.raises(common.UnknownRunError):
        RUN_DIGEST.handler({"run_id": "2026-08-01T06:00:00Z-dead"}, CONTEXT)


# -- the key ---------------------------------------------------------------------------------


class Collect(logging.Handler):
    def __init__(self, formatter: logging.Formatter) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(formatter)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def in_lambda(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """As inside Lambda, where the package's loggers are set up to write JSON; the
    process's logging is put back afterwards."""
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "balance-guard-fn")
    package = logging.getLogger("balance_guard")
    saved = (list(package.handlers), package.propagate, package.level)
    yield
    package.handlers[:] = saved[0]
    package.propagate = saved[1]
    package.setLevel(saved[2])


@pytest.mark.usefixtures("in_lambda")
def test_the_key_comes_from_secrets_manager_and_is_never_logged(
    serve: Any, aws: Callable[..., Stack], caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.INFO)  # what Lambda keeps (botocore's DEBUG dumps bodies)
    stack = aws(serve(scenario(CRITICAL, BROKEN)), secret=json.dumps({"api_key": KEY}))
    collect = Collect(common.logger.registered_formatter)
    common.logger.addHandler(collect)  # the package's loggers get it too, as in Lambda
    try:
        run_id = plan()["run_id"]
        check(received(stack))
        RUN_DIGEST.handler({"run_id": run_id}, CONTEXT)
    finally:
        logging.getLogger(common.logger.name).removeHandler(collect)

    assert stack.runtime is not None
    assert stack.runtime.settings.stripe_key() == KEY
    assert KEY not in repr(stack.runtime.settings)
    logged = "\n".join([*collect.lines, caplog.text, *capsys.readouterr()])
    assert '"account_id":"acct_broken0001"' in logged  # the JSON lines carry the ids
    assert f'"run_id":"{run_id}"' in logged
    # the package's own warning, as a JSON line with the same keys
    [warning] = [json.loads(line) for line in collect.lines if "check failed for" in line]
    assert warning["level"] == "WARNING"
    assert (warning["run_id"], warning["account_id"]) == (run_id, "acct_broken0001")
    assert KEY not in logged
    assert KEY[:12] not in logged
