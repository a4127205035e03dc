"""Scenario files: the platform, its connected accounts and their Stripe data, in YAML.

A scenario says what Stripe would hold on a given day; the sandbox turns it into Stripe's
objects. Everything is validated here, so a typo in a scenario fails at load time with the
file name and the field, not as a puzzling response during a run.

Dates: a plain date (`2026-07-01`) means noon UTC that day, so an object dated by day falls
on that day in every North American time zone too; a datetime is taken as written (UTC when
it has no offset).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from balance_guard.domain.money import CurrencyError, normalize_currency

SAMPLE_SCENARIO = "sample_platform.yaml"
# The sandbox's published test key: not a secret, it opens nothing but the sandbox.
DEFAULT_SECRET_KEY = "sk_test_balance_guard_sandbox"  # noqa: S105

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
Endpoint = Literal[
    "account", "accounts", "balance", "balance_settings", "charges", "refunds",
    "balance_transactions", "reserve_holds", "reserve_plans",
]
ObjectKind = Literal[
    "account", "balance", "balance_settings", "charge", "refund", "balance_transaction",
    "reserve.hold", "reserve.plan",
]
BalanceType = Literal["payments", "refund_and_dispute_prefunding", "issuing"]


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message names the file and the problem."""


def _currency(code: str) -> str:
    try:
        return normalize_currency(code)
    except CurrencyError as error:
        raise ValueError(str(error)) from None


def _instant(value: Any) -> Any:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value  # pydantic reports it with the field's location
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(12), tzinfo=UTC)
    return value


def _stringify(value: Any) -> Any:
    """Stripe metadata values are strings; YAML may read `50000` as an int."""
    if isinstance(value, dict):
        return {str(k): v if isinstance(v, str) else str(v) for k, v in value.items()}
    return value


Currency = Annotated[str, AfterValidator(_currency)]
Instant = Annotated[datetime, BeforeValidator(_instant)]
Amounts = dict[Currency, int]
Positive = Annotated[int, Field(gt=0)]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PayoutScheduleSpec(_Spec):
    interval: Literal["daily", "weekly", "monthly", "manual"] = "daily"
    weekly_payout_days: tuple[Weekday, ...] = ()
    monthly_payout_days: tuple[Annotated[int, Field(ge=1, le=31)], ...] = ()
    delay_days: int = Field(default=2, ge=0, le=60)

    @model_validator(mode="after")
    def _days_match_interval(self) -> Self:
        if self.interval == "weekly" and not self.weekly_payout_days:
            raise ValueError("a weekly schedule needs weekly_payout_days")
        if self.interval == "monthly" and not self.monthly_payout_days:
            raise ValueError("a monthly schedule needs monthly_payout_days")
        return self


class BalanceSettingsSpec(_Spec):
    # None is how Stripe shows "no minimum balance set" (the fixture's value).
    minimum_balance_by_currency: dict[Currency, Annotated[int, Field(ge=0)]] | None = None
    payouts_status: Literal["enabled", "disabled"] = "enabled"


class PrefundingSpec(_Spec):
    available: Amounts = Field(default_factory=dict)
    pending: Amounts = Field(default_factory=dict)


class BalancesSpec(_Spec):
    available: Amounts = Field(default_factory=dict)
    pending: Amounts = Field(default_factory=dict)
    prefunding: PrefundingSpec = PrefundingSpec()


class PrefundingUpdate(_Spec):
    available: Amounts | None = None
    pending: Amounts | None = None


class BalanceUpdate(_Spec):
    """A balance change from a date on; fields left out keep their earlier value."""

    available: Amounts | None = None
    pending: Amounts | None = None
    prefunding: PrefundingUpdate | None = None

    def apply(self, base: BalancesSpec) -> BalancesSpec:
        prefunding = base.prefunding
        if self.prefunding is not None:
            prefunding = PrefundingSpec(
                available=_newer(self.prefunding.available, prefunding.available),
                pending=_newer(self.prefunding.pending, prefunding.pending),
            )
        return BalancesSpec(available=_newer(self.available, base.available),
                            pending=_newer(self.pending, base.pending), prefunding=prefunding)


