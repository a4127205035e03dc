"""The four Lambda functions of the nightly run; `functions/*/app.py` call them.

    plan_run       schedule -> list the accounts, record the run, one SQS message per account
    check_account  SQS batch -> check, store and notify each account; the run's last account
                   starts the digest, once
    run_digest     {"run_id"} -> the report (report@1) to S3, the operations digest by email
    dead_letter    the check queue's dead letters -> their accounts recorded as not checked, so
                   the run still completes and gets its report and digest

The fan-out is Lambda and SQS. Every instance of every function draws its Stripe requests
from one budget of STRIPE_MAX_RPS held in the state table, so plan_run, the check_account
instances, a manual run overlapping the nightly one and a redelivered batch together stay
under the platform's limit; the event source's maximum concurrency only sets throughput.
An account whose check fails for a passing reason (a rate limit, a 5xx, the network, the
invocation's time running out) is handed back to SQS, to be delivered again after a growing
delay; only a refusal, or the queue's last delivery, records it as CHECK_FAILED.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
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
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from balance_guard.aws.dynamo import (
    QUEUED,
    RECORDING,
    Lease,
    Pending,
    RunRecord,
)
from balance_guard.aws.messages import CheckMessage, CheckOutcome, DigestRequest, PlanRequest
from balance_guard.aws.queue import send_all
from balance_guard.aws.runtime import Runtime, runtime
from balance_guard.aws.sending import TemporarySendError
from balance_guard.report.model import AccountReport, Report, not_checked, totals_of

if TYPE_CHECKING:
    from balance_guard.check.account import AccountCheck
    from balance_guard.stripe.models import StripeAccount
    from balance_guard.stripe.reader import StripeReader

logger = Logger()
# The template sets the namespace; a missing variable must not fail the flush of a run.
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "BalanceGuard")
tracer = Tracer()

IDEMPOTENCY_PREFIX = "check_account"
NOT_FINISHED = "no result: the account's check did not finish"
DEAD_LETTER = "not checked: the check failed after retries (dead-letter queue)"
# Time budgets of a check_account invocation (infra/README.md shows the arithmetic): a record
# is started only with RECORD_START_MS left; its Stripe reads must end NOTIFY_RESERVE_S before
# the timeout, leaving the time to email, record the result and answer SQS.
CHECK_RECORD_BUDGET_MS = 30_000
NOTIFY_RESERVE_S = 20.0
DEAD_LETTER_RECORD_BUDGET_MS = 5_000
# A passing failure is delivered again after 60 s, then 120, 240, 480: a Stripe incident of a
# quarter of an hour costs the night no account.
REDELIVERY_BASE_S = 60
REDELIVERY_CAP_S = 900
UNSTARTED_REDELIVERY_S = 5  # a record the batch had no time for: the next instance takes it
PLAN_RESERVE_S = 60.0  # plan_run's time to record the run and queue its messages
QUEUE_CHUNK = 500  # messages sent between two records of plan_run's progress
LEASE_MARGIN = timedelta(seconds=5)
PLAN_CLAIMANT = "plan_run"


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


class OutOfTimeError(Exception):
    """Too little of the invocation is left to start this record: SQS delivers it again."""


class TransientCheckError(Exception):
    """The account's check failed for a reason that passes: SQS delivers it again."""


def ensure_time(context: LambdaContext, budget_ms: int) -> None:
    left = context.get_remaining_time_in_millis()
    if left < budget_ms:
        logger.warning("not starting a record with %d ms left; SQS will deliver it again", left)
        raise OutOfTimeError(f"{left} ms left, {budget_ms} needed")


def redelivery_delay_s(attempts: int) -> int:
    """How long SQS keeps a failed record hidden before its next delivery."""
    return min(REDELIVERY_CAP_S, REDELIVERY_BASE_S << min(10, max(0, attempts - 1)))


# -- plan_run -------------------------------------------------------------------------------


