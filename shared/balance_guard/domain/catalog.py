"""The rule catalog: the one source of every word the product says about a rule.

Emails, `balance-guard explain` and the help site all render from here. This module holds
the catalog's structure as typed data — which rules exist, what each says in which role
(title, meaning, why, action, summary), which figures a text may name — with its words in
English, each marked with `N_` for extraction; `balance_guard.text.catalog` gives the same
data in the reader's language through gettext (French in
`text/locales/fr/LC_MESSAGES/balance_guard.po`). Pure: no I/O, no translation here.

Texts are plain strings with `{placeholders}` the renderers fill with values already
formatted for the reader's locale (see `PLACEHOLDERS`). A `summary` only names keys its
rule really emits (the finding's `amount` and its `details`, see `rules.py`); an email's
`finding_action` may also name the values every email can compute
(`COMPUTED_PLACEHOLDERS`). `title`, `meaning`, `why` and `action` have no placeholders:
`explain` and the help site print them as they are.

Readers are building administrators, not accountants: every text says what happened in
everyday words, and each rule ends with one action they can take.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from balance_guard.domain.findings import CapacityShortCause, RuleCode, Severity

LANGUAGES = ("en", "fr")


def N_(message: str) -> str:  # noqa: N802 - gettext's name for "translated later"
    """Marks `message` for the translation catalog; it is translated where it is shown."""
    return message


# Placeholders a `summary` or cause text may use; money ones are formatted with Babel.
PLACEHOLDERS = {
    "amount": "money", "exposure": "money", "capacity": "money", "available": "money",
    "prefund": "money", "minimum": "money", "target": "money", "previous": "money",
    "release_date": "date", "first_release_date": "date", "refunds": "count",
    "minimum_balance_retains": "money",
    "suggested_minimum": "money", "funding_method": "text",
}  # fmt: skip
# Placeholders an email fills for any finding, beyond what its rule emits: the minimum
# balance to ask for (the refund exposure rounded up as MIN_BALANCE_NOT_SET suggests it),
# and how the reader can add funds in their country (`FUNDING_METHODS`).
COMPUTED_PLACEHOLDERS = frozenset({"suggested_minimum", "funding_method"})


class RuleText(BaseModel):
    """What the catalog says about one rule, in one language."""

    model_config = ConfigDict(frozen=True)

    title: str  # short, for a subject line or heading
    meaning: str  # what the rule means, in general terms
    why: str  # why the reader got it: the condition, in plain words
    action: str  # the one thing to do, in general terms (help site, `explain`)
    summary: str  # one sentence about this finding, with placeholders
    # The same action for one finding, naming its figures (emails); empty when `action`
    # needs no figure. A renderer missing one of its values falls back to `action`.
    finding_action: str = ""


class CatalogEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: RuleCode
    text: RuleText  # in English, as marked for translation

    @property
    def severity(self) -> Severity:
        return self.code.severity

    @property
    def anchor(self) -> str:
        return self.code.anchor


class Context(StrEnum):
    """A finding worded for the email it is in (chosen by `domain/advice.py`)."""

    # PREFUND_DEPLETED with a target: adding it brings the balance *to* its target.
    PREFUND_EMPTY_TO_TARGET = "prefund_empty_to_target"
    # PREFUND_DEPLETED absorbing the PREFUND_USED of the same currency: one block, one story.
    PREFUND_EMPTY_ALL_USED = "prefund_empty_all_used"
    PREFUND_EMPTY_ALL_USED_TO_TARGET = "prefund_empty_all_used_to_target"
    # PREFUND_USED down to zero.
    PREFUND_ALL_USED = "prefund_all_used"
    # MIN_BALANCE_BELOW_EXPOSURE next to the REFUND_CAPACITY_SHORT it explains.
    MINIMUM_GAP_IN_CRITICAL = "minimum_gap_in_critical"
    # MIN_BALANCE_NOT_SET next to a REFUND_CAPACITY_SHORT asking for the same minimum.
    MINIMUM_ASKED_IN_CRITICAL = "minimum_asked_in_critical"


class Rewording(BaseModel):
    """A rule's summary and/or email action as worded in one `Context`; what it leaves
    empty keeps the rule's own text."""

    model_config = ConfigDict(frozen=True)

    code: RuleCode
    summary: str = ""
    action: str = ""


