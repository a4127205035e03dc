"""The email asks for one thing: its headline, the buttons where the admin acts, and the
platform as the sender. Exact words, in French and English."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from balance_guard.config import ConfigError, load_policy
from balance_guard.domain.findings import Finding, RuleCode, most_severe_first
from balance_guard.domain.headline import Headline, account_headlines
from balance_guard.domain.policy import Policy, resolve_account_settings
from balance_guard.domain.rules import evaluate
from balance_guard.domain.snapshot import (
    AccountSnapshot,
    BlockedRefund,
    Charge,
    Interval,
    PayoutSchedule,
    PreviousCheck,
)
from balance_guard.notify.render import (
    STRIPE_EXPRESS_LOGIN,
    RenderedEmail,
    build_message,
    render_account_email,
)
from balance_guard.report.model import AccountReport

AS_OF = date(2026, 8, 2)  # the demo's second night, a Sunday
DOCS = "https://help.example.com"
PLATFORM = "Boréal Gestion immobilière"
SUPPORT = "Soutien Boréal <soutien@boreal-gestion.example>"
PORTAL = "https://portail.boreal-gestion.example/paiements"

# Les Tours du Parc: 450 $ below zero, a 1 200 $ refund on hold, a 1 850 $ rent exposed.
NEGATIVE_450 = Finding.of(RuleCode.NEGATIVE_BALANCE, "cad", 45_000, available=-45_000)
BLOCKED_1200 = Finding.of(RuleCode.REFUND_BLOCKED, "cad", 120_000, refunds=1)
SHORT_1850 = Finding.of(RuleCode.REFUND_CAPACITY_SHORT, "cad", 185_000, exposure=185_000,
                        capacity=0, cause="balance_below_minimum", available=-45_000,
                        prefund=0, minimum=200_000)
TOURS = Headline(currency="cad", add=350_000, minimum=None, deadline=AS_OF, urgent=True,
                 next_payout=date(2026, 8, 3), negative=45_000, blocked=120_000,
                 blocked_refunds=1, shortfall=185_000)
# Résidence Saint-Laurent: 3 000 $ available, no minimum balance, a 1 820 $ rent exposed.
GAP_1820 = Finding.of(RuleCode.REFUND_CAPACITY_SHORT, "cad", 182_000, exposure=182_000,
                      capacity=0, cause="no_minimum_balance", available=300_000, prefund=0,
                      minimum=None)
NO_MINIMUM = Finding.of(RuleCode.MIN_BALANCE_NOT_SET, "cad", 185_000, exposure=182_000)
SAINT_LAURENT = Headline(currency="cad", add=0, minimum=185_000, deadline=date(2026, 8, 7),
                         urgent=False, next_payout=date(2026, 8, 7))


def plain(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def email(
    findings: list[Finding], headlines: list[Headline], languages: tuple[str, ...],
    *, portal: str | None = None, platform: str | None = PLATFORM, country: str = "CA",
) -> RenderedEmail:
    report = AccountReport(account_id="acct_1", name="Les Tours du Parc", locale="fr",
                           status="critical", findings=findings, headlines=headlines)
    return render_account_email(report, findings, languages=languages, as_of=AS_OF,
                                docs_base_url=DOCS, contact=SUPPORT, country=country,
                                platform_name=platform, portal=portal)


def lines(text: str) -> list[str]:
    return [plain(line) for line in text.splitlines()]


def hrefs(html: str) -> list[tuple[str, str]]:
    """(href, text) of every link, in order."""
    return [(href, re.sub(r"<[^>]+>", "", text).strip())
            for href, text in re.findall(r'<a href="([^"]+)"[^>]*>(.*?)</a>', html, re.S)]


# -- the headline ------------------------------------------------------------------------


def test_tours_du_parc_reads_one_total_due_today_in_french() -> None:
    text = lines(email([NEGATIVE_450, BLOCKED_1200, SHORT_1850], [TOURS], ("fr",)).text)

    assert text[:6] == [
        "Que faire : Versez 3 500,00 $ dans votre solde de préfinancement par virement "
        "bancaire aujourd’hui. Ce montant comprend 450,00 $ pour le solde sous zéro, "
        "1 200,00 $ pour le remboursement en attente et 1 850,00 $ pour couvrir le plus gros "
        "remboursement qu’un résident pourrait demander. Les virements automatiques ne "
        "prennent jamais d’argent dans le solde de préfinancement (le prochain a lieu le "
        "lundi 3 août 2026).",
        "Cela suffit à régler toutes les alertes critiques ci-dessous.",
        "",
        "Ajouter des fonds : https://help.example.com/fr/adding-funds.html",
        "Ouvrir mon compte Stripe : https://connect.stripe.com/express_login",
        "",
    ]
    assert [line for line in text if "font partie" in line] == [
        "Ces 450,00 $ font partie des 3 500,00 $ à verser aujourd’hui.",
        "Ces 1 200,00 $ font partie des 3 500,00 $ à verser aujourd’hui.",
        "Ces 1 850,00 $ font partie des 3 500,00 $ à verser aujourd’hui.",
    ]
    assert "1 650,00 $" not in " ".join(text)  # the old partial total


def test_tours_du_parc_reads_one_total_due_today_in_english() -> None:
    text = lines(email([NEGATIVE_450, BLOCKED_1200, SHORT_1850], [TOURS], ("en",)).text)

    assert text[:5] == [
        "What to do: Add $3,500.00 to your prefunding balance by bank wire today. This amount "
        "is $450.00 for the balance below zero, $1,200.00 for the refund on hold and "
        "$1,850.00 to cover the largest refund a resident could ask for. Automatic payouts "
        "never take money from the prefunding balance (the next one is on Monday, August 3, "
        "2026).",
        "Doing this is enough to settle every critical alert below.",
        "",
        "Add funds: https://help.example.com/en/adding-funds.html",
        "Open my Stripe account: https://connect.stripe.com/express_login",
    ]
    assert [line for line in text if "is part of" in line] == [
        "This $450.00 is part of the $3,500.00 to add today.",
        "This $1,200.00 is part of the $3,500.00 to add today.",
        "This $1,850.00 is part of the $3,500.00 to add today.",
    ]
    # Each card keeps its own action, said "today" like its headline.
    assert sum(line.startswith("What to do today: ") for line in text) == 3


def test_a_minimum_balance_headline_names_the_next_payout_and_asks_for_no_wire() -> None:
    french = lines(email([GAP_1820, NO_MINIMUM], [SAINT_LAURENT], ("fr",)).text)
    english = lines(email([GAP_1820, NO_MINIMUM], [SAINT_LAURENT], ("en",)).text)

    assert french[:5] == [
        "Que faire : Demandez à l’équipe de soutien de Boréal Gestion immobilière de fixer "
        "votre solde minimum à 1 850,00 $ avant le prochain virement automatique, le vendredi "
        "7 août 2026. L’argent est déjà dans votre solde : un solde minimum le garde chez "
        "Stripe pour les remboursements, sans virement bancaire.",
        "Cela suffit à régler toutes les alertes critiques ci-dessous.",
        "",
        "Ouvrir mon compte Stripe : https://connect.stripe.com/express_login",
        "",
    ]
    assert english[:4] == [
        "What to do: Ask the support team of Boréal Gestion immobilière to set your minimum "
        "balance to $1,850.00 before the next automatic payout, Friday, August 7, 2026. The "
        "money is already in your balance: a minimum balance keeps it in Stripe for refunds, "
        "with no bank wire.",
        "Doing this is enough to settle every critical alert below.",
        "",
        "Open my Stripe account: https://connect.stripe.com/express_login",
    ]
    # Both cards point to it; the critical one no longer says "today" against it.
    assert english.count("Included in “What to do” at the top of this email: the minimum "
                         "balance of $1,850.00 settles it.") == 2
    assert french.count("Compris dans « Que faire », en haut de ce courriel : le solde "
                        "minimum de 1 850,00 $ règle ce point.") == 2
    assert any(line.startswith("What to do by Friday, August 7, 2026: Ask") for line in english)
    assert any(line.startswith("À faire d’ici le vendredi 7 août 2026 : Demandez")
               for line in french)
    assert not any(line.startswith("What to do today") for line in english)
    assert "Add funds" not in "\n".join(english)  # no wire is asked


def test_a_wire_and_a_minimum_today_say_what_the_next_payout_would_do() -> None:
    both = Headline(currency="cad", add=60_000, minimum=250_000, deadline=AS_OF, urgent=True,
                    next_payout=date(2026, 8, 3), shortfall=60_000)
    gap = Finding.of(RuleCode.REFUND_CAPACITY_SHORT, "cad", 130_000, exposure=250_000,
                     capacity=120_000, cause="minimum_below_exposure", available=190_000,
                     prefund=0, minimum=100_000)

    english = lines(email([gap], [both], ("en",)).text)
    french = lines(email([gap], [both], ("fr",)).text)

    assert english[0] == (
        "What to do: Add $600.00 to your prefunding balance by bank wire, and ask the support "
        "team of Boréal Gestion immobilière to set your minimum balance to $2,500.00, today. "
        "It covers the largest refund a resident could ask for now. Without that minimum "
        "balance, the next automatic payout, Monday, August 3, 2026, would send the money "
        "that protects refunds to your bank.")
    assert french[0] == (
        "Que faire : Versez 600,00 $ dans votre solde de préfinancement par virement bancaire "
        "et demandez à l’équipe de soutien de Boréal Gestion immobilière de fixer votre solde "
        "minimum à 2 500,00 $, aujourd’hui. Il couvre le plus gros remboursement qu’un "
        "résident pourrait demander dès maintenant. Sans ce solde minimum, le prochain "
        "virement automatique, le lundi 3 août 2026, enverrait à votre banque l’argent qui "
        "protège les remboursements.")
    # The card's 1 300 $ is not the headline's 600 $: it points to the headline instead.
    assert "Included in “What to do” at the top of this email." in english


def test_refunds_on_hold_partly_paid_by_the_balance_are_named_as_the_rest() -> None:
    blocked = Finding.of(RuleCode.REFUND_BLOCKED, "cad", 500_000, refunds=2)
    negative = Finding.of(RuleCode.NEGATIVE_BALANCE, "cad", 10_000, available=-10_000)
    said = Headline(currency="cad", add=210_000, minimum=None, deadline=AS_OF, urgent=True,
                    negative=10_000, blocked=200_000, blocked_refunds=2)

    text = lines(email([blocked, negative], [said], ("en",)).text)

    assert text[0] == (
        "What to do: Add $2,100.00 to your prefunding balance by bank wire today. This amount "
        "is $100.00 for the balance below zero and $2,000.00 for what your balance does not "
        "cover of the refunds on hold.")
    assert "This $100.00 is part of the $2,100.00 to add today." in text
    assert "Included in “What to do” at the top of this email." in text  # the 5 000 $ card


def test_one_paragraph_per_currency() -> None:
    usd_short = Finding.of(RuleCode.REFUND_CAPACITY_SHORT, "usd", 20_000, exposure=50_000,
                           capacity=30_000, cause="manual_payouts")
    usd = Headline(currency="usd", add=20_000, minimum=None, deadline=AS_OF, urgent=True,
                   shortfall=20_000)

    text = lines(email([NEGATIVE_450, BLOCKED_1200, SHORT_1850, usd_short], [TOURS, usd],
                       ("en",)).text)

    assert text[0].startswith("What to do: Add $3,500.00 to your prefunding balance")
    assert text[1] == ("Add US$200.00 to your prefunding balance by bank wire today. It covers "
                       "the largest refund a resident could ask for now.")
    assert text[2] == "Doing this is enough to settle every critical alert below."
    assert "This US$200.00 is part of" not in "\n".join(text)  # the whole headline: no "part"
    assert text.count("Included in “What to do” at the top of this email.") == 1


def test_the_headline_claims_to_settle_everything_only_when_it_does() -> None:
    usd_short = Finding.of(RuleCode.REFUND_CAPACITY_SHORT, "usd", 20_000, exposure=50_000,
                           capacity=30_000, cause="manual_payouts")

    text = lines(email([NEGATIVE_450, BLOCKED_1200, SHORT_1850, usd_short], [TOURS],
                       ("en",)).text)

    assert text[0].startswith("What to do: Add $3,500.00 to your prefunding balance")
    assert text[1:3] == ["", "Add funds: https://help.example.com/en/adding-funds.html"]
    assert "Doing this is enough to settle every critical alert below." not in text


def test_the_headline_opens_the_html_and_the_inbox_preview() -> None:
    page = email([NEGATIVE_450, BLOCKED_1200, SHORT_1850], [TOURS], ("en",)).html
    body = plain(page[page.index("<body"):])

    preview = body.index("What to do: Add $3,500.00 to your prefunding balance")
    assert preview < body.index("<table")  # hidden preheader, before the layout
    headline = body.index(">Add $3,500.00 to your prefunding balance by bank wire today.")
    assert preview < headline < body.index(">Add funds</a>") < body.index("Hello,") < body.index(
        "<h2")


def test_no_headline_without_a_critical_card_nor_when_the_report_has_none() -> None:
    warning_only = lines(email([NO_MINIMUM], [SAINT_LAURENT], ("en",)).text)
    without = lines(email([NEGATIVE_450], [], ("en",)).text)

    assert warning_only[0] == "Hello,"
    assert without[0] == "Hello,"
    assert not any("Included in" in line for line in warning_only + without)
    # The buttons then come after the cards, before the footer.
    assert without.index("Add funds: https://help.example.com/en/adding-funds.html") > (
        without.index("Learn more: https://help.example.com/en/rules.html#rule-negative-balance"))
    assert without.index("Open my Stripe account: https://connect.stripe.com/express_login") < (
        without.index("--"))


def test_the_demo_s_tours_du_parc_from_its_snapshot_to_its_email() -> None:
    """The rules and the headline on Les Tours du Parc's night-2 position, then its email."""
    snapshot = AccountSnapshot(
        account_id="acct_1TdpToursDuParc", name="Les Tours du Parc", country="CA",
        default_currency="cad", metadata={"balance_guard_locale": "fr"},
        minimum_balances={"cad": 200_000}, available={"cad": -45_000},
        prefund_available={"cad": 0},
        charges=(Charge(id="ch_1", currency="cad", amount=185_000, amount_refunded=0,
                        created=datetime(2026, 7, 28, 15, 40, tzinfo=UTC)),),
        blocked_refunds=(BlockedRefund(id="re_1", currency="cad", amount=120_000,
                                       created=datetime(2026, 7, 31, 16, 20, tzinfo=UTC)),))
    rules = Policy()
    settings = resolve_account_settings(rules, snapshot.metadata)
    findings = most_severe_first(evaluate(snapshot, AS_OF, rules, settings, PreviousCheck()))
    headlines = account_headlines(snapshot, AS_OF, rules, settings)

    text = plain(email(findings, headlines, ("fr",)).text)

    assert text.startswith("Que faire : Versez 3 500,00 $ dans votre solde de préfinancement "
                           "par virement bancaire aujourd’hui.")
    assert "(le prochain a lieu le lundi 3 août 2026)" in text
    assert text.count("font partie des 3 500,00 $ à verser aujourd’hui.") == 3