def run_identity(request: PlanRequest, context: LambdaContext, timezone: str,
                 now: datetime | None = None) -> tuple[str, date]:
    """The run id and date an invocation stands for, the same for every retry of it.

    From the schedule: the scheduled time (its date in the policy's time zone is the run
    date). Scheduler's execution id is not used as the key: AWS assigns one "for each attempted
    invocation", and a retry must resume the same run. By hand: Lambda's request id, which an
    asynchronous retry keeps.
    """
    if request.scheduled_time is not None:
        at = request.scheduled_time.astimezone(UTC)
        digest = hashlib.sha256(f"schedule:{at.isoformat()}".encode()).hexdigest()
        as_of = request.as_of or at.astimezone(ZoneInfo(timezone)).date()
        return f"{at:%Y-%m-%dT%H:%M:%SZ}-{digest[:4]}", as_of
    digest = hashlib.sha256(f"invoke:{context.aws_request_id}".encode()).hexdigest()
    as_of = request.as_of or (now or datetime.now(UTC)).astimezone(ZoneInfo(timezone)).date()
    return f"manual-{digest[:12]}", as_of


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def plan_run(event: dict[str, Any] | None, context: LambdaContext) -> dict[str, Any]:
    """List every connected account, record the run, queue one check per account.

    Retries resume: the run id is derived from the invocation, a run already recorded is not
    listed again, and messages already sent are not sent again (a few around a crash may be:
    checks are idempotent). Raises PlatformError when the platform's key or Stripe itself
    fails before the run is recorded: the Errors alarm tells operations.
    """
    package_logs_as_json()
    rt = runtime()
    queue_url = rt.settings.require("check_queue_url")
    request = PlanRequest.model_validate(event or {})
    run_id, as_of = run_identity(request, context, rt.settings.policy.timezone)
    logger.append_keys(run_id=run_id, execution_id=request.execution_id)
    tracer.put_annotation(key="run_id", value=run_id)

    rt.reader().set_deadline(context.get_remaining_time_in_millis() / 1000 - PLAN_RESERVE_S)
    known = rt.ledger.run(run_id)
    listed = _list_accounts(rt) if known is None or known.phase == RECORDING else None
    started = datetime.now(UTC)
    lease = Lease(token=secrets.token_hex(8), until=started + timedelta(
        milliseconds=context.get_remaining_time_in_millis()) + LEASE_MARGIN)
    opened = rt.ledger.open(RunRecord(run_id=run_id, as_of=as_of, started=started,
                                      expected=0), lease)
    run = opened.run
    logger.append_keys(as_of=run.as_of.isoformat())
    if not opened.held:
        if run.phase != QUEUED:
            logger.info("another attempt is planning this run", extra={"phase": run.phase})
            return {"run_id": run_id, "accounts": run.expected}
    else:
        try:
            run = _plan(rt, run, lease, listed, opened.created, queue_url)
        except BaseException:
            try:
                rt.ledger.release_lease(run_id, lease)  # the retry may take over at once
            except Exception:  # the lease then simply expires
                logger.exception("could not release the planning lease")
            raise
    if rt.ledger.progress(run_id).complete:  # no account at all, or none could be queued
        _start_digest(rt, run_id, PLAN_CLAIMANT)
    return {"run_id": run_id, "accounts": run.expected}


def _list_accounts(rt: Runtime) -> tuple[list[StripeAccount], list[AccountReport], int]:
    """The platform's accounts, the failed reports of those Stripe sent malformed, and the
    Stripe requests it took. Raises PlatformError."""
    from balance_guard.stripe.reader import PlatformError

    reader = rt.reader()
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
    rejected = [failed_report(rt, ident, ident,
                              f"Stripe sent a malformed account object: {problem}")
                for ident, problem in listing.rejected]
    return listing.items, rejected, reader.request_count - before


