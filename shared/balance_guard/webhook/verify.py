"""Whether a request is a Stripe event sent to us: its size, its `Stripe-Signature` (the
SDK's own verification, with a 5-minute tolerance) and its shape. Imports the stripe SDK
only; the clock is the SDK's.

A refusal carries the HTTP status to answer and one line for the log. The signature is
checked before anything in the body is read, so an unsigned body never reaches the
replay store or the queue.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import stripe

TOLERANCE_S = 300
# Stripe's event payloads are a few kilobytes; a megabyte-sized body is not one of them.
MAX_BODY_BYTES = 256 * 1024
SIGNATURE_HEADER = "stripe-signature"

_EVENT_ID = re.compile(r"evt_[A-Za-z0-9_]{1,250}")
_ACCOUNT_ID = re.compile(r"acct_[A-Za-z0-9]{1,250}")
_EVENT_TYPE = re.compile(r"[a-z_]+(\.[a-z_]+){1,4}")


class RefusedError(Exception):
    """A request answered with `status` and nothing done; `reason` is the log's line."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class VerifiedEvent:
    """A signed Stripe event: `account` is None for the platform's own events."""

    id: str
    type: str
    account: str | None
    created: int
    object: Mapping[str, Any] = field(default_factory=dict)


def check_size(length: int | None, limit: int = MAX_BODY_BYTES) -> None:
    """Refuse a body announced (or read) longer than `limit`, before reading it."""
    if length is not None and length > limit:
        raise RefusedError(413, f"body of {length} bytes is over the {limit}-byte limit")


def verify(body: bytes, headers: Mapping[str, str], secret: str,
           limit: int = MAX_BODY_BYTES) -> VerifiedEvent:
    """The event in `body`, once its signature is proven; raises RefusedError. `headers` are
    matched case-insensitively."""
    check_size(len(body), limit)
    signature = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER), None)
    if not signature:
        raise RefusedError(400, "no Stripe-Signature header")
    try:
        stripe.Webhook.construct_event(body, signature, secret, tolerance=TOLERANCE_S)
    except stripe.SignatureVerificationError as error:
        raise RefusedError(400, _signature_problem(str(error))) from None
    except ValueError:  # signed, yet not JSON: never from Stripe
        raise RefusedError(400, "signed body is not JSON") from None
    return _event(json.loads(body))


def _signature_problem(message: str) -> str:
    text = message.lower()
    if "tolerance" in text:
        return f"signature timestamp is more than {TOLERANCE_S} s away (an old or replayed request)"
    if "timestamp" in text or "unable to extract" in text:
        return "Stripe-Signature header is malformed"
    return "signature does not match (another endpoint's secret, or a body changed on the way)"


def _event(raw: Any) -> VerifiedEvent:
    if not isinstance(raw, dict) or raw.get("object") != "event":
        raise RefusedError(400, "signed body is not a Stripe event")
    ident, kind, account = raw.get("id"), raw.get("type"), raw.get("account")
    data = raw.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not (isinstance(ident, str) and _EVENT_ID.fullmatch(ident)):
        raise RefusedError(400, "signed event has no usable id")
    if not (isinstance(kind, str) and _EVENT_TYPE.fullmatch(kind)) or not isinstance(obj, dict):
        raise RefusedError(400, f"signed event {ident} has no usable type or data.object")
    if account is not None and not (isinstance(account, str) and _ACCOUNT_ID.fullmatch(account)):
        raise RefusedError(400, f"signed event {ident} names no usable account")
    created = raw.get("created")
    return VerifiedEvent(ident, kind, account, created if isinstance(created, int) else 0, obj)
