"""The words of the emails themselves, around the rule catalog's texts.

Rule titles, summaries, causes and actions come from `domain/catalog.py`; only the letter's
own frame (greeting, urgency, the line on what to do today, footer, the digest's headings)
lives here, in English, marked with `N_`; `strings(language)` gives it in the reader's
language through `text.i18n` (French in `text/locales`, typeset there). Imports only the
translation layer.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Final

from balance_guard.text.i18n import LANGUAGES, N_, gettext, language_of, words

STRINGS: Final[dict[str, str]] = {
    "greeting": N_("Hello,"),
    "intro": N_("Balance Guard checked the Stripe account “{building}” on {date}. "
                "Here is what needs your attention."),
    # A bilingual email's banner says, in both languages, that the other one follows:
    # `other_language_banner` joins the two (`French version below · Version française…`).
    "version_below_en": N_("English version below"),
    "version_below_fr": N_("French version below"),
    "subject": N_("{building}: {title}"),
    "more": N_("(+{count} more)"),
    # The email's first line when something is critical (domain/advice.py).
    "today_label": N_("Today"),
    "today_add": N_("add {amounts} to your prefunding balance {funding_method}."),
    "today_add_several": N_("add {amounts} to your prefunding balances {funding_method}."),
    "today_this": N_("This"),
    "today_due": N_("{subject} pays what Stripe is waiting for: {parts}."),
    "today_negative": N_("the balance below zero ({amount})"),
    "today_blocked_one": N_("the refund on hold ({amount})"),
    "today_blocked_many": N_("the {count} refunds on hold ({amount})"),
    "today_shortfall": N_("{subject} covers the largest refund a resident could ask for now."),
    "today_rest": N_("The steps below keep refunds protected after that."),
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
    "footer_contact": N_("Questions? Contact {contact}."),
    "footer_contact_address": N_("Questions? Write to {contact}."),
    "footer_policy": N_("Balance Guard writes at most once a day, and only when something is "
                        "critical, new, changed, or due for its weekly reminder."),
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