def _plan(
    rt: Runtime, run: RunRecord, lease: Lease,
    listed: tuple[list[StripeAccount], list[AccountReport], int] | None, created: bool,
    queue_url: str,
) -> RunRecord:
    """Carry the held run through its phases, from wherever an earlier attempt left it."""
    if run.phase == RECORDING:
        if listed is None:  # the run was created between our first look and now
            listed = _list_accounts(rt)
        accounts, rejected, requests = listed
        run = rt.ledger.record_accounts(run.run_id, lease, accounts, rejected, requests,
                                        fresh=created)
        for report in rejected:
            logger.error("account listed malformed: recorded as not checked",
                         extra={"account_id": report.account_id})
        metrics.add_metric(name="AccountsPlanned", unit=MetricUnit.Count, value=run.expected)
        metrics.add_metric(name="StripeRequests", unit=MetricUnit.Count, value=requests)
        names: dict[str, str] = {}
        for account in accounts:  # once each, in listing order: the seqs the ledger gave them
            names.setdefault(account.id, _name(account))
        pending = [Pending(seq, account_id, name)
                   for seq, (account_id, name) in enumerate(names.items())]
    else:
        pending = rt.ledger.pending(run.run_id, run.queued)
        logger.info("resuming the run's queuing", extra={"from_seq": run.queued,
                                                         "pending": len(pending)})
    unsent = _queue(rt, run, lease, pending, queue_url)
    rt.ledger.close_queuing(run.run_id, lease)
    logger.info("run planned", extra={"accounts": run.expected, "queued": len(pending),
                                      "not_queued": unsent})
    return run


def _queue(rt: Runtime, run: RunRecord, lease: Lease, pending: Sequence[Pending],
           queue_url: str) -> int:
    """Send the pending accounts' messages, recording progress every QUEUE_CHUNK; accounts
    SQS would not take are finished as not checked, so the run still completes."""
    unsent = 0
    for start in range(0, len(pending), QUEUE_CHUNK):
        chunk = pending[start:start + QUEUE_CHUNK]
        bodies = [CheckMessage(run_id=run.run_id, account_id=p.account_id,
                               as_of=run.as_of).model_dump_json() for p in chunk]
        for failure in send_all(rt.sqs, queue_url, bodies):
            entry = chunk[failure.index]
            logger.error("check not queued", extra={"account_id": entry.account_id,
                                                    "reason": failure.reason})
            reason = f"not checked: the check could not be queued ({failure.reason})"
            rt.ledger.finish(run.run_id, entry.account_id,
                             failed_report(rt, entry.account_id, entry.name, reason), 0)
            unsent += 1
        rt.ledger.mark_queued(run.run_id, lease, chunk[-1].seq + 1)
    return unsent


def _name(account: StripeAccount) -> str:
    return account.display_name


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
        try:
            ensure_time(context, CHECK_RECORD_BUDGET_MS)
        except OutOfTimeError:
            delay_redelivery(rt, record, UNSTARTED_REDELIVERY_S)
            raise
        # Stripe's timeouts and retries shrink to fit what is left: a slow Stripe fails
        # this record in time (to be delivered again), never the whole batch.
        rt.reader().set_deadline(context.get_remaining_time_in_millis() / 1000
                                 - NOTIFY_RESERVE_S)
        handle_record(rt, check_once, record)

    return process_partial_response(event=event, record_handler=record_handler,
                                    processor=BatchProcessor(event_type=EventType.SQS),
                                    context=context)


def handle_record(rt: Runtime, check_once: Callable[..., CheckOutcome],
                  record: SQSRecord) -> None:
    """One SQS record. A body that does not parse, or an error, fails this record only (SQS
    delivers it again); a CHECK_FAILED account is a completed check, not a failed record. On
    the queue's last delivery an error records the account as not checked instead."""
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
    )

    message = CheckMessage.model_validate_json(record.body)
    attempts = int(record.attributes.approximate_receive_count or 1)
    final = attempts >= rt.settings.max_receives
    with logger.append_context_keys(run_id=message.run_id, account_id=message.account_id):
        try:
            outcome = check_once(message=message, rt=rt, attempts=attempts, final=final)
        except (IdempotencyAlreadyInProgressError, NotInRunError):
            raise  # another delivery is on it / a message for nothing: SQS decides
        except Exception as error:
            if not final:
                logger.warning("check failed; SQS will deliver it again (%s)",
                               type(error).__name__, extra={"attempt": attempts})
                delay_redelivery(rt, record, redelivery_delay_s(attempts))
                raise
            # The last delivery before the dead-letter queue: record the account as not
            # checked, so the run still completes and its report is still written.
            logger.exception("giving up on the account after %d attempts", attempts)
            reason = f"not checked after {attempts} attempts: {type(error).__name__}"
            progress = rt.ledger.finish(
                message.run_id, message.account_id,
                failed_report(rt, message.account_id, message.account_id, reason), 0)
            metrics.add_metric(name="AccountsFailed", unit=MetricUnit.Count, value=1)
            outcome = CheckOutcome(account_id=message.account_id, status="error",
                                   emails_sent=0, done=progress.done,
                                   expected=progress.expected)
        if outcome.run_complete:
            _start_digest(rt, message.run_id, f"message:{record.message_id}")


