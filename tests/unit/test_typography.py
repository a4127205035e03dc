"""The one French typography rule (Quebec, OQLF usage), character by character."""

from __future__ import annotations

import pytest

from balance_guard.text.i18n import gettext
from balance_guard.text.typography import colon, french, typeset

NBSP = "\u00a0"
NNBSP = "\u202f"


@pytest.mark.parametrize(("text", "expected"), [
    # A no-break space before a colon, whatever space was typed (or none).
    ("Virements: manuels", f"Virements{NBSP}: manuels"),
    ("Virements : manuels", f"Virements{NBSP}: manuels"),
    (f"Virements{NNBSP}: manuels", f"Virements{NBSP}: manuels"),
    ("Il vous avertit lorsque :", f"Il vous avertit lorsque{NBSP}:"),
    ("{label}: {value}", f"{{label}}{NBSP}: {{value}}"),
    ("<strong>Solde</strong>: 12", f"<strong>Solde</strong>{NBSP}: 12"),
    # ...but not inside a time, an address or a placeholder's format.
    ("à 03:00", "à 03:00"),
    ("https://aide.example/fr", "https://aide.example/fr"),
    ("mailto:soutien@boreal.example", "mailto:soutien@boreal.example"),
    ("{amount:>10}", "{amount:>10}"),
    # Inside « guillemets ».
    ("« Aide »", f"«{NBSP}Aide{NBSP}»"),
    ("«Aide»", f"«{NBSP}Aide{NBSP}»"),
    (f"«{NNBSP}Aide{NNBSP}»", f"«{NBSP}Aide{NBSP}»"),
    ("Stripe « Résidence Saint-Laurent » :",
     f"Stripe «{NBSP}Résidence Saint-Laurent{NBSP}»{NBSP}:"),
    # No space before ; ? !
    ("Des questions ?", "Des questions?"),
    (f"Des questions{NNBSP}?", "Des questions?"),
    (f"Des questions{NBSP}?", "Des questions?"),
    ("rien à faire ; merci !", "rien à faire; merci!"),
    ("Quelle est la gravité ?", "Quelle est la gravité?"),
    # The typographic apostrophe.
    ("l'argent d'aujourd'hui", "l’argent d’aujourd’hui"),
    ("« l'aide »", f"«{NBSP}l’aide{NBSP}»"),
    # A figure and its sign, a day and its month, never apart.
    ("25 072,67 $", f"25{NBSP}072,67{NBSP}$"),
    ("5 000,00 $ CA", f"5{NBSP}000,00{NBSP}${NBSP}CA"),
    ("450 $ US", f"450{NBSP}${NBSP}US"),
    ("2,9 % plus 30 cents et 25 %", f"2,9{NBSP}% plus 30 cents et 25{NBSP}%"),
    ("à 3 h, heure de Toronto", f"à 3{NBSP}h, heure de Toronto"),
    ("dimanche 2 août 2026", f"dimanche 2{NBSP}août 2026"),
    ("le 1er septembre", f"le 1er{NBSP}septembre"),
    ("le 31 décembre", f"le 31{NBSP}décembre"),
    # Figures that are not one number stay apart; words are not months.
    ("de 30 à 90 jours", "de 30 à 90 jours"),
    ("les 2 mai", f"les 2{NBSP}mai"),
    ("2 maisons", "2 maisons"),
    ("1 234 567,89 $", f"1{NBSP}234{NBSP}567,89{NBSP}$"),
])
def test_french(text: str, expected: str) -> None:
    assert french(text) == expected


def test_the_rule_is_idempotent() -> None:
    text = "Stripe « Résidence » : 1 650,00 $ US ; le 1er août ? l'argent : 25 %"
    once = french(text)
    assert once == (f"Stripe «{NBSP}Résidence{NBSP}»{NBSP}: 1{NBSP}650,00{NBSP}${NBSP}US; "
                    f"le 1er{NBSP}août? l’argent{NBSP}: 25{NBSP}%")
    assert french(once) == once


def test_one_kind_of_no_break_space() -> None:
    assert NNBSP not in french(f"1{NNBSP}650,00{NBSP}$ {NNBSP}; Note{NNBSP}:")


@pytest.mark.parametrize("language", ["fr", "fr_CA", "fr-CA", "FR"])
def test_every_french_variant_is_set(language: str) -> None:
    assert typeset("Note: oui ?", language) == f"Note{NBSP}: oui?"
    assert colon(language) == f"{NBSP}: "


@pytest.mark.parametrize("language", ["en", "en_CA", "es"])
def test_english_has_no_rule_of_its_own(language: str) -> None:
    text = "Note: « oui » ? l'argent, 25 %, 2 August"
    assert typeset(text, language) == text
    assert colon(language) == ": "


def test_gettext_sets_every_french_message() -> None:
    # The catalog's msgstr is typed with ordinary spaces; the reader gets the rule.
    assert gettext("Payouts: manual. Released funds stay in the balance until someone pays "
                   "them out.", "fr") == (
        f"Virements{NBSP}: manuels. Les fonds débloqués restent dans le solde jusqu’à ce que "
        "quelqu’un fasse un virement vers la banque.")
    assert gettext("Payouts: manual. Released funds stay in the balance until someone pays "
                   "them out.", "en") == ("Payouts: manual. Released funds stay in the balance "
                                          "until someone pays them out.")
