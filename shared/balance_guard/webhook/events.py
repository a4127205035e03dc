"""Which Stripe events matter, and the rule each can change. Pure: no clock, no I/O.

An event is only a reason to re-check its account: nothing here reads its figures as
facts. What is read of its object is what tells a relevant event from routine traffic (a
refund that succeeded at once is not news; one pending for lack of funds is), and the
re-check then reads the account from Stripe as the night does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from balance_guard.domain.findings import RuleCode

# The events to select for the endpoint in the Stripe Dashboard (events on connected
# accounts), in the order the operator guide lists them.
WATCHED_EVENTS: tuple[str, ...] = (
    "refund.created", "refund.updated", "refund.failed", "charge.dispute.created",
    "payout.created", "payout.paid", "account.updated", "balance.available",
)

_CAPACITY = (RuleCode.NEGATIVE_BALANCE, RuleCode.REFUND_CAPACITY_SHORT)


@dataclass(frozen=True)
class Trigger:
    """A verified event worth a re-check: its account, and the rules it can change."""

    event_id: str
    event_type: str
    account: str
    rules: tuple[RuleCode, ...]


def rules_changed_by(event_type: str, obj: Mapping[str, Any]) -> tuple[RuleCode, ...]:
    """The rules an event of this type, about this object, can change; () for an event
    that changes none (routine traffic, or a type not watched)."""
    if event_type in ("refund.created", "refund.updated"):
        return _refund_rules(obj)
    if event_type == "refund.failed":
        # The money is back on its charge (exposure again) and a blocked refund may be gone.
        return (RuleCode.REFUND_BLOCKED, RuleCode.REFUND_CAPACITY_SHORT)
    if event_type == "charge.dispute.created":
        return _CAPACITY  # the disputed amount leaves the balance
    if event_type in ("payout.created", "payout.paid"):
        return _CAPACITY  # the sweep that can leave nothing behind for refunds
    if event_type == "account.updated":
        return (RuleCode.PAYOUTS_DISABLED,) if obj.get("payouts_enabled") is False else ()
    if event_type == "balance.available":
        return _CAPACITY
    return ()


def _refund_rules(refund: Mapping[str, Any]) -> tuple[RuleCode, ...]:
    status = refund.get("status")
    if status == "pending" and refund.get("pending_reason") == "insufficient_funds":
        return (RuleCode.REFUND_BLOCKED,)
    if status == "requires_action":
        return (RuleCode.REFUND_CAPACITY_SHORT,)
    if status == "failed":
        return (RuleCode.REFUND_BLOCKED, RuleCode.REFUND_CAPACITY_SHORT)
    return ()


def trigger_of(event_id: str, event_type: str, account: str | None,
               obj: Mapping[str, Any]) -> Trigger | None:
    """The re-check an event asks for, or None: an event of the platform's own account
    (no `account`), or one that changes no rule."""
    if not account:
        return None
    rules = rules_changed_by(event_type, obj)
    return Trigger(event_id, event_type, account, rules) if rules else None
