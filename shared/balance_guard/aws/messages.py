"""What the functions receive and return: validated at the boundary, as pydantic models.

`CheckMessage` is the SQS body plan_run sends per account (exactly `run_id`, `account_id`,
`as_of`). The account itself is not in the message: plan_run stores it under the
run in DynamoDB, so the queue (and its dead-letter queue) carries no building's data.
`RecheckMessage` is the webhook's, on the same queue: `{"recheck": 1, "account_id",
"window"}` (the coalescing window it closes), telling check_account to re-check the account
now rather than check it for a night. `queue_message` tells the two apart.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

RunId = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9:_-]+$")]
AccountId = Annotated[str, Field(min_length=6, max_length=255, pattern=r"^acct_[A-Za-z0-9]+$")]


class PlanRequest(BaseModel):
    """plan_run's event. The schedule sends `{"scheduled_time", "execution_id"}` (EventBridge
    Scheduler's context attributes): the run date is the scheduled time's date in the policy's
    time zone, and the run id follows from the scheduled time, so a retried or duplicated
    delivery resumes the same run. By hand: `{}` for today, `{"as_of": "YYYY-MM-DD"}` to
    re-run a date."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    as_of: date | None = None
    scheduled_time: AwareDatetime | None = None
    execution_id: Annotated[str, Field(max_length=200)] | None = None


class CheckMessage(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    run_id: RunId
    account_id: AccountId
    as_of: date


class RecheckMessage(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    recheck: Literal[1]
    account_id: AccountId
    window: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


def queue_message(body: str) -> CheckMessage | RecheckMessage:
    """The check queue's message in `body`; raises pydantic's ValidationError (or
    ValueError) for a body that is neither."""
    if '"recheck"' in body:
        return RecheckMessage.model_validate_json(body)
    return CheckMessage.model_validate_json(body)


class CheckOutcome(BaseModel):
    """What one account's check left behind: the idempotent result of its message."""

    model_config = ConfigDict(frozen=True)

    account_id: str
    status: Literal["ok", "info", "warning", "critical", "error"]
    emails_sent: int
    done: int
    expected: int

    @property
    def run_complete(self) -> bool:
        return self.done >= self.expected


class DigestRequest(BaseModel):
    """run_digest's event, `{"run_id": …}`, sent by check_account (or by hand)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    run_id: RunId