def _newer(update: dict[str, int] | None, current: dict[str, int]) -> dict[str, int]:
    return current if update is None else update


class ChargeSpec(_Spec):
    id: str | None = None
    amount: Positive
    # When the scenario lists refunds of this charge, the served value is their total so far
    # (so it grows as the clock reaches each refund); this must then be 0 or that final total.
    amount_refunded: int = Field(default=0, ge=0)
    currency: Currency
    status: Literal["succeeded", "pending", "failed"] = "succeeded"
    created: Instant
    description: str | None = None
    disputed: bool = False
    # `count` copies of this charge, each `every_minutes` earlier than the one before.
    count: int = Field(default=1, ge=1, le=100_000)
    every_minutes: int = Field(default=60, ge=1)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.amount_refunded > self.amount:
            raise ValueError("amount_refunded cannot exceed amount")
        if self.status != "succeeded" and self.amount_refunded:
            raise ValueError("only a succeeded charge can be refunded")
        if self.id is not None and self.count > 1:
            raise ValueError("an explicit id cannot be shared by count > 1 charges")
        return self


class RefundSpec(_Spec):
    id: str | None = None
    amount: Positive
    currency: Currency
    status: Literal["pending", "requires_action", "succeeded", "failed", "canceled"] = (
        "succeeded")
    pending_reason: Literal["processing", "insufficient_funds", "charge_pending"] | None = None
    charge: str | None = None
    created: Instant
    reason: Literal["duplicate", "fraudulent", "requested_by_customer"] | None = (
        "requested_by_customer")
    # Which balance paid it: Stripe takes refunds from the prefunding balance when the
    # payments balance is short; this only changes the balance transaction's balance_type.
    funded_from: BalanceType = "payments"

    @model_validator(mode="after")
    def _reason_only_when_pending(self) -> Self:
        if self.pending_reason is not None and self.status != "pending":
            raise ValueError("pending_reason is only for a pending refund")
        return self


class FixedReleaseSpec(_Spec):
    release_after: Instant


class RollingReleaseSpec(_Spec):
    days_after_charge: int = Field(ge=1, le=3650)
    expires_on: Instant | None = None


class ReservePlanSpec(_Spec):
    id: str
    type: Literal["fixed_release", "rolling_release", "manual_release"]
    percent: int = Field(ge=1, le=100)
    currency: Currency | None = None
    fixed_release: FixedReleaseSpec | None = None
    rolling_release: RollingReleaseSpec | None = None
    status: Literal["active", "disabling", "disabled", "expired"] = "active"
    created: Instant | None = None

    @model_validator(mode="after")
    def _terms_match_type(self) -> Self:
        if self.type == "fixed_release" and self.fixed_release is None:
            raise ValueError("a fixed_release plan needs fixed_release.release_after")
        if self.type == "rolling_release" and self.rolling_release is None:
            raise ValueError("a rolling_release plan needs rolling_release.days_after_charge")
        return self


class ReserveHoldSpec(_Spec):
    id: str | None = None
    amount: Positive
    # Still held; defaults to `amount`, and drops to 0 once the release date has passed.
    amount_releasable: int | None = Field(default=None, ge=0)
    currency: Currency
    reason: Literal["charge", "standalone"] = "charge"
    # Defaults from the plan: its fixed date, or the source charge plus the rolling window.
    release_after: Instant | None = None
    reserve_plan: str | None = None
    source_charge: str | None = None
    created: Instant | None = None
    created_by: Literal["application", "stripe"] = "stripe"


