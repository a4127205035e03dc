"""Pydantic models of the Stripe objects we read, validated at the boundary.

Only the fields Balance Guard uses are declared; everything else Stripe sends is ignored.
Validation failures surface as `pydantic.ValidationError`, which the reader turns into a
notice (one bad list item) or a failed check (a malformed balance).

Stripe's enums are open: it adds values without a new API version. Enum-like fields are
plain strings here, and so are the settings a single odd value must not void (a schedule's
days, a minimum balance, a release date): the snapshot builder reads them and turns what
it cannot use into a notice. Amounts are strict integers (a JSON `true` is not 1), and an
impossible figure (a negative charge, more refunded than charged) rejects the object.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    field_validator,
    model_validator,
)

from balance_guard.domain.money import ABSURD_AMOUNT, normalize_currency

Currency = Annotated[str, AfterValidator(normalize_currency)]
# Unix seconds; 2200-01-01 leaves the calendar room to count days past any real date.
LATEST_TIMESTAMP = 7_258_118_400


def _sane(value: int) -> int:
    if abs(value) >= ABSURD_AMOUNT:
        raise ValueError(f"amount {value} is beyond any real balance")
    return value


def _not_negative(value: int) -> int:
    if value < 0:
        raise ValueError(f"amount {value} is negative")
    return value


def _representable(value: int) -> int:
    if not 0 <= value < LATEST_TIMESTAMP:
        raise ValueError(f"timestamp {value} is not a date Stripe could mean")
    return value


# A balance may be negative; what was charged, refunded or held never is.
Amount = Annotated[StrictInt, AfterValidator(_sane)]
Paid = Annotated[StrictInt, AfterValidator(_sane), AfterValidator(_not_negative)]
Timestamp = Annotated[StrictInt, AfterValidator(_representable)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


def utc(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


def whole_number(value: object) -> int | None:
    """An integer as JSON sends one (`3`, or `3.0` from a float encoder), else None: a
    JSON `true` is not 1, and neither is `"3"`, `3.5`, NaN or infinity."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def moment(value: object) -> datetime | None:
    """Unix seconds as a UTC datetime, or None when `value` is no date Stripe could mean."""
    seconds = whole_number(value)
    if seconds is None or not 0 <= seconds < LATEST_TIMESTAMP:
        return None
    return utc(seconds)


class StripeSchedule(_Model):
    interval: str | None = None
    delay_days: Any = None  # unused by the rules; kept when it is a whole number
    weekly_anchor: str | None = None
    weekly_payout_days: list[Any] | None = None
    monthly_anchor: Any = None  # Stripe may add named anchors; only days count
    monthly_payout_days: list[Any] | None = None


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

    @property
    def display_name(self) -> str:
        """The building's name as its owner typed it, else the account id."""
        return (self.business_profile.name if self.business_profile else None) or self.id


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
    weekly_payout_days: list[Any] | None = None
    monthly_payout_days: list[Any] | None = None


class SettingsPayouts(_Model):
    # currency -> minor units or null, as sent: one odd entry must not void the others.
    minimum_balance_by_currency: dict[str, Any] | None = None
    schedule: SettingsSchedule | None = None
    status: str | None = None  # "enabled" / "disabled" so far


class SettingsPayments(_Model):
    payouts: SettingsPayouts | None = None


class StripeBalanceSettings(_Model):
    """Parsed by hand: stripe-python 16.1.0 crashes on this object's null transfer rules."""

    payments: SettingsPayments | None = None

    @property
    def payouts(self) -> SettingsPayouts | None:
        return self.payments.payouts if self.payments else None


class StripeCharge(_Model):
    id: str
    amount: Paid
    amount_refunded: Paid = 0
    currency: Currency
    status: str
    created: Timestamp

    @model_validator(mode="after")
    def _refunded_within_amount(self) -> StripeCharge:
        if self.amount_refunded > self.amount:
            raise ValueError(f"amount_refunded {self.amount_refunded} is above the amount "
                             f"{self.amount}")
        return self


class StripeRefund(_Model):
    id: str
    amount: Paid
    currency: Currency
    status: str | None = None
    pending_reason: str | None = None
    charge: str | None = None
    created: Timestamp

    @field_validator("charge", mode="before")
    @classmethod
    def _expanded_id(cls, value: Any) -> Any:
        return value.get("id") if isinstance(value, dict) else value


class ReleaseSchedule(_Model):
    # Unix seconds as sent: a value that is no date leaves the hold held, with a notice.
    release_after: Any = None
    scheduled_release: Any = None


class StripeReserveHold(_Model):
    id: str
    amount: Paid
    amount_releasable: Paid | None = None
    currency: Currency
    reason: str | None = "charge"  # "charge" / "standalone" so far
    release_schedule: ReleaseSchedule | None = None
    reserve_plan: str | None = None
    source_charge: str | None = None

    @field_validator("reserve_plan", "source_charge", mode="before")
    @classmethod
    def _expanded_id(cls, value: Any) -> Any:
        return value.get("id") if isinstance(value, dict) else value


class FixedRelease(_Model):
    release_after: Any = None  # Unix seconds as sent, like a hold's


class RollingRelease(_Model):
    days_after_charge: int | None = None


class StripeReservePlan(_Model):
    id: str
    type: str  # "fixed_release" / "rolling_release" / "manual_release" so far
    percent: float | None = None
    fixed_release: FixedRelease | None = None
    rolling_release: RollingRelease | None = None
    status: str = "active"
