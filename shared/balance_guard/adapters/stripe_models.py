"""Pydantic models of the Stripe objects we read, validated at the boundary.

Only the fields Balance Guard uses are declared; everything else Stripe sends is ignored.
Validation failures surface as `pydantic.ValidationError`, which the reader turns into a
notice (one bad list item) or a failed check (a malformed balance).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from balance_guard.domain.money import ABSURD_AMOUNT, normalize_currency

Currency = Annotated[str, AfterValidator(normalize_currency)]


def _sane(value: int) -> int:
    if abs(value) >= ABSURD_AMOUNT:
        raise ValueError(f"amount {value} is beyond any real balance")
    return value


Amount = Annotated[int, AfterValidator(_sane)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


def utc(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


class StripeSchedule(_Model):
    interval: str | None = None
    delay_days: int | None = None
    weekly_anchor: str | None = None
    weekly_payout_days: list[str] | None = None
    monthly_anchor: int | str | None = None  # Stripe may add named anchors; only days count
    monthly_payout_days: list[int] | None = None


class StripePayoutSettings(_Model):
    schedule: StripeSchedule | None = None


class StripeAccountSettings(_Model):
    payouts: StripePayoutSettings | None = None


class StripeBusinessProfile(_Model):
    name: str | None = None


class StripeAccount(_Model):
    id: str
    email: str | None = None
    business_profile: StripeBusinessProfile | None = None
    country: str | None = None
    default_currency: str | None = None  # normalised by the snapshot builder, with a fallback
    metadata: dict[str, Any] = Field(default_factory=dict)
    payouts_enabled: bool | None = None
    settings: StripeAccountSettings | None = None

    @field_validator("metadata", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return value if value is not None else {}


class BalanceEntry(_Model):
    amount: Amount
    currency: Currency


class PrefundingBalance(_Model):
    available: list[BalanceEntry] = Field(default_factory=list)
    pending: list[BalanceEntry] = Field(default_factory=list)


class StripeBalance(_Model):
    available: list[BalanceEntry]
    pending: list[BalanceEntry] = Field(default_factory=list)
    refund_and_dispute_prefunding: PrefundingBalance | None = None


class SettingsSchedule(_Model):
    interval: str | None = None
    weekly_payout_days: list[str] | None = None
    monthly_payout_days: list[int] | None = None


class SettingsPayouts(_Model):
    minimum_balance_by_currency: dict[str, Amount | None] | None = None
    schedule: SettingsSchedule | None = None
    status: Literal["enabled", "disabled"] | None = None


class SettingsPayments(_Model):
    payouts: SettingsPayouts | None = None


class StripeBalanceSettings(_Model):
    """Parsed by hand: stripe-python 16.1.0 crashes on this object's null transfer rules."""

    payments: SettingsPayments | None = None

    def minimum_balances(self) -> dict[str, int | None]:
        payouts = self.payments.payouts if self.payments else None
        raw = payouts.minimum_balance_by_currency if payouts else None
        return {normalize_currency(cur): amount for cur, amount in (raw or {}).items()}


class StripeCharge(_Model):
    id: str
    amount: Amount
    amount_refunded: Amount = 0
    currency: Currency
    status: str
    created: int


class StripeRefund(_Model):
    id: str
    amount: Amount
    currency: Currency
    status: str | None = None
    pending_reason: str | None = None
    charge: str | None = None
    created: int

    @field_validator("charge", mode="before")
    @classmethod
    def _expanded_id(cls, value: Any) -> Any:
        return value.get("id") if isinstance(value, dict) else value


class ReleaseSchedule(_Model):
    release_after: int | None = None
    scheduled_release: int | None = None


class StripeReserveHold(_Model):
    id: str
    amount: Amount
    amount_releasable: Amount | None = None
    currency: Currency
    reason: Literal["charge", "standalone"] = "charge"
    release_schedule: ReleaseSchedule | None = None
    reserve_plan: str | None = None
    source_charge: str | None = None

    @field_validator("reserve_plan", "source_charge", mode="before")
    @classmethod
    def _expanded_id(cls, value: Any) -> Any:
        return value.get("id") if isinstance(value, dict) else value


class FixedRelease(_Model):
    release_after: int | None = None


class RollingRelease(_Model):
    days_after_charge: int | None = None


class StripeReservePlan(_Model):
    id: str
    type: Literal["fixed_release", "rolling_release", "manual_release"]
    percent: float | None = None
    fixed_release: FixedRelease | None = None
    rolling_release: RollingRelease | None = None
    status: str = "active"