class BalanceTransactionSpec(_Spec):
    """A balance movement not derived from a charge, refund or hold (a top-up, a fee...)."""

    id: str | None = None
    amount: int
    currency: Currency
    type: str = "topup"
    reporting_category: str | None = None
    balance_type: BalanceType = "payments"
    created: Instant
    description: str | None = None
    source: str | None = None
    fee: int = 0


class AccountSpec(_Spec):
    id: Annotated[str, Field(pattern=r"^acct_[A-Za-z0-9]{6,}$")]
    business_name: str
    email: str | None = None
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] = "CA"
    default_currency: Currency = "cad"
    type: Literal["express", "standard", "custom"] = "express"
    timezone: str | None = None
    created: Instant | None = None
    metadata: Annotated[dict[str, str], BeforeValidator(_stringify)] = Field(
        default_factory=dict)
    payouts_enabled: bool = True
    charges_enabled: bool = True
    payout_schedule: PayoutScheduleSpec = PayoutScheduleSpec()
    # "unavailable": the endpoint answers an error, as it may for Express accounts.
    balance_settings: BalanceSettingsSpec | Literal["unavailable"] = BalanceSettingsSpec()
    balances: BalancesSpec = BalancesSpec()
    balance_history: dict[date, BalanceUpdate] = Field(default_factory=dict)
    charges: tuple[ChargeSpec, ...] = ()
    refunds: tuple[RefundSpec, ...] = ()
    reserve_plans: tuple[ReservePlanSpec, ...] = ()
    reserve_holds: tuple[ReserveHoldSpec, ...] = ()
    balance_transactions: tuple[BalanceTransactionSpec, ...] = ()
    # Fault injection for this account: an HTTP status, a dropped connection, or a body
    # that is not JSON; on the listed endpoints (all when omitted), for the first
    # `fail_first` requests (all when omitted). A 429 answers as a real rate limit: code
    # `rate_limit`, `Stripe-Rate-Limited-Reason: global-rate` and no Stripe-Should-Retry, so
    # the SDK does not retry it. `fail_should_retry` sets the Stripe-Should-Retry header on
    # injected errors (by default none carries it; the SDK retries 5xx on its own).
    fail_with: Annotated[int, Field(ge=400, le=599)] | Literal["drop", "malformed"] | None = None
    fail_on: tuple[Endpoint, ...] | None = None
    fail_first: int | None = Field(default=None, ge=1)
    fail_should_retry: bool | None = None
    # Deep-merged into every served object of that kind: malformed-data tests.
    object_overrides: dict[ObjectKind, dict[str, Any]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _references_exist(self) -> Self:
        charges = {c.id: c for c in self.charges if c.id}
        plan_ids = {p.id for p in self.reserve_plans}
        for refund in self.refunds:
            if refund.charge and refund.charge not in charges:
                raise ValueError(f"refund refers to unknown charge {refund.charge!r}")
        for charge_id, charge in charges.items():
            total = self.refunded_by_refunds(charge_id, None)
            if total is not None and charge.amount_refunded not in (0, total):
                raise ValueError(f"charge {charge_id}: amount_refunded {charge.amount_refunded} "
                                 f"differs from its refunds' total {total}")
            if total is not None and total > charge.amount:
                raise ValueError(f"charge {charge_id}: refunds exceed the charge")
        for hold in self.reserve_holds:
            if hold.source_charge and hold.source_charge not in charges:
                raise ValueError(f"reserve hold refers to unknown charge {hold.source_charge!r}")
            if hold.reserve_plan and hold.reserve_plan not in plan_ids:
                raise ValueError(f"reserve hold refers to unknown plan {hold.reserve_plan!r}")
            if hold.created is None and hold.source_charge is None:
                raise ValueError("a reserve hold needs `created` or a `source_charge`")
        explicit = [o.id for group in (self.charges, self.refunds, self.reserve_holds,
                                       self.balance_transactions) for o in group if o.id]
        explicit += list(plan_ids)
        if len(explicit) != len(set(explicit)) or len(plan_ids) != len(self.reserve_plans):
            raise ValueError("object ids must be unique within an account")
        return self

    def refunded_by_refunds(self, charge_id: str, before: datetime | None) -> int | None:
        """Total of the scenario's live refunds of a charge (created before `before`, if
        given), or None when the scenario lists no refund for it.

        Stripe counts pending refunds in a charge's `amount_refunded`; failed and canceled
        ones give the money back.
        """
        linked = [r for r in self.refunds if r.charge == charge_id]
        if not linked:
            return None
        return sum(r.amount for r in linked if r.status not in ("failed", "canceled")
                   and (before is None or r.created < before))

    def balances_on(self, day: date) -> BalancesSpec:
        """The balances the account shows on `day`: history entries up to it, in order."""
        current = self.balances
        for when in sorted(self.balance_history):
            if when <= day:
                current = self.balance_history[when].apply(current)
        return current


class PlatformSpec(_Spec):
    account_id: Annotated[str, Field(pattern=r"^acct_[A-Za-z0-9]{6,}$")]
    business_name: str
    email: str | None = None
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] = "CA"
    default_currency: Currency = "cad"
    secret_key: Annotated[str, Field(pattern=r"^(sk|rk)_(test|live)_[A-Za-z0-9_]{8,}$")] = (
        DEFAULT_SECRET_KEY)
    # Reserves are a preview API: without access, Stripe refuses /v1/reserve/*.
    reserves_preview: bool = True
    balances: BalancesSpec = BalancesSpec()


