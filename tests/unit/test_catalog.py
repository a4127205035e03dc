"""The rule catalog: complete, bilingual, and in step with what the rules emit."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from string import Formatter
from typing import Any

import pytest
from babel.messages.pofile import read_po

from balance_guard.domain import catalog
from balance_guard.domain.catalog import (
    CATALOG,
    COMPUTED_PLACEHOLDERS,
    LANGUAGES,
    PLACEHOLDERS,
    Context,
    RuleText,
    entry,
)
from balance_guard.domain.findings import CapacityShortCause, Finding, RuleCode, Severity
from balance_guard.domain.policy import Policy, resolve_account_settings
from balance_guard.domain.reserves import reserve_findings
from balance_guard.domain.rules import (
    CurrencyPosition,
    blocked_refund_findings,
    capacity_findings,
    evaluate,
    prefund_findings,
)
from balance_guard.domain.snapshot import AccountSnapshot, BlockedRefund, PreviousCheck, ReserveHold
from balance_guard.notify.strings import STRINGS
from balance_guard.text.catalog import (
    cause_action_generic,
    comparison_rows,
    funding_method,
    labels,
    rewording,
    rule_text,
    severity_label,
)
from balance_guard.text.i18n import LOCALE_DIR, gettext

FIELDS = tuple(RuleText.model_fields)
# Written for every rule; `finding_action` only where the action names a figure.
REQUIRED = tuple(f for f in FIELDS if f != "finding_action")
# Rules whose action is about money the reader adds or asks for: it must name the figure.
ACTIONS_WITH_FIGURES = {
    RuleCode.NEGATIVE_BALANCE, RuleCode.REFUND_BLOCKED, RuleCode.REFUND_CAPACITY_SHORT,
    RuleCode.MIN_BALANCE_NOT_SET, RuleCode.MIN_BALANCE_BELOW_EXPOSURE,
    RuleCode.PREFUND_DEPLETED, RuleCode.PREFUND_BELOW_TARGET, RuleCode.PREFUND_USED,
}
AS_OF = date(2026, 8, 1)


def by_language(table: dict[Any, str]) -> dict[Any, dict[str, str]]:
    """A table of the catalog as each language reads it: key -> language -> text."""
    return {key: {lang: gettext(text, lang) for lang in LANGUAGES} for key, text in table.items()}


CAUSES = by_language(catalog.CAUSES)
CAUSE_LABELS = by_language(catalog.CAUSE_LABELS)
CAUSE_ACTIONS = by_language(catalog.CAUSE_ACTIONS)
CAUSE_ACTIONS_GENERIC = {
    cause: {lang: cause_action_generic(cause, lang) for lang in LANGUAGES}
    for cause in catalog.CAUSE_ACTIONS
}
FUNDING_METHODS = by_language(catalog.FUNDING_METHODS)
OPERATOR_TITLES = by_language(catalog.OPERATOR_TITLES)
NOTES = by_language(catalog.NOTES)
LABELS = {lang: labels(lang) for lang in LANGUAGES}
# Words that give away an English sentence left in a French text.
ENGLISH_WORDS = re.compile(
    r"\b(the|your|and|with|is|are|this|that|refund|refunds|payout|payouts|funds|balance is)\b",
    re.IGNORECASE,
)


def prose(text: str) -> str:
    """The words of a text, without its placeholders (which are English identifiers)."""
    return re.sub(r"\{[a-z_]+\}", "", text)


def fields_of(template: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(template) if name is not None}


def emitted_findings() -> list[Finding]:
    """One real finding of every code, produced by the rule functions themselves."""
    found: list[Finding] = []
    found += capacity_findings(CurrencyPosition("usd", available=-500, prefund=0, minimum=None,
                                                exposure=20_000, automatic_payouts=True))
    found += capacity_findings(CurrencyPosition("usd", available=10_000, prefund=1_000,
                                                minimum=10_000, exposure=20_000,
                                                automatic_payouts=True))
    found += prefund_findings("usd", prefund=0, target=50_000, previous=30_000)
    found += prefund_findings("usd", prefund=10_000, target=50_000, previous=30_000)
    created = datetime(2026, 7, 30, tzinfo=UTC)
    snapshot = AccountSnapshot(
        account_id="acct_1", name="Les Tours du Parc", payouts_enabled=False,
        blocked_refunds=(BlockedRefund(id="re_1", currency="usd", amount=4_000, created=created),),
    )
    found += blocked_refund_findings(snapshot)
    found += evaluate(snapshot, AS_OF, Policy(), resolve_account_settings(Policy(), {}),
                      PreviousCheck())
    release = datetime.combine(AS_OF + timedelta(days=5), datetime.min.time(), tzinfo=UTC)
    hold = ReserveHold(id="rh_1", currency="usd", amount=7_267, scheduled_release=release)
    found += reserve_findings([hold], AS_OF, 14, {"usd": 50_000}, {"usd": 1_000})
    found.append(Finding.of(RuleCode.CHECK_FAILED, reason="timeout"))
    return found


EMITTED = {f.code: f for f in emitted_findings()}


def test_every_entry_is_filed_under_its_own_code() -> None:
    assert all(filed.code is code for code, filed in CATALOG.items())
    assert list(CATALOG) == list(RuleCode)


def test_every_rule_code_has_an_entry() -> None:
    assert set(CATALOG) == set(RuleCode)
    for code in RuleCode:
        assert entry(code).code is code


@pytest.mark.parametrize("code", list(RuleCode))
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_field_is_written_in_both_languages(code: RuleCode, language: str) -> None:
    text = rule_text(code, language)
    for field in REQUIRED:
        value = getattr(text, field)
        assert value, (code, language, field)
        assert value.strip() == value, (code, language, field)
    assert text.finding_action.strip() == text.finding_action
    assert bool(text.finding_action) == (code in ACTIONS_WITH_FIGURES), code


@pytest.mark.parametrize("code", list(RuleCode))
def test_french_is_not_a_copy_of_english(code: RuleCode) -> None:
    en, fr = rule_text(code, "en"), rule_text(code, "fr")
    for field in FIELDS:
        if field == "finding_action" and not en.finding_action:
            continue
        assert getattr(en, field) != getattr(fr, field), (code, field)
        assert not ENGLISH_WORDS.search(prose(getattr(fr, field))), (code, field)


@pytest.mark.parametrize("code", list(RuleCode))
@pytest.mark.parametrize("language", LANGUAGES)
def test_only_the_summary_has_placeholders_and_only_known_ones(code: RuleCode,
                                                                 language: str) -> None:
    text = rule_text(code, language)
    for field in ("title", "meaning", "why", "action"):
        assert "{" not in getattr(text, field)
        assert "}" not in getattr(text, field)
    assert fields_of(text.summary) <= PLACEHOLDERS.keys()
    dummy = {name: f"<{name}>" for name in PLACEHOLDERS}
    assert "{" not in text.summary.format(**dummy)


@pytest.mark.parametrize("code", list(RuleCode))
def test_summary_uses_only_what_the_rule_emits(code: RuleCode) -> None:
    finding = EMITTED[code]
    available = set(finding.details)
    if finding.amount is not None:
        available.add("amount")
    for language in LANGUAGES:
        summary = rule_text(code, language).summary
        assert fields_of(summary) <= available, (code, language, fields_of(summary), available)


def test_both_languages_name_the_same_placeholders() -> None:
    for code in RuleCode:
        for field in ("summary", "finding_action"):
            assert fields_of(getattr(rule_text(code, "en"), field)) == fields_of(
                getattr(rule_text(code, "fr"), field)), (code, field)


@pytest.mark.parametrize("code", sorted(ACTIONS_WITH_FIGURES))
def test_an_action_about_money_names_the_amount_and_how_to_send_it(code: RuleCode) -> None:
    finding = EMITTED[code]
    can_fill = {*finding.details, "amount", *COMPUTED_PLACEHOLDERS}
    for language in LANGUAGES:
        action = rule_text(code, language).finding_action
        assert "amount" in fields_of(action), (code, language)
        assert fields_of(action) <= can_fill, (code, language)
        if code is not RuleCode.MIN_BALANCE_NOT_SET:  # the one that asks support, not funds
            assert "funding_method" in fields_of(action), (code, language)


def test_negative_balance_says_add_at_least_the_figure() -> None:
    assert "Add at least {amount}" in rule_text(RuleCode.NEGATIVE_BALANCE, "en").finding_action
    assert "Versez au moins {amount}" in rule_text(RuleCode.NEGATIVE_BALANCE,
        "fr").finding_action


@pytest.mark.parametrize("language", LANGUAGES)
def test_general_actions_do_not_offer_ach_as_if_everywhere(language: str) -> None:
    """Texts without values (help site, `explain`) say ACH is for the United States only:
    in Canada a bank wire is the only way to add funds."""
    generic = FUNDING_METHODS[""][language]
    for code in RuleCode:
        action = rule_text(code, language).action
        if "ACH" in action:
            assert generic in action, code


def test_the_key_figures_appear_in_their_summaries() -> None:
    required = {
        RuleCode.REFUND_CAPACITY_SHORT: {"amount", "exposure", "capacity"},
        RuleCode.PREFUND_USED: {"amount", "previous", "prefund"},
        RuleCode.RESERVE_RELEASE_UPCOMING: {"amount", "first_release_date"},
        RuleCode.REFUND_BLOCKED: {"amount", "refunds"},
    }
    for code, names in required.items():
        assert names <= fields_of(rule_text(code, "en").summary), code


def test_anchors_are_the_code_in_kebab_case_and_unique() -> None:
    anchors = [entry(code).anchor for code in RuleCode]
    assert len(set(anchors)) == len(anchors)
    for code, anchor in zip(RuleCode, anchors, strict=True):
        assert re.fullmatch(r"rule-[a-z]+(-[a-z]+)*", anchor)
        assert anchor == "rule-" + code.value.lower().replace("_", "-")
    assert entry(RuleCode.REFUND_CAPACITY_SHORT).anchor == "rule-refund-capacity-short"


def test_severity_follows_the_rule_code() -> None:
    assert entry(RuleCode.NEGATIVE_BALANCE).severity is Severity.CRITICAL
    assert entry(RuleCode.PREFUND_USED).severity is Severity.INFO
    assert entry(RuleCode.CHECK_FAILED).severity is Severity.ERROR


def test_every_cause_is_explained_in_both_languages() -> None:
    assert list(CAUSES) == list(CapacityShortCause)  # the order the rules name them in
    for cause, texts in CAUSES.items():
        assert set(texts) == set(LANGUAGES)
        assert all(texts[lang].strip() == texts[lang] != "" for lang in LANGUAGES), cause
        assert texts["en"] != texts["fr"]
        assert not ENGLISH_WORDS.search(prose(texts["fr"])), cause
        for text in texts.values():
            # `explain` and the help site print causes as they are, with no values to fill.
            assert fields_of(text) == set(), cause


def shortfall(*, available: int = 10_000, minimum: int | None = None,
              automatic_payouts: bool = True, minimum_known: bool = True) -> CurrencyPosition:
    """A position whose capacity falls short of a 20 000 exposure."""
    return CurrencyPosition("usd", available=available, prefund=1_000, minimum=minimum,
                            exposure=20_000, automatic_payouts=automatic_payouts,
                            minimum_known=minimum_known)


@pytest.mark.parametrize(("cause", "position"), [
    (CapacityShortCause.MANUAL_PAYOUTS, shortfall(automatic_payouts=False)),
    (CapacityShortCause.MINIMUM_BALANCE_UNKNOWN, shortfall(minimum_known=False)),
    (CapacityShortCause.NO_MINIMUM_BALANCE, shortfall()),
    (CapacityShortCause.MINIMUM_BELOW_EXPOSURE, shortfall(minimum=10_000)),
    (CapacityShortCause.BALANCE_BELOW_MINIMUM, shortfall(minimum=20_000, available=5_000)),
])
def test_every_cause_the_rules_name_has_its_text(cause: CapacityShortCause,
                                                  position: CurrencyPosition) -> None:
    short = [f for f in capacity_findings(position) if f.code is RuleCode.REFUND_CAPACITY_SHORT]
    assert [f.details["cause"] for f in short] == [cause.value]
    assert CapacityShortCause(short[0].details["cause"]) in CAUSES


def test_an_unknown_minimum_says_so_and_what_to_do() -> None:
    unknown = CapacityShortCause.MINIMUM_BALANCE_UNKNOWN
    assert "could not read" in CAUSES[unknown]["en"]
    assert "only the prefunding balance" in CAUSES[unknown]["en"]
    assert "pas pu lire" in CAUSES[unknown]["fr"]
    assert "seul le solde de préfinancement" in CAUSES[unknown]["fr"]
    for words in ("support team to confirm", "at least {exposure}",
                  "add {amount} to your prefunding balance"):
        assert words in CAUSE_ACTIONS[unknown]["en"], words
    for words in ("soutien de la plateforme de confirmer", "au moins {exposure}",
                  "versez {amount} dans votre solde de préfinancement"):
        assert words in CAUSE_ACTIONS[unknown]["fr"], words
    assert "add the missing amount to your prefunding balance" in CAUSE_ACTIONS_GENERIC[
        unknown]["en"]


def test_every_cause_has_its_own_action_in_both_languages() -> None:
    assert list(CAUSE_ACTIONS) == list(CapacityShortCause)
    assert list(CAUSE_ACTIONS_GENERIC) == list(CapacityShortCause)
    assert list(CAUSE_LABELS) == list(CapacityShortCause)
    short = EMITTED[RuleCode.REFUND_CAPACITY_SHORT]
    can_fill = {*short.details, "amount", *COMPUTED_PLACEHOLDERS}
    for language in LANGUAGES:
        actions = [CAUSE_ACTIONS[cause][language] for cause in CapacityShortCause]
        assert len(set(actions)) == len(actions), language
        for cause in CapacityShortCause:
            action = CAUSE_ACTIONS[cause][language]
            assert action.strip() == action
            # Every cause names the shortfall and how to add it, as its way out today.
            assert {"amount", "funding_method"} <= fields_of(action), (cause, language)
            assert fields_of(action) <= can_fill, (cause, language)
            generic = CAUSE_ACTIONS_GENERIC[cause][language]
            assert fields_of(generic) == set()
            assert "{" not in generic
            assert "}" not in generic
    for cause in CapacityShortCause:
        assert CAUSE_ACTIONS[cause]["en"] != CAUSE_ACTIONS[cause]["fr"]
        assert not ENGLISH_WORDS.search(prose(CAUSE_ACTIONS[cause]["fr"])), cause
        assert not ENGLISH_WORDS.search(CAUSE_ACTIONS_GENERIC[cause]["fr"]), cause


def test_each_cause_action_fits_its_cause() -> None:
    en = {cause: CAUSE_ACTIONS[cause]["en"] for cause in CapacityShortCause}
    # A minimum balance does nothing with manual payouts: turn automatic payouts back on.
    assert "turn automatic payouts back on" in en[CapacityShortCause.MANUAL_PAYOUTS]
    assert "raise your minimum" not in en[CapacityShortCause.MANUAL_PAYOUTS]
    # The minimum is already enough: nothing to raise, add funds or wait for payments.
    below = en[CapacityShortCause.BALANCE_BELOW_MINIMUM]
    assert "raise" not in below
    assert "set a minimum" not in below
    assert "wait for residents' payments" in below
    assert "{suggested_minimum}" in en[CapacityShortCause.NO_MINIMUM_BALANCE]
    assert "{minimum}" in en[CapacityShortCause.MINIMUM_BELOW_EXPOSURE]
    assert "confirm" in en[CapacityShortCause.MINIMUM_BALANCE_UNKNOWN]
    fr = CAUSE_ACTIONS[CapacityShortCause.MANUAL_PAYOUTS]["fr"]
    assert "réactiver les virements automatiques" in fr


def test_funding_methods_follow_the_country() -> None:
    assert funding_method("CA", "en") == "by bank wire"
    assert funding_method("ca", "fr") == "par virement bancaire"
    assert funding_method("US", "en") == "by bank wire or ACH"
    assert funding_method("US", "fr") == "par virement bancaire ou paiement ACH"
    assert funding_method("JP", "en") == "by bank wire"  # ACH is a US network
    assert "ACH" in funding_method(None, "en")
    assert "United States" in funding_method(None, "en")
    for country, texts in FUNDING_METHODS.items():
        assert set(texts) == set(LANGUAGES), country
        assert ("ACH" in texts["en"]) == (country in {"US", ""}), country


@pytest.mark.parametrize("context", list(Context))
def test_rewordings_use_what_their_rule_emits(context: Context) -> None:
    english = catalog.REWORDINGS[context]
    french = rewording(context, "fr")
    finding = EMITTED[english.code]
    can_fill = {*finding.details, "amount", *COMPUTED_PLACEHOLDERS}
    assert english.summary or english.action
    assert french.code is english.code
    for field in ("summary", "action"):
        texts = {"en": getattr(english, field), "fr": getattr(french, field)}
        assert bool(texts["en"]) == bool(texts["fr"]), (context, field)
        if not texts["en"]:
            continue
        assert texts["en"] != texts["fr"]
        assert fields_of(texts["en"]) == fields_of(texts["fr"])
        assert fields_of(texts["en"]) <= can_fill, context
        assert not ENGLISH_WORDS.search(prose(texts["fr"])), context


def test_operator_titles_name_every_rule_without_you() -> None:
    assert set(OPERATOR_TITLES) == set(RuleCode)
    for code, texts in OPERATOR_TITLES.items():
        assert set(texts) == set(LANGUAGES), code
        assert not re.search(r"\b(you|your)\b", texts["en"], re.IGNORECASE), code
        assert not re.search(r"\b(vous|votre|vos)\b", texts["fr"], re.IGNORECASE), code


def french_texts() -> list[str]:
    """Every French sentence the catalog and the emails' frame can show."""
    texts: list[str] = []
    for code in RuleCode:
        fr = rule_text(code, "fr")
        texts += [getattr(fr, field) for field in FIELDS]
    tables: list[dict[Any, dict[str, str]]] = [
        CAUSES, CAUSE_ACTIONS, CAUSE_ACTIONS_GENERIC, CAUSE_LABELS, NOTES, FUNDING_METHODS,
        OPERATOR_TITLES]
    for table in tables:
        texts += [value["fr"] for value in table.values()]
    for context in Context:
        texts += [rewording(context, "fr").summary, rewording(context, "fr").action]
    texts += [cell for row in comparison_rows("fr") for cell in row.cells]
    texts += list(LABELS["fr"].values())
    texts += [gettext(message, "fr") for message in STRINGS.values()]
    return texts


