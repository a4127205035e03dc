"""What Balance Guard knows about one connected account at check time.

These are our models, not Stripe's: the Stripe reader validates what the API sends and
builds them, so the rules only ever see clean, typed values (amounts in minor units,
lower-case currency codes, dates as `date`).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
PayoutsStatus = Literal["enabled", "disabled"]


class Interval(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    MANUAL = "manual"


class PayoutSchedule(BaseModel):
    model_config = ConfigDict(frozen=True)

    interval: Interval = Interval.DAILY
    weekly_payout_days: tuple[Weekday, ...] = ()
    monthly_payout_days: tuple[int, ...] = ()
    delay_days: int | None = None


class Charge(BaseModel):
    """A succeeded charge that could still be refunded."""

    model_config = ConfigDict(frozen=True)

    id: str
    currency: str
    amount: int
    amount_refunded: int
    created: datetime

    @property
    def refundable(self) -> int:
        return max(self.amount - self.amount_refunded, 0)


class BlockedRefund(BaseModel):
    """A refund Stripe holds as `pending` because the account lacks the funds."""

    model_config = ConfigDict(frozen=True)

    id: str
    currency: str
    amount: int
    created: datetime
    charge: str | None = None


class ReservePlanType(StrEnum):
    """The plan types known so far; Stripe may add others, which are kept as they come."""

    FIXED_RELEASE = "fixed_release"
    ROLLING_RELEASE = "rolling_release"
    MANUAL_RELEASE = "manual_release"


def _empty(value: tuple[str, ...]) -> bool:
    return not value


class ReservePlan(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    type: str  # a ReservePlanType, or a type Stripe added since
    percent: float | None = None
    release_after: datetime | None = None
    days_after_charge: int | None = None
    status: str = "active"
    # What Stripe sent for the plan that could not be used: the account's notices repeat it
    # while a hold refers to the plan. Not stored when there is nothing to say.
    notices: tuple[str, ...] = Field(default=(), exclude_if=_empty)


class ReserveHold(BaseModel):
    """Funds Stripe holds now; `scheduled_release` is when they become available (UTC)."""

    model_config = ConfigDict(frozen=True)

    id: str
    currency: str
    amount: int
    amount_releasable: int | None = None
    reason: str | None = "charge"  # "charge", "standalone", or a reason Stripe added since
    release_after: datetime | None = None
    scheduled_release: datetime | None = None
    reserve_plan: str | None = None
    source_charge: str | None = None
    # What Stripe sent for the hold that could not be used (an unknown reason, a release
    # date that is no date): the account's notices repeat it while the hold holds funds.
    notices: tuple[str, ...] = Field(default=(), exclude_if=_empty)

    @property
    def held(self) -> int:
        """What is still held: Stripe's `amount_releasable` when it says, else `amount`."""
        return self.amount_releasable if self.amount_releasable is not None else self.amount


class AccountSnapshot(BaseModel):
    """Everything the rules need about one connected account, read at one moment."""

    model_config = ConfigDict(frozen=True)

    account_id: str
    name: str
    email: str | None = None
    country: str = "US"
    default_currency: str = "usd"
    metadata: dict[str, str] = Field(default_factory=dict)
    payouts_enabled: bool = True
    payouts_status: PayoutsStatus | None = None
    schedule: PayoutSchedule = PayoutSchedule()
    # currency -> minor units; None when Stripe would not tell us (balance settings are not
    # always shown for Express accounts).
    minimum_balances: dict[str, int | None] | None = None
    available: dict[str, int] = Field(default_factory=dict)
    pending: dict[str, int] = Field(default_factory=dict)
    prefund_available: dict[str, int] = Field(default_factory=dict)
    prefund_pending: dict[str, int] = Field(default_factory=dict)
    charges: tuple[Charge, ...] = ()
    blocked_refunds: tuple[BlockedRefund, ...] = ()
    # None: the platform cannot read reserves (no preview access), not "no reserves".
    reserve_holds: tuple[ReserveHold, ...] | None = None
    reserve_plans: dict[str, ReservePlan] = Field(default_factory=dict)
    # Data problems met while reading (bad metadata, unknown currency...): for operations.
    notices: tuple[str, ...] = ()

    @property
    def automatic_payouts(self) -> bool:
        """Payouts go out on their own: a schedule other than manual, and nothing disabling them."""
        return (
            self.schedule.interval is not Interval.MANUAL
            and self.payouts_enabled
            and self.payouts_status != "disabled"
        )

    @property
    def payouts_disabled(self) -> bool:
        return not self.payouts_enabled or self.payouts_status == "disabled"

    def minimum_balance(self, currency: str) -> int | None:
        if not self.minimum_balances:
            return None
        return self.minimum_balances.get(currency)

    def currencies(self) -> list[str]:
        """Every currency the account uses: balances, minimum balances, and its default."""
        found = {self.default_currency}
        for amounts in (self.available, self.pending, self.prefund_available,
                        self.prefund_pending):
            found.update(amounts)
        found.update(self.minimum_balances or {})
        return sorted(found)


class PreviousCheck(BaseModel):
    """What the last check before this run date saw, from the state store."""

    model_config = ConfigDict(frozen=True)

    checked_on: date | None = None
    prefund_available: dict[str, int] = Field(default_factory=dict)
