"""Stripe-looking identifiers and timestamps, stable from one run to the next.

Ids are derived from what the object is (account, kind, position in the scenario), so the
same scenario always serves the same ids: pagination cursors and state stored by the product
stay valid across restarts of the sandbox.
"""

from __future__ import annotations

import hashlib
import string
from datetime import UTC, date, datetime, time, timedelta

_ALPHABET = string.digits + string.ascii_letters

# Body lengths after the prefix, as in Stripe's own examples (ch_3Pga..., reshold_61Sx...).
SHORT_ID = 24
LONG_ID = 29


def stable_id(prefix: str, *parts: object, length: int = SHORT_ID) -> str:
    """`prefix_` followed by `length` base-62 characters hashed from `parts`."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    number = int.from_bytes(digest, "big")
    chars = []
    for _ in range(length):
        number, digit = divmod(number, len(_ALPHABET))
        chars.append(_ALPHABET[digit])
    return f"{prefix}_{''.join(chars)}"


def stable_index(size: int, *parts: object) -> int:
    """A number in [0, size) hashed from `parts`: a stable pick from a list."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") % size


def timestamp(moment: datetime) -> int:
    """Seconds since the epoch, as Stripe sends every time."""
    return int(moment.timestamp())


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def served_until(clock: date) -> datetime:
    """Exclusive bound: what exists at the end of the clock's day (UTC) is served."""
    return day_start(clock + timedelta(days=1))


def midnight_after(moment: datetime) -> datetime:
    """Midnight UTC of the next day: when Stripe schedules a reserve release."""
    return day_start(moment.astimezone(UTC).date() + timedelta(days=1))