class ComparisonRow(BaseModel):
    """One line of the minimum balance vs prefunding table."""

    model_config = ConfigDict(frozen=True)

    key: str
    aspect: str
    minimum_balance: str
    prefunding: str

    @property
    def cells(self) -> tuple[str, str, str]:
        return self.aspect, self.minimum_balance, self.prefunding


CATALOG: dict[RuleCode, CatalogEntry] = {
    RuleCode.NEGATIVE_BALANCE: CatalogEntry(
        code=RuleCode.NEGATIVE_BALANCE,
        text=RuleText(
            title=N_("Your Stripe balance is below zero"),
            meaning=N_(
                "Refunds, disputes or fees took more out of the building's Stripe payments "
                "balance than residents' payments brought in. While the balance is below zero, "
                "the building owes that money to Stripe and there is nothing left in it to pay a "
                "resident back."
            ),
            why=N_(
                "On the night of the check, the available payments balance in this currency was "
                "below zero."
            ),
            action=N_(
                "Add at least the amount below zero to your prefunding balance by bank wire (or "
                "ACH in the United States), as shown on the help page “Adding funds for refunds "
                "and disputes”."
            ),
            summary=N_("Your available balance is {amount} below zero."),
            finding_action=N_(
                "Add at least {amount} to your prefunding balance {funding_method}, as shown on "
                "the help page “Adding funds for refunds and disputes”."
            ),
        ),
    ),
    RuleCode.REFUND_BLOCKED: CatalogEntry(
        code=RuleCode.REFUND_BLOCKED,
        text=RuleText(
            title=N_("A resident's refund is on hold"),
            meaning=N_(
                "Stripe accepted the refund but cannot pay it yet: the building's payments "
                "balance and prefunding balance together do not hold enough money. The resident "
                "has not received anything so far."
            ),
            why=N_(
                "At least one refund in this currency was waiting at Stripe with the reason "
                "“insufficient funds” on the night of the check."
            ),
            action=N_(
                "Add the blocked amount to your prefunding balance by bank wire (or ACH in the "
                "United States); Stripe completes the waiting refunds once the money arrives."
            ),
            summary=N_(
                "Refunds totalling {amount} are waiting for funds (number of refunds: {refunds})."
            ),
            finding_action=N_(
                "Add {amount} to your prefunding balance {funding_method}; Stripe completes the "
                "waiting refunds once the money arrives."
            ),
        ),
    ),
    RuleCode.REFUND_CAPACITY_SHORT: CatalogEntry(
        code=RuleCode.REFUND_CAPACITY_SHORT,
        text=RuleText(
            title=N_("Not enough money set aside for your largest possible refund"),
            meaning=N_(
                "Balance Guard compares two figures. The refund exposure is the most a resident "
                "could still get back on a single recent payment. The guaranteed capacity is the "
                "money sure to remain in Stripe after the next automatic payout: the part of the "
                "balance a minimum balance keeps back, plus the prefunding balance. When the "
                "capacity is the smaller of the two, a full refund of that payment could fail in "
                "the portal."
            ),
            why=N_(
                "Your refund exposure in this currency is larger than your guaranteed capacity. "
                "The cause shown with this message says which protection is missing, too small "
                "or could not be confirmed."
            ),
            action=N_(
                "It depends on the cause shown with this message: usually, have the platform's "
                "support team set, raise or confirm your minimum balance (it only works with "
                "automatic payouts), or wait for the balance to reach it. Adding the missing "
                "amount to your prefunding balance always closes the gap right away, whatever "
                "the cause."
            ),
            summary=N_(
                "A refund of up to {exposure} is possible, but only {capacity} is sure to be "
                "there: {amount} is missing."
            ),
            finding_action=N_(
                "Add {amount} to your prefunding balance {funding_method}: it closes the gap "
                "right away."
            ),
        ),
    ),
    RuleCode.MIN_BALANCE_NOT_SET: CatalogEntry(
        code=RuleCode.MIN_BALANCE_NOT_SET,
        text=RuleText(
            title=N_("No minimum balance is set"),
            meaning=N_(
                "With a minimum balance, part of the money stays in Stripe after every automatic "
                "payout; only the excess goes to the bank. This cushion fills up again by itself "
                "as residents pay, which is why it is the protection recommended for every "
                "account."
            ),
            why=N_(
                "Payouts on this account are automatic and no minimum balance is set in this "
                "currency, so a payout can leave nothing behind for refunds."
            ),
            action=N_(
                "Ask the platform's support team to set a minimum balance of at least the "
                "suggested amount; they need your consent to do it."
            ),
            summary=N_(
                "We suggest a minimum balance of {amount}, enough to cover your largest "
                "refundable payment ({exposure})."
            ),
            finding_action=N_(
                "Ask the platform's support team to set a minimum balance of at least {amount}; "
                "they need your consent to do it."
            ),
        ),
    ),
    RuleCode.MIN_BALANCE_BELOW_EXPOSURE: CatalogEntry(
        code=RuleCode.MIN_BALANCE_BELOW_EXPOSURE,
        text=RuleText(
            title=N_("Your minimum balance is too low for your largest refund"),
            meaning=N_(
                "After a payout, refunds are paid from what the minimum balance keeps back plus "
                "the prefunding balance. Together, these two amounts are smaller than the most a "
                "resident could still get back on one recent payment."
            ),
            why=N_(
                "In this currency, your minimum balance plus your prefunding balance is less "
                "than your refund exposure."
            ),
            action=N_(
                "Ask the platform's support team to raise your minimum balance to at least your "
                "largest refundable payment, or add the amount shown to your prefunding balance."
            ),
            summary=N_(
                "Your minimum balance ({minimum}) plus your prefunding ({prefund}) falls "
                "{amount} short of your largest refundable payment ({exposure})."
            ),
            finding_action=N_(
                "Ask the platform's support team to raise your minimum balance from {minimum} to "
                "at least {suggested_minimum}, or add {amount} to your prefunding balance "
                "{funding_method}."
            ),
        ),
    ),
    RuleCode.PREFUND_DEPLETED: CatalogEntry(
        code=RuleCode.PREFUND_DEPLETED,
        text=RuleText(
            title=N_("Your prefunding balance is empty"),
            meaning=N_(
                "The prefunding balance is money the building added itself for future refunds "
                "and disputes. Stripe draws on it when the payments balance cannot cover one. It "
                "never fills up again by itself."
            ),
            why=N_(
                "Your prefunding balance in this currency is at zero, and it either held money "
                "at the previous check or a target amount is set for it."
            ),
            action=N_(
                "Top up your prefunding balance by bank wire (or ACH in the United States), as "
                "shown on the help page “Adding funds for refunds and disputes”."
            ),
            summary=N_(
                "Your prefunding balance is empty; adding {amount} would bring it back to its "
                "previous level."
            ),
            finding_action=N_(
                "Add {amount} to your prefunding balance {funding_method}, as shown on the help "
                "page “Adding funds for refunds and disputes”."
            ),
        ),
    ),
    RuleCode.PREFUND_BELOW_TARGET: CatalogEntry(
        code=RuleCode.PREFUND_BELOW_TARGET,
        text=RuleText(
            title=N_("Your prefunding balance is below its target"),
            meaning=N_(
                "Your platform set a target amount for this building's prefunding balance. Part "
                "of it has been used, and the prefunding balance does not fill up again by "
                "itself."
            ),
            why=N_(
                "Your prefunding balance in this currency is above zero but lower than its target."
            ),
            action=N_(
                "Add the missing amount to your prefunding balance by bank wire (or ACH in the "
                "United States)."
            ),
            summary=N_(
                "Your prefunding balance is {prefund}, which is {amount} below its target of "
                "{target}."
            ),
            finding_action=N_(
                "Add {amount} to your prefunding balance {funding_method} to bring it back to "
                "its target."
            ),
        ),
    ),
    RuleCode.PREFUND_USED: CatalogEntry(
        code=RuleCode.PREFUND_USED,
        text=RuleText(
            title=N_("Your prefunding balance was used"),
            meaning=N_(
                "Stripe took money from the prefunding balance, usually to pay a refund or a "
                "dispute that the payments balance could not cover. That money does not come "
                "back by itself."
            ),
            why=N_("Your prefunding balance in this currency is lower than at the previous check."),
            action=N_(
                "Check that the refund or dispute behind it was expected, then top up the "
                "prefunding balance if you want to keep the same protection."
            ),
            summary=N_(
                "Your prefunding balance went from {previous} to {prefund}: {amount} was used."
            ),
            finding_action=N_(
                "Check that the refund or dispute behind it was expected, then add {amount} back "
                "to your prefunding balance {funding_method} if you want to keep the same "
                "protection."
            ),
        ),
    ),
    RuleCode.PAYOUTS_DISABLED: CatalogEntry(
        code=RuleCode.PAYOUTS_DISABLED,
        text=RuleText(
            title=N_("Payouts to your bank are turned off"),
            meaning=N_(
                "Stripe has stopped sending the building's money to its bank account. Residents "
                "can still pay, but nothing goes out until payouts are turned back on, which "
                "usually means Stripe is waiting for information or the bank account needs "
                "attention."
            ),
            why=N_("Stripe reports payouts as disabled for this account."),
            action=N_(
                "Sign in to your Stripe Express dashboard and complete whatever Stripe asks for "
                "there."
            ),
            summary=N_("Payouts from this account to your bank are turned off."),
        ),
    ),
    RuleCode.RESERVE_HELD: CatalogEntry(
        code=RuleCode.RESERVE_HELD,
        text=RuleText(
            title=N_("Stripe is holding funds in reserve"),
            meaning=N_(
                "A reserve is money Stripe holds back from payments for a set period so that "
                "refunds and disputes can always be paid. On its release date, the money returns "
                "to the available balance and leaves with the next payout."
            ),
            why=N_("Stripe currently holds reserved funds on this account in this currency."),
            action=N_(
                "Nothing to do; read the help page on reserves to see how and when the money "
                "comes back."
            ),
            summary=N_("{amount} is held in reserve."),
        ),
    ),
    RuleCode.RESERVE_RELEASE_UPCOMING: CatalogEntry(
        code=RuleCode.RESERVE_RELEASE_UPCOMING,
        text=RuleText(
            title=N_("Reserved funds will be released soon"),
            meaning=N_(
                "Money Stripe held in reserve becomes available on its release date and is sent "
                "to the bank with the first scheduled payout after that date."
            ),
            why=N_(
                "Reserved funds on this account are scheduled for release within the next few "
                "days (two weeks unless your platform chose otherwise)."
            ),
            action=N_(
                "Nothing to do; expect the money in your bank account after the first payout "
                "that follows the release date."
            ),
            summary=N_("{amount} will be released from reserve, starting on {first_release_date}."),
        ),
    ),
    RuleCode.CHECK_FAILED: CatalogEntry(
        code=RuleCode.CHECK_FAILED,
        text=RuleText(
            title=N_("The nightly check could not be completed"),
            meaning=N_(
                "Balance Guard could not read this account's figures from Stripe, even after "
                "several tries, so it cannot tell whether refunds are protected."
            ),
            why=N_(
                "Stripe refused or did not answer the requests made for this account during the "
                "nightly run."
            ),
            action=N_(
                "Nothing to do on your side: the platform's operations team has been told, and "
                "the next run tries again."
            ),
            summary=N_("This account could not be checked during the nightly run."),
        ),
    ),
}

