"""On AWS, a passing Stripe error is handed back to SQS, not recorded as final; only a
refusal or the queue's last delivery records CHECK_FAILED. Same setting as
test_aws_handlers.py: moto for AWS, the sandbox over HTTP for Stripe."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from balance_guard.aws import check_account as check_fn
from balance_guard.stripe.pacing import RetryPolicy
from tests.integration.conftest import account, scenario
from tests.integration.test_aws_handlers import (
    HEALTHY,
    Context,
    Stack,
    aws,
    check,
    plan,
    received,
    stored_report,
)

__all__ = ["aws"]  # a fixture, used by name

# Its first three balance reads answer 500: one delivery's tries, not two.
FLAKY = account("acct_flaky00001", fail_with=500, fail_on=["balance"], fail_first=3)
REFUSED = account("acct_refused001", fail_with=403, fail_on=["balance"])
LIMITED = account("acct_limited01", fail_with=429, fail_on=["balance"])


class VisibilityLog:
    """Records the redelivery delays check_account asks SQS for."""

    def __init__(self, stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
        assert stack.runtime is not None
        self.delays: list[int] = []
        sqs = stack.runtime.sqs

        def change(**kwargs: Any) -> None:
            self.delays.append(kwargs["VisibilityTimeout"])

        monkeypatch.setattr(sqs, "change_message_visibility", change)


def redelivered(record: dict[str, Any], count: int) -> dict[str, Any]:
    return {**record, "attributes": {**record["attributes"],
                                     "ApproximateReceiveCount": str(count)}}


def test_a_transient_5xx_is_handed_back_then_checked_on_redelivery(
    serve: Any, aws: Callable[..., Stack], monkeypatch: pytest.MonkeyPatch,
) -> None:
    stack = aws(serve(scenario(FLAKY, HEALTHY)))
    run_id = plan()["run_id"]
    records = received(stack)
    flaky = next(r for r in records if "acct_flaky00001" in r["body"])
    delays = VisibilityLog(stack, monkeypatch)

    assert check(records) == [flaky["messageId"]]  # handed back, not recorded
    assert delays.delays == [check_fn.REDELIVERY_BASE_S]
    assert stack.runtime is not None
    assert stack.runtime.ledger.progress(run_id).done == 1

    assert check([redelivered(flaky, 2)]) == []
    report = stored_report(stack, run_id, "acct_flaky00001")
    assert report.status == "ok"
    assert report.error is None
    assert stack.digests == [run_id]


def test_the_redelivery_delay_grows_with_each_attempt() -> None:
    assert [check_fn.redelivery_delay_s(n) for n in range(1, 7)] == [60, 120, 240, 480, 900,
                                                                     900]


def test_a_transient_failure_on_the_last_delivery_is_recorded_with_its_cause(
    serve: Any, aws: Callable[..., Stack],
) -> None:
    always = account("acct_flaky00001", fail_with=503, fail_on=["balance"])
    stack = aws(serve(scenario(always)))
    run_id = plan()["run_id"]
    [record] = received(stack)
    assert check([redelivered(record, 5)]) == []
    report = stored_report(stack, run_id, "acct_flaky00001")
    assert report.status == "error"
    assert report.error.startswith("Stripe 503")
    assert stack.digests == [run_id]


def test_a_refusal_is_final_on_the_first_delivery(
    serve: Any, aws: Callable[..., Stack],
) -> None:
    stack = aws(serve(scenario(REFUSED)))
    run_id = plan()["run_id"]
    [record] = received(stack)
    assert check([record]) == []
    report = stored_report(stack, run_id, "acct_refused001")
    assert report.status == "error"
    assert report.error.startswith("Stripe 403")


def test_a_deadline_cuts_retries_short_instead_of_the_batch(
    serve: Any, aws: Callable[..., Stack], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An account whose reads keep answering 429 uses up what the invocation allows for
    Stripe, then is handed back; the batch still answers in time, its other record done."""
    stack = aws(serve(scenario(LIMITED, HEALTHY)))
    run_id = plan()["run_id"]
    records = received(stack)
    limited = next(r for r in records if "acct_limited01" in r["body"])
    others = [r for r in records if r is not limited]
    VisibilityLog(stack, monkeypatch)
    assert stack.runtime is not None
    # Retries without end but for the deadline: only the deadline can stop them here.
    stack.runtime.reader().http.retry = RetryPolicy(rate_limit_tries=10_000)
    # 8 s for Stripe once the reserve is set aside: ample for the healthy account's reads.
    monkeypatch.setattr(check_fn, "CHECK_RECORD_BUDGET_MS", 0)
    context = Context(remaining_ms=int((check_fn.NOTIFY_RESERVE_S + 8) * 1000))
    assert check([*others, limited], context) == [limited["messageId"]]
    assert stack.runtime.ledger.progress(run_id).done == 1
    assert stored_report(stack, run_id, "acct_healthy001").status == "ok"


def test_an_email_sent_by_a_delivery_that_then_failed_is_in_the_report(
    serve: Any, aws: Callable[..., Stack], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The ledger write after the send fails: SES sent the email once, and the redelivery's
    report still lists it (read from the send log), rather than reporting no email."""
    from tests.integration.test_aws_handlers import CRITICAL, sent_emails

    stack = aws(serve(scenario(CRITICAL)))
    run_id = plan()["run_id"]
    [record] = received(stack)
    assert stack.runtime is not None
    ledger = stack.runtime.ledger
    finish = ledger.finish
    calls = {"n": 0}

    def fail_first(*args: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("DynamoDB went away after the send")
        return finish(*args)

    monkeypatch.setattr(ledger, "finish", fail_first)
    VisibilityLog(stack, monkeypatch)
    with pytest.raises(Exception, match="All records failed"):
        check([record])
    assert len(sent_emails()) == 1

    assert check([redelivered(record, 2)]) == []
    assert len(sent_emails()) == 1  # not sent again
    report = stored_report(stack, run_id, "acct_critical01")
    assert len(report.emails) == 1
