"""run_digest: {"run_id"} -> the report to S3, the operations digest by email.

The report goes to `reports/<as_of>/<run_id>` three times over: `.json` (report@1, for
tools), `.html` (what the digest links, for a person) and `.csv` (one row per account and
currency, for a spreadsheet). The digest links the HTML one by a presigned GET link valid
7 days (SigV4's longest): the bucket stays private, and operations need no AWS login. A
link signed with the function's role lapses with the role's session, possibly sooner; the
digest gives no date it cannot keep.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from balance_guard.aws.common import (
    UnknownRunError,
    logger,
    metrics,
    package_logs_as_json,
    tracer,
)
from balance_guard.aws.dynamo import RunRecord
from balance_guard.aws.messages import DigestRequest
from balance_guard.aws.runtime import Runtime, runtime
from balance_guard.check.outcome import failed_report
from balance_guard.report.csv import report_csv
from balance_guard.report.html import render_report_html
from balance_guard.report.model import Report, totals_of

NOT_FINISHED = "no result: the account's check did not finish"
LINK_SECONDS = 7 * 24 * 3600
# SigV4 (the only signature S3 takes for seven days) on the bucket's regional host, so the
# link works without a redirect from the global endpoint.
PRESIGNING = Config(signature_version="s3v4", s3={"addressing_style": "virtual"})


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def run_digest(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Write the run's report to S3, then email operations the digest (once per run)."""
    package_logs_as_json()
    request = DigestRequest.model_validate(event)
    rt = runtime()
    bucket = rt.settings.require("reports_bucket")
    logger.append_keys(run_id=request.run_id)
    run = rt.ledger.run(request.run_id)
    if run is None:
        raise UnknownRunError(f"no run {request.run_id} in the state table")

    report = assemble_report(rt, run)
    stem = f"reports/{run.as_of.isoformat()}/{run.run_id}"
    key = f"{stem}.json"
    rt.s3.put_object(Bucket=bucket, Key=key, Body=report.to_json().encode("utf-8"),
                     ContentType="application/json")
    rt.s3.put_object(Bucket=bucket, Key=f"{stem}.csv",
                     Body=report_csv(report).encode("utf-8"),
                     ContentType="text/csv; charset=utf-8")
    rt.s3.put_object(Bucket=bucket, Key=f"{stem}.html",
                     Body=render_report_html(report, rt.settings.policy).encode("utf-8"),
                     ContentType="text/html; charset=utf-8")
    digest = rt.notifier.send_digest(report, rt.settings.ops_email,
                                     report_link(bucket, f"{stem}.html"))

    metrics.add_metric(name="RunDuration", unit=MetricUnit.Seconds,
                       value=report.totals.duration_s)
    metrics.add_metric(name="DigestsSent", unit=MetricUnit.Count, value=int(digest is not None))
    logger.info("run reported", extra={"report_key": key, "accounts": report.totals.accounts,
                                       "by_status": report.totals.by_status,
                                       "digest_sent": digest is not None})
    return {"run_id": run.run_id, "report_key": key}


def report_link(bucket: str, key: str) -> str:
    """A presigned GET link to the report, valid `LINK_SECONDS`; its `s3://` URI (shown,
    not linked) when no link can be signed."""
    try:
        client = boto3.client("s3", config=PRESIGNING)
        url: str = client.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=LINK_SECONDS)
    except (BotoCoreError, ClientError) as error:
        logger.warning("no link to the report: %s", error)
        return f"s3://{bucket}/{key}"
    return url


def assemble_report(rt: Runtime, run: RunRecord) -> Report:
    """The run's report from what each account left in the ledger; an account without a
    result (a digest started by hand before the end) is reported as not checked."""
    results = rt.ledger.results(run.run_id)
    reports = [r.report or failed_report(r.account_id, NOT_FINISHED, rt.settings.policy, r.name)
               for r in results]
    requests = run.stripe_requests + sum(r.stripe_requests for r in results)
    duration = (datetime.now(UTC) - run.started).total_seconds()
    return Report(run_id=run.run_id, as_of=run.as_of, accounts=reports,
                  totals=totals_of(reports, requests, duration))