# Why guaranteed capacity falls short (REFUND_CAPACITY_SHORT `details.cause`): what the
# cause means, without values. What to do about it is in `CAUSE_ACTIONS`.
CAUSES: dict[CapacityShortCause, str] = {
    CapacityShortCause.MANUAL_PAYOUTS: N_(
        "Payouts on this account are manual or turned off, so a minimum balance does not "
        "apply: only today's balance and the prefunding balance count, and a manual payout "
        "could take the balance away at any time."
    ),
    CapacityShortCause.MINIMUM_BALANCE_UNKNOWN: N_(
        "We could not read the building's minimum balance from Stripe, so we cannot tell "
        "whether one is set, and only the prefunding balance is counted as sure to be there."
    ),
    CapacityShortCause.NO_MINIMUM_BALANCE: N_(
        "No minimum balance is set, so each automatic payout can empty the balance and leave "
        "only the prefunding balance for refunds."
    ),
    CapacityShortCause.MINIMUM_BELOW_EXPOSURE: N_(
        "A minimum balance is set, but together with the prefunding balance it is lower than "
        "the largest refund a resident could ask for."
    ),
    CapacityShortCause.BALANCE_BELOW_MINIMUM: N_(
        "The minimum balance would be enough, but the balance has not reached it yet; it "
        "fills up as residents pay, and refunds are exposed until then."
    ),
}