@tracer.capture_method(capture_response=False)
def _rate_limited(reader: StripeReader) -> int:
    stats = reader.pacer_stats()
    return stats.rate_limited if stats else 0


def delay_redelivery(rt: Runtime, record: SQSRecord, seconds: int) -> None:
    """Hide a failed record for `seconds` (rather than the queue's whole visibility timeout);
    if SQS refuses, the record simply comes back later."""
    try:
        rt.sqs.change_message_visibility(QueueUrl=rt.settings.require("check_queue_url"),
                                         ReceiptHandle=record.receipt_handle,
                                         VisibilityTimeout=seconds)
    except (ClientError, BotoCoreError) as error:
        logger.warning("could not set the record's redelivery delay: %s", error)


def check_message(message: CheckMessage, rt: Runtime, attempts: int = 1,
                  final: bool = True) -> CheckOutcome:
    """One account of one run, end to end; made idempotent on (run_id, account_id) by
    check_account, so a duplicate message or a retry returns this outcome again.

    Raises what is worth a retry (a passing Stripe error, the state store's errors, SES
    throttling or outage) unless `final`, the queue's last delivery: the account is then
    recorded CHECK_FAILED with its cause, and a temporary email failure is a notice.
    """
    from balance_guard.check.runner import RunOptions, check_and_store

    account = rt.ledger.account(message.run_id, message.account_id)
    if account is None:
        raise NotInRunError(f"{message.account_id} is not part of run {message.run_id}")
    reader = rt.reader()
    before, limited_before = reader.request_count, _rate_limited(reader)
    options = RunOptions(as_of=message.as_of, policy=rt.settings.policy, concurrency=1)
    checked = check_and_store(reader, rt.state_store, account, options)
    requests = reader.request_count - before
    metrics.add_metric(name="StripeRateLimited", unit=MetricUnit.Count,
                       value=_rate_limited(reader) - limited_before)
    if checked.transient and not final:
        metrics.add_metric(name="ChecksRetried", unit=MetricUnit.Count, value=1)
        raise TransientCheckError(checked.report.error or "a passing Stripe error")
    report, email_failed, sent_now = notify_checked(rt, checked, message, attempts, final)
    progress = rt.ledger.finish(message.run_id, account.id, report, requests)

    metrics.add_metric(name="AccountsChecked", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="AccountsFailed", unit=MetricUnit.Count,
                       value=int(report.status == "error"))
    metrics.add_metric(name="EmailsSent", unit=MetricUnit.Count, value=sent_now)
    metrics.add_metric(name="EmailsFailed", unit=MetricUnit.Count, value=int(email_failed))
    metrics.add_metric(name="StripeRequests", unit=MetricUnit.Count, value=requests)
    logger.info("account checked", extra={
        "status": report.status, "emails_sent": len(report.emails),
        "email_failed": email_failed, "stripe_requests": requests, "done": progress.done,
        "expected": progress.expected})
    return CheckOutcome(account_id=account.id, status=report.status,
                        emails_sent=len(report.emails), done=progress.done,
                        expected=progress.expected)


