"""The run report, `balance-guard/report@1`.

One schema for the CLI's JSON, the AWS run's S3 report and `check --json`.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from balance_guard.domain.findings import Finding, RuleCode
from balance_guard.domain.headline import Headline
from balance_guard.text.display import displayable

SCHEMA = "balance-guard/report@1"


class ReserveRelease(BaseModel):
    model_config = ConfigDict(frozen=True)

    currency: str
    amount: int
    release_date: date
    payout_date: date | None
    arrival_date: date | None
    source: str = "reserve_hold"


class EmailRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    to: list[str]
    subject: str
    message_id: str
    # Sent between nights by a re-check a Stripe webhook started (extends report@1).
    realtime: bool = False


class AccountReport(BaseModel):
    """One account's outcome. Four fields extend the schema, and consumers of
    report@1 may ignore them: `positions` (per currency: available, prefunding, minimum,
    exposure, capacity — for the HTML view), `headlines` (per currency with a critical
    finding: the one amount to add, the minimum balance to ask for, and by when —
    `domain/headline.py`), `notices` (data problems for operations) and `reserves_known`
    (false when the platform cannot read Stripe's Reserves API)."""

    account_id: str
    name: str
    locale: str
    status: Literal["ok", "info", "warning", "critical", "error"]
    findings: list[Finding] = Field(default_factory=list)
    reserve_releases: list[ReserveRelease] = Field(default_factory=list)
    emails: list[EmailRecord] = Field(default_factory=list)
    error: str | None = None
    positions: list[dict[str, Any]] = Field(default_factory=list)
    headlines: list[Headline] = Field(default_factory=list)
    notices: list[str] = Field(default_factory=list)
    reserves_known: bool = True
    # An email was due and could not be sent; for the exit code, not part of the report
    # (its notices say why).
    undelivered: bool = Field(default=False, exclude=True)

    # Whatever path built the report (a check, a failure, a dead letter), what Stripe's
    # users typed is shown to operators, never obeyed by their terminal or browser.
    @field_validator("name", "error")
    @classmethod
    def _shown(cls, text: str | None) -> str | None:
        return None if text is None else displayable(text)

    @field_validator("notices")
    @classmethod
    def _notices_shown(cls, notices: list[str]) -> list[str]:
        return [displayable(n) for n in notices]


class StripeLimits(BaseModel):
    """How the night met Stripe's rate limits: the 429s it was answered and retried, the
    request rate it settled at (lowered on 429s, climbing back while requests succeed), and
    the accounts given a second pass after a passing failure."""

    rate_limited: int = 0
    max_rps: float | None = None
    settled_rps: float | None = None
    lowest_rps: float | None = None
    accounts_retried: int = 0


def not_checked(account_id: str, reason: str, locale: str,
                name: str | None = None) -> AccountReport:
    """The report of an account whose check did not complete: one CHECK_FAILED finding with
    its reason, under the account's name when known. The local runner and every Lambda
    function build it here, so the report reads the same whichever shell wrote it."""
    return AccountReport(
        account_id=account_id, name=name or account_id, locale=locale, status="error",
        findings=[Finding.of(RuleCode.CHECK_FAILED, reason=reason)], error=reason,
    )


class Totals(BaseModel):
    accounts: int
    by_status: dict[str, int]
    emails_sent: int
    stripe_requests: int
    duration_s: float
    # Extends report@1; consumers may ignore it.
    stripe_limits: StripeLimits = Field(default_factory=StripeLimits)


class Report(BaseModel):
    schema_: str = Field(default=SCHEMA, alias="schema")
    run_id: str
    as_of: date
    accounts: list[AccountReport]
    totals: Totals
    # Extends report@1: problems of the platform, not of one account (a permission the key
    # lacks, seen on every account), shown first wherever the report is read.
    notices: list[str] = Field(default_factory=list)

    model_config = ConfigDict(populate_by_name=True)

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, indent=2)


def totals_of(accounts: list[AccountReport], stripe_requests: int, duration_s: float,
              limits: StripeLimits | None = None) -> Totals:
    by_status: dict[str, int] = {}
    for account in accounts:
        by_status[account.status] = by_status.get(account.status, 0) + 1
    return Totals(
        accounts=len(accounts),
        by_status=dict(sorted(by_status.items())),
        emails_sent=sum(len(a.emails) for a in accounts),
        stripe_requests=stripe_requests,
        duration_s=round(duration_s, 3),
        stripe_limits=limits or StripeLimits(),
    )