def test_a_weekly_payout_day_is_the_deadline_of_a_minimum_balance() -> None:
    snapshot = AccountSnapshot(
        account_id="acct_1RslStLaurent0001", name="Résidence Saint-Laurent", country="CA",
        default_currency="cad", minimum_balances={"cad": None}, available={"cad": 300_000},
        prefund_available={"cad": 0},
        schedule=PayoutSchedule(interval=Interval.WEEKLY, weekly_payout_days=("friday",)),
        charges=(Charge(id="ch_1", currency="cad", amount=182_000, amount_refunded=0,
                        created=datetime(2026, 7, 24, tzinfo=UTC)),))
    rules = Policy()
    settings = resolve_account_settings(rules, {})
    findings = most_severe_first(evaluate(snapshot, AS_OF, rules, settings, PreviousCheck()))

    text = plain(email(findings, account_headlines(snapshot, AS_OF, rules, settings),
                       ("en",)).text)

    assert text.startswith("What to do: Ask the support team of Boréal Gestion immobilière to "
                           "set your minimum balance to $1,850.00 before the next automatic "
                           "payout, Friday, August 7, 2026.")


# -- the buttons -------------------------------------------------------------------------


@pytest.mark.parametrize(("language", "add", "stripe"), [
    ("fr", "Ajouter des fonds", "Ouvrir mon compte Stripe"),
    ("en", "Add funds", "Open my Stripe account"),
])
def test_buttons_lead_to_the_help_page_and_the_stripe_account(
    language: str, add: str, stripe: str,
) -> None:
    rendered = email([NEGATIVE_450, BLOCKED_1200, SHORT_1850], [TOURS], (language,))

    links = hrefs(rendered.html)
    assert links[:2] == [(f"{DOCS}/{language}/adding-funds.html", add),
                         (STRIPE_EXPRESS_LOGIN, stripe)]
    assert STRIPE_EXPRESS_LOGIN == "https://connect.stripe.com/express_login"
    # Each card keeps its rule's help link.
    assert [href for href, _ in links[2:5]] == [
        f"{DOCS}/{language}/rules.html#rule-negative-balance",
        f"{DOCS}/{language}/rules.html#rule-refund-blocked",
        f"{DOCS}/{language}/rules.html#rule-refund-capacity-short"]
    # Bulletproof: the colour is on the table cell, for clients that drop a link's styles.
    assert rendered.html.count('<td align="center" bgcolor="#175cd3"') == 1  # Add funds
    assert rendered.html.count('<td align="center" bgcolor="#ffffff"') == 1


