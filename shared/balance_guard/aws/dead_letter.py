"""dead_letter: the check queue's dead letters -> their accounts recorded as not checked, so
the run still completes and gets its report and digest."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from balance_guard.aws.common import (
    ensure_time,
    logger,
    metrics,
    package_logs_as_json,
    start_digest,
    tracer,
)
from balance_guard.aws.messages import RecheckMessage, queue_message
from balance_guard.aws.runtime import Runtime, runtime
from balance_guard.check.outcome import failed_report

DEAD_LETTER = "not checked: the check failed after retries (dead-letter queue)"
DEAD_LETTER_RECORD_BUDGET_MS = 5_000


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
        message = queue_message(record.body)
    except ValidationError:
        logger.error("a dead letter that is not a check message was dropped",
                     extra={"message_id": record.message_id, "body": record.body[:500]})
        metrics.add_metric(name="DeadLettersDropped", unit=MetricUnit.Count, value=1)
        return
    if isinstance(message, RecheckMessage):
        # A webhook's re-check that never completed: no run waits for it, the night
        # checks the account anyway.
        logger.warning("a re-check that never completed is left for the night",
                       extra={"account_id": message.account_id, "window": message.window})
        metrics.add_metric(name="DeadLettersDropped", unit=MetricUnit.Count, value=1)
        return
    with logger.append_context_keys(run_id=message.run_id, account_id=message.account_id):
        account = rt.ledger.account(message.run_id, message.account_id)
        if account is None:
            logger.error("a dead letter for an account its run does not hold was dropped",
                         extra={"message_id": record.message_id})
            metrics.add_metric(name="DeadLettersDropped", unit=MetricUnit.Count, value=1)
            return
        report = failed_report(account.id, DEAD_LETTER, rt.settings.policy,
                               account.display_name)
        progress = rt.ledger.finish(message.run_id, account.id, report, 0)
        logger.error("account recorded as not checked: its message reached the dead-letter "
                     "queue", extra={"done": progress.done, "expected": progress.expected})
        if progress.complete:
            start_digest(rt, message.run_id, f"message:{record.message_id}")
