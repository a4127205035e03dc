"""Money in Stripe's minor units.

Stripe sends every amount as an integer in the currency's smallest unit. How many decimals
that unit has is Stripe's rule, which differs from ISO 4217 for a few currencies, so the
lists below follow Stripe's "Zero-decimal currencies" and "Three-decimal currencies"
documentation. ISK and UGX are zero-decimal currencies that Stripe's API nevertheless
represents with two decimals (always 00), for backwards compatibility: they count as
two-decimal here, or every amount would read a hundred times too large.
"""

from __future__ import annotations

import re
from decimal import Decimal

ZERO_DECIMAL = frozenset(
    {
        "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf",
        "vnd", "vuv", "xaf", "xof", "xpf",
    }
)  # fmt: skip
THREE_DECIMAL = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})

# Beyond any real balance: an amount past this is a data error, not money (10^15 minor units).
ABSURD_AMOUNT = 10**15

_CURRENCY_CODE = re.compile(r"^[a-z]{3}$")


class CurrencyError(ValueError):
    """A currency code that is not three ASCII letters."""


def normalize_currency(code: str) -> str:
    """Lower-case ISO code as Stripe uses it; raises CurrencyError when malformed."""
    lowered = code.strip().lower()
    if not _CURRENCY_CODE.match(lowered):
        raise CurrencyError(f"not a currency code: {code[:16]!r}")
    return lowered


def exponent(currency: str) -> int:
    """Number of decimals of the currency's minor unit, as Stripe counts them."""
    if currency in ZERO_DECIMAL:
        return 0
    if currency in THREE_DECIMAL:
        return 3
    return 2


def to_major(amount: int, currency: str) -> Decimal:
    """Exact major-unit value of an amount in minor units (12345 cad -> 123.45)."""
    return Decimal(amount).scaleb(-exponent(currency))


def round_up_to_major_step(amount: int, currency: str, step: int) -> int:
    """Smallest multiple of `step` major units that covers `amount`, back in minor units.

    Used to suggest a minimum balance a person would actually type: 1 234,56 $ -> 1 250 $.
    """
    unit: int = pow(10, exponent(currency)) * step
    return -(-amount // unit) * unit
