"""template.yaml: valid for cfn-lint, and the deployment contract holds.

cfn-lint checks CloudFormation and SAM's top-level properties; the SAM parts it does not look
into (events, policy templates, layer metadata) are asserted here one by one, on the template
as written and on what the SAM transform makes of it (aws-sam-translator, offline).
"""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import inspect
import itertools
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import lint_file
from cfnlint.decode import cfn_yaml

from balance_guard.aws.check_account import (
    CHECK_RECORD_BUDGET_MS,
    NOTIFY_RESERVE_S,
    REDELIVERY_CAP_S,
    UNSTARTED_REDELIVERY_S,
    redelivery_delay_s,
)
from balance_guard.aws.dead_letter import DEAD_LETTER_RECORD_BUDGET_MS
from balance_guard.aws.messages import (
    CheckMessage,
    DigestRequest,
    PlanRequest,
    RecheckMessage,
    queue_message,
)
from balance_guard.aws.plan_run import PLAN_RESERVE_S
from balance_guard.aws.recheck import RECHECK_ATTEMPTS, RECHECK_LEASE_S
from balance_guard.aws.runtime import IDEMPOTENCY_TTL_S, RESERVATION
from balance_guard.aws.settings import DEFAULT_MAX_RECEIVES, DEFAULT_MAX_RPS
from balance_guard.domain.policy import Policy
from balance_guard.stripe.pacing import RetryPolicy
from balance_guard.stripe.reader import StripeReader
from balance_guard.webhook.coalesce import COALESCE_ENV, DEFAULT_COALESCE_S, MAX_COALESCE_S
from balance_guard.webhook.events import WATCHED_EVENTS

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
NIGHTLY = {"PlanRunFunction": "plan_run", "CheckAccountFunction": "check_account",
           "RunDigestFunction": "run_digest", "DeadLetterFunction": "dead_letter"}
FUNCTIONS = {**NIGHTLY, "WebhookFunction": "webhook"}
LAMBDA_UNZIPPED_LIMIT = 250_000_000


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    loaded: dict[str, Any] = cfn_yaml.load(str(TEMPLATE))
    return loaded