def test_french_uses_the_typographic_apostrophe() -> None:
    straight = [text for text in french_texts() if "'" in text]
    assert straight == []
    assert any("’" in text for text in french_texts())


def test_notes_name_a_detail_the_reserve_rule_emits() -> None:
    upcoming = EMITTED[RuleCode.RESERVE_RELEASE_UPCOMING]
    for key, texts in NOTES.items():
        assert key in upcoming.details
        for lang in LANGUAGES:
            assert fields_of(texts[lang]) <= PLACEHOLDERS.keys()
            assert texts[lang].strip()
        assert texts["en"] != texts["fr"]


def test_labels_have_the_same_keys_in_every_language() -> None:
    keys = set(LABELS["en"])
    for language in LANGUAGES:
        assert set(LABELS[language]) == keys
        assert all(value.strip() for value in LABELS[language].values())
    for status in ("ok", "info", "warning", "critical", "error"):
        assert f"status_{status}" in keys
    for needed in ("learn_more", "amount", "severity", "status"):
        assert needed in keys


def test_severity_labels_are_localized() -> None:
    assert severity_label(Severity.CRITICAL, "en") == "Critical"
    assert severity_label(Severity.CRITICAL, "fr") == "Critique"
    for severity in Severity:
        for language in LANGUAGES:
            assert severity_label(severity, language)


