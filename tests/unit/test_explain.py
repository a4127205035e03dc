"""`balance-guard explain`: the catalog as terminal text, in English or French."""

from __future__ import annotations

import pytest

from balance_guard.cli.explain import (
    UnknownLanguageError,
    UnknownRuleError,
    parse_code,
    render_explain,
)
from balance_guard.domain.catalog import CAUSES
from balance_guard.domain.findings import CapacityShortCause, RuleCode
from balance_guard.text.catalog import cause, rule_text

BASE = "https://help.example.com"
NBSP = "\u00a0"


def flat(text: str) -> str:
    """`text` as one line: the terminal's wrapping (and French no-break spaces) undone."""
    return " ".join(text.split())


def test_english_explanation_has_every_part_and_the_help_link() -> None:
    out = render_explain("REFUND_CAPACITY_SHORT", "en", BASE)
    text = rule_text(RuleCode.REFUND_CAPACITY_SHORT, "en")
    assert out.startswith(f"REFUND_CAPACITY_SHORT — {text.title}\n")
    assert "Severity: Critical" in out
    for heading in ("What it means", "Why you got this", "What to do"):
        assert heading in out
    for part in (text.meaning, text.why, text.action):
        assert flat(part) in flat(out)
    assert out.rstrip().endswith(
        "Learn more: https://help.example.com/en/rules.html#rule-refund-capacity-short")


def test_french_explanation_is_in_french_with_the_french_help_link() -> None:
    out = render_explain("REFUND_CAPACITY_SHORT", "fr", BASE)
    text = rule_text(RuleCode.REFUND_CAPACITY_SHORT, "fr")
    assert out.startswith(f"REFUND_CAPACITY_SHORT — {text.title}\n")
    assert f"Gravité{NBSP}: Critique" in out
    for heading in ("Ce que cela signifie", "Pourquoi vous recevez ceci", "Que faire"):
        assert heading in out
    assert flat(text.action) in flat(out)
    assert "What to do" not in out
    assert "https://help.example.com/fr/rules.html#rule-refund-capacity-short" in out


@pytest.mark.parametrize("language", ["en", "fr"])
def test_capacity_short_lists_every_cause(language: str) -> None:
    out = flat(render_explain("REFUND_CAPACITY_SHORT", language, BASE))
    for reason in CAUSES:
        assert reason.value in out
        assert flat(cause(reason, language)) in out


@pytest.mark.parametrize("language", ["en", "fr"])
def test_causes_are_one_bullet_each_in_the_order_the_rules_name_them(language: str) -> None:
    out = render_explain("REFUND_CAPACITY_SHORT", language, BASE)
    # `- manual_payouts: ...`, `- manual_payouts\u00a0: ...`
    bullets = [line[4:].split(":")[0].rstrip(NBSP) for line in out.splitlines()
               if line.startswith("  - ")]
    assert bullets == [cause.value for cause in CapacityShortCause]
    assert "minimum_balance_unknown" in bullets


def test_other_rules_list_no_causes() -> None:
    out = render_explain("PREFUND_USED", "en", BASE)
    assert "Possible causes" not in out
    assert "Severity: Information" in out


@pytest.mark.parametrize("code", list(RuleCode))
@pytest.mark.parametrize("language", ["en", "fr"])
def test_every_rule_can_be_explained(code: RuleCode, language: str) -> None:
    out = render_explain(code.value, language, BASE)
    assert rule_text(code, language).title in out
    assert f"{BASE}/{language}/rules.html#{code.anchor}" in out


@pytest.mark.parametrize(
    "spelling",
    ["REFUND_CAPACITY_SHORT", "refund_capacity_short", "refund-capacity-short",
     "  Refund-Capacity-Short ", "rule-refund-capacity-short"],
)
def test_codes_are_accepted_in_any_case_and_in_kebab_case(spelling: str) -> None:
    assert parse_code(spelling) is RuleCode.REFUND_CAPACITY_SHORT


def test_unknown_code_is_a_value_error_listing_the_valid_codes() -> None:
    with pytest.raises(UnknownRuleError) as caught:
        render_explain("NOT_A_RULE")
    assert isinstance(caught.value, ValueError)
    message = str(caught.value)
    assert "'NOT_A_RULE'" in message
    for code in RuleCode:
        assert code.value in message


def test_a_near_miss_suggests_the_closest_code() -> None:
    with pytest.raises(UnknownRuleError, match="Did you mean PREFUND_DEPLETED"):
        render_explain("prefund-depleeted")


def test_unknown_language_is_refused() -> None:
    with pytest.raises(UnknownLanguageError, match="en, fr"):
        render_explain("PREFUND_USED", "de")


def test_bilingual_puts_french_first() -> None:
    out = render_explain("PREFUND_USED", "fr+en", BASE)
    fr_title = rule_text(RuleCode.PREFUND_USED, "fr").title
    en_title = rule_text(RuleCode.PREFUND_USED, "en").title
    assert out.index(fr_title) < out.index(en_title)


def test_regional_language_tags_fall_back_to_the_language() -> None:
    assert render_explain("PREFUND_USED", "fr-CA", BASE) == render_explain(
        "PREFUND_USED", "fr", BASE)


def test_docs_base_url_trailing_slash_is_ignored() -> None:
    out = render_explain("CHECK_FAILED", "en", "https://docs.example.org/help/")
    assert "https://docs.example.org/help/en/rules.html#rule-check-failed" in out


def test_default_arguments_give_english_and_the_example_help_site() -> None:
    out = render_explain("negative-balance")
    assert "https://help.example.com/en/rules.html#rule-negative-balance" in out


@pytest.mark.parametrize("language", ["en", "fr"])
def test_lines_stay_readable_in_a_terminal(language: str) -> None:
    out = render_explain("REFUND_CAPACITY_SHORT", language, BASE)
    body = [line for line in out.splitlines()[2:]
            if not line.startswith(("En savoir plus", "Learn more"))]
    assert all(len(line) <= 78 for line in body)