def resource(template: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = template["Resources"][name]
    return found


def props(template: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = resource(template, name)["Properties"]
    return found


def environment(template: dict[str, Any], function: str) -> dict[str, Any]:
    shared = template["Globals"]["Function"]["Environment"]["Variables"]
    own = props(template, function).get("Environment", {}).get("Variables", {})
    return {**shared, **own}


def ref(name: str) -> dict[str, str]:
    return {"Ref": name}


def test_cfn_lint_finds_nothing() -> None:
    matches = lint_file(TEMPLATE)

    assert [f"{m.rule.id} {m.message} (line {m.linenumber})" for m in matches] == []


def test_the_real_sam_cli_validates_and_lints_it() -> None:
    """`sam validate --lint` with the SAM CLI `make deploy-check` installs (.venv-sam)."""
    sam = ROOT / ".venv-sam" / "bin" / "sam"
    if not sam.is_file():
        pytest.skip("no .venv-sam: make deploy-check installs the AWS SAM CLI there")
    env = {"PATH": f"{sam.parent}:/usr/bin:/bin", "HOME": str(ROOT / ".venv-sam"),
           "SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": "ca-central-1"}
    done = subprocess.run([str(sam), "validate", "--lint", "--template", str(TEMPLATE)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=180,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "is a valid SAM Template" in done.stdout + done.stderr


def test_functions_run_python_313_on_arm64_with_tracing_and_the_shared_layer(
    template: dict[str, Any],
) -> None:
    assert template["Transform"] == "AWS::Serverless-2016-10-31"
    shared = template["Globals"]["Function"]
    assert shared["Runtime"] == "python3.13"
    assert shared["Architectures"] == ["arm64"]
    assert shared["Tracing"] == "Active"
    assert shared["Layers"] == [ref("SharedLayer")]
    variables = shared["Environment"]["Variables"]
    assert variables["POWERTOOLS_SERVICE_NAME"] == "balance-guard"
    assert "POWERTOOLS_METRICS_NAMESPACE" in variables


def test_one_layer_is_built_from_shared_by_its_makefile_for_arm64(
    template: dict[str, Any],
) -> None:
    layers = [n for n, r in template["Resources"].items()
              if r["Type"] == "AWS::Serverless::LayerVersion"]
    assert layers == ["SharedLayer"]
    layer = resource(template, "SharedLayer")
    assert layer["Properties"]["ContentUri"] == "shared/"
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
    assert layer["Metadata"] == {"BuildMethod": "makefile", "BuildArchitecture": "arm64"}
    # `sam build` runs `make build-SharedLayer` from ContentUri's Makefile
    assert re.search(r"^build-SharedLayer:", MAKEFILE.read_text(encoding="utf-8"), re.MULTILINE)
    assert (ROOT / "shared" / "requirements.txt").is_file()


@pytest.mark.parametrize(("logical", "folder"), FUNCTIONS.items())
def test_each_function_is_a_thin_app_handler(
    template: dict[str, Any], logical: str, folder: str,
) -> None:
    function = resource(template, logical)
    assert function["Type"] == "AWS::Serverless::Function"
    assert function["Properties"]["CodeUri"] == f"functions/{folder}/"
    assert function["Properties"]["Handler"] == "app.handler"
    app = ROOT / "functions" / folder / "app.py"
    tree = ast.parse(app.read_text(encoding="utf-8"))
    handlers = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "handler"]
    assert len(handlers) == 1
    assert len(app.read_text(encoding="utf-8").splitlines()) <= 15  # parse, call, return
    assert list((ROOT / "functions" / folder / "events").glob("*.json"))


def test_plan_run_runs_nightly_at_three_in_toronto_by_default(template: dict[str, Any]) -> None:
    [event] = props(template, "PlanRunFunction")["Events"].values()
    assert event["Type"] == "ScheduleV2"
    settings = event["Properties"]
    assert settings["ScheduleExpression"] == ref("ScheduleCron")
    assert settings["ScheduleExpressionTimezone"] == ref("ScheduleTimezone")
    parameters = template["Parameters"]
    # 03:00, not 02:00: 02:xx does not exist on the spring DST day in Toronto
    assert parameters["ScheduleCron"]["Default"] == "cron(0 3 * * ? *)"
    assert parameters["ScheduleTimezone"]["Default"] == "America/Toronto"
    # "today" for the run is the schedule's day
    assert environment(template, "PlanRunFunction")["BALANCE_GUARD_TIMEZONE"] == ref(
        "ScheduleTimezone")


def test_the_schedule_sends_its_scheduled_time_and_has_no_fixed_name(
    template: dict[str, Any],
) -> None:
    [event] = props(template, "PlanRunFunction")["Events"].values()
    settings = event["Properties"]
    assert json.loads(settings["Input"]) == {
        "scheduled_time": "<aws.scheduler.scheduled-time>",
        "execution_id": "<aws.scheduler.execution-id>"}
    request = PlanRequest.model_validate_json(settings["Input"].replace(
        "<aws.scheduler.scheduled-time>", "2026-08-01T07:00:00Z").replace(
        "<aws.scheduler.execution-id>", "d32c5kddcf5bb8c3"))
    assert request.scheduled_time is not None
    assert settings["OmitName"] is True
    assert "Name" not in settings
    assert settings["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["ScheduleDeadLetterQueue",
                                                                    "Arn"]}}


def mapping_of(template: dict[str, Any], function: str) -> dict[str, Any]:
    """The event source mapping that feeds `function`: written out, not a SAM SQS event
    (which would attach a managed policy polling every queue)."""
    assert "Events" not in props(template, function)
    [found] = [r["Properties"] for r in template["Resources"].values()
               if r["Type"] == "AWS::Lambda::EventSourceMapping"
               and r["Properties"]["FunctionName"] == ref(function)]
    return found


def test_check_account_reads_the_queue_with_partial_failures_and_bounded_concurrency(
    template: dict[str, Any],
) -> None:
    settings = mapping_of(template, "CheckAccountFunction")
    assert settings["EventSourceArn"] == {"Fn::GetAtt": ["CheckQueue", "Arn"]}
    # SAM's logical id for the event it replaces: an existing stack updates it in place
    assert resource(template, "CheckAccountFunctionCheckQueue")["Properties"] is settings
    assert settings["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert settings["ScalingConfig"] == {"MaximumConcurrency": ref("MaxConcurrency")}
    assert 1 <= settings["BatchSize"] <= 5
    variables = environment(template, "CheckAccountFunction")
    # the instances share one budget: none is told how many of them there are
    assert "MAX_CONCURRENCY" not in variables
    assert variables["STRIPE_MAX_RPS"] == ref("StripeMaxRps")
    # a passing failure is handed back with its own delay (ChangeMessageVisibility)
    assert variables["CHECK_QUEUE_URL"] == ref("CheckQueue")


def test_the_queue_outlives_retries_and_ends_in_a_dead_letter_queue(
    template: dict[str, Any],
) -> None:
    queue = props(template, "CheckQueue")
    timeout = props(template, "CheckAccountFunction")["Timeout"]
    assert queue["VisibilityTimeout"] >= 6 * timeout
    redrive = queue["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": ["CheckDeadLetterQueue", "Arn"]}
    # the last delivery records the account as not checked: both must agree
    max_receives = environment(template, "CheckAccountFunction")["CHECK_MAX_RECEIVES"]
    assert int(max_receives) == redrive["maxReceiveCount"] == DEFAULT_MAX_RECEIVES
    assert props(template, "CheckDeadLetterQueue")["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_dead_letters_are_consumed_so_a_run_always_completes(template: dict[str, Any]) -> None:
    settings = mapping_of(template, "DeadLetterFunction")
    assert settings["EventSourceArn"] == {"Fn::GetAtt": ["CheckDeadLetterQueue", "Arn"]}
    assert resource(template, "DeadLetterFunctionDeadLetters")["Properties"] is settings
    assert settings["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    timeout = props(template, "DeadLetterFunction")["Timeout"]
    assert props(template, "CheckDeadLetterQueue")["VisibilityTimeout"] >= 6 * timeout
    assert "RedrivePolicy" not in props(template, "CheckDeadLetterQueue")
    assert environment(template, "DeadLetterFunction")["DIGEST_FUNCTION_NAME"] == ref(
        "RunDigestFunction")


def test_one_on_demand_table_with_point_in_time_recovery_and_ttl(
    template: dict[str, Any],
) -> None:
    tables = [n for n, r in template["Resources"].items() if r["Type"] == "AWS::DynamoDB::Table"]
    assert tables == ["StateTable"]
    table = props(template, "StateTable")
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    assert [k["AttributeName"] for k in table["KeySchema"]] == ["pk", "sk"]
    assert resource(template, "StateTable")["DeletionPolicy"] == "Retain"


def test_the_reports_bucket_is_private_encrypted_and_expires_reports(
    template: dict[str, Any],
) -> None:
    bucket = props(template, "ReportsBucket")
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    assert bucket["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    rules = {r["Id"]: r for r in bucket["LifecycleConfiguration"]["Rules"]}
    assert all(r["Status"] == "Enabled" for r in rules.values())
    assert rules["ExpireRunReports"]["ExpirationInDays"] == ref("ReportRetentionDays")
    assert rules["ExpireRunReports"]["Prefix"] == "reports/"
    # versioned: what is overwritten or deleted is kept a while, then goes for good
    assert rules["ExpireNoncurrentVersions"]["NoncurrentVersionExpiration"] == {
        "NoncurrentDays": ref("ReportNoncurrentVersionDays")}
    assert rules["RemoveExpiredDeleteMarkers"]["ExpiredObjectDeleteMarker"] is True
    assert rules["AbortIncompleteUploads"]["AbortIncompleteMultipartUpload"] == {
        "DaysAfterInitiation": 7}
    parameters = template["Parameters"]
    assert parameters["ReportRetentionDays"]["Type"] == "Number"
    assert parameters["ReportNoncurrentVersionDays"]["MinValue"] >= 1
    [tls] = props(template, "ReportsBucketPolicy")["PolicyDocument"]["Statement"][:1]
    assert tls["Effect"] == "Deny"
    assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def alarms(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: r["Properties"] for name, r in template["Resources"].items()
            if r["Type"] == "AWS::CloudWatch::Alarm"}


def test_alarms_for_dead_letters_every_function_and_a_missing_digest_go_to_operations(
    template: dict[str, Any],
) -> None:
    found = alarms(template)
    aged = {a["Dimensions"][0]["Value"]["Fn::GetAtt"][0]: a for a in found.values()
            if a["MetricName"] == "ApproximateAgeOfOldestMessage"}
    assert set(aged) == {"CheckDeadLetterQueue", "CheckQueue"}
    assert aged["CheckDeadLetterQueue"]["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["CheckDeadLetterQueue", "QueueName"]}}]
    [schedule] = [a for a in found.values()
                  if a["MetricName"] == "ApproximateNumberOfMessagesVisible"]
    assert schedule["Dimensions"][0]["Value"] == {"Fn::GetAtt": ["ScheduleDeadLetterQueue",
                                                                 "QueueName"]}
    errors = {a["Dimensions"][0]["Value"]["Ref"] for a in found.values()
              if a["MetricName"] == "Errors"}
    assert errors == set(FUNCTIONS)
    assert all(a["AlarmActions"] == [ref("OpsTopic")] for a in found.values())
    [subscription] = props(template, "OpsTopic")["Subscription"]
    assert subscription == {"Protocol": "email", "Endpoint": ref("OpsEmail")}


def test_custom_metric_alarms_watch_what_the_functions_publish(template: dict[str, Any]) -> None:
    """Powertools Metrics adds the service dimension: the alarms must name it."""
    service = template["Globals"]["Function"]["Environment"]["Variables"][
        "POWERTOOLS_SERVICE_NAME"]
    custom = {a["MetricName"]: a for a in alarms(template).values()
              if a["Namespace"] == "BalanceGuard"}
    assert set(custom) == {"DigestsSent", "EmailsFailed", "DeadLetters", "AccountsFailed",
                           "WebhooksUnavailable", "WebhooksRefused"}
    for alarm in custom.values():
        assert alarm["Dimensions"] == [{"Name": "service", "Value": service}]
    digest = custom["DigestsSent"]
    assert (digest["Statistic"], digest["Period"], digest["EvaluationPeriods"]) == (
        "Sum", 86400, 1)
    assert (digest["ComparisonOperator"], digest["Threshold"]) == ("LessThanThreshold", 1)
    assert digest["TreatMissingData"] == "breaching"  # no run at all is the worst case
    for name in ("EmailsFailed", "DeadLetters", "WebhooksUnavailable"):
        assert (custom[name]["ComparisonOperator"], custom[name]["Threshold"]) == (
            "GreaterThanThreshold", 0)
    handlers_source = "".join(p.read_text()
                              for p in (ROOT / "shared/balance_guard/aws").glob("*.py"))
    for name in custom:
        assert f'name="{name}"' in handlers_source


def test_the_middle_of_the_night_is_watched_too(template: dict[str, Any]) -> None:
    """Between the schedule and the digest: the check queue draining, each function's
    throttles, and accounts failing their check above a parameter."""
    found = alarms(template)
    queue = found["CheckQueueAgeAlarm"]
    assert (queue["Namespace"], queue["MetricName"]) == ("AWS/SQS",
                                                         "ApproximateAgeOfOldestMessage")
    assert queue["Dimensions"] == [{"Name": "QueueName",
                                    "Value": {"Fn::GetAtt": ["CheckQueue", "QueueName"]}}]
    assert (queue["Statistic"], queue["ComparisonOperator"]) == ("Maximum",
                                                                "GreaterThanThreshold")
    assert queue["Threshold"] == ref("CheckQueueAgeAlarmSeconds")
    age = template["Parameters"]["CheckQueueAgeAlarmSeconds"]
    # a night of 10 000 accounts at the default budget (5 requests each), plus the 15
    # minutes of redelivery delays, drains before the default fires
    assert 10_000 * 5 / DEFAULT_MAX_RPS + sum(
        redelivery_delay_s(n) for n in range(1, DEFAULT_MAX_RECEIVES)) < age["Default"]
    throttled = {a["Dimensions"][0]["Value"]["Ref"]: a for a in found.values()
                 if a["MetricName"] == "Throttles"}
    # The night's functions; the webhook's throttles are Stripe's retries (429), not a loss.
    assert set(throttled) == set(NIGHTLY)
    for alarm in throttled.values():
        assert (alarm["Namespace"], alarm["Statistic"], alarm["Threshold"]) == (
            "AWS/Lambda", "Sum", 0)
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    failed = found["AccountsFailedAlarm"]
    assert (failed["Namespace"], failed["MetricName"], failed["Statistic"]) == (
        "BalanceGuard", "AccountsFailed", "Sum")
    assert failed["Threshold"] == ref("AccountsFailedThreshold")
    assert failed["ComparisonOperator"] == "GreaterThanThreshold"
    assert template["Parameters"]["AccountsFailedThreshold"]["Type"] == "Number"
    for alarm in (queue, failed, *throttled.values()):
        assert alarm["AlarmActions"] == [ref("OpsTopic")]
        assert alarm["TreatMissingData"] == "notBreaching"


def dashboard_body(template: dict[str, Any]) -> dict[str, Any]:
    """The dashboard's JSON, its ${...} references replaced by their names."""
    dashboard = props(template, "Dashboard")
    body = dashboard["DashboardBody"]["Fn::Sub"]
    for name in re.findall(r"\$\{([^}]+)\}", body):
        target = name.split(".")[0]
        assert target.startswith("AWS::") or target in template["Resources"], name
    loaded: dict[str, Any] = json.loads(re.sub(r"\$\{([^}]+)\}", r"<\1>", body))
    return loaded


def test_a_dashboard_shows_the_nights_with_the_metrics_the_code_publishes(
    template: dict[str, Any],
) -> None:
    body = dashboard_body(template)
    metrics = [w["properties"] for w in body["widgets"] if w["type"] == "metric"]
    shown = {(m[0], m[1]) for p in metrics for m in p["metrics"]}
    product = {name for namespace, name in shown if namespace == "BalanceGuard"}
    assert {"AccountsChecked", "AccountsFailed", "EmailsSent", "StripeRequests",
            "StripeRateLimited", "RunDuration"} <= product
    published = set(re.findall(r'add_metric\(name="(\w+)"', "".join(
        p.read_text() for p in (ROOT / "shared/balance_guard/aws").glob("*.py"))))
    assert product <= published  # no widget waits for a metric nothing sends
    for widget in metrics:
        assert widget["region"] == "<AWS::Region>"
        for metric in widget["metrics"]:
            if metric[0] == "BalanceGuard":
                assert metric[2:4] == ["service", "balance-guard"]
            elif metric[0] == "AWS/Lambda":
                assert metric[3].strip("<>") in FUNCTIONS
    # night by night: the product's metrics in one bar a day
    by_title = {p["title"]: p for p in metrics}
    assert by_title["Accounts planned, checked and failed"]["period"] == 86400
    assert by_title["Run duration (start to digest)"]["stat"] == "Maximum"
    assert body["periodOverride"] == "inherit"
    queues = {m[3] for p in metrics for m in p["metrics"] if m[0] == "AWS/SQS"}
    assert queues == {"<CheckQueue.QueueName>", "<CheckDeadLetterQueue.QueueName>"}


def test_each_function_gets_the_environment_of_spec_11(template: dict[str, Any]) -> None:
    needed = {
        "PlanRunFunction": {"STRIPE_SECRET_ARN", "STRIPE_API_BASE", "STATE_TABLE",
                            "CHECK_QUEUE_URL", "STRIPE_MAX_RPS", "DIGEST_FUNCTION_NAME"},
        "CheckAccountFunction": {"STRIPE_SECRET_ARN", "STRIPE_API_BASE", "STATE_TABLE",
                                 "SENDER_EMAIL", "STRIPE_MAX_RPS", "CHECK_QUEUE_URL",
                                 "CHECK_MAX_RECEIVES", "DOCS_BASE_URL", "DEFAULT_LOCALE",
                                 "DIGEST_FUNCTION_NAME", "SES_CONFIGURATION_SET"},
        "RunDigestFunction": {"STATE_TABLE", "REPORTS_BUCKET", "SENDER_EMAIL", "OPS_EMAIL",
                              "DEFAULT_LOCALE", "SES_CONFIGURATION_SET"},
        "DeadLetterFunction": {"STATE_TABLE", "DIGEST_FUNCTION_NAME"},
    }
    for function, names in needed.items():
        assert names <= set(environment(template, function)), function
    assert not [f for f in FUNCTIONS if "MAX_CONCURRENCY" in environment(template, f)]
    for function in ("RunDigestFunction", "DeadLetterFunction"):
        assert "STRIPE_SECRET_ARN" not in environment(template, function)
    assert "STRIPE_API_KEY" not in json.dumps(template)  # the key only ever in the secret


def policies(template: dict[str, Any], function: str) -> dict[str, Any]:
    """Policy templates by name, and the inline statements under "Statement"."""
    found: dict[str, Any] = {"Statement": []}
    for policy in props(template, function)["Policies"]:
        [(name, value)] = policy.items()
        if name == "Statement":
            found["Statement"] += value
        else:
            found[name] = value
    return found


def table_actions(granted: dict[str, Any]) -> set[str]:
    actions: set[str] = set()
    for statement in granted["Statement"]:
        listed = statement["Action"]
        listed = [listed] if isinstance(listed, str) else listed
        if any(a.startswith("dynamodb:") for a in listed):
            assert statement["Resource"] == {"Fn::GetAtt": ["StateTable", "Arn"]}
            actions |= set(listed)
    return actions


def test_each_function_may_touch_only_its_own_resources(template: dict[str, Any]) -> None:
    plan = policies(template, "PlanRunFunction")
    check = policies(template, "CheckAccountFunction")
    digest = policies(template, "RunDigestFunction")
    dead = policies(template, "DeadLetterFunction")
    secret = {"SecretArn": ref("StripeSecretArn")}
    assert plan["AWSSecretsManagerGetSecretValuePolicy"] == secret
    assert check["AWSSecretsManagerGetSecretValuePolicy"] == secret
    for granted in (digest, dead):
        assert "AWSSecretsManagerGetSecretValuePolicy" not in granted
    assert plan["SQSSendMessagePolicy"] == {"QueueName": {"Fn::GetAtt": ["CheckQueue",
                                                                         "QueueName"]}}
    assert "SQSSendMessagePolicy" not in check
    [delay] = [s for s in check["Statement"] if "sqs:ChangeMessageVisibility" in s["Action"]]
    assert delay["Action"] == "sqs:ChangeMessageVisibility"  # nothing else on the queue
    assert delay["Resource"] == {"Fn::GetAtt": ["CheckQueue", "Arn"]}
    for granted in (plan, digest, dead):
        assert "sqs:ChangeMessageVisibility" not in json.dumps(granted)
    # each consumer polls its own queue, and nothing else does
    poll = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
    for granted, queue in ((check, "CheckQueue"), (dead, "CheckDeadLetterQueue")):
        [polling] = [s for s in granted["Statement"] if "sqs:ReceiveMessage" in s["Action"]]
        assert polling["Action"] == poll
        assert polling["Resource"] == {"Fn::GetAtt": [queue, "Arn"]}
    for granted in (plan, digest):
        assert "sqs:ReceiveMessage" not in json.dumps(granted)
    for granted in (plan, check, digest, dead):
        # explicit statements only: no Crud / Read / Write policy templates, no Scan
        assert not [k for k in granted if k.startswith("DynamoDB")]
        assert "LambdaInvokePolicy" not in granted  # it ends in a "*"
        for statement in granted["Statement"]:
            assert statement["Effect"] == "Allow"
            assert "*" not in json.dumps(statement["Resource"]).replace("/reports/*", "")
    read = {"dynamodb:GetItem", "dynamodb:Query"}
    assert table_actions(plan) == read | {"dynamodb:PutItem", "dynamodb:UpdateItem",
                                          "dynamodb:BatchWriteItem"}
    assert table_actions(check) == read | {"dynamodb:PutItem", "dynamodb:UpdateItem",
                                           "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}
    assert table_actions(digest) == read | {"dynamodb:PutItem", "dynamodb:UpdateItem",
                                            "dynamodb:DeleteItem"}
    assert table_actions(dead) == {"dynamodb:GetItem", "dynamodb:UpdateItem"}
    for granted in (plan, check, dead):
        [invoke] = [s for s in granted["Statement"] if s["Action"] == "lambda:InvokeFunction"]
        assert invoke["Resource"] == {"Fn::GetAtt": ["RunDigestFunction", "Arn"]}
    assert not [s for s in digest["Statement"] if s["Action"] == "lambda:InvokeFunction"]
    [put] = [s for s in digest["Statement"] if s["Action"] == "s3:PutObject"]
    assert put["Resource"] == {"Fn::Sub": "${ReportsBucket.Arn}/reports/*"}
    for granted in (check, digest):
        [ses] = [s for s in granted["Statement"] if "ses:SendRawEmail" in s["Action"]]
        assert ses["Condition"] == {"StringEquals": {"ses:FromAddress": ref("SenderEmail")}}
    for granted in (plan, dead):
        assert not [s for s in granted["Statement"] if "ses:SendRawEmail" in s["Action"]]


@pytest.mark.parametrize(("arn", "accepted"), [
    ("arn:aws:secretsmanager:ca-central-1:123456789012:secret:balance-guard/stripe-AbC123",
     True),
    ("arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:stripe-key-a1B2c3", True),
    # a partial ARN (no random suffix): IAM would deny GetSecretValue on it
    ("arn:aws:secretsmanager:ca-central-1:123456789012:secret:balance-guard/stripe", False),
    ("arn:aws:secretsmanager:ca-central-1:123456789012:secret:stripe-AbC12", False),
    ("balance-guard/stripe", False),
])
def test_the_secret_parameter_takes_only_a_complete_arn(
    template: dict[str, Any], arn: str, accepted: bool,
) -> None:
    pattern = template["Parameters"]["StripeSecretArn"]["AllowedPattern"]
    assert bool(re.fullmatch(pattern, arn)) is accepted


STRIPE_ADDRESSES = [
    ("", True, True),
    ("https://api.stripe.com", True, False),
    ("https://stripe-mock.internal.example:12111/v1", True, False),
    ("http://api.stripe.com", False, False),
    ("http://10.0.0.8:12111", False, False),
    ("ftp://api.stripe.com", False, False),
    ("https://api.stripe.com evil", False, False),
    ("http://127.0.0.1:12111", False, True),
    ("http://localhost:12111/", False, True),
    ("http://localhost.evil.example", False, False),
    ("https://127.0.0.1:12111", True, False),
]


@pytest.mark.parametrize(("base", "as_stripe_api_base", "as_loopback"), STRIPE_ADDRESSES)
def test_the_stripe_key_goes_over_https_or_to_loopback_on_test_stacks_only(
    template: dict[str, Any], base: str, as_stripe_api_base: bool, as_loopback: bool,
) -> None:
    from balance_guard.config import ConfigError, checked_api_base

    parameters = template["Parameters"]
    for name, accepted in (("StripeApiBase", as_stripe_api_base),
                           ("LoopbackStripeApiBase", as_loopback)):
        assert bool(re.fullmatch(parameters[name]["AllowedPattern"], base)) is accepted, name
    if base and (as_stripe_api_base or as_loopback):
        # whatever the template lets through, the functions accept too
        assert checked_api_base(base, "STRIPE_API_BASE") == base
    elif base.startswith("http://"):
        with pytest.raises(ConfigError):
            checked_api_base(base, "STRIPE_API_BASE")


def test_a_loopback_stripe_address_needs_the_explicit_parameter(template: dict[str, Any]) -> None:
    allow = template["Parameters"]["AllowLoopbackStripeApiBase"]
    assert (allow["Default"], allow["AllowedValues"]) == ("false", ["false", "true"])
    rules = template["Rules"]
    closed = rules["NoLoopbackStripeApiBaseUnlessAllowed"]
    assert closed["RuleCondition"] == {"Fn::Equals": [ref("AllowLoopbackStripeApiBase"),
                                                      "false"]}
    assert [a["Assert"] for a in closed["Assertions"]] == [
        {"Fn::Equals": [ref("LoopbackStripeApiBase"), ""]}]
    opened = rules["OneStripeApiBaseForATestStack"]
    assert opened["RuleCondition"] == {"Fn::Equals": [ref("AllowLoopbackStripeApiBase"),
                                                      "true"]}
    assert [a["Assert"] for a in opened["Assertions"]] == [
        {"Fn::Not": [{"Fn::Equals": [ref("LoopbackStripeApiBase"), ""]}]},
        {"Fn::Equals": [ref("StripeApiBase"), ""]}]
    assert template["Conditions"]["UseLoopbackStripeApiBase"] == {
        "Fn::Equals": [ref("AllowLoopbackStripeApiBase"), "true"]}
    for function in ("PlanRunFunction", "CheckAccountFunction"):
        assert environment(template, function)["STRIPE_API_BASE"] == {"Fn::If": [
            "UseLoopbackStripeApiBase", ref("LoopbackStripeApiBase"), ref("StripeApiBase")]}


def test_the_ops_topic_is_encrypted_with_a_key_its_publishers_may_use(
    template: dict[str, Any],
) -> None:
    """Not alias/aws/sns: the AWS-managed key's policy cannot let CloudWatch alarms or SES
    event destinations encrypt, and both publish to this topic."""
    assert props(template, "OpsTopic")["KmsMasterKeyId"] == {"Fn::GetAtt": ["OpsTopicKey",
                                                                            "Arn"]}
    key = props(template, "OpsTopicKey")
    assert key["EnableKeyRotation"] is True
    statements = {s["Sid"]: s for s in key["KeyPolicy"]["Statement"]}
    services = statements["AlarmsAndEmailEventsPublishToThisAccountsTopics"]
    assert set(services["Principal"]["Service"]) == {"cloudwatch.amazonaws.com",
                                                     "ses.amazonaws.com"}
    assert set(services["Action"]) == {"kms:GenerateDataKey*", "kms:Decrypt"}
    assert services["Condition"]["StringLike"]["kms:EncryptionContext:aws:sns:topicArn"] == {
        "Fn::Sub": "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:*"}
    assert statements["ThisAccountManagesTheKeyThroughIam"]["Principal"] == {
        "AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}
    # the functions whose failed invocations Lambda sends to the topic, under their roles
    for function in ("PlanRunFunction", "RunDigestFunction"):
        destination = props(template, function)["EventInvokeConfig"]["DestinationConfig"]
        assert destination["OnFailure"]["Destination"] == ref("OpsTopic")
        [use] = [s for s in policies(template, function)["Statement"]
                 if s.get("Sid") == "OpsTopicKeyForFailedInvokes"]
        assert use["Action"] == ["kms:GenerateDataKey", "kms:Decrypt"]
        assert use["Resource"] == {"Fn::GetAtt": ["OpsTopicKey", "Arn"]}


# -- the Stripe budget, concurrency and time budgets -------------------------------------------


def references(node: Any, name: str) -> int:
    """How many times a part of the template refers to the parameter `name`."""
    if isinstance(node, dict):
        own = int(node.get("Ref") == name)
        return own + sum(references(value, name) for value in node.values())
    if isinstance(node, list):
        return sum(references(item, name) for item in node)
    return int(isinstance(node, str) and "${" + name + "}" in node)


def test_one_stripe_budget_for_the_stack_and_concurrency_for_throughput_only(
    template: dict[str, Any],
) -> None:
    parameters = template["Parameters"]
    rate = parameters["StripeMaxRps"]
    # live mode allows 100 requests a second, test mode 25
    assert (rate["Type"], rate["MinValue"], rate["MaxValue"]) == ("Number", 1, 100)
    assert rate["Default"] == DEFAULT_MAX_RPS  # what the code assumes when it is not set
    concurrency = parameters["MaxConcurrency"]
    # an SQS event source's MaximumConcurrency takes 2 to 1000
    assert concurrency["Type"] == "Number"
    assert concurrency["MinValue"] == 2
    assert concurrency["MinValue"] < concurrency["MaxValue"] <= 1000
    assert concurrency["MinValue"] <= concurrency["Default"] <= concurrency["MaxValue"]
    for bounded in (rate, concurrency):
        # plain bounds, no list of pairs: the two no longer constrain each other
        assert "AllowedValues" not in bounded
        assert "AllowedPattern" not in bounded
    deployed = {k: v for k, v in template.items() if k not in {"Parameters", "Rules"}}
    # MaxConcurrency reaches the event source and nothing else: no process paces itself
    # by the number of instances
    assert references(deployed, "MaxConcurrency") == 1
    # the budget reaches the two functions that read Stripe, and they draw from one place:
    # the state table, with conditional UpdateItem writes
    assert references(deployed, "StripeMaxRps") == 2
    for function in ("PlanRunFunction", "CheckAccountFunction"):
        variables = environment(template, function)
        assert variables["STRIPE_MAX_RPS"] == ref("StripeMaxRps")
        assert variables["STATE_TABLE"] == ref("StateTable")
        assert "dynamodb:UpdateItem" in table_actions(policies(template, function))
    # Instances beyond what the budget feeds only queue for slots: a request may wait about
    # RESERVATION x instances / rate seconds for its slot, time taken from the record's
    # reserve after its reads. The defaults keep that wait a small part of the reserve.
    slot_wait_s = RESERVATION * concurrency["Default"] / rate["Default"]
    assert slot_wait_s <= NOTIFY_RESERVE_S / 4


# The per-request timeout of the readers the functions build (runtime.reader() keeps it).
REQUEST_TIMEOUT_S: float = inspect.signature(StripeReader).parameters["timeout"].default
SQS_MAX_VISIBILITY_S = 12 * 3600  # VisibilityTimeout and ChangeMessageVisibility's limit


def test_the_template_time_budgets_follow_from_the_code(template: dict[str, Any]) -> None:
    """The arithmetic of infra/README.md ("Time budgets"); each line fails when the template
    or a constant of the code moves without the other."""
    retry = RetryPolicy()
    one_request_worst_s = retry.worst_case_s(REQUEST_TIMEOUT_S)  # 8 x 30 s + backoff
    check_timeout = props(template, "CheckAccountFunction")["Timeout"]
    start_s = CHECK_RECORD_BUDGET_MS / 1000

    # A record starts only with `start_s` left, and its Stripe reads end NOTIFY_RESERVE_S
    # before the timeout: a record started at the last moment still has time for an
    # account's five requests or so, or it would only ever be handed back.
    assert start_s - NOTIFY_RESERVE_S >= 5 * retry.min_request_s
    # The first record of a batch can ride out one request's whole retry schedule before
    # its reads must end (later records get what is left: the deadline, not the retry
    # count, bounds them).
    assert check_timeout - NOTIFY_RESERVE_S >= one_request_worst_s
    # BatchSize x start_s <= the timeout is deliberately NOT required: the budget is
    # checked before each record, and a record the batch has no time for is handed back to
    # SQS (visible again after UNSTARTED_REDELIVERY_S) for another instance, not cut off
    # with the batch. The batch size only trades Lambda invocations for latency.

    queue = props(template, "CheckQueue")
    # No second delivery while an instance may still hold the message: six times the
    # function's timeout, AWS's advice for SQS event sources (and SQS's 12-hour limit).
    assert 6 * check_timeout <= queue["VisibilityTimeout"] <= SQS_MAX_VISIBILITY_S

    receives = queue["RedrivePolicy"]["maxReceiveCount"]
    # the last delivery records the account (CHECK_FAILED with its cause): both must agree
    assert int(environment(template, "CheckAccountFunction")["CHECK_MAX_RECEIVES"]) == receives
    # a passing failure is delivered again after a growing delay: 60, 120, 240, 480 s
    delays = [redelivery_delay_s(attempt) for attempt in range(1, receives)]
    assert all(a < b for a, b in itertools.pairwise(delays))
    # a Stripe incident of a quarter of an hour costs the night no account
    assert sum(delays) >= 15 * 60
    # every delay is one ChangeMessageVisibility accepts
    assert max(delays) <= REDELIVERY_CAP_S <= SQS_MAX_VISIBILITY_S
    # a record handed back unstarted comes back sooner than one that failed
    assert 0 <= UNSTARTED_REDELIVERY_S < delays[0]
    # even with every delivery timing out, the message reaches its last delivery long
    # before SQS drops it, and its idempotency record outlives it
    longest = receives * queue["VisibilityTimeout"] + sum(delays)
    assert longest < queue["MessageRetentionPeriod"] <= IDEMPOTENCY_TTL_S

    # plan_run's listing also gets a request's whole retry schedule before it must stop
    # reading Stripe, PLAN_RESERVE_S before its timeout, to record the run and queue it
    plan_timeout = props(template, "PlanRunFunction")["Timeout"]
    assert plan_timeout - PLAN_RESERVE_S >= one_request_worst_s
    # dead_letter starts a record only with DEAD_LETTER_RECORD_BUDGET_MS left
    assert props(template, "DeadLetterFunction")["Timeout"] * 1000 > 2 * (
        DEAD_LETTER_RECORD_BUDGET_MS)


def test_email_goes_through_a_configuration_set(template: dict[str, Any]) -> None:
    assert resource(template, "EmailConfigurationSet")["Type"] == "AWS::SES::ConfigurationSet"
    for function in ("CheckAccountFunction", "RunDigestFunction"):
        assert environment(template, function)["SES_CONFIGURATION_SET"] == ref(
            "EmailConfigurationSet")


def test_bounces_and_complaints_reach_operations(template: dict[str, Any]) -> None:
    destination = props(template, "EmailEventsToOperations")
    assert destination["ConfigurationSetName"] == ref("EmailConfigurationSet")
    events = destination["EventDestination"]
    assert events["Enabled"] is True
    assert set(events["MatchingEventTypes"]) == {"bounce", "complaint"}
    assert events["SnsDestination"] == {"TopicARN": ref("OpsTopic")}
    policy = props(template, "OpsTopicPolicy")
    assert policy["Topics"] == [ref("OpsTopic")]
    principals = {s["Principal"]["Service"]: s for s in policy["PolicyDocument"]["Statement"]}
    # the topic policy replaces the default one: alarms must still be able to publish
    assert set(principals) == {"ses.amazonaws.com", "cloudwatch.amazonaws.com"}
    for statement in principals.values():
        assert statement["Action"] == "sns:Publish"
        assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == ref(
            "AWS::AccountId")


# -- the layer's build (shared/Makefile) -----------------------------------------------------

MAKEFILE = ROOT / "shared" / "Makefile"
LEFT_OUT = {"cli", "sandbox"}


def make_layer(work: Path, *targets: str, shared: Path = ROOT / "shared",
               dependencies: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Targets of shared/Makefile run with this Python and the given dependencies instead of
    Lambda's wheels: the same steps `sam build` runs, without pip or a network."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    if dependencies is None:
        dependencies = work / "no-dependencies"
        dependencies.mkdir(exist_ok=True)
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    return subprocess.run(
        ["make", "-s", "--no-print-directory", "-C", str(shared), *targets,
         f"ARTIFACTS_DIR={work / 'layer'}", f"PYTHON={sys.executable}",
         f"PYTHON_VERSION={version}", "PLATFORMS=", f"DEPS_FROM={dependencies}"],
        capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def built_layer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """build-SharedLayer, whole, with Babel (pure Python) as its only dependency."""
    import babel

    work = tmp_path_factory.mktemp("layer")
    dependencies = work / "dependencies"
    shutil.copytree(Path(babel.__file__).parent, dependencies / "babel",
                    ignore=shutil.ignore_patterns("__pycache__"))
    done = make_layer(work, "build-SharedLayer", dependencies=dependencies)
    assert done.returncode == 0, done.stdout + done.stderr
    return work / "layer" / "python"


FRENCH_CATALOG = Path("text/locales/fr/LC_MESSAGES/balance_guard.mo")


def files_under(folder: Path) -> set[Path]:
    return {p.relative_to(folder) for p in folder.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts}


def test_the_layer_holds_the_runtime_packages_with_their_data_and_no_cli_or_sandbox(
    built_layer: Path,
) -> None:
    source = ROOT / "shared" / "balance_guard"
    shipped = built_layer / "balance_guard"
    assert {p.name for p in source.iterdir()} >= LEFT_OUT
    # The translation catalog ships compiled, without its sources.
    kept = {p for p in files_under(source) if p.parts[0] not in LEFT_OUT
            and p.suffix not in {".po", ".pot", ".mo"}}
    assert files_under(shipped) == kept | {FRENCH_CATALOG}
    assert (shipped / FRENCH_CATALOG).read_bytes()[:4] == b"\xde\x12\x04\x95"  # GNU .mo
    for data in ("py.typed", "notify/templates/account.html.j2",
                 "notify/templates/digest.txt.j2", "report/templates/report.html.j2"):
        assert (shipped / data).is_file(), data


def test_the_build_refuses_a_kept_module_that_imports_a_left_out_one(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    for folder in ("balance_guard/aws", "balance_guard/cli"):
        (shared / folder).mkdir(parents=True)
        (shared / folder / "__init__.py").write_text("")
    (shared / "balance_guard" / "__init__.py").write_text("")
    shutil.copy(MAKEFILE, shared / "Makefile")
    (shared / "balance_guard" / "aws" / "wired.py").write_text(
        "def handler():\n    from ..cli import main\n")

    done = make_layer(tmp_path, "layer-package", shared=shared)

    assert done.returncode != 0
    assert "wired.py:2: imports balance_guard.cli" in done.stderr


def test_the_layer_ships_bytecode_that_needs_no_source_check(built_layer: Path) -> None:
    """/opt is read-only: without bytecode every cold start compiles every module. Hash-based,
    unchecked .pyc stay valid whatever timestamps the layer's zip keeps."""
    sources = list(built_layer.rglob("*.py"))
    assert sources
    for source in sources:
        cached = Path(importlib.util.cache_from_source(str(source)))
        header = cached.read_bytes()[:16]
        assert header[:4] == importlib.util.MAGIC_NUMBER, source
        assert int.from_bytes(header[4:8], "little") == 0b01, source  # hash-based, unchecked


BABEL_CASES = [(2507267, "cad", "fr", "CA"), (2507267, "cad", "en", "CA"),
               (-1250, "usd", "en", "US"), (1250000, "eur", "fr", "FR"),
               (98765, "usd", "fr", None), (4200, "gbp", "en", "GB"), (123456, "jpy", "fr", "CA")]
# Money, days, numbers and lists as the emails and the digest show them, with the Babel found
# first on the path: the built layer's when one is given, else this environment's, whole.
FORMAT_WITH = """
import json, sys
from datetime import date
if sys.argv[1]:
    sys.path.insert(0, sys.argv[1])
import babel
from babel.lists import format_list
from babel.numbers import format_decimal
from balance_guard.text.formatting import babel_locale, format_day, format_money
assert babel.__file__.startswith(sys.argv[1]), babel.__file__
shown = []
for amount, currency, language, country in json.loads(sys.argv[2]):
    locale = babel_locale(language, country)
    shown.append([str(locale), format_money(amount, currency, language, country),
                  format_day(date(2026, 8, 1), language, country),
                  format_day(date(2026, 12, 31), language, country),
                  format_decimal(1234567.5, locale=locale),
                  format_list(["Tours du Parc", "Bayview", "Les Cèdres"], locale=locale)])
print(json.dumps(shown))
"""


def formatted(site: str) -> list[list[str]]:
    done = subprocess.run([sys.executable, "-c", FORMAT_WITH, site, json.dumps(BABEL_CASES)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    shown: list[list[str]] = json.loads(done.stdout)
    return shown


def test_babel_keeps_english_and_french_which_format_as_with_every_locale(
    built_layer: Path,
) -> None:
    kept = {p.stem for p in (built_layer / "babel" / "locale-data").glob("*.dat")}
    assert {name.split("_")[0] for name in kept} == {"root", "en", "fr"}
    assert {"en_CA", "fr_CA", "en_US", "fr_FR", "en_001", "en_150"} <= kept

    pruned = formatted(str(built_layer))

    assert [row[0] for row in pruned] == ["fr_CA", "en_CA", "en_US", "fr_FR", "fr_CA", "en_GB",
                                          "fr_CA"]
    # the product's French typography may join words with no-break spaces: read them as spaces
    plain = [[re.sub("[\u00a0\u202f]", " ", cell) for cell in row] for row in pruned]
    assert "072,67" in plain[0][1]
    assert plain[0][2] == "samedi 1er août 2026"
    assert plain[1][1:3] == ["$25,072.67", "Saturday, August 1, 2026"]
    assert pruned == formatted("")


# -- the layer's dependencies ----------------------------------------------------------------


def pins(path: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==([^\s#]+)", line)
        if match:
            found[match[1].lower().replace("_", "-")] = match[2]
    return found


def test_the_layer_pins_exactly_what_the_lock_file_pins() -> None:
    layer = pins(ROOT / "shared" / "requirements.txt")
    lock = pins(ROOT / "requirements.lock")
    requirement_lines = [
        line for line in (ROOT / "shared" / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")]
    assert len(requirement_lines) == len(layer)  # every line is an exact pin
    assert {name: lock.get(name) for name in layer} == layer
    for runtime in ("stripe", "pydantic", "babel", "holidays", "jinja2", "pyyaml",
                    "email-validator", "aws-lambda-powertools", "requests"):
        assert runtime in layer
    for development in ("moto", "pytest", "cfn-lint", "mypy", "ruff", "sphinx", "rich"):
        assert development not in layer


def test_the_layer_is_far_below_lambdas_size_limit() -> None:
    """The installed size of the pinned distributions (bytecode included) plus the package;
    measured on this machine's wheels, which are close to Linux arm64's."""
    package = ROOT / "shared" / "balance_guard"
    size = sum(f.stat().st_size for f in package.rglob("*")
               if f.is_file() and "__pycache__" not in f.parts)
    for name in pins(ROOT / "shared" / "requirements.txt"):
        for file in importlib.metadata.distribution(name).files or []:
            located = Path(str(file.locate()))
            if located.is_file():
                size += located.stat().st_size

    print(f"layer estimate: {size / 1e6:.1f} MB of {LAMBDA_UNZIPPED_LIMIT / 1e6:.0f} MB")
    assert size < 0.6 * LAMBDA_UNZIPPED_LIMIT


# -- sample events ---------------------------------------------------------------------------


def test_the_sample_events_are_what_the_handlers_accept() -> None:
    events = ROOT / "functions"
    for name in ("schedule.json", "rerun_date.json"):
        PlanRequest.model_validate_json((events / "plan_run" / "events" / name).read_text())
    DigestRequest.model_validate_json((events / "run_digest" / "events" / "digest.json")
                                      .read_text())
    for batch_file in (events / "check_account" / "events" / "sqs_batch.json",
                       events / "dead_letter" / "events" / "dead_letters.json"):
        batch = json.loads(batch_file.read_text())
        for record in batch["Records"]:
            assert set(json.loads(record["body"])) == {"run_id", "account_id", "as_of"}
            CheckMessage.model_validate_json(record["body"])


# -- what the SAM transform makes of it ------------------------------------------------------


class NoManagedPolicies:
    """The transform looks up managed policies named in `Policies` through IAM; the template
    names none (only SAM's own, which it knows), so the lookup needs no AWS account."""

    def load(self) -> dict[str, str]:
        return {}


@pytest.fixture(scope="module")
def translated(template: dict[str, Any]) -> dict[str, Any]:
    """The CloudFormation that `sam deploy` would submit, translated offline (artifact URIs
    stand in for the local folders `sam build` would upload)."""
    pytest.importorskip("samtranslator", reason="aws-sam-translator is not installed")
    from samtranslator.translator.transform import transform

    sam: dict[str, Any] = json.loads(json.dumps(template))  # plain dicts, and a copy
    for item in sam["Resources"].values():
        if item["Type"] == "AWS::Serverless::Function":
            item["Properties"]["CodeUri"] = "s3://artifacts/function.zip"
        elif item["Type"] == "AWS::Serverless::LayerVersion":
            item["Properties"]["ContentUri"] = "s3://artifacts/layer.zip"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_DEFAULT_REGION", "ca-central-1")
        result: dict[str, Any] = transform(sam, {}, NoManagedPolicies())  # type: ignore[arg-type]
    return result


def of_type(translated: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r["Properties"] for name, r in translated["Resources"].items()
            if r["Type"] == kind}


def test_the_transform_yields_the_event_source_mappings_with_partial_failures(
    translated: dict[str, Any],
) -> None:
    mappings = of_type(translated, "AWS::Lambda::EventSourceMapping")
    by_queue = {m["EventSourceArn"]["Fn::GetAtt"][0]: m for m in mappings.values()}
    assert set(by_queue) == {"CheckQueue", "CheckDeadLetterQueue"}
    checks = by_queue["CheckQueue"]
    assert checks["FunctionName"] == ref("CheckAccountFunction")
    assert checks["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert checks["ScalingConfig"] == {"MaximumConcurrency": ref("MaxConcurrency")}
    dead = by_queue["CheckDeadLetterQueue"]
    assert dead["FunctionName"] == ref("DeadLetterFunction")
    assert dead["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert dead["ScalingConfig"]["MaximumConcurrency"] >= 2


def test_the_transform_yields_an_unnamed_schedule_in_the_platform_timezone(
    translated: dict[str, Any],
) -> None:
    [schedule] = of_type(translated, "AWS::Scheduler::Schedule").values()
    assert "Name" not in schedule  # CloudFormation names it: no clash between stacks
    assert schedule["ScheduleExpression"] == ref("ScheduleCron")
    assert schedule["ScheduleExpressionTimezone"] == ref("ScheduleTimezone")
    target = schedule["Target"]
    assert target["Arn"] == {"Fn::GetAtt": ["PlanRunFunction", "Arn"]}
    assert "<aws.scheduler.scheduled-time>" in target["Input"]
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["ScheduleDeadLetterQueue",
                                                                  "Arn"]}}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1
    # the scheduler's role may invoke plan_run and write to its dead-letter queue, nothing else
    role = translated["Resources"][target["RoleArn"]["Fn::GetAtt"][0]]["Properties"]
    granted = {(s["Action"], json.dumps(s["Resource"]))
               for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]}
    assert granted == {
        ("lambda:InvokeFunction", json.dumps({"Fn::GetAtt": ["PlanRunFunction", "Arn"]})),
        ("sqs:SendMessage", json.dumps({"Fn::GetAtt": ["ScheduleDeadLetterQueue", "Arn"]}))}


# Attached by SAM itself: basic logging and X-Ray (whose PutTraceSegments has no resource-level
# permissions). Their "*" resources are AWS's managed policies, not ours. No SQS polling
# policy (AWSLambdaSQSQueueExecutionRole, on every queue): the two consumers poll their own.
SAM_MANAGED_POLICIES = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
}


def test_the_transform_yields_roles_without_wildcard_resources(
    translated: dict[str, Any],
) -> None:
    roles = of_type(translated, "AWS::IAM::Role")
    assert {f"{name}Role" for name in FUNCTIONS} <= set(roles)
    for name, role in roles.items():
        assert set(role.get("ManagedPolicyArns", [])) <= SAM_MANAGED_POLICIES, name
        for policy in role.get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                assert statement["Effect"] == "Allow"
                resources = json.dumps(statement["Resource"]).replace("/reports/*", "")
                assert "*" not in resources, (name, statement)
                actions = statement["Action"]
                actions = [actions] if isinstance(actions, str) else actions
                assert "dynamodb:Scan" not in actions
                assert not [a for a in actions if a.endswith(":*")], (name, statement)
    assert "AWSLambdaSQSQueueExecutionRole" not in json.dumps(translated)
    polled = {}
    for name, role in roles.items():
        for policy in role.get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                if "sqs:ReceiveMessage" in statement["Action"]:
                    polled[name] = statement["Resource"]
    assert polled == {"CheckAccountFunctionRole": {"Fn::GetAtt": ["CheckQueue", "Arn"]},
                      "DeadLetterFunctionRole": {"Fn::GetAtt": ["CheckDeadLetterQueue", "Arn"]}}


def test_the_transform_keeps_the_rules_and_builds_every_function_on_the_layer(
    translated: dict[str, Any], template: dict[str, Any],
) -> None:
    # No parameter pair on the Stripe budget (shared, whatever the number of instances): the
    # rules are those on the Stripe address and the help site's domain.
    assert set(template["Rules"]) == set(translated["Rules"]) == {
        "NoLoopbackStripeApiBaseUnlessAllowed", "OneStripeApiBaseForATestStack",
        "DocsDomainNeedsItsCertificate", "DocsCertificateOnlyWithADomain"}
    functions = of_type(translated, "AWS::Lambda::Function")
    assert set(functions) == set(FUNCTIONS)
    [layer] = of_type(translated, "AWS::Lambda::LayerVersion")
    for function in functions.values():
        assert function["Runtime"] == "python3.13"
        assert function["Architectures"] == ["arm64"]
        assert function["Handler"] == "app.handler"
        assert function["Layers"] == [ref(layer)]
        assert function["TracingConfig"] == {"Mode": "Active"}


# -- the help site: a private bucket behind CloudFront -----------------------------------------


def resolved(node: Any, template: dict[str, Any], given: dict[str, str]) -> Any:
    """`node` with its Fn::If chosen as CloudFormation would for the parameters `given`
    (the others at their defaults)."""
    def value(name: str) -> str:
        return given.get(name, template["Parameters"][name].get("Default", ""))

    def holds(condition: Any) -> bool:
        [(function, arguments)] = condition.items()
        if function == "Condition":
            return holds(template["Conditions"][arguments])
        if function == "Fn::Equals":
            left, right = (value(a["Ref"]) if isinstance(a, dict) else a for a in arguments)
            return bool(left == right)
        if function == "Fn::Not":
            return not holds(arguments[0])
        raise AssertionError(function)

    if isinstance(node, dict):
        if set(node) == {"Fn::If"}:
            name, then, otherwise = node["Fn::If"]
            chosen = then if holds(template["Conditions"][name]) else otherwise
            return resolved(chosen, template, given)
        return {k: resolved(v, template, given) for k, v in node.items()}
    if isinstance(node, list):
        return [resolved(item, template, given) for item in node]
    return node


DISTRIBUTION_URL = {"Fn::Sub": "https://${DocsDistribution.DomainName}"}


@pytest.mark.parametrize(("given", "expected"), [
    ({}, DISTRIBUTION_URL),
    ({"DocsDomainName": "help.boreal.example",
      "DocsCertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/abc"},
     {"Fn::Sub": "https://${DocsDomainName}"}),
    ({"DocsBaseUrl": "https://aide.boreal.example"}, ref("DocsBaseUrl")),
])
def test_the_emails_link_to_the_site_the_stack_serves_unless_told_otherwise(
    translated: dict[str, Any], template: dict[str, Any], given: dict[str, str],
    expected: Any,
) -> None:
    assert template["Parameters"]["DocsBaseUrl"]["Default"] == ""
    functions = of_type(translated, "AWS::Lambda::Function")
    for name, function in functions.items():
        variables = resolved(function["Environment"]["Variables"], template, given)
        assert variables["DOCS_BASE_URL"] == expected, name
    outputs = resolved(template["Outputs"], template, given)
    assert outputs["DocsUrl"]["Value"] == expected


def test_with_the_defaults_an_email_links_to_the_distribution(
    translated: dict[str, Any], template: dict[str, Any],
) -> None:
    """What check_account links to in an email, with DOCS_BASE_URL as a stack deployed with
    the defaults resolves it (the distribution's domain made up)."""
    from balance_guard.aws.settings import Settings
    from balance_guard.domain.findings import RuleCode
    from balance_guard.notify.render import help_url

    check = of_type(translated, "AWS::Lambda::Function")["CheckAccountFunction"]
    url = resolved(check["Environment"]["Variables"]["DOCS_BASE_URL"], template, {})
    domain = "d111111abcdef8.cloudfront.net"
    base = url["Fn::Sub"].replace("${DocsDistribution.DomainName}", domain)
    settings = Settings.from_env({"STATE_TABLE": "state", "DOCS_BASE_URL": base})

    link = help_url(RuleCode.NEGATIVE_BALANCE, "fr", settings.policy.docs_base_url)

    assert link.startswith(f"https://{domain}/fr/rules.html#")
    assert "help.example.com" not in json.dumps(template)


def test_the_site_is_a_private_bucket_read_by_its_distribution_only(
    template: dict[str, Any],
) -> None:
    bucket = props(template, "DocsBucket")
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    assert bucket["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert "WebsiteConfiguration" not in bucket
    policy = props(template, "DocsBucketPolicy")
    assert policy["Bucket"] == ref("DocsBucket")
    allowed = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert allowed == [{
        "Sid": "ThisDistributionReadsTheSite", "Effect": "Allow",
        "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "s3:GetObject",
        "Resource": {"Fn::Sub": "${DocsBucket.Arn}/*"},
        "Condition": {"StringEquals": {"AWS:SourceArn": {"Fn::Sub": (
            "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/"
            "${DocsDistribution}")}}}}]
    [deny] = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    control = props(template, "DocsOriginAccessControl")["OriginAccessControlConfig"]
    assert (control["OriginAccessControlOriginType"], control["SigningBehavior"],
            control["SigningProtocol"]) == ("s3", "always", "sigv4")


def test_the_distribution_serves_the_site_over_https_with_security_headers(
    template: dict[str, Any],
) -> None:
    config = props(template, "DocsDistribution")["DistributionConfig"]
    [origin] = config["Origins"]
    assert origin["DomainName"] == {"Fn::GetAtt": ["DocsBucket", "RegionalDomainName"]}
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["DocsOriginAccessControl", "Id"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}  # OAC, not a legacy OAI
    default = config["DefaultCacheBehavior"]
    behaviors = [default, *config["CacheBehaviors"]]
    for behavior in behaviors:
        assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
        assert behavior["AllowedMethods"] == ["GET", "HEAD"]
        assert behavior["ResponseHeadersPolicyId"] == ref("DocsHeadersPolicy")
        assert behavior["TargetOriginId"] == origin["Id"]
    [router] = default["FunctionAssociations"]
    assert router == {"EventType": "viewer-request", "FunctionARN": {
        "Fn::GetAtt": ["DocsRouterFunction", "FunctionMetadata.FunctionARN"]}}
    [static] = config["CacheBehaviors"]
    assert static["PathPattern"] == "*/_static/*"  # /en/_static/…, /fr/_static/…
    assert static["CachePolicyId"] == ref("DocsStaticCachePolicy")
    cache = props(template, "DocsStaticCachePolicy")["CachePolicyConfig"]
    assert cache["DefaultTTL"] >= 30 * 86400
    assert cache["MinTTL"] >= 86400
    # the default certificate on the distribution's own domain; TLS 1.2 with a custom one
    default_site = resolved(config, template, {})
    assert default_site["ViewerCertificate"] == {"CloudFrontDefaultCertificate": True}
    assert "Aliases" not in default_site or default_site["Aliases"] == ref("AWS::NoValue")
    custom = resolved(config, template, {
        "DocsDomainName": "help.boreal.example",
        "DocsCertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/abc"})
    assert custom["Aliases"] == [ref("DocsDomainName")]
    assert custom["ViewerCertificate"] == {"AcmCertificateArn": ref("DocsCertificateArn"),
                                           "SslSupportMethod": "sni-only",
                                           "MinimumProtocolVersion": "TLSv1.2_2021"}
    headers = props(template, "DocsHeadersPolicy")["ResponseHeadersPolicyConfig"][
        "SecurityHeadersConfig"]
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert headers["ContentTypeOptions"]["Override"] is True
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    assert headers["ReferrerPolicy"]["ReferrerPolicy"] == "strict-origin-when-cross-origin"
    csp = dict(part.strip().split(" ", 1) for part in headers["ContentSecurityPolicy"][
        "ContentSecurityPolicy"].split(";") if " " in part.strip())
    assert csp["default-src"] == "'none'"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["object-src"] == "'none'"
    for directive in ("script-src", "style-src", "img-src", "font-src"):
        assert csp[directive].split()[0] == "'self'"
        assert "http" not in csp[directive]  # no other origin
    assert all(h.get("Override") for h in headers.values())


def test_the_help_pages_load_nothing_the_csp_refuses() -> None:
    """Every script, stylesheet and image of the built site is its own (relative), as the
    response headers policy's `'self'` requires."""
    pages = sorted((ROOT / "out" / "docs").glob("*/*.html"))
    if not pages:
        pytest.skip("the help site is not built (make docs)")
    found = set()
    for page in pages:
        text = page.read_text(encoding="utf-8")
        found |= set(re.findall(r'<(?:script|img)[^>]*\ssrc="([^"]+)"', text))
        found |= set(re.findall(r'<link[^>]*rel="stylesheet"[^>]*href="([^"]+)"', text))
    assert found
    assert not [url for url in found if re.match(r"^(?:[a-z]+:)?//", url)]


ROUTER_CASES = [
    ("/", None, "/en/"),
    ("/", "fr-CA,fr;q=0.9,en;q=0.8", "/fr/"),
    ("/", "en-US,en;q=0.9,fr;q=0.8", "/en/"),
    ("/", "de-DE, fr;q=0.5, en;q=0.4", "/fr/"),  # French the highest q of the two
    ("/", "de-DE, es;q=0.9", "/en/"),
    ("/index.html", "en;q=0.5, fr;q=0.7", "/fr/"),
    ("/", "fr;q=0.8, en;q=0.8", "/fr/"),  # a tie: the first listed
    ("/", "en, fr", "/en/"),
    ("/", "FR", "/fr/"),
    ("/", "fr;q=0, en;q=0", "/en/"),
]


def run_router(cases: list[tuple[str, str | None]], template: dict[str, Any]) -> list[Any]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the CloudFront Function is not run")
    code = props(template, "DocsRouterFunction")["FunctionCode"]
    driver = code + """
var cases = JSON.parse(process.argv[1]);
console.log(JSON.stringify(cases.map(function (c) {
  var headers = c[1] === null ? {} : {"accept-language": {value: c[1]}};
  return handler({request: {method: "GET", uri: c[0], querystring: {}, headers: headers}});
})));
"""
    done = subprocess.run([node, "-e", driver, json.dumps(cases)], capture_output=True,
                          text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    answered: list[Any] = json.loads(done.stdout)
    return answered


def test_the_docs_router_sends_the_root_to_the_readers_language(
    template: dict[str, Any],
) -> None:
    answers = run_router([(uri, header) for uri, header, _ in ROUTER_CASES], template)
    for (uri, header, expected), answer in zip(ROUTER_CASES, answers, strict=True):
        assert answer["statusCode"] == 302, (uri, header)
        assert answer["headers"]["location"] == {"value": expected}, (uri, header)
        # chosen per reader: never kept by a shared cache
        assert "no-store" in answer["headers"]["cache-control"]["value"]
    config = props(template, "DocsRouterFunction")["FunctionConfig"]
    assert config["Runtime"] == "cloudfront-js-2.0"
    assert props(template, "DocsRouterFunction")["AutoPublish"] is True


def test_the_docs_router_serves_a_directorys_index_and_leaves_pages_alone(
    template: dict[str, Any],
) -> None:
    cases: list[tuple[str, str | None]] = [
        ("/en/", None), ("/fr/", "fr"), ("/en/rules.html", None),
        ("/fr/_static/basic.css", None), ("/fr", None), ("/en/sub", None)]
    asked, folder_fr, page, asset, bare_fr, bare_sub = run_router(cases, template)
    assert asked["uri"] == "/en/index.html"
    assert folder_fr["uri"] == "/fr/index.html"
    assert page["uri"] == "/en/rules.html"
    assert asset["uri"] == "/fr/_static/basic.css"
    for answer, location in ((bare_fr, "/fr/"), (bare_sub, "/en/sub/")):
        assert answer["statusCode"] == 301
        assert answer["headers"]["location"] == {"value": location}


def test_the_site_is_published_and_named_by_the_stacks_outputs(
    template: dict[str, Any],
) -> None:
    outputs = template["Outputs"]
    assert outputs["DocsBucket"]["Value"] == ref("DocsBucket")
    assert outputs["DistributionId"]["Value"] == ref("DocsDistribution")
    deploy = (ROOT / "infra" / "deploy.sh").read_text(encoding="utf-8")
    for needed in ("make docs", "sam build", "sam deploy", "aws s3 sync", "--delete",
                   "create-invalidation", "DocsBucket", "DistributionId", "'/*'"):
        assert needed in deploy, needed
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^deploy:.*\n(\t.*\n)*\t.*infra/deploy\.sh", makefile, re.MULTILINE)


def test_the_digest_may_presign_a_link_to_its_report_only(template: dict[str, Any]) -> None:
    digest = policies(template, "RunDigestFunction")
    [read] = [s for s in digest["Statement"] if s["Action"] == "s3:GetObject"]
    assert read["Resource"] == {"Fn::Sub": "${ReportsBucket.Arn}/reports/*"}
    for function in ("PlanRunFunction", "CheckAccountFunction", "DeadLetterFunction"):
        assert "s3:" not in json.dumps(policies(template, function))


# -- the webhook ----------------------------------------------------------------------------


def test_the_webhook_is_a_public_function_url_that_stripe_signs_and_it_is_optional(
    template: dict[str, Any],
) -> None:
    """AuthType NONE: Stripe cannot sign with AWS credentials; it signs every request with
    the endpoint's secret, which the function verifies (infra/README.md, "Webhooks")."""
    function = resource(template, "WebhookFunction")
    assert function["Condition"] == "HasWebhook"
    assert function["Properties"]["FunctionUrlConfig"] == {"AuthType": "NONE",
                                                           "InvokeMode": "BUFFERED"}
    assert template["Conditions"]["HasWebhook"] == {
        "Fn::Not": [{"Fn::Equals": [ref("StripeWebhookSecretArn"), ""]}]}
    parameter = template["Parameters"]["StripeWebhookSecretArn"]
    assert parameter["Default"] == ""  # an existing stack updates without a webhook
    pattern = parameter["AllowedPattern"]
    for arn, accepted in (
            ("", True),
            ("arn:aws:secretsmanager:ca-central-1:123456789012:secret:bg/webhook-AbC123", True),
            ("arn:aws:secretsmanager:ca-central-1:123456789012:secret:bg/webhook", False),
            ("whsec_abc", False)):
        assert bool(re.fullmatch(pattern, arn)) is accepted, arn
    # everything that names the function exists only with it
    for name, item in template["Resources"].items():
        if name != "WebhookFunction" and references(item, "WebhookFunction") + json.dumps(
                item).count('"WebhookFunction"'):
            assert item.get("Condition") == "HasWebhook", name
    assert props(template, "WebhookFunction")["LoggingConfig"] == {
        "LogGroup": ref("WebhookLogGroup")}
    assert resource(template, "WebhookLogGroup")["Condition"] == "HasWebhook"
    output = template["Outputs"]["WebhookUrl"]
    assert output["Condition"] == "HasWebhook"
    assert output["Value"] == {"Fn::GetAtt": ["WebhookFunctionUrl", "FunctionUrl"]}


def test_the_webhook_answers_fast_with_a_small_reserved_concurrency(
    template: dict[str, Any],
) -> None:
    settings = props(template, "WebhookFunction")
    assert settings["Timeout"] <= 10  # a warm answer takes milliseconds
    assert settings["ReservedConcurrentExecutions"] == ref("WebhookReservedConcurrency")
    concurrency = template["Parameters"]["WebhookReservedConcurrency"]
    assert 1 <= concurrency["MinValue"] <= concurrency["Default"] <= 10
    assert concurrency["MaxValue"] <= 50
    assert "Events" not in settings  # nothing but its URL invokes it


def test_the_webhook_gets_its_secret_queue_and_window_and_never_the_stripe_key(
    template: dict[str, Any],
) -> None:
    variables = environment(template, "WebhookFunction")
    assert variables["STRIPE_WEBHOOK_SECRET_ARN"] == ref("StripeWebhookSecretArn")
    assert variables["CHECK_QUEUE_URL"] == ref("CheckQueue")
    assert variables["STATE_TABLE"] == ref("StateTable")
    assert variables["BALANCE_GUARD_COALESCE_SECONDS"] == ref("WebhookCoalesceSeconds")
    assert COALESCE_ENV == "BALANCE_GUARD_COALESCE_SECONDS"
    window = template["Parameters"]["WebhookCoalesceSeconds"]
    assert window["Default"] == DEFAULT_COALESCE_S
    assert (window["MinValue"], window["MaxValue"]) == (0, MAX_COALESCE_S)  # SQS's delay
    for never in ("STRIPE_SECRET_ARN", "STRIPE_API_BASE", "SENDER_EMAIL", "STRIPE_MAX_RPS"):
        assert never not in variables  # the webhook reads no Stripe and sends no email
    for function in NIGHTLY:
        assert "STRIPE_WEBHOOK_SECRET_ARN" not in environment(template, function)


def test_the_webhook_may_only_remember_events_and_queue_rechecks(
    template: dict[str, Any],
) -> None:
    granted = policies(template, "WebhookFunction")
    assert granted["AWSSecretsManagerGetSecretValuePolicy"] == {
        "SecretArn": ref("StripeWebhookSecretArn")}
    assert set(granted) == {"AWSSecretsManagerGetSecretValuePolicy", "Statement"}
    assert table_actions(granted) == {"dynamodb:PutItem", "dynamodb:UpdateItem",
                                      "dynamodb:DeleteItem"}
    [send] = [s for s in granted["Statement"] if "sqs:SendMessage" in json.dumps(s["Action"])]
    assert send["Action"] == "sqs:SendMessage"
    assert send["Resource"] == {"Fn::GetAtt": ["CheckQueue", "Arn"]}
    text = json.dumps(granted)
    for never in ("ses:", "s3:", "lambda:", "sqs:ReceiveMessage", "StripeSecretArn", "kms:"):
        assert never not in text, never
    for statement in granted["Statement"]:
        assert statement["Effect"] == "Allow"
        assert "*" not in json.dumps(statement["Resource"])


def test_every_function_agrees_on_the_real_time_emails_a_day(template: dict[str, Any]) -> None:
    """The re-checks send them; the night (and every notifier) reads their slots back."""
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["BALANCE_GUARD_REALTIME_EMAILS_PER_DAY"] == ref("RealtimeEmailsPerDay")
    parameter = template["Parameters"]["RealtimeEmailsPerDay"]
    assert parameter["Default"] == Policy().realtime_emails_per_day
    for function in FUNCTIONS:
        own = props(template, function).get("Environment", {}).get("Variables", {})
        assert "BALANCE_GUARD_REALTIME_EMAILS_PER_DAY" not in own


def test_the_webhook_is_watched_and_on_the_dashboard(template: dict[str, Any]) -> None:
    found = alarms(template)
    [errors] = [a for a in found.values() if a["MetricName"] == "Errors"
                and a["Dimensions"][0]["Value"] == ref("WebhookFunction")]
    assert errors["Threshold"] == 0
    refused = found["WebhooksRefusedAlarm"]
    assert refused["Namespace"] == "BalanceGuard"
    assert refused["Threshold"] > 0  # a stray request is no alarm; a wrong secret is
    for name in ("WebhookErrorsAlarm", "WebhooksUnavailableAlarm", "WebhooksRefusedAlarm"):
        assert resource(template, name)["Condition"] == "HasWebhook"
    shown = {m[1] for w in dashboard_body(template)["widgets"] if w["type"] == "metric"
             for m in w["properties"]["metrics"]}
    assert {"WebhooksReceived", "WebhooksRefused", "RechecksQueued", "RechecksRun",
            "RealtimeEmailsSent"} <= shown


def test_a_recheck_holds_its_window_longer_than_check_account_can_run(
    template: dict[str, Any],
) -> None:
    """Only a delivery whose Lambda died lets another take the window over; and every
    re-check gives up (for the night) before the queue's dead-letter redrive."""
    assert props(template, "CheckAccountFunction")["Timeout"] < RECHECK_LEASE_S
    assert props(template, "CheckQueue")["RedrivePolicy"]["maxReceiveCount"] > RECHECK_ATTEMPTS


def test_the_transform_yields_a_public_url_and_its_two_permissions_with_the_condition(
    translated: dict[str, Any],
) -> None:
    resources = translated["Resources"]
    [(name, url)] = [(n, r) for n, r in resources.items() if r["Type"] == "AWS::Lambda::Url"]
    assert name == "WebhookFunctionUrl"  # what Outputs.WebhookUrl names
    assert url["Properties"]["AuthType"] == "NONE"
    assert url["Properties"]["TargetFunctionArn"] == ref("WebhookFunction")
    assert url["Condition"] == "HasWebhook"
    permissions = [r for r in resources.values() if r["Type"] == "AWS::Lambda::Permission"
                   and r["Properties"]["FunctionName"] == ref("WebhookFunction")]
    # Lambda wants both for a public URL: InvokeFunctionUrl, and InvokeFunction via the URL
    assert {p["Properties"]["Action"] for p in permissions} == {
        "lambda:InvokeFunctionUrl", "lambda:InvokeFunction"}
    for permission in permissions:
        assert permission["Condition"] == "HasWebhook"
        assert permission["Properties"]["Principal"] == "*"
    role = resources["WebhookFunctionRole"]
    assert role["Condition"] == "HasWebhook"


def test_the_webhook_sample_events_are_what_its_handler_and_check_account_take() -> None:
    events = ROOT / "functions"
    request = json.loads((events / "webhook" / "events" / "function_url.json").read_text())
    assert request["requestContext"]["http"]["method"] == "POST"
    assert request["rawPath"] == "/"
    assert request["headers"]["stripe-signature"].startswith("t=")
    body = json.loads(request["body"])
    assert body["object"] == "event"
    assert body["type"] in WATCHED_EVENTS
    assert body["account"].startswith("acct_")
    [record] = json.loads((events / "check_account" / "events" / "sqs_recheck.json")
                          .read_text())["Records"]
    assert isinstance(queue_message(record["body"]), RecheckMessage)
