"""What the four Lambda functions share: Powertools' logger, metrics and tracer, the time
checks of a batch, and the start of the digest once a run is complete. (The report of an
account not checked is `check.outcome.failed_report`, the local runner's too.)"""

from __future__ import annotations

import logging
import os

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities.typing import LambdaContext

from balance_guard.aws.runtime import Runtime

logger = Logger()
# The template sets the namespace; a missing variable must not fail the flush of a run.
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "BalanceGuard")
tracer = Tracer()


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


def ensure_time(context: LambdaContext, budget_ms: int) -> None:
    left = context.get_remaining_time_in_millis()
    if left < budget_ms:
        logger.warning("not starting a record with %d ms left; SQS will deliver it again", left)
        raise OutOfTimeError(f"{left} ms left, {budget_ms} needed")


def start_digest(rt: Runtime, run_id: str, claimant: str) -> None:
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
