"""A finding's details as a person reads them: money formatted, codes in words."""

from __future__ import annotations

from balance_guard.domain.catalog import PLACEHOLDERS
from balance_guard.domain.findings import Finding
from balance_guard.text.formatting import format_money

# Detail keys that hold money besides the catalog's money placeholders (reserve findings).
_MONEY_DETAILS = frozenset(
    {key for key, kind in PLACEHOLDERS.items() if kind == "money"}
    | {"minimum_balance", "no_scheduled_release"}
)


def money(amount: int | None, currency: str | None) -> str:
    if amount is None or currency is None:
        return "—"
    return format_money(amount, currency, "en", "CA")


def readable_details(finding: Finding) -> list[tuple[str, str]]:
    """(label, value) pairs; nested lists and dicts are left to the JSON report."""
    shown: list[tuple[str, str]] = []
    for key, value in finding.details.items():
        if value is None or isinstance(value, list | dict):
            continue
        label = key.replace("_", " ")
        if key in _MONEY_DETAILS and isinstance(value, int) and finding.currency:
            shown.append((label, money(value, finding.currency)))
        else:
            shown.append((label, str(value).replace("_", " ")))
    return shown
