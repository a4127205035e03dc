"""plan_run: schedule -> list the accounts, record the run, one SQS message per account.

Retries resume the same run: its id follows from the invocation."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from balance_guard.aws.common import logger, metrics, package_logs_as_json, start_digest, tracer
from balance_guard.aws.dynamo import (
    QUEUED,
    RECORDING,
    Lease,
    Pending,
    RunRecord,
)
from balance_guard.aws.messages import CheckMessage, PlanRequest
from balance_guard.aws.queue import send_all
from balance_guard.aws.runtime import Runtime, runtime
from balance_guard.check.outcome import failed_report
from balance_guard.report.model import AccountReport

if TYPE_CHECKING:
    from balance_guard.stripe.models import StripeAccount

PLAN_RESERVE_S = 60.0  # plan_run's time to record the run and queue its messages
QUEUE_CHUNK = 500  # messages sent between two records of plan_run's progress
LEASE_MARGIN = timedelta(seconds=5)
PLAN_CLAIMANT = "plan_run"


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
        start_digest(rt, run_id, PLAN_CLAIMANT)
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
    rejected = [failed_report(ident, f"Stripe sent a malformed account object: {problem}",
                              rt.settings.policy)
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
            names.setdefault(account.id, account.display_name)
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
                             failed_report(entry.account_id, reason, rt.settings.policy,
                                           entry.name), 0)
            unsent += 1
        rt.ledger.mark_queued(run.run_id, lease, chunk[-1].seq + 1)
    return unsent
