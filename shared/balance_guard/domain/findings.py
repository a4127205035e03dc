"""What a check concludes about one account: rule codes, severities and findings."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"
    ERROR = "error"

    @property
    def rank(self) -> int:
        """Higher is worse; an account's status is its highest-ranked finding."""
        return _RANKS[self]


_RANKS = {Severity.INFO: 1, Severity.WARNING: 2, Severity.CRITICAL: 3, Severity.ERROR: 4}


class RuleCode(StrEnum):
    NEGATIVE_BALANCE = "NEGATIVE_BALANCE"
    REFUND_BLOCKED = "REFUND_BLOCKED"
    REFUND_CAPACITY_SHORT = "REFUND_CAPACITY_SHORT"
    MIN_BALANCE_NOT_SET = "MIN_BALANCE_NOT_SET"
    MIN_BALANCE_BELOW_EXPOSURE = "MIN_BALANCE_BELOW_EXPOSURE"
    PREFUND_DEPLETED = "PREFUND_DEPLETED"
    PREFUND_BELOW_TARGET = "PREFUND_BELOW_TARGET"
    PREFUND_USED = "PREFUND_USED"
    PAYOUTS_DISABLED = "PAYOUTS_DISABLED"
    RESERVE_HELD = "RESERVE_HELD"
    RESERVE_RELEASE_UPCOMING = "RESERVE_RELEASE_UPCOMING"
    CHECK_FAILED = "CHECK_FAILED"

    @property
    def severity(self) -> Severity:
        return SEVERITIES[self]

    @property
    def anchor(self) -> str:
        """Help-page anchor, the same in every language: `rule-refund-capacity-short`."""
        return "rule-" + self.value.lower().replace("_", "-")


SEVERITIES: dict[RuleCode, Severity] = {
    RuleCode.NEGATIVE_BALANCE: Severity.CRITICAL,
    RuleCode.REFUND_BLOCKED: Severity.CRITICAL,
    RuleCode.REFUND_CAPACITY_SHORT: Severity.CRITICAL,
    RuleCode.MIN_BALANCE_NOT_SET: Severity.WARNING,
    RuleCode.MIN_BALANCE_BELOW_EXPOSURE: Severity.WARNING,
    RuleCode.PREFUND_DEPLETED: Severity.WARNING,
    RuleCode.PREFUND_BELOW_TARGET: Severity.WARNING,
    RuleCode.PREFUND_USED: Severity.INFO,
    RuleCode.PAYOUTS_DISABLED: Severity.WARNING,
    RuleCode.RESERVE_HELD: Severity.INFO,
    RuleCode.RESERVE_RELEASE_UPCOMING: Severity.INFO,
    RuleCode.CHECK_FAILED: Severity.ERROR,
}


class CapacityShortCause(StrEnum):
    """Why guaranteed capacity falls short, in the order the first matching one is named."""

    MANUAL_PAYOUTS = "manual_payouts"
    # A cause of its own: Stripe would not show the balance settings (possible for
    # Express accounts), so we cannot tell "none set" from "set": say so, never guess.
    MINIMUM_BALANCE_UNKNOWN = "minimum_balance_unknown"
    NO_MINIMUM_BALANCE = "no_minimum_balance"
    MINIMUM_BELOW_EXPOSURE = "minimum_below_exposure"
    BALANCE_BELOW_MINIMUM = "balance_below_minimum"

    @classmethod
    def of_finding(cls, finding: Finding) -> CapacityShortCause | None:
        """The cause a finding names in its details, if it names a known one."""
        raw = finding.details.get("cause")
        return cls(raw) if isinstance(raw, str) and raw in cls._value2member_map_ else None


class Finding(BaseModel):
    """One rule that fired, with the figure the reader must act on (minor units)."""

    model_config = ConfigDict(frozen=True)

    code: RuleCode
    severity: Severity
    currency: str | None = None
    amount: int | None = None
    details: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def of(
        cls,
        code: RuleCode,
        currency: str | None = None,
        amount: int | None = None,
        **details: Any,
    ) -> Finding:
        return cls(code=code, severity=code.severity, currency=currency, amount=amount,
                   details=details)


def detail_date(value: Any) -> date | None:
    """A date carried in a finding's details (ISO text once the report is JSON)."""
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def most_severe_first(findings: list[Finding]) -> list[Finding]:
    """Stable order for emails and reports: worst first, then by rule order, then currency."""
    order = list(RuleCode)
    return sorted(
        findings,
        key=lambda f: (-f.severity.rank, order.index(f.code), f.currency or ""),
    )


def account_status(findings: list[Finding]) -> str:
    """`ok` with no finding, else the highest severity among them."""
    if not findings:
        return "ok"
    return max(findings, key=lambda f: f.severity.rank).severity.value
