"""Account emails rendered from the catalog, in French, English and both."""

from __future__ import annotations

import html
import re
from datetime import date
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from balance_guard.domain.catalog import REWORDINGS, Context
from balance_guard.domain.findings import CapacityShortCause, Finding, RuleCode, most_severe_first
from balance_guard.notify.render import (
    RenderedEmail,
    build_message,
    placeholder_values,
    render_account_email,
    reply_to_header,
    subject_for,
)
from balance_guard.notify.strings import strings
from balance_guard.report.model import AccountReport, ReserveRelease
from balance_guard.text.catalog import cause as cause_text
from balance_guard.text.catalog import cause_action, label, rule_text

AS_OF = date(2026, 8, 1)
DOCS = "https://help.example.com"

# One finding per rule, with the details its rule really emits (rules.py, reserves.py).
SAMPLES: dict[RuleCode, Finding] = {
    RuleCode.NEGATIVE_BALANCE: Finding.of(RuleCode.NEGATIVE_BALANCE, "cad", 2_507_267,
                                          available=-2_507_267),
    RuleCode.REFUND_BLOCKED: Finding.of(RuleCode.REFUND_BLOCKED, "cad", 45_000, refunds=2),
    RuleCode.REFUND_CAPACITY_SHORT: Finding.of(
        RuleCode.REFUND_CAPACITY_SHORT, "cad", 182_000, exposure=240_000, capacity=58_000,
        cause="no_minimum_balance", available=120_000, prefund=58_000, minimum=None),
    RuleCode.MIN_BALANCE_NOT_SET: Finding.of(RuleCode.MIN_BALANCE_NOT_SET, "cad", 250_000,
                                             exposure=240_000),
    RuleCode.MIN_BALANCE_BELOW_EXPOSURE: Finding.of(
        RuleCode.MIN_BALANCE_BELOW_EXPOSURE, "cad", 40_000, exposure=240_000,
        minimum=150_000, prefund=50_000),
    RuleCode.PREFUND_DEPLETED: Finding.of(RuleCode.PREFUND_DEPLETED, "cad", 100_000,
                                          target=100_000, previous=30_000),
    RuleCode.PREFUND_BELOW_TARGET: Finding.of(RuleCode.PREFUND_BELOW_TARGET, "cad", 70_000,
                                              target=100_000, prefund=30_000),
    RuleCode.PREFUND_USED: Finding.of(RuleCode.PREFUND_USED, "cad", 20_000, previous=50_000,
                                      prefund=30_000),
    RuleCode.PAYOUTS_DISABLED: Finding.of(RuleCode.PAYOUTS_DISABLED),
    RuleCode.RESERVE_HELD: Finding.of(RuleCode.RESERVE_HELD, "usd", 9_000, holds=2,
                                      next_release_date="2026-08-31", no_scheduled_release=0),
    RuleCode.RESERVE_RELEASE_UPCOMING: Finding.of(
        RuleCode.RESERVE_RELEASE_UPCOMING, "usd", 7_267,
        releases=[{"date": "2026-08-31", "amount": 7_267}], first_release_date="2026-08-31",
        horizon_days=30, minimum_balance=10_000, minimum_balance_retains=2_500),
    RuleCode.CHECK_FAILED: Finding.of(RuleCode.CHECK_FAILED, reason="Stripe timed out"),
}
RELEASE = ReserveRelease(currency="usd", amount=7_267, release_date=date(2026, 8, 31),
                         payout_date=date(2026, 8, 31), arrival_date=date(2026, 9, 2))


