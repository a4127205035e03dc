"""The words of the emails themselves, around the rule catalog's texts.

Rule titles, summaries, causes and actions come from `domain/catalog.py`; only the letter's
own frame (greeting, urgency, the headline on what to do, its buttons, footer, the digest's
headings) lives here, in English, marked with `N_`; `strings(language)` gives it in the
reader's language through `text.i18n` (French in `text/locales`, typeset there). Imports
only the translation layer.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Final

from balance_guard.text.i18n import LANGUAGES, N_, gettext, language_of, words

STRINGS: Final[dict[str, str]] = {
    "greeting": N_("Hello,"),
    "intro": N_("{platform} checked the Stripe account “{building}” on {date}. "
                "Here is what needs your attention."),
    # A bilingual email's banner says, in both languages, that the other one follows:
    # `other_language_banner` joins the two (`French version below · Version française…`).
    "version_below_en": N_("English version below"),
    "version_below_fr": N_("French version below"),
    "subject": N_("{building}: {title}"),
    "more": N_("(+{count} more)"),
    # The email's first block, one paragraph per currency (`domain/headline.py`): the one
    # amount to add, the one setting to change, and by when.
    "headline_label": N_("What to do"),
    "headline_add": N_("Add {amount} to your prefunding balance {funding_method} {deadline}."),
    "headline_minimum": N_("Ask {support} to set your minimum balance to {minimum} {deadline}."),
    "headline_both": N_("Add {amount} to your prefunding balance {funding_method}, and ask "
                        "{support} to set your minimum balance to {minimum}, {deadline}."),
    "deadline_today": N_("today"),
    "deadline_payout": N_("before the next automatic payout, {date}"),
    # ...what the amount is made of, in the order Stripe takes it,
    "headline_parts": N_("This amount is {parts}."),
    "part_negative": N_("{amount} for the balance below zero"),
    "part_blocked_one": N_("{amount} for the refund on hold"),
    "part_blocked_many": N_("{amount} for the {count} refunds on hold"),
    "part_blocked_some": N_("{amount} for the refunds on hold"),
    "part_blocked_rest": N_("{amount} for what your balance does not cover of the refunds "
                            "on hold"),
    "part_shortfall": N_("{amount} to cover the largest refund a resident could ask for"),
    "only_negative": N_("It brings your balance back above zero."),
    "only_blocked_one": N_("Stripe completes the refund on hold as soon as the money "
                           "arrives."),
    "only_blocked_many": N_("Stripe completes the {count} refunds on hold as soon as the "
                            "money arrives."),
    "only_blocked_some": N_("Stripe completes the refunds on hold as soon as the money "
                            "arrives."),
    "only_shortfall": N_("It covers the largest refund a resident could ask for now."),
    # ...and, where it helps, what the next automatic payout would do.
    "payout_keeps_prefunding": N_("Automatic payouts never take money from the prefunding "
                                  "balance (the next one is on {date})."),
    "payout_takes_balance": N_("Without that minimum balance, the next automatic payout, "
                               "{date}, would send the money that protects refunds to your "
                               "bank."),
    "minimum_no_wire": N_("The money is already in your balance: a minimum balance keeps it "
                          "in Stripe for refunds, with no bank wire."),
    "headline_settles": N_("Doing this is enough to settle every critical alert below."),
    # How a card's figure is part of the headline.
    "card_part": N_("This {amount} is part of the {total} to add {deadline}."),
    "card_included": N_("Included in “What to do” at the top of this email."),
    "card_minimum": N_("Included in “What to do” at the top of this email: the minimum "
                       "balance of {minimum} settles it."),
    # A critical card whose headline can wait for the next automatic payout.
    "do_by": N_("What to do by {date}"),
    # The buttons where the admin acts.
    "button_add_funds": N_("Add funds"),
    "button_stripe": N_("Open my Stripe account"),
    "do_critical": N_("What to do today"),
    "do_warning": N_("What to do in the coming days"),
    "do_info": N_("What to do"),
    "releases": N_("Scheduled releases"),
    "release_line": N_("{amount} released on {release_date}"),
    "payout_line": N_("paid out on {payout_date}"),
    "arrival_line": N_("expected at your bank on {arrival_date}"),
    "manual_payouts": N_("payouts are manual: the money stays in your Stripe balance until "
                         "you pay it out"),
    "next_release": N_("Next scheduled release: {release_date}."),
    "footer_why": N_("You receive this email because this address is listed as a contact "
                     "for “{building}” in the Balance Guard alerts of {platform}."),
    "platform": N_("the platform"),
    # Support is also how the recipients and the language change (account metadata that
    # only the platform edits).
    "footer_contact": N_("For questions, or to change who receives these emails or their "
                         "language, contact {contact}."),
    "footer_contact_address": N_("For questions, or to change who receives these emails or "
                                 "their language, write to {contact}."),
    "footer_policy": N_("Balance Guard writes at most once a night, when something is "
                        "critical, new, changed, or due for its weekly reminder; during the "
                        "day, only when a refund or the balance has just become critical."),
    "default_contact": N_("the platform's support team"),
    "platform_contact": N_("the support team of {platform}"),
    # Operations digest
    "digest_subject": N_("Balance Guard nightly digest for {date}: {critical} critical, "
                         "{failed} not checked"),
    "digest_intro": N_("Nightly run {run_id} for {date}."),
    "digest_totals": N_("Accounts by status"),
    "digest_accounts": N_("Accounts checked"),
    "digest_accounts_run": N_("Accounts in this run"),
    "digest_report": N_("Full report: {location}"),
    "digest_emails": N_("Emails sent"),
    "digest_requests": N_("Stripe requests"),
    "digest_duration": N_("Duration"),
    "digest_seconds": N_("{seconds} s"),
    "digest_critical": N_("Critical accounts"),
    "digest_failed": N_("Accounts that could not be checked"),
    "digest_notices": N_("Notices"),
    "digest_none": N_("None."),
}

# Who to write to when the platform named no one: a caller passing this value (the
# default) gets the generic wording, in the reader's language.
DEFAULT_CONTACT: Final = STRINGS["default_contact"]


@lru_cache(maxsize=len(LANGUAGES))
def _strings(language: str) -> dict[str, str]:
    return words(STRINGS, language)


def strings(language: str) -> dict[str, str]:
    """`STRINGS` in `language` (`en`, `fr`, `fr_CA`...), typeset for it."""
    return _strings(language_of(language))


def other_language_banner(first: str, second: str) -> str:
    """`French version below · Version française ci-dessous` atop an English-first email:
    the second language's version announced in the first language, then in its own."""
    key = f"version_below_{language_of(second)}"
    return f"{strings(first)[key]} · {strings(second)[key]}"


def more_label(language: str, count: int) -> str:
    """`(+2 more)`; French says `(+1 autre)` but `(+2 autres)`, so one has its own text."""
    if count == 1:
        return gettext("(+1 more)", language)
    return strings(language)["more"].format(count=count)
