"""The three Lambda functions of the nightly run (SPEC §11); `functions/*/app.py` call them.

    plan_run       schedule -> list the accounts, record the run, one SQS message per account
    check_account  SQS batch -> check, store and notify each account; the run's last account
                   starts the digest, once
    run_digest     {"run_id"} -> the report (report@1) to S3, the operations digest by email

The fan-out is Lambda and SQS: at most MAX_CONCURRENCY check_account instances run at once,
each paced at STRIPE_MAX_RPS / MAX_CONCURRENCY, so together they stay under Stripe's limit.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from balance_guard.aws.dynamo import RunRecord
from balance_guard.aws.messages import CheckMessage, CheckOutcome, DigestRequest, PlanRequest
from balance_guard.aws.queue import send_all
from balance_guard.aws.runtime import Runtime, runtime
from balance_guard.domain.findings import Finding, RuleCode
from balance_guard.report import AccountReport, Report, totals_of

logger = Logger()
# The template sets the namespace; a missing variable must not fail the flush of a run.
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "BalanceGuard")
tracer = Tracer()

IDEMPOTENCY_PREFIX = "check_account"
NOT_FINISHED = "no result: the account's check did not finish"


def package_logs_as_json() -> None:
    """Inside Lambda, the package's standard-library loggers write the same JSON lines as
    `logger`, with its run and account keys. Outside (the CLI, tests) they are left alone."""
    package = logging.getLogger("balance_guard")
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME") and not set(logger.handlers) <= set(
            package.handlers):
        copy_config_to_registered_loggers(source_logger=logger, include={"balance_guard"})


class UnknownRunError(Exception):
    """run_digest was given a run id the table does not hold (or no longer holds)."""


class NotInRunError(Exception):
    """A check message names an account its run never listed."""


# -- plan_run -------------------------------------------------------------------------------


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def plan_run(event: dict[str, Any] | None, context: LambdaContext) -> dict[str, Any]:
    """List every connected account, record the run, queue one check per account.

    Raises PlatformError when the platform's key or Stripe itself fails: the Errors alarm
    tells operations, and nothing of the run has been recorded yet.
    """
    from balance_guard.adapters.stripe_reader import PlatformError
    from balance_guard.runner import new_run_id

    package_logs_as_json()
    rt = runtime()
    queue_url = rt.settings.require("check_queue_url")
    request = PlanRequest.model_validate(event or {})
    started = datetime.now(UTC)
    as_of = request.as_of or datetime.now(ZoneInfo(rt.settings.policy.timezone)).date()
    run_id = new_run_id(started)
    logger.append_keys(run_id=run_id, as_of=as_of.isoformat())
    tracer.put_annotation(key="run_id", value=run_id)

    reader = rt.reader(rt.settings.stripe_max_rps)  # alone before the fan-out: the whole rate
    before = reader.request_count
    try:
        reader.platform_account_id()
        listing = reader.list_accounts()
    except PlatformError as error:
        logger.error("the platform cannot be read: %s", error)
        metrics.add_metric(name="RunsNotStarted", unit=MetricUnit.Count, value=1)
        raise
    for notice in listing.notices:
        logger.warning(notice)
    accounts = listing.items
    rt.ledger.start(RunRecord(run_id=run_id, as_of=as_of, started=started,
                              expected=len(accounts),
                              stripe_requests=reader.request_count - before), accounts)

    bodies = [CheckMessage(run_id=run_id, account_id=a.id, as_of=as_of).model_dump_json()
              for a in accounts]
    unsent = send_all(rt.sqs, queue_url, bodies)
    for failure in unsent:
        # Reported as failed checks rather than waited for: the run still completes.
        account = accounts[failure.index]
        logger.error("check not queued", extra={"account_id": account.id,
                                                "reason": failure.reason})
        reason = f"not checked: the check could not be queued ({failure.reason})"
        name = (account.business_profile.name if account.business_profile else None) or (
            account.id)
        rt.ledger.finish(run_id, account.id, failed_report(rt, account.id, name, reason), 0)
    if rt.ledger.progress(run_id).complete:  # no account at all, or none could be queued
        _start_digest(rt, run_id)

    metrics.add_metric(name="AccountsPlanned", unit=MetricUnit.Count, value=len(accounts))
    metrics.add_metric(name="StripeRequests", unit=MetricUnit.Count,
                       value=reader.request_count - before)
    logger.info("run planned", extra={"accounts": len(accounts), "not_queued": len(unsent)})
    return {"run_id": run_id, "accounts": len(accounts)}


# -- check_account --------------------------------------------------------------------------


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def check_account(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    """Check each account of an SQS batch; report the records that failed, only those."""
    from aws_lambda_powertools.utilities.idempotency import idempotent_function
    from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import (
        PydanticSerializer,
    )

    package_logs_as_json()
    rt = runtime()
    metrics.add_metric(name="RecordsReceived", unit=MetricUnit.Count,
                       value=len(event.get("Records", [])))
    # An in-progress record expires with this invocation, so a retry after a timeout can
    # take over instead of waiting for the record's TTL.
    rt.idempotency_config.register_lambda_context(context)
    check_once: Callable[..., CheckOutcome] = idempotent_function(
        check_message, data_keyword_argument="message",
        persistence_store=rt.idempotency_store, config=rt.idempotency_config,
        output_serializer=PydanticSerializer(CheckOutcome), key_prefix=IDEMPOTENCY_PREFIX)

    def record_handler(record: SQSRecord) -> None:
        handle_record(rt, check_once, record)

    return process_partial_response(event=event, record_handler=record_handler,
                                    processor=BatchProcessor(event_type=EventType.SQS),
                                    context=context)


def handle_record(rt: Runtime, check_once: Callable[..., CheckOutcome],
                  record: SQSRecord) -> None:
    """One SQS record. A body that does not parse, or an error, fails this record only; a
    CHECK_FAILED account is a completed check, not a failed record."""
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
    )

    message = CheckMessage.model_validate_json(record.body)
    with logger.append_context_keys(run_id=message.run_id, account_id=message.account_id):
        try:
            outcome = check_once(message=message, rt=rt)
        except (IdempotencyAlreadyInProgressError, NotInRunError):
            raise  # another delivery is on it / a message for nothing: SQS decides
        except Exception as error:
            attempts = int(record.attributes.approximate_receive_count or 1)
            if attempts < rt.settings.max_receives:
                raise
            # The last delivery before the dead-letter queue: record the account as not
            # checked, so the run still completes and its report is still written.
            logger.exception("giving up on the account after %d attempts", attempts)
            reason = f"not checked after {attempts} attempts: {type(error).__name__}"
            progress = rt.ledger.finish(
                message.run_id, message.account_id,
                failed_report(rt, message.account_id, message.account_id, reason), 0)
            outcome = CheckOutcome(account_id=message.account_id, status="error",
                                   emails_sent=0, done=progress.done,
                                   expected=progress.expected)
        if outcome.run_complete:
            _start_digest(rt, message.run_id)


@tracer.capture_method(capture_response=False)
def check_message(message: CheckMessage, rt: Runtime) -> CheckOutcome:
    """One account of one run, end to end; made idempotent on (run_id, account_id) by
    check_account, so a duplicate message or a retry returns this outcome again."""
    from balance_guard.runner import RunOptions, check_and_store, notify

    account = rt.ledger.account(message.run_id, message.account_id)
    if account is None:
        raise NotInRunError(f"{message.account_id} is not part of run {message.run_id}")
    reader = rt.reader(rt.settings.per_instance_rps)
    before = reader.request_count
    options = RunOptions(as_of=message.as_of, policy=rt.settings.policy, concurrency=1)
    checked = check_and_store(reader, rt.state_store, account, options)
    requests = reader.request_count - before
    report = notify(rt.notifier, checked, message.as_of, message.run_id)
    progress = rt.ledger.finish(message.run_id, account.id, report, requests)

    metrics.add_metric(name="AccountsChecked", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="AccountsFailed", unit=MetricUnit.Count,
                       value=int(report.status == "error"))
    metrics.add_metric(name="EmailsSent", unit=MetricUnit.Count, value=len(report.emails))
    metrics.add_metric(name="StripeRequests", unit=MetricUnit.Count, value=requests)
    logger.info("account checked", extra={
        "status": report.status, "emails_sent": len(report.emails),
        "stripe_requests": requests, "done": progress.done, "expected": progress.expected})
    return CheckOutcome(account_id=account.id, status=report.status,
                        emails_sent=len(report.emails), done=progress.done,
                        expected=progress.expected)


def _start_digest(rt: Runtime, run_id: str) -> None:
    """Trigger run_digest if this caller wins the run's digest claim (exactly one does)."""
    if not rt.ledger.claim_digest(run_id):
        return
    try:
        rt.start_digest(run_id)
    except Exception:
        rt.ledger.release_digest(run_id)  # let the retry of this record try again
        raise
    logger.info("run complete: digest started", extra={"run_id": run_id})