def plain(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def account(findings: list[Finding], name: str = "Les Tours du Parc") -> AccountReport:
    return AccountReport(account_id="acct_123", name=name, locale="fr", status="critical",
                         findings=findings, reserve_releases=[RELEASE])


def render(findings: list[Finding], languages: tuple[str, ...], country: str | None = "CA",
           contact: str = "support@platform.example") -> RenderedEmail:
    return render_account_email(account(findings), findings, languages=languages, as_of=AS_OF,
                                docs_base_url=DOCS, contact=contact, country=country)


def visible_html(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def fragments(template: str) -> list[str]:
    """The fixed words of a text with placeholders, long enough to be telling."""
    return [part.strip() for part in re.split(r"\{[a-z_]+\}", template)
            if len(part.strip()) >= 8]


def foreign_words(language: str, code: RuleCode) -> list[str]:
    """Every sentence piece of the other language that could leak into this one."""
    other = "en" if language == "fr" else "fr"
    text = rule_text(code, other)
    pieces = [text.title, text.action, *fragments(text.summary),
              *fragments(text.finding_action)]
    pieces += [frag for value in strings(other).values() for frag in fragments(value)
               if "·" not in value]  # the bilingual banner names both languages
    return pieces


def shown_action(finding: Finding, language: str, country: str | None = "CA") -> str:
    """The action an email shows for a finding on its own: its cause's, else the rule's
    action with the finding's figures."""
    text = rule_text(finding.code, language)
    cause = finding.details.get("cause")
    template = (cause_action(CapacityShortCause(cause), language) if cause
                else text.finding_action or text.action)
    return template.format_map(placeholder_values(finding, language, country))


def flat(text: str) -> str:
    return " ".join(plain(text).split())


@pytest.mark.parametrize("code", list(RuleCode))
@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_rule_renders_from_the_catalog_in_each_language(
    code: RuleCode, language: str,
) -> None:
    email = render([SAMPLES[code]], (language,))
    mine = rule_text(code, language)

    for body in (email.text, visible_html(email.html)):
        words = flat(body)
        assert "{" not in words
        assert "}" not in words
        assert mine.title in words
        assert flat(shown_action(SAMPLES[code], language)) in words
        leaked = [piece for piece in foreign_words(language, code) if plain(piece) in words]
        assert leaked == []
    assert f"{DOCS}/{language}/rules.html#{code.anchor}" in email.text
    assert f'href="{DOCS}/{language}/rules.html#{code.anchor}"' in email.html
    assert label("learn_more", language) in email.text


@pytest.mark.parametrize("code", [c for c in RuleCode if c is not RuleCode.PAYOUTS_DISABLED
                                  and c is not RuleCode.CHECK_FAILED])
def test_every_summary_is_filled_not_replaced_by_the_generic_sentence(code: RuleCode) -> None:
    for language in ("fr", "en"):
        text = rule_text(code, language)
        email = render([SAMPLES[code]], (language,))
        assert text.why not in email.text, f"{code} summary fell back in {language}"


def test_money_for_the_locale_french_canada() -> None:
    email = render([SAMPLES[RuleCode.NEGATIVE_BALANCE]], ("fr",))

    assert "25 072,67 $" in plain(email.text)
    assert "25 072,67 $" in plain(email.html)


def test_money_for_the_locale_english_canada() -> None:
    email = render([SAMPLES[RuleCode.NEGATIVE_BALANCE]], ("en",))

    assert "$25,072.67" in email.text
    assert "$25,072.67" in email.html


def test_us_dollars_read_as_such_for_a_canadian_reader() -> None:
    email = render([SAMPLES[RuleCode.RESERVE_HELD]], ("fr",))

    assert "90,00 $ US" in plain(email.text)


def test_yen_have_no_decimals() -> None:
    yen = Finding.of(RuleCode.NEGATIVE_BALANCE, "jpy", 25_072, available=-25_072)

    french = plain(render([yen], ("fr",), country="JP").text)
    english = render([yen], ("en",), country="JP").text

    assert "25 072 ¥" in french
    assert "¥25,072" in english
    assert "25 072,00" not in french
    assert "25,072.00" not in english


def test_dates_in_words_in_the_readers_language() -> None:
    finding = SAMPLES[RuleCode.RESERVE_RELEASE_UPCOMING]

    french = plain(render([finding], ("fr",)).text)
    english = render([finding], ("en",)).text

    assert "lundi 31 août 2026" in french
    assert "mercredi 2 septembre 2026" in french
    assert "samedi 1er août 2026" in french  # the run date, in the introduction
    assert "Monday, August 31, 2026" in english
    assert "Wednesday, September 2, 2026" in english


def test_reserve_release_lists_release_payout_and_arrival_and_the_minimum_retained() -> None:
    english = render([SAMPLES[RuleCode.RESERVE_RELEASE_UPCOMING]], ("en",)).text

    assert ("US$72.67 released on Monday, August 31, 2026, paid out on Monday, August 31, "
            "2026, expected at your bank on Wednesday, September 2, 2026.") in english
    assert "US$25.00" in english  # the minimum balance keeps this much first


def test_manual_payouts_say_the_money_stays_in_stripe() -> None:
    manual = ReserveRelease(currency="usd", amount=7_267, release_date=date(2026, 8, 31),
                            payout_date=None, arrival_date=None)
    finding = SAMPLES[RuleCode.RESERVE_RELEASE_UPCOMING]
    report = account([finding]).model_copy(update={"reserve_releases": [manual]})

    email = render_account_email(report, [finding], languages=("en",), as_of=AS_OF,
                                 docs_base_url=DOCS, country="CA")

    assert "payouts are manual" in email.text


def test_capacity_short_names_its_cause() -> None:
    email = render([SAMPLES[RuleCode.REFUND_CAPACITY_SHORT]], ("en",))

    assert "No minimum balance is set, so each automatic payout" in email.text


@pytest.mark.parametrize("cause", list(CapacityShortCause))
@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_capacity_cause_is_shown_in_the_readers_language(
    cause: CapacityShortCause, language: str,
) -> None:
    finding = SAMPLES[RuleCode.REFUND_CAPACITY_SHORT]
    short = finding.model_copy(update={"details": {**finding.details, "cause": cause.value}})

    email = render([short], (language,))

    other = "en" if language == "fr" else "fr"
    for body in (plain(email.text), plain(visible_html(email.html))):
        flat = " ".join(body.split())
        assert plain(cause_text(cause, language)) in flat
        assert plain(cause_text(cause, other)) not in flat
        assert "{" not in flat
        for different in CapacityShortCause:
            if different is not cause:
                assert plain(cause_text(different, language)) not in flat


def test_unknown_minimum_balance_is_not_called_missing() -> None:
    finding = SAMPLES[RuleCode.REFUND_CAPACITY_SHORT]
    unknown = finding.model_copy(update={"details": {
        **finding.details, "cause": "minimum_balance_unknown", "capacity": 58_000}})

    text = " ".join(render([unknown], ("en",)).text.split())

    assert "could not read the building's minimum balance from Stripe" in text
    assert "No minimum balance is set" not in text
    assert "support team to confirm that your minimum balance is at least $2,400.00" in text
    assert "or add $1,820.00 to your prefunding balance by bank wire." in text


def test_bilingual_is_french_first_then_english() -> None:
    findings = [SAMPLES[RuleCode.NEGATIVE_BALANCE]]
    email = render(findings, ("fr", "en"))

    for body in (plain(email.text), plain(email.html)):
        fr_title = body.index(rule_text(RuleCode.NEGATIVE_BALANCE, "fr").title)
        en_title = body.index(rule_text(RuleCode.NEGATIVE_BALANCE, "en").title)
        assert fr_title < en_title
        assert body.index("25 072,67 $") < body.index("$25,072.67")
    assert "Version anglaise ci-dessous · English version below" in email.text
    assert "Version anglaise ci-dessous · English version below" in email.html
    assert '<td lang="fr"' in email.html
    assert '<td lang="en"' in email.html
    assert email.subject.index("négatif") < email.subject.index("below zero")


def test_an_english_first_email_announces_the_french_below_in_both_languages() -> None:
    email = render([SAMPLES[RuleCode.NEGATIVE_BALANCE]], ("en", "fr"))

    assert first_line(email.text) == "French version below · Version française ci-dessous"
    assert "French version below · Version française ci-dessous" in email.html
    assert email.text.count("version below") == 1  # atop the first language only


def test_the_french_frame_follows_the_one_typography_rule() -> None:
    text = render([NEGATIVE_450, BLOCKED_1200, SHORT_1850], ("fr",)).text

    assert text.startswith("Bonjour,")  # no headline: this account's report has none
    assert ("Balance Guard a vérifié le compte Stripe «\u00a0Les Tours du Parc\u00a0» le "
            "samedi 1er\u00a0août 2026.") in text
    assert "À faire aujourd’hui\u00a0: " in text
    assert "En savoir plus\u00a0: https://help.example.com/fr/rules.html#" in text
    assert ("Pour une question, ou pour changer les destinataires de ces courriels ou leur "
            "langue, écrivez à support@platform.example.") in text


def test_subject_names_the_building_and_the_worst_finding() -> None:
    findings = most_severe_first([SAMPLES[RuleCode.MIN_BALANCE_NOT_SET],
                                  SAMPLES[RuleCode.REFUND_CAPACITY_SHORT],
                                  SAMPLES[RuleCode.RESERVE_HELD]])

    assert subject_for("Les Tours du Parc", findings, ("en",)) == (
        "Les Tours du Parc: Not enough money set aside for your largest possible refund "
        "(+2 more)")
    assert subject_for("Les Tours du Parc", findings[:2], ("fr",)) == (
        "Les Tours du Parc\xa0: Les fonds mis de côté ne suffisent pas pour votre plus gros "
        "remboursement (+1 autre)")
    assert subject_for("Les Tours du Parc", findings[:1], ("fr", "en")).startswith(
        "Les Tours du Parc\xa0: Les fonds mis de côté")


def test_findings_are_listed_most_severe_first() -> None:
    findings = most_severe_first([SAMPLES[RuleCode.RESERVE_HELD],
                                  SAMPLES[RuleCode.NEGATIVE_BALANCE],
                                  SAMPLES[RuleCode.MIN_BALANCE_NOT_SET]])
    text = render(findings, ("en",)).text

    positions = [text.index(rule_text(f.code, "en").title) for f in findings]
    assert positions == sorted(positions)
    assert findings[0].code is RuleCode.NEGATIVE_BALANCE


def test_footer_says_why_and_whom_to_contact() -> None:
    email = render([SAMPLES[RuleCode.PAYOUTS_DISABLED]], ("fr",))

    assert "Vous recevez ce courriel parce que" in email.text
    assert "support@platform.example" in email.text
    assert 'href="mailto:support@platform.example"' in email.html


def test_default_contact_is_written_in_the_readers_language() -> None:
    email = render_account_email(account([SAMPLES[RuleCode.PAYOUTS_DISABLED]]),
                                 [SAMPLES[RuleCode.PAYOUTS_DISABLED]], languages=("fr",),
                                 as_of=AS_OF, docs_base_url=DOCS)

    assert "l’équipe de soutien de la plateforme" in email.text
    assert "the platform's support team" not in email.text


def test_suggested_minimum_unknown_still_reads_well() -> None:
    unknown = Finding.of(RuleCode.MIN_BALANCE_NOT_SET, "cad", None, exposure=0)

    email = render([unknown], ("en",))

    assert "{" not in email.text
    assert rule_text(RuleCode.MIN_BALANCE_NOT_SET, "en").why in email.text


def test_html_is_mail_client_friendly() -> None:
    html = render(list(SAMPLES.values())[:3], ("fr", "en")).html.lower()

    assert "<script" not in html
    assert "<img" not in html
    assert "<link" not in html
    assert "<style" not in html
    assert "http://" not in html
    assert 'name="viewport"' in html


def parsed(message: EmailMessage) -> EmailMessage:
    reread = message_from_bytes(message.as_bytes(policy=policy.SMTP), policy=policy.default)
    assert isinstance(reread, EmailMessage)
    return reread


def test_message_is_multipart_alternative_text_then_html() -> None:
    email = render([SAMPLES[RuleCode.NEGATIVE_BALANCE]], ("fr", "en"))

    message = parsed(build_message(email, sender="Balance Guard <no-reply@example.com>",
                                   to=["admin@example.com"], ref="acct_123", as_of=AS_OF))

    assert message.get_content_type() == "multipart/alternative"
    kinds = [part.get_content_type() for part in message.iter_parts()]
    assert kinds == ["text/plain", "text/html"]
    assert message["Subject"] == email.subject
    assert message["To"] == "admin@example.com"
    assert message["From"] == "Balance Guard <no-reply@example.com>"
    assert message["Content-Language"] == "fr, en"
    assert message["Auto-Submitted"] == "auto-generated"
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None
    assert html is not None
    assert "25 072,67 $" in plain(text.get_content())
    assert "$25,072.67" in html.get_content()


# -- what to do, by cause and by country ------------------------------------------------


def short(cause: CapacityShortCause, **details: object) -> Finding:
    finding = SAMPLES[RuleCode.REFUND_CAPACITY_SHORT]
    return finding.model_copy(update={"details": {**finding.details, "cause": cause.value,
                                                  **details}})


@pytest.mark.parametrize("cause", list(CapacityShortCause))
@pytest.mark.parametrize("language", ["fr", "en"])
def test_each_cause_shows_its_own_action_with_its_figures(
    cause: CapacityShortCause, language: str,
) -> None:
    finding = short(cause, minimum=150_000)

    email = render([finding], (language,))

    for body in (email.text, visible_html(email.html)):
        words = flat(body)
        assert flat(shown_action(finding, language)) in words
        assert "{" not in words
        for other in CapacityShortCause:
            if other is not cause:
                pieces = fragments(cause_action(other, language))
                assert not all(plain(p) in words for p in pieces), other
    shortfall = "1 820,00 $" if language == "fr" else "$1,820.00"
    assert shortfall in flat(email.text.split(label("learn_more", language))[0].splitlines()[-1])


def test_manual_payouts_ask_for_automatic_payouts_not_a_bigger_minimum() -> None:
    text = flat(render([short(CapacityShortCause.MANUAL_PAYOUTS)], ("en",)).text)

    assert ("Ask the platform's support team to turn automatic payouts back on with a "
            "minimum balance of at least $2,400.00") in text
    assert "add $1,820.00 to your prefunding balance by bank wire" in text
    assert "set or raise your minimum" not in text


def test_a_minimum_that_is_enough_is_not_asked_to_be_raised() -> None:
    for language, words in (("en", ("raise", "set a minimum")),
                            ("fr", ("augmenter", "porter votre solde minimum", "fixer"))):
        text = flat(render([short(CapacityShortCause.BALANCE_BELOW_MINIMUM)], (language,)).text)
        action = text[text.index(strings(language)["do_critical"]):]
        for word in words:
            assert word not in action, (language, word)
    english = flat(render([short(CapacityShortCause.BALANCE_BELOW_MINIMUM)], ("en",)).text)
    assert "add $1,820.00 to your prefunding balance by bank wire" in english
    assert "wait for residents' payments" in english


def test_negative_balance_names_the_amount_to_add() -> None:
    assert "Add at least $25,072.67 to your prefunding balance by bank wire" in flat(
        render([SAMPLES[RuleCode.NEGATIVE_BALANCE]], ("en",)).text)
    assert "Versez au moins 25 072,67 $ dans votre solde de préfinancement par virement " \
           "bancaire" in flat(render([SAMPLES[RuleCode.NEGATIVE_BALANCE]], ("fr",)).text)


@pytest.mark.parametrize(("country", "language", "expected", "absent"), [
    ("CA", "en", "by bank wire,", "ACH"),
    ("CA", "fr", "par virement bancaire,", "ACH"),
    ("US", "en", "by bank wire or ACH,", None),
    ("US", "fr", "par virement bancaire ou paiement ACH,", None),
    (None, "en", "by bank wire (or ACH in the United States),", None),
])
def test_adding_funds_is_worded_for_the_accounts_country(
    country: str | None, language: str, expected: str, absent: str | None,
) -> None:
    text = flat(render([SAMPLES[RuleCode.NEGATIVE_BALANCE]], (language,), country=country).text)

    assert expected in text
    if absent:
        assert absent not in text


# -- the email as a whole --------------------------------------------------------------

NEGATIVE_450 = Finding.of(RuleCode.NEGATIVE_BALANCE, "cad", 45_000, available=-45_000)
BLOCKED_1200 = Finding.of(RuleCode.REFUND_BLOCKED, "cad", 120_000, refunds=1)
SHORT_1850 = Finding.of(RuleCode.REFUND_CAPACITY_SHORT, "cad", 185_000, exposure=185_000,
                        capacity=0, cause="balance_below_minimum", available=-45_000,
                        prefund=0, minimum=200_000)


def first_line(text: str) -> str:
    return text.strip().splitlines()[0]


def test_one_minimum_balance_target_when_both_findings_name_one() -> None:
    """Résidence Saint-Laurent: exposure 1 820 $, no minimum: the shortfall and the warning
    both ask for the rounded suggestion, 1 850 $."""
    gap = short(CapacityShortCause.NO_MINIMUM_BALANCE, exposure=182_000, capacity=0)
    warning = Finding.of(RuleCode.MIN_BALANCE_NOT_SET, "cad", 185_000, exposure=182_000)

    french = flat(render([gap, warning], ("fr",)).text)
    english = flat(render([gap, warning], ("en",)).text)

    assert "fixer un solde minimum d’au moins 1 850,00 $" in french
    assert "au moins 1 820,00 $" not in french
    assert "set a minimum balance of at least $1,850.00" in english
    assert "This is the minimum balance the critical alert above asks for" in english
    assert "at least $1,820.00" not in english


def test_minimum_below_exposure_refers_to_the_critical_gap_instead_of_repeating_it() -> None:
    gap = Finding.of(RuleCode.REFUND_CAPACITY_SHORT, "cad", 130_000, exposure=250_000,
                     capacity=120_000, cause="minimum_below_exposure", available=150_000,
                     prefund=20_000, minimum=100_000)
    warning = Finding.of(RuleCode.MIN_BALANCE_BELOW_EXPOSURE, "cad", 130_000,
                         exposure=250_000, minimum=100_000, prefund=20_000)

    text = flat(render([gap, warning], ("en",)).text)

    assert ("Ask the platform's support team to raise your minimum balance from $1,000.00 to "
            "at least $2,500.00, or add $1,300.00 to your prefunding balance by bank wire."
            ) in text
    assert "this is the gap shown in the critical alert above" in text
    assert "falls $1,300.00 short" not in text
    assert text.count("add $1,300.00") == 1  # the critical block only
    alone = flat(render([warning], ("en",)).text)
    assert "falls $1,300.00 short of your largest refundable payment" in alone


def test_an_emptied_prefunding_balance_is_told_once() -> None:
    depleted = Finding.of(RuleCode.PREFUND_DEPLETED, "jpy", 50_000, target=None,
                          previous=50_000)
    used = Finding.of(RuleCode.PREFUND_USED, "jpy", 50_000, previous=50_000, prefund=0)

    email = render([depleted, used], ("en",), country="JP")
    text = flat(email.text)

    assert rule_text(RuleCode.PREFUND_USED, "en").title not in text
    assert "All of your prefunding balance (¥50,000) was used since the previous check" in text
    assert "add ¥50,000 to your prefunding balance by bank wire to bring it back" in text
    assert "¥50,000 to ¥0" not in text
    assert "(+1 more)" not in email.subject


def test_prefund_used_down_to_zero_says_all_of_it() -> None:
    used = Finding.of(RuleCode.PREFUND_USED, "cad", 50_000, previous=50_000, prefund=0)

    text = flat(render([used], ("en",)).text)

    assert "went from $500.00 to zero: all of it was used" in text


def test_an_empty_prefunding_balance_with_a_target_is_brought_to_it() -> None:
    never_funded = Finding.of(RuleCode.PREFUND_DEPLETED, "cad", 100_000, target=100_000,
                              previous=None)
    emptied = Finding.of(RuleCode.PREFUND_DEPLETED, "cad", 30_000, target=None,
                         previous=30_000)

    assert "adding $1,000.00 would bring it to its target" in flat(
        render([never_funded], ("en",)).text)
    assert "un dépôt de 1 000,00 $ l’amènerait à sa cible" in flat(
        render([never_funded], ("fr",)).text)
    assert "adding $300.00 would bring it back to its previous level" in flat(
        render([emptied], ("en",)).text)
    for finding in (never_funded, emptied):
        assert "restore" not in render([finding], ("en",)).text


def test_rewordings_are_chosen_only_in_their_context() -> None:
    assert REWORDINGS[Context.MINIMUM_GAP_IN_CRITICAL].code is RuleCode.MIN_BALANCE_BELOW_EXPOSURE
    alone = flat(render([SAMPLES[RuleCode.MIN_BALANCE_NOT_SET]], ("en",)).text)
    assert "critical alert above" not in alone


def test_french_email_uses_typographic_apostrophes() -> None:
    findings = most_severe_first([f for f in SAMPLES.values()
                                  if f.code is not RuleCode.CHECK_FAILED])

    email = render(findings, ("fr",))

    assert "'" not in email.text
    assert "'" not in visible_html(email.html)
    assert "’" in email.text


# -- footer: whom to contact --------------------------------------------------------------

BOREAL = "Boréal Gestion immobilière support <support@boreal-gestion.example>"


def test_footer_names_the_platform_and_links_its_support_address() -> None:
    email = render_account_email(
        account([NEGATIVE_450]), [NEGATIVE_450], languages=("fr", "en"), as_of=AS_OF,
        docs_base_url=DOCS, contact=BOREAL, country="CA",
        platform_name="Boréal Gestion immobilière")

    text = flat(email.text)
    assert ("Pour une question, ou pour changer les destinataires de ces courriels ou leur "
            "langue, écrivez à Boréal Gestion immobilière support "
            "(support@boreal-gestion.example).") in text
    assert ("For questions, or to change who receives these emails or their language, write "
            "to Boréal Gestion immobilière support (support@boreal-gestion.example).") in text
    assert "pour les alertes Balance Guard de Boréal Gestion immobilière." in text
    assert "in the Balance Guard alerts of Boréal Gestion immobilière." in text
    assert email.html.count('href="mailto:support@boreal-gestion.example"') == 2


def test_footer_with_a_platform_name_but_no_contact_names_its_support_team() -> None:
    email = render_account_email(
        account([NEGATIVE_450]), [NEGATIVE_450], languages=("en",), as_of=AS_OF,
        docs_base_url=DOCS, contact=None, platform_name="Boréal")

    assert ("For questions, or to change who receives these emails or their language, "
            "contact the support team of Boréal.") in flat(email.text)
    assert "mailto:" not in email.html


def test_footer_without_settings_keeps_the_generic_wording() -> None:
    email = render_account_email(account([NEGATIVE_450]), [NEGATIVE_450], languages=("en",),
                                 as_of=AS_OF, docs_base_url=DOCS, contact=None)

    assert ("For questions, or to change who receives these emails or their language, "
            "contact the platform's support team.") in flat(email.text)
    assert "in the Balance Guard alerts of the platform." in email.text


def test_a_name_only_contact_is_shown_without_a_link() -> None:
    email = render([NEGATIVE_450], ("en",), contact="Boréal support desk, 1-800-555-0199")

    assert ("For questions, or to change who receives these emails or their language, "
            "contact Boréal support desk, 1-800-555-0199.") in flat(email.text)
    assert "mailto:" not in email.html


def test_support_address_becomes_the_reply_to() -> None:
    email = render([NEGATIVE_450], ("en",), contact=BOREAL)

    message = parsed(build_message(email, sender="Balance Guard <no-reply@example.com>",
                                   to=["admin@example.com"], ref="acct_123", as_of=AS_OF,
                                   reply_to=reply_to_header(BOREAL)))

    assert message["Reply-To"] == BOREAL
    assert message.get_all("To") == ["admin@example.com"]
    assert reply_to_header(None) is None
    assert reply_to_header("Boréal support desk") is None
    assert str(reply_to_header("help@platform.example")) == "help@platform.example"


def test_a_cause_action_missing_a_figure_falls_back_to_one_that_has_them() -> None:
    unknown_minimum = short(CapacityShortCause.MINIMUM_BELOW_EXPOSURE, minimum=None)

    text = flat(render([unknown_minimum], ("en",)).text)

    assert ("What to do today: Add $1,820.00 to your prefunding balance by bank wire: it "
            "closes the gap right away.") in text
    assert "{" not in text