# A short heading for each cause (help site, operations digest).
CAUSE_LABELS: dict[CapacityShortCause, str] = {
    CapacityShortCause.MANUAL_PAYOUTS: N_("Payouts are manual or turned off"),
    CapacityShortCause.MINIMUM_BALANCE_UNKNOWN: N_("The minimum balance could not be read"),
    CapacityShortCause.NO_MINIMUM_BALANCE: N_("No minimum balance is set"),
    CapacityShortCause.MINIMUM_BELOW_EXPOSURE: N_("The minimum balance is too low"),
    CapacityShortCause.BALANCE_BELOW_MINIMUM: N_("The balance has not reached the minimum yet"),
}

# What to do about each cause, naming the finding's figures: `amount` is the shortfall
# (R - C), `suggested_minimum` the refund exposure rounded up as MIN_BALANCE_NOT_SET
# suggests it (so that an email naming both says one figure). Emails show this instead of
# the rule's general action; `GENERIC_VALUES` fill it where no figure is known.
CAUSE_ACTIONS: dict[CapacityShortCause, str] = {
    CapacityShortCause.MANUAL_PAYOUTS: N_(
        "Ask the platform's support team to turn automatic payouts back on with a minimum "
        "balance of at least {suggested_minimum} (a minimum balance only works with "
        "automatic payouts), or add {amount} to your prefunding balance {funding_method}."
    ),
    CapacityShortCause.MINIMUM_BALANCE_UNKNOWN: N_(
        "Ask the platform's support team to confirm that your minimum balance is at least "
        "{exposure}, or add {amount} to your prefunding balance {funding_method}."
    ),
    CapacityShortCause.NO_MINIMUM_BALANCE: N_(
        "Ask the platform's support team to set a minimum balance of at least "
        "{suggested_minimum} (they need your consent), or add {amount} to your prefunding "
        "balance {funding_method} so that refunds are covered right away."
    ),
    CapacityShortCause.MINIMUM_BELOW_EXPOSURE: N_(
        "Ask the platform's support team to raise your minimum balance from {minimum} to at "
        "least {suggested_minimum}, or add {amount} to your prefunding balance "
        "{funding_method}."
    ),
    CapacityShortCause.BALANCE_BELOW_MINIMUM: N_(
        "Your minimum balance is enough, so there is nothing to change: add {amount} to your "
        "prefunding balance {funding_method} so that refunds are covered now, or wait for "
        "residents' payments to fill the balance up to the minimum."
    ),
}

