"""What the functions receive and return: validated at the boundary, as pydantic models.

`CheckMessage` is the SQS body plan_run sends per account (exactly `run_id`, `account_id`,
`as_of`). The account itself is not in the message: plan_run stores it under the
run in DynamoDB, so the queue (and its dead-letter queue) carries no building's data.
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
