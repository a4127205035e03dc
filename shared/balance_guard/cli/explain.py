"""`balance-guard explain CODE`: one rule from the catalog, as plain text for a terminal.

It owns only the terminal layout; every word comes from `text.catalog` (the catalog in the
reader's language) and `text.typography.colon`, and its errors are in the CLI's language
(`cli.language`).
"""

from __future__ import annotations

import difflib
import textwrap

from balance_guard.cli.language import _
from balance_guard.domain.catalog import CAUSES, LANGUAGES, entry
from balance_guard.domain.findings import RuleCode
from balance_guard.text.catalog import (
    cause,
    cause_action_generic,
    labels,
    rule_text,
    severity_label,
)
from balance_guard.text.typography import colon

WIDTH = 78
_INDENT = "  "


class UnknownRuleError(ValueError):
    """A code that names no rule; the message lists the valid ones."""


class UnknownLanguageError(ValueError):
    """A language the catalog is not written in."""


def parse_code(code: str) -> RuleCode:
    """Accept `REFUND_CAPACITY_SHORT`, `refund-capacity-short` or the anchor `rule-…`."""
    normalized = code.strip().upper().replace("-", "_")
    if normalized.startswith("RULE_") and normalized[len("RULE_"):] in RuleCode.__members__:
        normalized = normalized[len("RULE_"):]
    try:
        return RuleCode(normalized)
    except ValueError:
        valid = [c.value for c in RuleCode]
        close = difflib.get_close_matches(normalized, valid, n=1)
        message = (_("Unknown rule code {code!r}. Did you mean {close}? Valid codes: {codes}.")
                   if close else _("Unknown rule code {code!r}. Valid codes: {codes}."))
        raise UnknownRuleError(message.format(
            code=code.strip()[:60], close=close[0] if close else "", codes=", ".join(valid)
        )) from None


def parse_languages(language: str) -> tuple[str, ...]:
    """`en`, `fr`, `fr-CA` or the bilingual `fr+en` (French first) -> catalog languages."""
    languages = []
    for part in language.strip().lower().split("+"):
        lang = part.strip().replace("_", "-").split("-")[0]
        if lang not in LANGUAGES:
            raise UnknownLanguageError(
                _("Unknown language {language!r}; use one of: {languages} or fr+en.").format(
                    language=language.strip()[:20], languages=", ".join(LANGUAGES))
            )
        languages.append(lang)
    return tuple(dict.fromkeys(languages))


def help_url(code: RuleCode, language: str, docs_base_url: str) -> str:
    return f"{docs_base_url.rstrip('/')}/{language}/rules.html#{code.anchor}"


def _block(heading: str, text: str) -> list[str]:
    body = textwrap.fill(text, WIDTH, initial_indent=_INDENT, subsequent_indent=_INDENT)
    return [heading, body, ""]


def _render_one(code: RuleCode, language: str, docs_base_url: str) -> str:
    text = rule_text(code, language)
    words = labels(language)
    after = colon(language)
    lines = [
        f"{code.value} — {text.title}",
        f"{words['severity']}{after}{severity_label(entry(code).severity, language)}",
        "",
        *_block(words["meaning"], text.meaning),
        *_block(words["why"], text.why),
        *_block(words["action"], text.action),
    ]
    if code is RuleCode.REFUND_CAPACITY_SHORT:
        lines.append(words["causes"])
        for reason in CAUSES:
            lines.append(textwrap.fill(
                f"- {reason.value}{after}{cause(reason, language)} "
                f"{cause_action_generic(reason, language)}", WIDTH,
                initial_indent=_INDENT, subsequent_indent=_INDENT + "  ",
            ))
        lines.append("")
    lines.append(f"{words['learn_more']}{after}{help_url(code, language, docs_base_url)}")
    return "\n".join(lines) + "\n"


def render_explain(
    code: str, language: str = "en", docs_base_url: str = "https://help.example.com"
) -> str:
    """Everything the catalog says about one rule, in the reader's language (or both)."""
    rule_code = parse_code(code)
    return "\n".join(
        _render_one(rule_code, lang, docs_base_url) for lang in parse_languages(language)
    )