# How a reader adds money to the prefunding balance, by the account's country: in Canada a
# bank wire is the only choice, in the United States an ACH payment is one too. "" is for
# a reader whose country is not known (and for texts without values).
FUNDING_METHODS: dict[str, str] = {
    "CA": N_("by bank wire"),
    "US": N_("by bank wire or ACH"),
    "": N_("by bank wire (or ACH in the United States)"),
}

# The words a value-free text (`explain`, the help site) puts where an email names a figure.
GENERIC_VALUES: dict[str, str] = {
    "amount": N_("the missing amount"),
    "exposure": N_("your refund exposure"),
    "suggested_minimum": N_("your refund exposure"),
    "minimum": N_("its current level"),
    "funding_method": N_("by bank wire (or ACH in the United States)"),
}

# A finding worded for the email it is in, next to the findings it goes with.
REWORDINGS: dict[Context, Rewording] = {
    Context.PREFUND_EMPTY_TO_TARGET: Rewording(
        code=RuleCode.PREFUND_DEPLETED,
        summary=N_(
            "Your prefunding balance is empty; adding {amount} would bring it to its target."
        ),
    ),
    Context.PREFUND_EMPTY_ALL_USED: Rewording(
        code=RuleCode.PREFUND_DEPLETED,
        summary=N_(
            "All of your prefunding balance ({previous}) was used since the previous check; "
            "it is now empty."
        ),
        action=N_(
            "Check that the refund or dispute behind it was expected, then add {amount} to "
            "your prefunding balance {funding_method} to bring it back to its previous "
            "level."
        ),
    ),
    Context.PREFUND_EMPTY_ALL_USED_TO_TARGET: Rewording(
        code=RuleCode.PREFUND_DEPLETED,
        summary=N_(
            "All of your prefunding balance ({previous}) was used since the previous check; "
            "it is now empty."
        ),
        action=N_(
            "Check that the refund or dispute behind it was expected, then add {amount} to "
            "your prefunding balance {funding_method} to bring it to its target."
        ),
    ),
    Context.PREFUND_ALL_USED: Rewording(
        code=RuleCode.PREFUND_USED,
        summary=N_("Your prefunding balance went from {previous} to zero: all of it was used."),
    ),
    Context.MINIMUM_GAP_IN_CRITICAL: Rewording(
        code=RuleCode.MIN_BALANCE_BELOW_EXPOSURE,
        summary=N_(
            "Your minimum balance ({minimum}) plus your prefunding ({prefund}) is less than "
            "your largest refundable payment ({exposure}): this is the gap shown in the "
            "critical alert above."
        ),
        action=N_("The step given in the critical alert above fixes this too."),
    ),
    Context.MINIMUM_ASKED_IN_CRITICAL: Rewording(
        code=RuleCode.MIN_BALANCE_NOT_SET,
        action=N_(
            "This is the minimum balance the critical alert above asks for: ask the "
            "platform's support team to set it to at least {amount}; they need your consent "
            "to do it."
        ),
    ),
}