def test_the_platform_s_portal_replaces_stripe_s_login_page() -> None:
    rendered = email([NEGATIVE_450], [], ("fr", "en"), portal=PORTAL)

    assert [href for href, _ in hrefs(rendered.html) if "Stripe" in _] == [PORTAL, PORTAL]
    assert plain(rendered.text).count(f"Ouvrir mon compte Stripe : {PORTAL}") == 1
    assert rendered.text.count(f"Open my Stripe account: {PORTAL}") == 1
    assert STRIPE_EXPRESS_LOGIN not in rendered.text


@pytest.mark.parametrize("portal", ["javascript:alert(1)", "http://portal.example",
                                    'https://portal.example/"><script>', ""])
def test_a_portal_address_that_is_not_https_falls_back_to_stripe(portal: str) -> None:
    rendered = email([NEGATIVE_450], [], ("en",), portal=portal)

    assert f'href="{STRIPE_EXPRESS_LOGIN}"' in rendered.html
    assert "javascript:" not in rendered.html
    assert "<script" not in rendered.html


def test_the_portal_url_comes_from_the_environment_and_must_be_https() -> None:
    assert load_policy({"PLATFORM_PORTAL_URL": f"  {PORTAL} "}).platform_portal_url == PORTAL
    assert load_policy({}).platform_portal_url is None
    assert Policy(platform_portal_url="").platform_portal_url is None
    for bad in ("javascript:alert(1)", "http://portal.example", "https://",
                "https://portal.example/a b", "https://portail.exemple/\u202e"):
        with pytest.raises(ConfigError, match="platform_portal_url"):
            load_policy({"PLATFORM_PORTAL_URL": bad})


