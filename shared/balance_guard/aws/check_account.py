"""check_account: SQS batch -> check, store and notify each account; the run's last account
starts the digest, once. A webhook's re-check message on the same queue is a re-check of
its account instead (aws/recheck.py), with the same time budget and partial failures.

An account whose check fails for a passing reason (a rate limit, a 5xx, the network, the
invocation's time running out) is handed back to SQS, to be delivered again after a growing
delay; only a refusal, or the queue's last delivery, records it as CHECK_FAILED."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

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

from balance_guard.aws.common import (
    NotInRunError,
    OutOfTimeError,
    ensure_time,
    logger,
    metrics,
    package_logs_as_json,
    start_digest,
    tracer,
)
from balance_guard.aws.messages import CheckMessage, CheckOutcome, RecheckMessage, queue_message
from balance_guard.aws.recheck import handle_recheck
from balance_guard.aws.runtime import Runtime, runtime
from balance_guard.aws.sending import TemporarySendError
from balance_guard.check.outcome import Redelivery, failed_report, notify

if TYPE_CHECKING:
    from balance_guard.notify.notifier import NotifyOutcome
    from balance_guard.stripe.reader import StripeReader

IDEMPOTENCY_PREFIX = "check_account"
# Time budgets of an invocation (infra/README.md shows the arithmetic): a record is started
# only with CHECK_RECORD_BUDGET_MS left; its Stripe reads must end NOTIFY_RESERVE_S before
# the timeout, leaving the time to email, record the result and answer SQS.
CHECK_RECORD_BUDGET_MS = 30_000
NOTIFY_RESERVE_S = 20.0
# A passing failure is delivered again after 60 s, then 120, 240, 480: a Stripe incident of a
# quarter of an hour costs the night no account.
REDELIVERY_BASE_S = 60
REDELIVERY_CAP_S = 900
UNSTARTED_REDELIVERY_S = 5  # a record the batch had no time for: the next instance takes it
# Failures to email worth another delivery: SES throttled or down, the notification log's
# DynamoDB unavailable.
PASSING_EMAIL_ERRORS = (TemporarySendError, ClientError, BotoCoreError)


class TransientCheckError(Exception):
    """The account's check failed for a reason that passes: SQS delivers it again."""


def redelivery_delay_s(attempts: int) -> int:
    """How long SQS keeps a failed record hidden before its next delivery."""
    return min(REDELIVERY_CAP_S, REDELIVERY_BASE_S << min(10, max(0, attempts - 1)))


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

    message = queue_message(record.body)
    attempts = int(record.attributes.approximate_receive_count or 1)
    if isinstance(message, RecheckMessage):
        handle_recheck(rt, message, attempts, lambda n: delay_redelivery(
            rt, record, redelivery_delay_s(n)))
        return
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
                failed_report(message.account_id, reason, rt.settings.policy), 0)
            metrics.add_metric(name="AccountsFailed", unit=MetricUnit.Count, value=1)
            outcome = CheckOutcome(account_id=message.account_id, status="error",
                                   emails_sent=0, done=progress.done,
                                   expected=progress.expected)
        if outcome.run_complete:
            start_digest(rt, message.run_id, f"message:{record.message_id}")


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


@tracer.capture_method(capture_response=False)
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
    sender = rt.email_sender
    sender.failures.clear()
    notified = notify(_NotifierOnFirstUse(rt), checked, message.as_of, message.run_id,
                      Redelivery(attempts, final, PASSING_EMAIL_ERRORS, TemporarySendError))
    report = notified.report
    # For the EmailsFailed metric: SES refused or failed, rather than nothing was due.
    email_failed = notified.outcome is None or (
        bool(sender.failures) and not notified.outcome.emails)
    progress = rt.ledger.finish(message.run_id, account.id, report, requests)

    metrics.add_metric(name="AccountsChecked", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="AccountsFailed", unit=MetricUnit.Count,
                       value=int(report.status == "error"))
    metrics.add_metric(name="EmailsSent", unit=MetricUnit.Count, value=notified.sent_now)
    metrics.add_metric(name="EmailsFailed", unit=MetricUnit.Count, value=int(email_failed))
    metrics.add_metric(name="StripeRequests", unit=MetricUnit.Count, value=requests)
    logger.info("account checked", extra={
        "status": report.status, "emails_sent": len(report.emails),
        "email_failed": email_failed, "stripe_requests": requests, "done": progress.done,
        "expected": progress.expected})
    return CheckOutcome(account_id=account.id, status=report.status,
                        emails_sent=len(report.emails), done=progress.done,
                        expected=progress.expected)


class _NotifierOnFirstUse:
    """`rt.notifier`, built within the notify step: a notifier that cannot be built (say,
    SENDER_EMAIL unset) costs each account its email, a notice, not its check."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    @property
    def notify_account(self) -> Callable[..., NotifyOutcome]:
        return self.rt.notifier.notify_account
