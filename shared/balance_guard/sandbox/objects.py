"""Stripe objects built from scenario values, each starting from Stripe's example.

Every builder takes a fresh copy of Stripe's example object (see `templates`) and overlays
the scenario's values, replacing the example's placeholders (ids like `obj_123`,
`livemode: true`, timestamps from 1970s-2009, nonsense integers) with consistent ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from balance_guard.domain.money import exponent
from balance_guard.sandbox.ids import (
    LONG_ID,
    day_start,
    midnight_after,
    stable_id,
    stable_index,
    timestamp,
)
from balance_guard.sandbox.scenario import (
    AccountSpec,
    BalanceSettingsSpec,
    BalancesSpec,
    BalanceTransactionSpec,
    ChargeSpec,
    PayoutScheduleSpec,
    RefundSpec,
    ReserveHoldSpec,
    ReservePlanSpec,
)
from balance_guard.sandbox.templates import JsonObject, deep_merge, template

_TIMEZONES = {
    "CA": "America/Toronto", "US": "America/New_York", "JP": "Asia/Tokyo",
    "FR": "Europe/Paris", "GB": "Europe/London",
}
_CONTROLLERS: dict[str, JsonObject] = {
    "standard": {"type": "account"},
    "express": {
        "type": "application", "is_controller": True, "fees": {"payer": "application_express"},
        "losses": {"payments": "application"}, "requirement_collection": "stripe",
        "stripe_dashboard": {"type": "express"},
    },
    "custom": {
        "type": "application", "is_controller": True, "fees": {"payer": "application"},
        "losses": {"payments": "application"}, "requirement_collection": "application",
        "stripe_dashboard": {"type": "none"},
    },
}
_RESIDENTS = (
    "Camille Tremblay", "Olivia Chen", "Mathieu Gagnon", "Liam O'Connor", "Chloé Roy",
    "Noah Williams", "Sofia Martins", "Gabriel Côté", "Emma Nguyen", "Yuki Tanaka",
)
_CARD_BRANDS = (("visa", "4242"), ("mastercard", "4444"), ("visa", "1881"), ("amex", "8431"))
# Residents pay in the mobile app (Apple Pay, Google Pay) or the web portal (Link).
_WALLETS = ("apple_pay", "google_pay", "link")
# Stripe's standard card pricing: 2.9 % plus a fixed fee of 30 cents (none for zero-decimal).
_FEE_PERCENT = Decimal("0.029")
_FIXED_FEE = {0: 0, 2: 30, 3: 300}
_RECEIPTS = "https://pay.stripe.com/receipts/payment/"
_DOCUMENTATION_IP = "192.0.2.10"  # RFC 5737: never a real address


@dataclass(frozen=True)
class ChargeRow:
    """One charge of the scenario, with its id and creation time settled."""

    id: str
    spec: ChargeSpec
    created: datetime
    seq: int


@dataclass(frozen=True)
class RefundRow:
    id: str
    spec: RefundSpec
    seq: int


@dataclass(frozen=True)
class HoldRow:
    id: str
    spec: ReserveHoldSpec
    created: datetime
    release_after: datetime | None
    seq: int

    @property
    def scheduled_release(self) -> datetime | None:
        return midnight_after(self.release_after) if self.release_after else None


def timezone_of(account: AccountSpec) -> str:
    return account.timezone or _TIMEZONES.get(account.country, "Etc/UTC")


def payment_intent_id(charge_id: str) -> str:
    return stable_id("pi", charge_id)


def transaction_id(source_id: str) -> str:
    return stable_id("txn", source_id)


def release_id(hold_id: str) -> str:
    return stable_id("resrel", hold_id, length=LONG_ID)


def stripe_fee(amount: int, currency: str) -> int:
    percent = (Decimal(amount) * _FEE_PERCENT).quantize(Decimal(1), ROUND_HALF_UP)
    return int(percent) + _FIXED_FEE.get(exponent(currency), 0)


def list_object(url: str, data: list[JsonObject], has_more: bool) -> JsonObject:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def _schedule(schedule: PayoutScheduleSpec) -> JsonObject:
    fields: JsonObject = {"interval": schedule.interval}
    if schedule.interval == "weekly":
        fields["weekly_payout_days"] = list(schedule.weekly_payout_days)
    if schedule.interval == "monthly":
        fields["monthly_payout_days"] = list(schedule.monthly_payout_days)
    return fields


def _account_schedule(schedule: PayoutScheduleSpec) -> JsonObject:
    fields = {"delay_days": schedule.delay_days, **_schedule(schedule)}
    # The older single-day anchors, still sent beside the newer lists.
    if schedule.weekly_payout_days and schedule.interval == "weekly":
        fields["weekly_anchor"] = schedule.weekly_payout_days[0]
    if schedule.monthly_payout_days and schedule.interval == "monthly":
        fields["monthly_anchor"] = schedule.monthly_payout_days[0]
    return fields


def account_object(account: AccountSpec, created: datetime) -> JsonObject:
    due = [] if account.payouts_enabled else ["external_account"]
    status = "active" if account.charges_enabled else "inactive"
    overlay: JsonObject = {
        "id": account.id,
        "type": account.type,
        "business_profile": {
            "name": account.business_name, "mcc": "6513",  # real estate agents: rentals
            "product_description": "Residential rent, deposits and building fees",
            "support_email": account.email, "support_address": {"country": account.country},
        },
        "business_type": "company",
        "capabilities": {"card_payments": status, "transfers": status},
        "charges_enabled": account.charges_enabled,
        "controller": _CONTROLLERS[account.type],
        "country": account.country,
        "created": timestamp(created),
        "default_currency": account.default_currency,
        "details_submitted": True,
        "email": account.email,
        "external_accounts": {"url": f"/v1/accounts/{account.id}/external_accounts"},
        "metadata": dict(account.metadata),
        "payouts_enabled": account.payouts_enabled,
        "requirements": {
            "currently_due": due, "eventually_due": due, "past_due": due,
            "disabled_reason": "requirements.past_due" if due else None,
        },
        "settings": {
            "dashboard": {"display_name": account.business_name,
                          "timezone": timezone_of(account)},
            "payouts": {"schedule": _account_schedule(account.payout_schedule)},
        },
        "tos_acceptance": {"date": timestamp(created), "ip": _DOCUMENTATION_IP},
    }
    obj = deep_merge(template("account"), overlay)
    obj["controller"] = dict(_CONTROLLERS[account.type])  # replace, not merge, the example's
    return obj


def _currencies(default: str, *amounts: dict[str, int]) -> list[str]:
    """Currencies to list: the default first (always, so a new account shows a 0 entry)."""
    found: set[str] = set().union(*amounts)
    return [default, *sorted(found - {default})]


def _entries(amounts: dict[str, int], currencies: list[str], source: str) -> list[JsonObject]:
    return [
        {"amount": amounts.get(cur, 0), "currency": cur,
         "source_types": {source: amounts.get(cur, 0)}}
        for cur in currencies
    ]


def balance_object(balances: BalancesSpec, default_currency: str) -> JsonObject:
    payments = _currencies(default_currency, balances.available, balances.pending)
    prefunding = balances.prefunding
    prefund = _currencies(default_currency, prefunding.available, prefunding.pending)
    obj = template("balance")
    obj.update(
        available=_entries(balances.available, payments, "card"),
        pending=_entries(balances.pending, payments, "card"),
        connect_reserved=[{"amount": 0, "currency": default_currency}],
        livemode=False,
        # Money added by wire or ACH: Stripe files it under bank_account.
        refund_and_dispute_prefunding={
            "available": _entries(prefunding.available, prefund, "bank_account"),
            "pending": _entries(prefunding.pending, prefund, "bank_account"),
        },
    )
    return obj


def balance_settings_object(
    settings: BalanceSettingsSpec, schedule: PayoutScheduleSpec, timezone: str
) -> JsonObject:
    minimums = settings.minimum_balance_by_currency
    overlay = {"payments": {
        "debit_negative_balances": True,
        "payouts": {
            "minimum_balance_by_currency": dict(minimums) if minimums is not None else None,
            "schedule": _schedule(schedule),
            "status": settings.payouts_status,
            # automatic_transfer_rules_by_currency stays null, exactly as Stripe's example:
            # that null is what crashes stripe-python 16.1.0, so the product must meet it.
        },
        "settlement_timing": {
            "delay_days": schedule.delay_days,
            "start_of_day": {"hour": 0, "minutes": 0, "timezone": timezone},
        },
    }}
    return deep_merge(template("balance_settings"), overlay)


def _descriptor(name: str) -> str:
    """What a card statement shows: Latin letters and digits only, at most 22 characters."""
    kept = "".join(ch for ch in name.upper() if ch.isascii() and (ch.isalnum() or ch == " "))
    return " ".join(kept.split())[:22] or "RENT"


def _card(charge_id: str, country: str, amount: int) -> JsonObject:
    brand, last4 = _CARD_BRANDS[stable_index(len(_CARD_BRANDS), "card", charge_id)]
    return {
        "brand": brand, "network": brand, "last4": last4, "country": country,
        "exp_month": 8, "exp_year": 2030, "funding": "credit",
        "fingerprint": stable_id("fp", charge_id, length=16)[3:],
        "checks": {"cvc_check": "pass", "address_postal_code_check": "pass"},
        "overcapture": {"maximum_amount_capturable": amount, "status": "unavailable"},
        "wallet": {"dynamic_last4": None,
                   "type": _WALLETS[stable_index(len(_WALLETS), "wallet", charge_id)]},
    }


def _outcome(status: str) -> JsonObject:
    if status == "failed":
        return {"network_status": "declined_by_network", "reason": "generic_decline",
                "risk_level": "normal", "type": "issuer_declined",
                "seller_message": "The bank did not return any further details with this "
                                  "decline."}
    return {"network_status": "approved_by_network", "reason": None, "risk_level": "normal",
            "seller_message": "Payment complete.", "type": "authorized"}


def charge_object(
    row: ChargeRow, account: AccountSpec, refunds: list[JsonObject], amount_refunded: int
) -> JsonObject:
    spec = row.spec
    succeeded = spec.status == "succeeded"
    resident = _RESIDENTS[stable_index(len(_RESIDENTS), "resident", row.id)]
    created = timestamp(row.created)
    card = _card(row.id, account.country, spec.amount)
    return deep_merge(template("charge"), {
        "id": row.id,
        "amount": spec.amount,
        "amount_captured": spec.amount if succeeded else 0,
        "amount_refunded": amount_refunded,
        "balance_transaction": transaction_id(row.id) if succeeded else None,
        "billing_details": {"name": resident, "address": {"country": account.country}},
        "calculated_statement_descriptor": _descriptor(account.business_name),
        "captured": spec.status != "failed",
        "created": created,
        "currency": spec.currency,
        "description": spec.description or "Rent payment",
        "disputed": spec.disputed,
        "failure_code": "card_declined" if spec.status == "failed" else None,
        "failure_message": "Your card was declined." if spec.status == "failed" else None,
        "livemode": False,
        "outcome": _outcome(spec.status),
        "paid": spec.status != "failed",
        "payment_intent": payment_intent_id(row.id),
        "payment_method": stable_id("pm", row.id),
        "payment_method_details": {"card": card},
        "receipt_url": _RECEIPTS + stable_id("r", row.id, length=40)[2:],
        "refunded": amount_refunded == spec.amount,
        "refunds": {"data": refunds, "has_more": False, "url": f"/v1/charges/{row.id}/refunds"},
        "status": spec.status,
        "transfer_data": {"destination": {"id": account.id, "object": "account"}},
        "source": {
            "id": stable_id("src", row.id),
            "client_secret": stable_id("src_client_secret", row.id),
            "created": created, "flow": "none", "livemode": False, "metadata": {},
            "owner": {"name": resident}, "status": "consumed", "type": "card",
            "usage": "single_use",
        },
    })


def refund_object(row: RefundRow) -> JsonObject:
    spec = row.spec
    succeeded = spec.status == "succeeded"
    reference = "available" if succeeded else "pending"
    return deep_merge(template("refund"), {
        "id": row.id,
        "amount": spec.amount,
        "balance_transaction": transaction_id(row.id) if succeeded else None,
        "charge": spec.charge,
        "created": timestamp(spec.created),
        "currency": spec.currency,
        "destination_details": {"card": {
            "type": "refund", "reference_status": reference,
            "reference_type": "acquirer_reference_number",
            "reference": stable_id("arn", row.id, length=23)[4:] if succeeded else None,
        }},
        "payment_intent": payment_intent_id(spec.charge) if spec.charge else None,
        "payment_method": stable_id("pm", spec.charge) if spec.charge else None,
        "reason": spec.reason,
        "status": spec.status,
        "pending_reason": spec.pending_reason,
        "failure_reason": "lost_or_stolen_card" if spec.status == "failed" else None,
    })


def _transaction(
    txn_id: str, amount: int, currency: str, created: datetime, *, fee: int = 0,
    available_on: datetime | None = None, now: datetime, **fields: Any,
) -> JsonObject:
    available = available_on or created
    fee_details = [{"amount": fee, "application": None, "currency": currency,
                    "description": "Stripe processing fees", "type": "stripe_fee"}] if fee else []
    return deep_merge(template("balance_transaction"), {
        "id": txn_id, "amount": amount, "currency": currency, "created": timestamp(created),
        "available_on": timestamp(available), "fee": fee, "fee_details": fee_details,
        "net": amount - fee, "status": "available" if available < now else "pending",
        "exchange_rate": None, **fields,
    })


def charge_transaction(row: ChargeRow, delay_days: int, now: datetime) -> JsonObject:
    spec = row.spec
    # Funds become available at midnight UTC, delay_days after the charge.
    available_on = day_start(row.created.date() + timedelta(days=delay_days))
    return _transaction(
        transaction_id(row.id), spec.amount, spec.currency, row.created,
        fee=stripe_fee(spec.amount, spec.currency), available_on=available_on, now=now,
        description=spec.description or "Rent payment", reporting_category="charge",
        source=row.id, type="charge", balance_type="payments",
    )


def refund_transaction(row: RefundRow, now: datetime) -> JsonObject:
    spec = row.spec
    return _transaction(
        transaction_id(row.id), -spec.amount, spec.currency, spec.created, now=now,
        description="REFUND FOR CHARGE (Rent payment)", reporting_category="refund",
        source=row.id, type="refund", balance_type=spec.funded_from,
    )


def hold_transactions(row: HoldRow, released: bool, now: datetime) -> list[JsonObject]:
    spec = row.spec
    found = [_transaction(
        transaction_id(row.id), -spec.amount, spec.currency, row.created, now=now,
        description="Reserve hold", reporting_category="risk_reserved_funds",
        source=row.id, type="reserve_hold", balance_type="payments",
    )]
    if released and row.scheduled_release is not None:
        found.append(_transaction(
            transaction_id(release_id(row.id)), spec.amount, spec.currency,
            row.scheduled_release, now=now, description="Reserve release",
            reporting_category="risk_reserved_funds", source=release_id(row.id),
            type="reserve_release", balance_type="payments",
        ))
    return found


def extra_transaction(txn_id: str, spec: BalanceTransactionSpec, now: datetime) -> JsonObject:
    return _transaction(
        txn_id, spec.amount, spec.currency, spec.created, fee=spec.fee, now=now,
        description=spec.description, reporting_category=spec.reporting_category or spec.type,
        source=spec.source, type=spec.type, balance_type=spec.balance_type,
    )


def hold_object(row: HoldRow, released: bool) -> JsonObject:
    spec = row.spec
    held = 0 if released else (
        spec.amount if spec.amount_releasable is None else min(spec.amount_releasable,
                                                               spec.amount))
    freed = spec.amount - held
    scheduled = row.scheduled_release
    return deep_merge(template("reserve.hold"), {
        "id": row.id,
        "amount": spec.amount,
        "amount_releasable": held,
        "is_releasable": held > 0,
        "created": timestamp(row.created),
        "created_by": spec.created_by,
        "currency": spec.currency,
        "livemode": False,
        "metadata": {},
        "reason": spec.reason,
        "release_schedule": {
            "release_after": timestamp(row.release_after) if row.release_after else None,
            "scheduled_release": timestamp(scheduled) if scheduled else None,
        },
        "release_details": [{"amount": freed, "reserve_release": release_id(row.id)}]
        if freed else [],
        "reserve_plan": spec.reserve_plan,
        "source_charge": spec.source_charge,
        "source_type": "card",
    })


def plan_object(spec: ReservePlanSpec, created: datetime) -> JsonObject:
    fixed = spec.fixed_release
    rolling = spec.rolling_release
    return deep_merge(template("reserve.plan"), {
        "id": spec.id,
        "created": timestamp(created),
        "created_by": "stripe",
        "currency": spec.currency,
        "disabled_at": timestamp(created) if spec.status == "disabled" else None,
        "livemode": False,
        "metadata": {},
        "percent": spec.percent,
        "status": spec.status,
        "type": spec.type,
        "fixed_release": {
            "release_after": timestamp(fixed.release_after),
            "scheduled_release": timestamp(midnight_after(fixed.release_after)),
        } if fixed else None,
        "rolling_release": {
            "days_after_charge": rolling.days_after_charge,
            "expires_on": timestamp(rolling.expires_on) if rolling.expires_on else None,
        } if rolling else None,
    })