# Each rule in a few words, for operations (digest): no "you", the building is named
# beside it.
OPERATOR_TITLES: dict[RuleCode, str] = {
    RuleCode.NEGATIVE_BALANCE: N_("Balance below zero"),
    RuleCode.REFUND_BLOCKED: N_("Refunds on hold for lack of funds"),
    RuleCode.REFUND_CAPACITY_SHORT: N_("Largest refund not covered"),
    RuleCode.MIN_BALANCE_NOT_SET: N_("No minimum balance"),
    RuleCode.MIN_BALANCE_BELOW_EXPOSURE: N_("Minimum balance below refund exposure"),
    RuleCode.PREFUND_DEPLETED: N_("Prefunding empty"),
    RuleCode.PREFUND_BELOW_TARGET: N_("Prefunding below target"),
    RuleCode.PREFUND_USED: N_("Prefunding used"),
    RuleCode.PAYOUTS_DISABLED: N_("Payouts disabled"),
    RuleCode.RESERVE_HELD: N_("Funds held in reserve"),
    RuleCode.RESERVE_RELEASE_UPCOMING: N_("Reserve release coming"),
    RuleCode.CHECK_FAILED: N_("Check failed"),
}

# Extra sentences a renderer adds when a finding's details call for them.
NOTES: dict[str, str] = {
    "minimum_balance_retains": N_(
        "Your minimum balance is not full yet, so Stripe keeps the first "
        "{minimum_balance_retains} of the released money to refill it before any payout."
    ),
}

