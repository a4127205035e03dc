"""The words of the emails themselves, around the rule catalog's texts, in each language.

Rule titles, summaries, causes and actions come from `domain/catalog.py`; only the letter's
own frame (greeting, urgency, the line on what to do today, footer, the digest's headings)
lives here. French uses the typographic apostrophe (’) and Quebec's punctuation (a space
before a colon, none before a question mark).
"""

from __future__ import annotations

from typing import Final

DEFAULT_CONTACT: Final = "the platform's support team"

STRINGS: Final[dict[str, dict[str, str]]] = {
    "en": {
        "greeting": "Hello,",
        "colon": ": ",
        "intro": "Balance Guard checked the Stripe account “{building}” on {date}. "
                 "Here is what needs your attention.",
        "other_language": "French version below · Version française ci-dessous",
        "subject": "{building}: {title}",
        "more": "(+{count} more)",
        # The email's first line when something is critical (domain/advice.py).
        "today_label": "Today",
        "today_add": "add {amounts} to your prefunding balance {funding_method}.",
        "today_add_several": "add {amounts} to your prefunding balances {funding_method}.",
        "today_this": "This",
        "today_due": "{subject} pays what Stripe is waiting for: {parts}.",
        "today_negative": "the balance below zero ({amount})",
        "today_blocked_one": "the refund on hold ({amount})",
        "today_blocked_many": "the {count} refunds on hold ({amount})",
        "today_shortfall": "{subject} covers the largest refund a resident could ask for now.",
        "today_rest": "The steps below keep refunds protected after that.",
        "do_critical": "What to do today",
        "do_warning": "What to do in the coming days",
        "do_info": "What to do",
        "releases": "Scheduled releases",
        "release_line": "{amount} released on {release_date}",
        "payout_line": "paid out on {payout_date}",
        "arrival_line": "expected at your bank on {arrival_date}",
        "manual_payouts": "payouts are manual: the money stays in your Stripe balance until "
                          "you pay it out",
        "next_release": "Next scheduled release: {release_date}.",
        "footer_why": "You receive this email because this address is listed as a contact "
                      "for “{building}” in the Balance Guard alerts of {platform}.",
        "platform": "the platform",
        "footer_contact": "Questions? Contact {contact}.",
        "footer_contact_address": "Questions? Write to {contact}.",
        "footer_policy": "Balance Guard writes at most once a day, and only when something is "
                         "critical, new, changed, or due for its weekly reminder.",
        "default_contact": "the platform's support team",
        "platform_contact": "the support team of {platform}",
        # Operations digest
        "digest_subject": "Balance Guard nightly digest for {date}: {critical} critical, "
                          "{failed} not checked",
        "digest_intro": "Nightly run {run_id} for {date}.",
        "digest_totals": "Accounts by status",
        "digest_accounts": "Accounts checked",
        "digest_accounts_run": "Accounts in this run",
        "digest_report": "Full report: {location}",
        "digest_emails": "Emails sent",
        "digest_requests": "Stripe requests",
        "digest_duration": "Duration",
        "digest_seconds": "{seconds} s",
        "digest_critical": "Critical accounts",
        "digest_failed": "Accounts that could not be checked",
        "digest_notices": "Notices",
        "digest_none": "None.",
    },
    "fr": {
        "greeting": "Bonjour,",
        "colon": " : ",
        "intro": "Balance Guard a vérifié le compte Stripe « {building} » le {date}. "
                 "Voici ce qui demande votre attention.",
        "other_language": "Version anglaise ci-dessous · English version below",
        "subject": "{building} : {title}",
        "more": "(+{count} autres)",
        "today_label": "Aujourd’hui",
        "today_add": "versez {amounts} dans votre solde de préfinancement {funding_method}.",
        "today_add_several": "versez {amounts} dans vos soldes de préfinancement "
                             "{funding_method}.",
        "today_this": "Ce montant",
        "today_due": "{subject} règle ce que Stripe attend : {parts}.",
        "today_negative": "le solde sous zéro ({amount})",
        "today_blocked_one": "le remboursement en attente ({amount})",
        "today_blocked_many": "les {count} remboursements en attente ({amount})",
        "today_shortfall": "{subject} couvre le plus gros remboursement qu’un résident "
                           "pourrait demander dès maintenant.",
        "today_rest": "Les étapes ci-dessous protègent ensuite les remboursements.",
        "do_critical": "À faire aujourd’hui",
        "do_warning": "À faire dans les prochains jours",
        "do_info": "Que faire",
        "releases": "Déblocages prévus",
        "release_line": "{amount} débloqué le {release_date}",
        "payout_line": "versé le {payout_date}",
        "arrival_line": "attendu à votre banque le {arrival_date}",
        "manual_payouts": "versements manuels : l’argent reste dans votre solde Stripe jusqu’à "
                          "ce que vous le versiez",
        "next_release": "Prochain déblocage prévu : {release_date}.",
        "footer_why": "Vous recevez ce courriel parce que cette adresse est indiquée comme "
                      "contact de « {building} » pour les alertes Balance Guard de "
                      "{platform}.",
        "platform": "la plateforme",
        "footer_contact": "Des questions\u202f? Adressez-vous à {contact}.",
        "footer_contact_address": "Des questions\u202f? Écrivez à {contact}.",
        "footer_policy": "Balance Guard écrit au plus une fois par jour, et seulement quand "
                         "quelque chose est critique, nouveau, modifié ou à rappeler chaque "
                         "semaine.",
        "default_contact": "l’équipe de soutien de la plateforme",
        "platform_contact": "l’équipe de soutien de {platform}",
        "digest_subject": "Bilan de nuit Balance Guard du {date} : {critical} critique(s), "
                          "{failed} non vérifié(s)",
        "digest_intro": "Vérification de nuit {run_id} du {date}.",
        "digest_totals": "Comptes par état",
        "digest_accounts": "Comptes vérifiés",
        "digest_accounts_run": "Comptes inclus dans cette vérification",
        "digest_report": "Rapport complet : {location}",
        "digest_emails": "Courriels envoyés",
        "digest_requests": "Requêtes Stripe",
        "digest_duration": "Durée",
        "digest_seconds": "{seconds} s",
        "digest_critical": "Comptes critiques",
        "digest_failed": "Comptes qui n’ont pas pu être vérifiés",
        "digest_notices": "Avis",
        "digest_none": "Aucun.",
    },
}


def more_label(language: str, count: int) -> str:
    if language == "fr" and count == 1:
        return "(+1 autre)"
    return STRINGS[language]["more"].format(count=count)