# -- the platform speaks -----------------------------------------------------------------


def parsed(message: EmailMessage) -> EmailMessage:
    reread = message_from_bytes(message.as_bytes(policy=policy.SMTP), policy=policy.default)
    assert isinstance(reread, EmailMessage)
    return reread


def test_the_from_header_carries_the_platform_s_name_and_the_sender_s_address() -> None:
    rendered = email([NEGATIVE_450], [], ("fr",))
    unnamed = email([NEGATIVE_450], [], ("fr",), platform=None)

    message = parsed(build_message(rendered, sender="Balance Guard <no-reply@example.com>",
                                   to=["admin@example.com"], ref="acct_1", as_of=AS_OF))
    bare = parsed(build_message(rendered, sender="no-reply@example.com",
                                to=["admin@example.com"], ref="acct_1", as_of=AS_OF))
    default = parsed(build_message(unnamed, sender="Balance Guard <no-reply@example.com>",
                                   to=["admin@example.com"], ref="acct_1", as_of=AS_OF))

    assert message["From"] == "Boréal Gestion immobilière <no-reply@example.com>"
    assert bare["From"] == "Boréal Gestion immobilière <no-reply@example.com>"
    assert default["From"] == "Balance Guard <no-reply@example.com>"


def test_the_first_sentence_names_the_platform() -> None:
    french = lines(email([NEGATIVE_450], [], ("fr",)).text)
    english = lines(email([NEGATIVE_450], [], ("en",)).text)
    unnamed = lines(email([NEGATIVE_450], [], ("en",), platform=None).text)

    assert french[2] == ("Boréal Gestion immobilière a vérifié le compte Stripe « Les Tours du "
                         "Parc » le dimanche 2 août 2026. Voici ce qui demande votre attention.")
    assert english[2] == ("Boréal Gestion immobilière checked the Stripe account “Les Tours du "
                          "Parc” on Sunday, August 2, 2026. Here is what needs your attention.")
    assert unnamed[2].startswith("Balance Guard checked the Stripe account")


def test_the_footer_says_how_to_change_the_recipients_or_the_language() -> None:
    rendered = email([NEGATIVE_450], [], ("fr", "en"))
    text = lines(rendered.text)

    assert ("Pour une question, ou pour changer les destinataires de ces courriels ou leur "
            "langue, écrivez à Soutien Boréal (soutien@boreal-gestion.example).") in text
    assert ("For questions, or to change who receives these emails or their language, write "
            "to Soutien Boréal (soutien@boreal-gestion.example).") in text
    assert rendered.html.count('href="mailto:soutien@boreal-gestion.example"') == 2