# Minimum balance vs refund and dispute prefunding, row by row (help site).
MIN_BALANCE_VS_PREFUNDING: tuple[ComparisonRow, ...] = (
    ComparisonRow(
        key="funding",
        aspect=N_("Where the money comes from"),
        minimum_balance=N_(
            "Residents' payments: Stripe keeps the amount back before each automatic payout"
        ),
        prefunding=N_("You send it yourself, by bank wire (Canada or US) or ACH (US only)"),
    ),
    ComparisonRow(
        key="refills",
        aspect=N_("Fills up again by itself"),
        minimum_balance=N_("Yes, from incoming payments"),
        prefunding=N_("No: once used, you must add money again"),
    ),
    ComparisonRow(
        key="automatic_payouts",
        aspect=N_("Part of automatic payouts"),
        minimum_balance=N_("No: the minimum stays in Stripe and only what is above it is paid out"),
        prefunding=N_("No, never"),
    ),
    ComparisonRow(
        key="manual_payout",
        aspect=N_("Can be paid out to the bank on request"),
        minimum_balance=N_(
            "No, it stays in place while the minimum is set; the platform's support can "
            "lower or remove it"
        ),
        prefunding=N_("Yes, at any time, with a manual payout from the Stripe dashboard"),
    ),
    ComparisonRow(
        key="who",
        aspect=N_("Who sets it up"),
        minimum_balance=N_("The platform's support team, with your consent"),
        prefunding=N_("You, from your Stripe Express dashboard"),
    ),
    ComparisonRow(
        key="upkeep",
        aspect=N_("Upkeep"),
        minimum_balance=N_("Almost none once set"),
        prefunding=N_("Needs watching: easy to forget, and a refund fails if it runs dry"),
    ),
    ComparisonRow(
        key="when",
        aspect=N_("When to use it"),
        minimum_balance=N_("Every account: the recommended protection"),
        prefunding=N_("Special cases, such as a refund larger than your minimum balance"),
    ),
)

# Words every renderer (emails, CLI, report, help site) needs around the catalog texts.
LABELS: dict[str, str] = {
    "learn_more": N_("Learn more"),
    "help_page": N_("Help page"),
    "amount": N_("Amount"),
    "currency": N_("Currency"),
    "code": N_("Code"),
    "severity": N_("Severity"),
    "status": N_("Status"),
    "meaning": N_("What it means"),
    "why": N_("Why you got this"),
    "action": N_("What to do"),
    "causes": N_("Possible causes"),
    "cause": N_("Cause"),
    "severity_info": N_("Information"),
    "severity_warning": N_("Warning"),
    "severity_critical": N_("Critical"),
    "severity_error": N_("Error"),
    "status_ok": N_("OK"),
    "status_info": N_("Information"),
    "status_warning": N_("Warning"),
    "status_critical": N_("Critical"),
    "status_error": N_("Not checked"),
    "aspect": N_("Aspect"),
    "minimum_balance": N_("Minimum balance"),
    "prefunding": N_("Refund and dispute prefunding"),
    "date": N_("Date"),
    "payment": N_("Payment"),
    "fee": N_("Stripe fee"),
    "net": N_("Net amount"),
    "reserved": N_("Reserved"),
    "event": N_("What happens"),
    "held": N_("Into the reserve"),
    "released": N_("Released"),
    "in_reserve": N_("Still in reserve"),
    "at_bank": N_("Expected at the bank"),
    "total": N_("Total"),
    "event_hold_transaction": N_("Part of a payment goes into the reserve"),
    "event_hold_balance_transfer": N_("Part of the existing balance goes into the reserve"),
    "event_release": N_("Released to the available balance"),
    "language_name": N_("English"),
}


def funding_method(country: str | None) -> str:
    """`by bank wire` for a Canadian account; ACH is a choice only in the United States."""
    if not country:
        return FUNDING_METHODS[""]
    return FUNDING_METHODS.get(country.strip().upper(), FUNDING_METHODS["CA"])


def entry(code: RuleCode) -> CatalogEntry:
    """The catalog entry of a rule; every RuleCode has one."""
    return CATALOG[code]


def severity_label(severity: Severity) -> str:
    return LABELS[f"severity_{severity.value}"]
