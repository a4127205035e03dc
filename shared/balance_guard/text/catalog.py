"""The rule catalog in the reader's language: `domain.catalog`'s data through gettext.

Each function takes a catalog language (`en`, `fr`; see `i18n.language_of`) and returns
the same shapes the catalog holds, translated and typeset. Value-free texts (`explain`, the
help site) fill an email's figures with `generic_values`.
"""

from __future__ import annotations

from functools import lru_cache

from balance_guard.domain import catalog
from balance_guard.domain.catalog import ComparisonRow, Context, Rewording, RuleText
from balance_guard.domain.findings import CapacityShortCause, RuleCode, Severity
from balance_guard.text.i18n import gettext, words


@lru_cache(maxsize=64)
def rule_text(code: RuleCode, language: str) -> RuleText:
    """Everything the catalog says about one rule, in `language`."""
    english = catalog.entry(code).text
    return RuleText(**{name: gettext(value, language) for name, value in english})


def cause(reason: CapacityShortCause, language: str) -> str:
    return gettext(catalog.CAUSES[reason], language)


def cause_label(reason: CapacityShortCause, language: str) -> str:
    return gettext(catalog.CAUSE_LABELS[reason], language)


def cause_action(reason: CapacityShortCause, language: str) -> str:
    """What to do about a cause, with the finding's `{placeholders}`."""
    return gettext(catalog.CAUSE_ACTIONS[reason], language)


def cause_action_generic(reason: CapacityShortCause, language: str) -> str:
    """`cause_action` with no figure, for `explain` and the help site."""
    return cause_action(reason, language).format_map(generic_values(language))


def funding_method(country: str | None, language: str) -> str:
    return gettext(catalog.funding_method(country), language)


@lru_cache(maxsize=8)
def generic_values(language: str) -> dict[str, str]:
    return words(catalog.GENERIC_VALUES, language)


def rewording(context: Context, language: str) -> Rewording:
    english = catalog.REWORDINGS[context]
    return Rewording(
        code=english.code,
        summary=gettext(english.summary, language),
        action=gettext(english.action, language),
    )


def operator_title(code: RuleCode, language: str) -> str:
    return gettext(catalog.OPERATOR_TITLES[code], language)


def note(key: str, language: str) -> str:
    return gettext(catalog.NOTES[key], language)


def comparison_rows(language: str) -> tuple[ComparisonRow, ...]:
    return tuple(
        ComparisonRow(
            key=row.key,
            aspect=gettext(row.aspect, language),
            minimum_balance=gettext(row.minimum_balance, language),
            prefunding=gettext(row.prefunding, language),
        )
        for row in catalog.MIN_BALANCE_VS_PREFUNDING
    )


@lru_cache(maxsize=8)
def labels(language: str) -> dict[str, str]:
    """The words around the catalog texts (`learn_more`, `severity_critical`...)."""
    return words(catalog.LABELS, language)


def label(key: str, language: str) -> str:
    return labels(language)[key]


def severity_label(severity: Severity, language: str) -> str:
    return gettext(catalog.severity_label(severity), language)
