"""Every rule of the nightly check , as pure functions of one snapshot.

Letters used throughout: A available payments balance, F prefunding available, M minimum
balance, R refund exposure, C guaranteed capacity, T prefunding target.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from balance_guard.domain.findings import CapacityShortCause, Finding, RuleCode
from balance_guard.domain.money import round_up_to_major_step
from balance_guard.domain.policy import AccountSettings, Policy
from balance_guard.domain.snapshot import AccountSnapshot, PreviousCheck

SUGGESTED_MINIMUM_STEP = 50  # whole major units a suggested minimum balance is rounded up to


@dataclass(frozen=True)
class CurrencyPosition:
    """The figures every rule of one currency is decided on."""

    currency: str
    available: int
    prefund: int
    minimum: int | None
    exposure: int
    automatic_payouts: bool
    minimum_known: bool = True

    @property
    def capacity(self) -> int:
        """What is sure to be there after the next automatic payout (C)."""
        kept = max(self.available, 0)
        if self.automatic_payouts:
            kept = min(kept, self.minimum or 0)
        return kept + self.prefund

    @property
    def shortfall_cause(self) -> CapacityShortCause | None:
        """First cause that applies when capacity is short: the one to fix first."""
        if not self.automatic_payouts:
            return CapacityShortCause.MANUAL_PAYOUTS
        if not self.minimum_known:
            return CapacityShortCause.MINIMUM_BALANCE_UNKNOWN
        if self.minimum is None:
            return CapacityShortCause.NO_MINIMUM_BALANCE
        if self.minimum + self.prefund < self.exposure:
            return CapacityShortCause.MINIMUM_BELOW_EXPOSURE
        if self.available < self.minimum:
            return CapacityShortCause.BALANCE_BELOW_MINIMUM
        return None


def lookback_start(as_of: date, lookback_days: int) -> datetime:
    """Charges created at or after this instant count towards refund exposure."""
    return datetime.combine(as_of - timedelta(days=lookback_days), time.min, tzinfo=UTC)


def refund_exposure(
    snapshot: AccountSnapshot, currency: str, as_of: date, lookback_days: int, floor: int
) -> int:
    """Largest amount still refundable on one recent charge, or the floor if larger (R)."""
    since = lookback_start(as_of, lookback_days)
    largest = max(
        (c.refundable for c in snapshot.charges if c.currency == currency and c.created >= since),
        default=0,
    )
    return max(largest, floor, 0)


def position(
    snapshot: AccountSnapshot, currency: str, as_of: date, policy: Policy,
    settings: AccountSettings,
) -> CurrencyPosition:
    return CurrencyPosition(
        currency=currency,
        available=snapshot.available.get(currency, 0),
        prefund=snapshot.prefund_available.get(currency, 0),
        minimum=snapshot.minimum_balance(currency),
        exposure=refund_exposure(snapshot, currency, as_of, policy.exposure_lookback_days,
                                 settings.exposure_floors.get(currency, 0)),
        automatic_payouts=snapshot.automatic_payouts,
        minimum_known=snapshot.minimum_balances is not None,
    )


def capacity_findings(pos: CurrencyPosition) -> list[Finding]:
    found: list[Finding] = []
    cur = pos.currency
    if pos.available < 0:
        found.append(Finding.of(RuleCode.NEGATIVE_BALANCE, cur, -pos.available,
                                available=pos.available))
    cause = pos.shortfall_cause
    if pos.exposure > 0 and pos.capacity < pos.exposure and cause is not None:
        found.append(Finding.of(
            RuleCode.REFUND_CAPACITY_SHORT, cur, pos.exposure - pos.capacity,
            exposure=pos.exposure, capacity=pos.capacity, cause=cause.value,
            available=pos.available, prefund=pos.prefund, minimum=pos.minimum,
        ))
    if pos.automatic_payouts and pos.minimum is None and pos.minimum_known:
        suggested = (round_up_to_major_step(pos.exposure, cur, SUGGESTED_MINIMUM_STEP)
                     if pos.exposure > 0 else None)
        found.append(Finding.of(RuleCode.MIN_BALANCE_NOT_SET, cur, suggested,
                                exposure=pos.exposure))
    if pos.minimum is not None and pos.minimum + pos.prefund < pos.exposure:
        found.append(Finding.of(
            RuleCode.MIN_BALANCE_BELOW_EXPOSURE, cur, pos.exposure - pos.minimum - pos.prefund,
            exposure=pos.exposure, minimum=pos.minimum, prefund=pos.prefund,
        ))
    return found


def prefund_findings(
    currency: str, prefund: int, target: int | None, previous: int | None
) -> list[Finding]:
    found: list[Finding] = []
    if prefund == 0 and ((previous or 0) > 0 or target):
        found.append(Finding.of(RuleCode.PREFUND_DEPLETED, currency,
                                target if target else previous, target=target,
                                previous=previous))
    if target and 0 < prefund < target:
        found.append(Finding.of(RuleCode.PREFUND_BELOW_TARGET, currency, target - prefund,
                                target=target, prefund=prefund))
    if previous is not None and prefund < previous:
        found.append(Finding.of(RuleCode.PREFUND_USED, currency, previous - prefund,
                                previous=previous, prefund=prefund))
    return found


def blocked_refund_findings(snapshot: AccountSnapshot) -> list[Finding]:
    totals: dict[str, list[int]] = defaultdict(list)
    for refund in snapshot.blocked_refunds:
        totals[refund.currency].append(refund.amount)
    return [
        Finding.of(RuleCode.REFUND_BLOCKED, cur, sum(amounts), refunds=len(amounts))
        for cur, amounts in sorted(totals.items())
    ]


def evaluate(
    snapshot: AccountSnapshot,
    as_of: date,
    policy: Policy,
    settings: AccountSettings,
    previous: PreviousCheck,
) -> list[Finding]:
    """All findings for one account on the run date, unordered."""
    findings = blocked_refund_findings(snapshot)
    if snapshot.payouts_disabled:
        findings.append(Finding.of(RuleCode.PAYOUTS_DISABLED))
    for currency in snapshot.currencies():
        pos = position(snapshot, currency, as_of, policy, settings)
        findings += capacity_findings(pos)
        findings += prefund_findings(
            currency, pos.prefund, settings.prefund_targets.get(currency),
            previous.prefund_available.get(currency) if previous.checked_on else None,
        )
    return findings
