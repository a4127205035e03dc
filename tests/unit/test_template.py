"""template.yaml: valid for cfn-lint, and the deployment contract of SPEC §11 holds.

cfn-lint checks CloudFormation and SAM's top-level properties; the SAM parts it does not look
into (events, policy templates, layer metadata) are asserted here one by one.
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import re
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import lint_file
from cfnlint.decode import cfn_yaml

from balance_guard.aws.messages import CheckMessage, DigestRequest, PlanRequest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
FUNCTIONS = {"PlanRunFunction": "plan_run", "CheckAccountFunction": "check_account",
             "RunDigestFunction": "run_digest"}
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


def test_one_layer_is_built_from_shared_for_arm64(template: dict[str, Any]) -> None:
    layers = [n for n, r in template["Resources"].items()
              if r["Type"] == "AWS::Serverless::LayerVersion"]
    assert layers == ["SharedLayer"]
    layer = resource(template, "SharedLayer")
    assert layer["Properties"]["ContentUri"] == "shared/"
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
    assert layer["Metadata"] == {"BuildMethod": "python3.13", "BuildArchitecture": "arm64"}
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


def test_plan_run_runs_nightly_at_two_in_toronto_by_default(template: dict[str, Any]) -> None:
    [event] = props(template, "PlanRunFunction")["Events"].values()
    assert event["Type"] == "ScheduleV2"
    assert event["Properties"]["ScheduleExpression"] == ref("ScheduleCron")
    assert event["Properties"]["ScheduleExpressionTimezone"] == ref("ScheduleTimezone")
    parameters = template["Parameters"]
    assert parameters["ScheduleCron"]["Default"] == "cron(0 2 * * ? *)"
    assert parameters["ScheduleTimezone"]["Default"] == "America/Toronto"
    # "today" for the run is the schedule's day
    assert environment(template, "PlanRunFunction")["BALANCE_GUARD_TIMEZONE"] == ref(
        "ScheduleTimezone")


def test_check_account_reads_the_queue_with_partial_failures_and_bounded_concurrency(
    template: dict[str, Any],
) -> None:
    [event] = props(template, "CheckAccountFunction")["Events"].values()
    assert event["Type"] == "SQS"
    settings = event["Properties"]
    assert settings["Queue"] == {"Fn::GetAtt": ["CheckQueue", "Arn"]}
    assert settings["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert settings["ScalingConfig"] == {"MaximumConcurrency": ref("MaxConcurrency")}
    assert 1 <= settings["BatchSize"] <= 5
    assert template["Parameters"]["MaxConcurrency"]["MinValue"] >= 2
    variables = environment(template, "CheckAccountFunction")
    assert variables["MAX_CONCURRENCY"] == ref("MaxConcurrency")  # for each instance's pace
    assert variables["STRIPE_MAX_RPS"] == ref("StripeMaxRps")


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
    assert int(max_receives) == redrive["maxReceiveCount"]
    assert props(template, "CheckDeadLetterQueue")["MessageRetentionPeriod"] == 14 * 24 * 3600


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
    rules = {r["Id"]: r for r in bucket["LifecycleConfiguration"]["Rules"]}
    assert rules["ExpireRunReports"]["ExpirationInDays"] == ref("ReportRetentionDays")


def test_alarms_for_the_dead_letter_queue_and_every_function_go_to_operations(
    template: dict[str, Any],
) -> None:
    alarms = [r["Properties"] for r in template["Resources"].values()
              if r["Type"] == "AWS::CloudWatch::Alarm"]
    dlq = [a for a in alarms if a["MetricName"] == "ApproximateNumberOfMessagesVisible"]
    assert len(dlq) == 1
    assert dlq[0]["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["CheckDeadLetterQueue", "QueueName"]}}]
    assert (dlq[0]["ComparisonOperator"], dlq[0]["Threshold"]) == ("GreaterThanThreshold", 0)
    errors = {a["Dimensions"][0]["Value"]["Ref"] for a in alarms if a["MetricName"] == "Errors"}
    assert errors == set(FUNCTIONS)
    assert all(a["AlarmActions"] == [ref("OpsTopic")] for a in alarms)
    [subscription] = props(template, "OpsTopic")["Subscription"]
    assert subscription == {"Protocol": "email", "Endpoint": ref("OpsEmail")}


def test_each_function_gets_the_environment_of_spec_11(template: dict[str, Any]) -> None:
    needed = {
        "PlanRunFunction": {"STRIPE_SECRET_ARN", "STRIPE_API_BASE", "STATE_TABLE",
                            "CHECK_QUEUE_URL", "STRIPE_MAX_RPS", "DIGEST_FUNCTION_NAME"},
        "CheckAccountFunction": {"STRIPE_SECRET_ARN", "STRIPE_API_BASE", "STATE_TABLE",
                                 "SENDER_EMAIL", "STRIPE_MAX_RPS", "MAX_CONCURRENCY",
                                 "DOCS_BASE_URL", "DEFAULT_LOCALE", "DIGEST_FUNCTION_NAME",
                                 "SES_CONFIGURATION_SET"},
        "RunDigestFunction": {"STATE_TABLE", "REPORTS_BUCKET", "SENDER_EMAIL", "OPS_EMAIL",
                              "DEFAULT_LOCALE", "SES_CONFIGURATION_SET"},
    }
    for function, names in needed.items():
        assert names <= set(environment(template, function)), function
    assert "STRIPE_SECRET_ARN" not in environment(template, "RunDigestFunction")
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


def test_each_function_may_touch_only_its_own_resources(template: dict[str, Any]) -> None:
    plan = policies(template, "PlanRunFunction")
    check = policies(template, "CheckAccountFunction")
    digest = policies(template, "RunDigestFunction")
    secret = {"SecretArn": ref("StripeSecretArn")}
    assert plan["AWSSecretsManagerGetSecretValuePolicy"] == secret
    assert check["AWSSecretsManagerGetSecretValuePolicy"] == secret
    assert "AWSSecretsManagerGetSecretValuePolicy" not in digest
    assert plan["SQSSendMessagePolicy"] == {"QueueName": {"Fn::GetAtt": ["CheckQueue",
                                                                         "QueueName"]}}
    assert "SQSSendMessagePolicy" not in check
    for granted in (plan, check):
        assert granted["LambdaInvokePolicy"] == {"FunctionName": ref("RunDigestFunction")}
    for granted in (plan, check, digest):
        tables = [v for k, v in granted.items() if k.startswith("DynamoDB")]
        assert tables
        assert all(t == {"TableName": ref("StateTable")} for t in tables)
        for statement in granted["Statement"]:
            assert statement["Effect"] == "Allow"
            assert "*" not in json.dumps(statement["Resource"]).replace("/reports/*", "")
    [put] = [s for s in digest["Statement"] if s["Action"] == "s3:PutObject"]
    assert put["Resource"] == {"Fn::Sub": "${ReportsBucket.Arn}/reports/*"}
    for granted in (check, digest):
        [ses] = [s for s in granted["Statement"] if "ses:SendRawEmail" in s["Action"]]
        assert ses["Condition"] == {"StringEquals": {"ses:FromAddress": ref("SenderEmail")}}
    assert not [s for s in plan["Statement"] if "ses:SendRawEmail" in s.get("Action", [])]


def test_email_goes_through_a_configuration_set(template: dict[str, Any]) -> None:
    assert resource(template, "EmailConfigurationSet")["Type"] == "AWS::SES::ConfigurationSet"
    for function in ("CheckAccountFunction", "RunDigestFunction"):
        assert environment(template, function)["SES_CONFIGURATION_SET"] == ref(
            "EmailConfigurationSet")


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
    batch = json.loads((events / "check_account" / "events" / "sqs_batch.json").read_text())
    for record in batch["Records"]:
        assert set(json.loads(record["body"])) == {"run_id", "account_id", "as_of"}
        CheckMessage.model_validate_json(record["body"])