class StepSpec(_Spec):
    """The sandbox's clock moves to `clock` `after_seconds` after the sandbox starts; with
    `--webhook-url`, the events of what that move changed are posted (sandbox/webhooks.py)."""

    after_seconds: float = Field(ge=0, le=86_400)
    clock: date


class Scenario(_Spec):
    description: str | None = None
    # The sandbox's default day; objects created after its end (UTC) are not served yet.
    clock: date
    # Clock moves while the sandbox runs, in time order: how a scenario changes the world
    # under a running `balance-guard listen`.
    steps: tuple[StepSpec, ...] = ()
    platform: PlatformSpec
    accounts: tuple[AccountSpec, ...] = ()

    @field_validator("accounts")
    @classmethod
    def _unique_accounts(cls, accounts: tuple[AccountSpec, ...]) -> tuple[AccountSpec, ...]:
        ids = [a.id for a in accounts]
        if len(ids) != len(set(ids)):
            raise ValueError("connected account ids must be unique")
        return accounts

    @model_validator(mode="after")
    def _platform_is_not_connected(self) -> Self:
        if any(a.id == self.platform.account_id for a in self.accounts):
            raise ValueError("the platform's id cannot also be a connected account's")
        return self

    @field_validator("steps")
    @classmethod
    def _steps_in_order(cls, steps: tuple[StepSpec, ...]) -> tuple[StepSpec, ...]:
        return tuple(sorted(steps, key=lambda s: s.after_seconds))

    def account(self, account_id: str) -> AccountSpec | None:
        return next((a for a in self.accounts if a.id == account_id), None)


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
    """Validate YAML text; errors name `source` and every bad field."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ScenarioError(f"{source}: not valid YAML: {error}") from None
    try:
        return Scenario.model_validate(raw)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '<top>'}: {e['msg']}"
            for e in error.errors()[:10]
        )
        raise ScenarioError(f"{source}: invalid scenario: {problems}") from None


def load_scenario(path: str | Path | None = None) -> Scenario:
    """A scenario file, or the packaged sample platform when `path` is None."""
    if path is None:
        packaged = resources.files("balance_guard.sandbox") / "scenarios" / SAMPLE_SCENARIO
        return parse_scenario(packaged.read_text(encoding="utf-8"), SAMPLE_SCENARIO)
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise ScenarioError(f"{file}: cannot read scenario: {error.strerror}") from None
    return parse_scenario(text, str(file))
