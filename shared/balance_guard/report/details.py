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


# The report and the console are read by the platform's operators: money is marked as the
# platform's home market reads it (`Policy.platform_country`, Canada by default).
HOME_COUNTRY = "CA"


def money(amount: int | None, currency: str | None, country: str = HOME_COUNTRY) -> str:
    """`$1,850.00` for CAD and `US$393.19` for USD on a Canadian platform; `country` is the
    platform's."""
    if amount is None or currency is None:
        return "—"
    return format_money(amount, currency, "en", country)


def readable_details(finding: Finding, country: str = HOME_COUNTRY) -> list[tuple[str, str]]:
    """(label, value) pairs; nested lists and dicts are left to the JSON report."""
    shown: list[tuple[str, str]] = []
    for key, value in finding.details.items():
        if value is None or isinstance(value, list | dict):
            continue
        label = key.replace("_", " ")
        if key in _MONEY_DETAILS and isinstance(value, int) and finding.currency:
            shown.append((label, money(value, finding.currency, country)))
        else:
            shown.append((label, str(value).replace("_", " ")))
    return shown
