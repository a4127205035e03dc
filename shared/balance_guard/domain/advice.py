"""What an account's email advises as a whole, beyond each finding on its own. Pure.

- The one thing to do, per currency, is the headline (`domain/headline.py`).
- The minimum balance to ask for (`suggested_minimum`): the refund exposure rounded up as
  MIN_BALANCE_NOT_SET suggests it, so that an email never names two targets.
- How findings that tell one story are worded once (`plan_wording`): an emptied prefunding
  balance absorbs the drop that emptied it; a minimum balance warning next to the critical
  shortfall it explains points to it instead of repeating its figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from balance_guard.domain.catalog import Context
from balance_guard.domain.findings import CapacityShortCause, Finding, RuleCode
from balance_guard.domain.money import round_up_to_major_step
from balance_guard.domain.rules import SUGGESTED_MINIMUM_STEP


def suggested_minimum(exposure: int, currency: str) -> int | None:
    """The minimum balance to ask for: the exposure rounded up to a whole 50 in major
    units (MIN_BALANCE_NOT_SET's amount); None when there is no exposure."""
    if exposure <= 0:
        return None
    return round_up_to_major_step(exposure, currency, SUGGESTED_MINIMUM_STEP)


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


@dataclass(frozen=True)
class Wording:
    """How the email shows its findings: which it leaves out because another block tells
    their story (by index in the list), and the context each remaining one is worded in."""

    hidden: frozenset[int]
    contexts: dict[int, Context]


def plan_wording(findings: Sequence[Finding]) -> Wording:
    """Pick, for each finding of one email, the wording that says each thing once."""
    hidden: set[int] = set()
    contexts: dict[int, Context] = {}

    def same_currency(code: RuleCode, currency: str | None) -> Finding | None:
        return next((f for f in findings if f.code is code and f.currency == currency), None)

    for index, finding in enumerate(findings):
        currency = finding.currency
        if finding.code is RuleCode.PREFUND_DEPLETED:
            to_target = bool(finding.details.get("target"))
            used = same_currency(RuleCode.PREFUND_USED, currency)
            if used is not None and _int(used.details.get("prefund")) == 0:
                contexts[index] = (Context.PREFUND_EMPTY_ALL_USED_TO_TARGET if to_target
                                   else Context.PREFUND_EMPTY_ALL_USED)
            elif to_target:
                contexts[index] = Context.PREFUND_EMPTY_TO_TARGET
        elif finding.code is RuleCode.PREFUND_USED and _int(finding.details.get("prefund")) == 0:
            if same_currency(RuleCode.PREFUND_DEPLETED, currency) is not None:
                hidden.add(index)  # told by the PREFUND_DEPLETED block
            else:
                contexts[index] = Context.PREFUND_ALL_USED
        elif finding.code is RuleCode.MIN_BALANCE_BELOW_EXPOSURE:
            if same_currency(RuleCode.REFUND_CAPACITY_SHORT, currency) is not None:
                contexts[index] = Context.MINIMUM_GAP_IN_CRITICAL
        elif finding.code is RuleCode.MIN_BALANCE_NOT_SET:
            short = same_currency(RuleCode.REFUND_CAPACITY_SHORT, currency)
            if short is not None and short.details.get("cause") in _ASKS_FOR_A_MINIMUM:
                contexts[index] = Context.MINIMUM_ASKED_IN_CRITICAL
    return Wording(frozenset(hidden), contexts)


# Causes whose action asks for a minimum balance of `suggested_minimum`.
_ASKS_FOR_A_MINIMUM = frozenset({CapacityShortCause.NO_MINIMUM_BALANCE.value,
                                 CapacityShortCause.MANUAL_PAYOUTS.value})