def test_comparison_table_covers_the_documented_aspects() -> None:
    keys = [row.key for row in catalog.MIN_BALANCE_VS_PREFUNDING]
    assert len(set(keys)) == len(keys)
    assert {"funding", "refills", "automatic_payouts", "who", "when", "manual_payout"} <= set(
        keys)
    rows = {language: comparison_rows(language) for language in LANGUAGES}
    assert [row.key for row in rows["fr"]] == keys == [row.key for row in rows["en"]]
    for en, fr in zip(rows["en"], rows["fr"], strict=True):
        assert all(cell.strip() for cell in (*en.cells, *fr.cells))
        assert all(a != b for a, b in zip(en.cells, fr.cells, strict=True)), en.key


def test_comparison_says_only_the_minimum_balance_refills_itself() -> None:
    refills = {lang: next(r for r in comparison_rows(lang) if r.key == "refills")
               for lang in LANGUAGES}
    assert refills["en"].minimum_balance.startswith("Yes")
    assert refills["en"].prefunding.startswith("No")
    assert refills["fr"].minimum_balance.startswith("Oui")
    assert refills["fr"].prefunding.startswith("Non")


def english_texts() -> list[str]:
    """Every text of the catalog, as written (in English) in `domain/catalog.py`."""
    texts = [getattr(e.text, field) for e in CATALOG.values() for field in FIELDS]
    for table in (catalog.CAUSES, catalog.CAUSE_LABELS, catalog.CAUSE_ACTIONS,
                  catalog.FUNDING_METHODS, catalog.GENERIC_VALUES, catalog.OPERATOR_TITLES,
                  catalog.NOTES, catalog.LABELS):
        texts += list(table.values())
    for reworded in catalog.REWORDINGS.values():
        texts += [reworded.summary, reworded.action]
    texts += [cell for row in catalog.MIN_BALANCE_VS_PREFUNDING for cell in row.cells]
    return [text for text in texts if text]


def test_every_text_of_the_catalog_has_its_french_in_the_translation_catalog() -> None:
    with (LOCALE_DIR / "fr" / "LC_MESSAGES" / "balance_guard.po").open("rb") as handle:
        french = {str(m.id): str(m.string) for m in read_po(handle) if m.id and m.string}
    missing = [text for text in english_texts() if text not in french]
    assert missing == []
    # Words both languages spell alike ("Code", "Total") are still translated, not skipped.
    assert french["Code"] == "Code"
    assert french["Learn more"] == "En savoir plus"
