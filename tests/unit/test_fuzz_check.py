"""Stripe objects shaped like Stripe's, with hostile values, through the whole check.

Each example is one connected account as Stripe could send it tonight (its listing entry,
balance, balance settings, charges, refunds, reserve holds and plans), with odd unicode,
control characters, huge, negative and boolean numbers, nulls, enum values Stripe may add
and odd metadata. It goes through the reader's validation (a `StripeReader` whose HTTP is
an in-memory table), the snapshot builder, the rules, the report and the email writer.

Whatever Stripe sends: no exception escapes, every listed account is either checked (a
report, CHECK_FAILED with a reason at worst) or named in a notice, and every email parses
with exactly one From, To and Subject and only the account's intended recipients.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
import stripe
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from balance_guard.check.account import check_account
from balance_guard.domain.findings import Finding, RuleCode
from balance_guard.domain.ledger import AccountState
from balance_guard.domain.policy import Policy
from balance_guard.notify.recipients import resolve_recipients
from balance_guard.notify.render import RenderedEmail, build_message, render_account_email
from balance_guard.report.model import AccountReport
from balance_guard.stripe.reader import StripeReader
from balance_guard.text.display import displayable

AS_OF = date(2026, 8, 1)
NOW = datetime(2026, 8, 1, 6, 0, tzinfo=UTC)
TONIGHT = int(NOW.timestamp())
POLICY = Policy()
SENDER = "Balance Guard <no-reply@example.com>"
FUZZ = settings(max_examples=120, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# -- hostile leaves ----------------------------------------------------------------------

NASTY_TEXT = [
    "", " ", "\x00", "\x1b[31mred\x1b[0m", "\u202eevil\u202c", "\u2066iso\u2069", "\u200f",
    "\r\nBcc: spy@evil.example", "=?utf-8?b?ZXZpbA==?=", "=?utf-8?q?=0D=0ABcc:_x@y.z?=",
    "\u00b2", "\u2460", "\u00b9\u00b2", "\u0661\u0662\u0663", "\uff11\uff12", "null", "NaN",
    "<script>alert(1)</script>", "{building}", "%s%n", "é" * 300, "\ufeff", "\u0301",
    "😀" * 5, "\x85next\u2028line",
]
NASTY_NUMBERS = [0, -1, 1, -(10**15), 10**15 - 1, 10**15, 10**13, 2**63, True, False, None,
                 1.5, 1e13, float("nan"), float("inf"), -0.0, "100", [], {}]
CURRENCIES = ["usd", "cad", "CAD", " eur ", "jpy", "kwd", "c a d", "dollars", "", "ü$d", "US"]
ADDRESSES = [
    "admin@example.com", "Board@Example.COM", "=?utf-8?b?ZXZpbA==?=@good.example",
    "a@b", "x@localhost", "board@example.com\r\nBcc: spy@evil.example",
    "board@example.com, spy@evil.example", '"Board" <board@example.com>',
    "admin@ex\u0430mple.com", "\u0430dmin@example.com", "user+tag@example.org",
    "a" * 70 + "@example.com", "", " ", "@", "\x1b@example.com",
]

text = st.one_of(st.sampled_from(NASTY_TEXT), st.text(max_size=24))
number = st.one_of(st.sampled_from(NASTY_NUMBERS),
                   st.integers(min_value=-(10**16), max_value=10**16),
                   st.floats(allow_nan=True, allow_infinity=True))


def mostly(valid: st.SearchStrategy[Any], hostile: st.SearchStrategy[Any]) -> Any:
    """Valid three times in four, so examples also reach the rules, not only validation."""
    return st.integers(0, 3).flatmap(lambda n: hostile if n == 0 else valid)


def enum(*known: str) -> Any:
    return mostly(st.sampled_from(known), st.one_of(text, st.none()))


amount = mostly(st.integers(min_value=-50_000, max_value=500_000), number)
paid = mostly(st.integers(min_value=0, max_value=500_000), number)
currency = mostly(st.sampled_from(["usd", "cad"]), st.sampled_from(CURRENCIES))
moment = mostly(st.integers(min_value=TONIGHT - 80 * 86_400, max_value=TONIGHT + 40 * 86_400),
                st.one_of(st.sampled_from([10**13, 1e13, 2**63, -1, True, "soon", 1.5e9]),
                          number, st.none()))
ident = mostly(st.from_regex(r"[a-z]{2}_[A-Za-z0-9]{1,8}", fullmatch=True), text)
weekday = enum("monday", "Tuesday", "friday", "sunday")

# -- Stripe-shaped objects -------------------------------------------------------------------

schedule = st.fixed_dictionaries({}, optional={
    "interval": enum("daily", "weekly", "monthly", "manual"),
    "weekly_payout_days": st.one_of(st.none(), st.lists(weekday, max_size=3)),
    "monthly_payout_days": st.one_of(st.none(), st.lists(number, max_size=3)),
    "weekly_anchor": weekday, "monthly_anchor": number, "delay_days": number,
})
metadata = st.dictionaries(
    keys=st.one_of(st.sampled_from([
        "balance_guard_emails", "balance_guard_locale", "balance_guard_prefund_target_cad",
        "balance_guard_exposure_floor_usd", "balance_guard_prefund_target_c a d",
        "balance_guard_colour", "building_id"]), text),
    values=st.one_of(text, number, st.lists(st.sampled_from(ADDRESSES), max_size=3).map(
        ", ".join), st.sampled_from(["fr", "EN", "fr+en", "de"])),
    max_size=5,
)
account = st.fixed_dictionaries({
    "id": ident,
    "object": st.just("account"),
    "email": st.one_of(st.none(), st.sampled_from(ADDRESSES)),
    "business_profile": st.one_of(st.none(), st.fixed_dictionaries({"name": st.one_of(
        st.none(), text)})),
    "country": st.one_of(st.none(), st.sampled_from(["US", "CA", "fr", "ZZ", "", "c\u0430"])),
    "default_currency": st.one_of(st.none(), st.sampled_from(CURRENCIES)),
    "metadata": st.one_of(st.none(), metadata),
    "payouts_enabled": st.one_of(st.none(), st.booleans()),
    "settings": st.one_of(st.none(), st.fixed_dictionaries({"payouts": st.fixed_dictionaries(
        {"schedule": st.one_of(st.none(), schedule)})})),
})
entries = st.lists(st.fixed_dictionaries({"amount": amount, "currency": currency}),
                   max_size=3)
balance = st.fixed_dictionaries({"object": st.just("balance"), "available": entries,
                                 "pending": entries}, optional={
    "refund_and_dispute_prefunding": st.one_of(st.none(), st.fixed_dictionaries(
        {"available": entries, "pending": entries}))})
balance_settings = st.one_of(st.none(), st.fixed_dictionaries({"payments": st.fixed_dictionaries(
    {"payouts": st.fixed_dictionaries({
        "minimum_balance_by_currency": st.one_of(st.none(), st.dictionaries(
            st.sampled_from(CURRENCIES), st.one_of(st.none(), amount), max_size=3)),
        "schedule": st.one_of(st.none(), schedule),
        "status": enum("enabled", "disabled"),
    })})}))
charge = st.fixed_dictionaries({
    "id": ident, "object": st.just("charge"), "amount": paid, "amount_refunded": paid,
    "currency": currency, "status": enum("succeeded", "pending", "failed"), "created": moment,
})
refund = st.fixed_dictionaries({
    "id": ident, "object": st.just("refund"), "amount": paid, "currency": currency,
    "status": enum("pending", "succeeded", "failed", "requires_action", "canceled"),
    "pending_reason": enum("insufficient_funds", "processing", "charge_pending"),
    "charge": st.one_of(st.none(), ident, st.fixed_dictionaries({"id": ident})),
    "created": moment,
})
plan_id = st.sampled_from(["rp_1", "rp_2"])
hold = st.fixed_dictionaries({
    "id": ident, "object": st.just("reserve.hold"), "amount": paid,
    "amount_releasable": st.one_of(st.none(), paid), "currency": currency,
    "reason": enum("charge", "standalone"),
    "release_schedule": st.one_of(st.none(), st.fixed_dictionaries(
        {"release_after": moment, "scheduled_release": moment})),
    "reserve_plan": st.one_of(st.none(), plan_id, st.fixed_dictionaries({"id": plan_id})),
})
plan = st.fixed_dictionaries({
    "object": st.just("reserve.plan"),
    "type": enum("fixed_release", "rolling_release", "manual_release"),
    "percent": st.one_of(st.none(), number),
    "fixed_release": st.one_of(st.none(), st.fixed_dictionaries({"release_after": moment})),
    "rolling_release": st.one_of(st.none(), st.fixed_dictionaries(
        {"days_after_charge": number})),
    "status": enum("active", "disabled", "expired"),
})
night = st.fixed_dictionaries({
    "account": account, "balance": balance, "balance_settings": balance_settings,
    "charges": st.lists(charge, max_size=4), "refunds": st.lists(refund, max_size=4),
    "holds": st.lists(hold, max_size=4),
    "plans": st.fixed_dictionaries({"rp_1": plan, "rp_2": plan}),
})


class TableReader(StripeReader):
    """The real reader (validation, paging, notices) over an in-memory Stripe."""

    def __init__(self, objects: dict[str, Any]) -> None:
        super().__init__("sk_test_fuzz")
        self.objects = objects

    def _get(self, path: str, account: str | None, params: dict[str, Any] | None = None,
             version: str | None = None) -> dict[str, Any]:
        lists = {"/v1/accounts": "accounts", "/v1/charges": "charges",
                 "/v1/refunds": "refunds", "/v1/reserve/holds": "holds"}
        if path in lists:
            return {"object": "list", "data": self.objects[lists[path]], "has_more": False}
        if path.startswith("/v1/reserve/plans/"):
            plan_id = path.rsplit("/", 1)[-1]
            return {"id": plan_id, **self.objects["plans"][plan_id]}
        if path == "/v1/balance_settings" and self.objects["balance_settings"] is None:
            # Stripe's answer for an account whose settings it will not show.
            raise stripe.InvalidRequestError("not available for this account", None,
                                             http_status=400)
        body: dict[str, Any] = self.objects[path.removeprefix("/v1/")]
        return body


def inert(value: str) -> bool:
    return displayable(value) == value


def check_eml(message: EmailMessage, intended: tuple[str, ...]) -> None:
    raw = message.as_bytes(policy=policy.SMTP)
    parsed = message_from_bytes(raw, policy=policy.default)
    for header in ("From", "To", "Subject"):
        assert len(parsed.get_all(header, [])) == 1, header
    for header in ("Cc", "Bcc", "Reply-To"):
        assert parsed.get_all(header) is None, header
    to = [a.addr_spec for a in parsed["To"].addresses]
    assert to == list(intended)
    assert [a.addr_spec for a in parsed["From"].addresses] == ["no-reply@example.com"]


@FUZZ
@given(night)
def test_any_night_stripe_could_send_is_checked_or_named_in_a_notice(
    stripe_night: dict[str, Any],
) -> None:
    raw_account = stripe_night["account"]
    reader = TableReader({**stripe_night, "accounts": [raw_account]})

    listing = reader.list_accounts()

    if not listing.items:  # malformed: the run reports it, it is never silently skipped
        assert len(listing.notices) == 1
        return
    [listed] = listing.items
    checked = check_account(reader, listed, AccountState(), AS_OF, POLICY, NOW)
    report = checked.report
    assert report.account_id == listed.id
    report.model_dump_json()  # it fits report@1
    if report.status == "error":  # only a balance that cannot be read voids the check
        assert [f.code for f in report.findings] == [RuleCode.CHECK_FAILED]
        assert (report.error or "").startswith("Stripe sent a malformed balance object")
        return
    assert checked.snapshot is not None
    assert inert(report.name)
    assert all(inert(notice) for notice in report.notices)
    assert all(f.amount is None or f.amount >= 0 for f in report.findings
               if f.code is RuleCode.REFUND_BLOCKED)
    if not report.findings:
        return

    recipients = resolve_recipients(checked.settings.emails, checked.email,
                                    POLICY.max_recipients)
    rendered = render_account_email(report, report.findings,
                                    languages=checked.settings.locale.languages,
                                    as_of=AS_OF, docs_base_url=POLICY.docs_base_url,
                                    country=checked.snapshot.country)
    if not recipients.addresses:
        assert recipients.notices
        return
    check_eml(build_message(rendered, sender=SENDER, to=recipients.addresses,
                            ref=report.account_id, as_of=AS_OF), recipients.addresses)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(ADDRESSES), text), max_size=6),
       st.one_of(st.none(), st.sampled_from(ADDRESSES), text))
def test_every_chosen_recipient_is_written_as_chosen_and_no_one_else(
    listed: list[str], account_email: str | None,
) -> None:
    recipients = resolve_recipients(listed or None, account_email, 10)

    assert all(inert(notice) for notice in recipients.notices)
    if not recipients.addresses:
        return
    sources = " ".join([*listed, account_email or ""]).lower()
    for address in recipients.addresses:
        assert address.split("@")[0].lower() in sources
        assert not any(unicodedata.category(ch)[0] in "CZ" for ch in address)
    check_eml(build_message(an_email(), sender=SENDER, to=recipients.addresses, ref="acct_1",
                            as_of=AS_OF), recipients.addresses)


def an_email() -> RenderedEmail:
    negative = Finding.of(RuleCode.NEGATIVE_BALANCE, "cad", 2_500)
    account_report = AccountReport(account_id="acct_1", name="Bayview", locale="en",
                                   status="critical", findings=[negative])
    return render_account_email(account_report, [negative], languages=("en",), as_of=AS_OF,
                                docs_base_url=POLICY.docs_base_url)


@pytest.mark.parametrize("raw", [
    {"id": None}, {"id": 42}, {"id": "acct_1", "metadata": "nope"},
])
def test_an_account_stripe_sent_malformed_is_named_in_a_notice(raw: dict[str, Any]) -> None:
    reader = TableReader({"accounts": [raw]})

    listing = reader.list_accounts()

    assert listing.items == []
    assert len(listing.notices) == 1


def a_night(**objects: Any) -> dict[str, Any]:
    account = {"id": "acct_1", "email": "owner@example.com"}
    return {"account": account, "accounts": [account], "balance_settings": None,
            "balance": {"available": [{"amount": 0, "currency": "usd"}]}, "charges": [],
            "refunds": [], "holds": [], "plans": {}, **objects}


def test_impossible_figures_are_notices_not_findings() -> None:
    reader = TableReader(a_night(
        charges=[{"id": "ch_1", "amount": 100, "amount_refunded": 500, "currency": "usd",
                  "status": "succeeded", "created": TONIGHT - 3_600}],
        refunds=[{"id": "re_1", "amount": -5, "currency": "usd", "status": "pending",
                  "pending_reason": "insufficient_funds", "charge": None,
                  "created": TONIGHT - 3_600}],
        holds=[{"id": "rh_1", "amount": -7, "currency": "usd"}]))
    [listed] = reader.list_accounts().items

    report = check_account(reader, listed, AccountState(), AS_OF, POLICY, NOW).report

    assert report.status != "error"
    assert not {f.code for f in report.findings} & {
        RuleCode.REFUND_BLOCKED, RuleCode.REFUND_CAPACITY_SHORT, RuleCode.RESERVE_HELD}
    for ident, problem in [("ch_1", "above the amount"), ("re_1", "amount -5 is negative"),
                           ("rh_1", "amount -7 is negative")]:
        assert any(ident in n and problem in n for n in report.notices), ident


def test_a_balance_of_true_is_no_balance() -> None:
    reader = TableReader(a_night(balance={"available": [{"amount": True, "currency": "usd"}]}))
    [listed] = reader.list_accounts().items

    report = check_account(reader, listed, AccountState(), AS_OF, POLICY, NOW).report

    assert report.status == "error"
    assert "valid integer" in (report.error or "")