# -- run_digest -----------------------------------------------------------------------------


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
    key = f"reports/{run.as_of.isoformat()}/{run.run_id}.json"
    rt.s3.put_object(Bucket=bucket, Key=key, Body=report.to_json().encode("utf-8"),
                     ContentType="application/json")
    digest = rt.notifier.send_digest(report, rt.settings.ops_email)

    metrics.add_metric(name="RunDuration", unit=MetricUnit.Seconds,
                       value=report.totals.duration_s)
    metrics.add_metric(name="DigestsSent", unit=MetricUnit.Count, value=int(digest is not None))
    logger.info("run reported", extra={"report_key": key, "accounts": report.totals.accounts,
                                       "by_status": report.totals.by_status,
                                       "digest_sent": digest is not None})
    return {"run_id": run.run_id, "report_key": key}


def assemble_report(rt: Runtime, run: RunRecord) -> Report:
    """The run's report from what each account left in the ledger; an account without a
    result (a digest started by hand before the end) is reported as not checked."""
    results = rt.ledger.results(run.run_id)
    reports = [r.report or failed_report(rt, r.account_id, r.name, NOT_FINISHED)
               for r in results]
    requests = run.stripe_requests + sum(r.stripe_requests for r in results)
    duration = (datetime.now(UTC) - run.started).total_seconds()
    return Report(run_id=run.run_id, as_of=run.as_of, accounts=reports,
                  totals=totals_of(reports, requests, duration))


def failed_report(rt: Runtime, account_id: str, name: str, reason: str) -> AccountReport:
    return AccountReport(
        account_id=account_id, name=name, locale=rt.settings.policy.default_locale.value,
        status="error", findings=[Finding.of(RuleCode.CHECK_FAILED, reason=reason)],
        error=reason,
    )