def notify_checked(rt: Runtime, checked: AccountCheck, message: CheckMessage, attempts: int,
                   final: bool) -> tuple[AccountReport, bool, int]:
    """Email the account's admins when something is due: the report with what was sent, and
    whether an email could not be sent. Unlike the runner's `notify`, a temporary failure
    (SES, or the notification log in DynamoDB) is raised for SQS to retry, unless `final`."""
    report = checked.report
    sender = rt.email_sender
    sender.failures.clear()
    try:
        outcome = rt.notifier.notify_account(
            report, account_email=checked.email, settings=checked.settings,
            as_of=message.as_of, run_id=message.run_id,
            country=checked.snapshot.country if checked.snapshot else None)
    except (TemporarySendError, ClientError, BotoCoreError) as error:
        if not final:
            raise
        logger.exception("email not sent after %d attempts", attempts)
        return _noted(report, f"email not sent after {attempts} attempts: "
                              f"{str(error)[:300]}"), True, 0
    except Exception as error:  # a bug of ours: this account's email, not the run
        logger.exception("notifying the account failed")
        return _noted(report, f"email not sent: {type(error).__name__}"), True, 0
    if outcome.in_flight and not final:
        # Another delivery holds this account's claim: once its lease lapses, a redelivery
        # sends the email if that delivery died.
        raise TemporarySendError("another delivery holds this account's email claim")
    report = report.model_copy(update={"emails": [*report.emails, *outcome.emails],
                                       "notices": [*report.notices, *outcome.notices]})
    return report, bool(sender.failures) and not outcome.emails, len(outcome.sent_now)


def _noted(report: AccountReport, notice: str) -> AccountReport:
    return report.model_copy(update={"notices": [*report.notices, notice]})


def _start_digest(rt: Runtime, run_id: str, claimant: str) -> None:
    """Trigger run_digest if this caller wins the run's digest claim (exactly one does; a
    claimant that died before its invoke is replaced, see RunLedger.claim_digest)."""
    if not rt.ledger.claim_digest(run_id, claimant):
        return
    try:
        rt.start_digest(run_id)
    except Exception:
        rt.ledger.release_digest(run_id, claimant)  # let the retry of this record try again
        raise
    rt.ledger.digest_started(run_id)
    logger.info("run complete: digest started", extra={"run_id": run_id})


# -- dead_letter ----------------------------------------------------------------------------


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def dead_letter(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    """The check queue's dead letters: messages whose check never completed (a timeout, a
    whole batch failed, throttling, a body that does not parse...). Each account is recorded
    as not checked, and the run's digest starts if that completes it."""
    package_logs_as_json()
    rt = runtime()
    metrics.add_metric(name="DeadLetters", unit=MetricUnit.Count,
                       value=len(event.get("Records", [])))

    def record_handler(record: SQSRecord) -> None:
        ensure_time(context, DEAD_LETTER_RECORD_BUDGET_MS)
        handle_dead_letter(rt, record)

    return process_partial_response(event=event, record_handler=record_handler,
                                    processor=BatchProcessor(event_type=EventType.SQS),
                                    context=context)


def handle_dead_letter(rt: Runtime, record: SQSRecord) -> None:
    """One dead letter. Only DynamoDB or Lambda errors fail it (to be tried again); a message
    that names nothing we know is logged, counted and dropped."""
    try:
        message = CheckMessage.model_validate_json(record.body)
    except ValidationError:
        logger.error("a dead letter that is not a check message was dropped",
                     extra={"message_id": record.message_id, "body": record.body[:500]})
        metrics.add_metric(name="DeadLettersDropped", unit=MetricUnit.Count, value=1)
        return
    with logger.append_context_keys(run_id=message.run_id, account_id=message.account_id):
        account = rt.ledger.account(message.run_id, message.account_id)
        if account is None:
            logger.error("a dead letter for an account its run does not hold was dropped",
                         extra={"message_id": record.message_id})
            metrics.add_metric(name="DeadLettersDropped", unit=MetricUnit.Count, value=1)
            return
        progress = rt.ledger.finish(message.run_id, account.id,
                                    failed_report(rt, account.id, _name(account), DEAD_LETTER),
                                    0)
        logger.error("account recorded as not checked: its message reached the dead-letter "
                     "queue", extra={"done": progress.done, "expected": progress.expected})
        if progress.complete:
            _start_digest(rt, message.run_id, f"message:{record.message_id}")


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
    return not_checked(account_id, reason, rt.settings.policy.default_locale.value, name)
