"""Account emails rendered from the catalog, in French, English and both (SPEC §10)."""

from __future__ import annotations

import html
import re
from datetime import date
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from balance_guard.domain.catalog import CATALOG, CAUSES, LABELS
from balance_guard.domain.findings import CapacityShortCause, Finding, RuleCode, most_severe_first
from balance_guard.emails.render import (
    RenderedEmail,
    build_message,
    render_account_email,
    subject_for,
)
from balance_guard.emails.strings import STRINGS
from balance_guard.report import AccountReport, ReserveRelease

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
    text = CATALOG[code].text(other)
    pieces = [text.title, text.action, *fragments(text.summary)]
    pieces += [frag for value in STRINGS[other].values() for frag in fragments(value)]
    return pieces


@pytest.mark.parametrize("code", list(RuleCode))
@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_rule_renders_from_the_catalog_in_each_language(
    code: RuleCode, language: str,
) -> None:
    email = render([SAMPLES[code]], (language,))
    mine = CATALOG[code].text(language)

    for body in (email.text, visible_html(email.html)):
        flat = plain(body)
        assert "{" not in flat
        assert "}" not in flat
        assert mine.title in flat
        assert mine.action in flat
        leaked = [piece for piece in foreign_words(language, code) if plain(piece) in flat]
        assert leaked == []
    assert f"{DOCS}/{language}/rules.html#{code.anchor}" in email.text
    assert f'href="{DOCS}/{language}/rules.html#{code.anchor}"' in email.html
    assert LABELS[language]["learn_more"] in email.text


@pytest.mark.parametrize("code", [c for c in RuleCode if c is not RuleCode.PAYOUTS_DISABLED
                                  and c is not RuleCode.CHECK_FAILED])
def test_every_summary_is_filled_not_replaced_by_the_generic_sentence(code: RuleCode) -> None:
    for language in ("fr", "en"):
        text = CATALOG[code].text(language)
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

    french = render([finding], ("fr",)).text
    english = render([finding], ("en",)).text

    assert "lundi 31 août 2026" in french
    assert "mercredi 2 septembre 2026" in french
    assert "samedi 1 août 2026" in french  # the run date, in the introduction
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
        assert plain(CAUSES[cause][language]) in flat
        assert plain(CAUSES[cause][other]) not in flat
        assert "{" not in flat
        for different in CapacityShortCause:
            if different is not cause:
                assert plain(CAUSES[different][language]) not in flat


def test_unknown_minimum_balance_is_not_called_missing() -> None:
    finding = SAMPLES[RuleCode.REFUND_CAPACITY_SHORT]
    unknown = finding.model_copy(update={"details": {
        **finding.details, "cause": "minimum_balance_unknown", "capacity": 58_000}})

    text = " ".join(render([unknown], ("en",)).text.split())

    assert "could not read the building's minimum balance from Stripe" in text
    assert "No minimum balance is set" not in text
    assert "support team to confirm" in text


def test_bilingual_is_french_first_then_english() -> None:
    findings = [SAMPLES[RuleCode.NEGATIVE_BALANCE]]
    email = render(findings, ("fr", "en"))

    for body in (plain(email.text), plain(email.html)):
        fr_title = body.index(CATALOG[RuleCode.NEGATIVE_BALANCE].text("fr").title)
        en_title = body.index(CATALOG[RuleCode.NEGATIVE_BALANCE].text("en").title)
        assert fr_title < en_title
        assert body.index("25 072,67 $") < body.index("$25,072.67")
    assert "English version below." in email.text
    assert '<td lang="fr"' in email.html
    assert '<td lang="en"' in email.html
    assert email.subject.index("négatif") < email.subject.index("below zero")


def test_subject_names_the_building_and_the_worst_finding() -> None:
    findings = most_severe_first([SAMPLES[RuleCode.MIN_BALANCE_NOT_SET],
                                  SAMPLES[RuleCode.REFUND_CAPACITY_SHORT],
                                  SAMPLES[RuleCode.RESERVE_HELD]])

    assert subject_for("Les Tours du Parc", findings, ("en",)) == (
        "Les Tours du Parc: Not enough money set aside for your largest possible refund "
        "(+2 more)")
    assert subject_for("Les Tours du Parc", findings[:2], ("fr",)) == (
        "Les Tours du Parc : Les fonds mis de côté ne suffisent pas pour votre plus gros "
        "remboursement (+1 autre)")
    assert subject_for("Les Tours du Parc", findings[:1], ("fr", "en")).startswith(
        "Les Tours du Parc : Les fonds mis de côté")


def test_findings_are_listed_most_severe_first() -> None:
    findings = most_severe_first([SAMPLES[RuleCode.RESERVE_HELD],
                                  SAMPLES[RuleCode.NEGATIVE_BALANCE],
                                  SAMPLES[RuleCode.MIN_BALANCE_NOT_SET]])
    text = render(findings, ("en",)).text

    positions = [text.index(CATALOG[f.code].text("en").title) for f in findings]
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

    assert "l'équipe de soutien de la plateforme" in email.text
    assert "the platform's support team" not in email.text


def test_suggested_minimum_unknown_still_reads_well() -> None:
    unknown = Finding.of(RuleCode.MIN_BALANCE_NOT_SET, "cad", None, exposure=0)

    email = render([unknown], ("en",))

    assert "{" not in email.text
    assert CATALOG[RuleCode.MIN_BALANCE_NOT_SET].text("en").why in email.text


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
