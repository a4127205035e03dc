"""The notification policy over a sequence of run dates: exact sends, no wolf cries."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from balance_guard.domain.advice import (
    plan_wording,
    suggested_minimum,
)
from balance_guard.domain.catalog import Context
from balance_guard.domain.findings import Finding, RuleCode, Severity
from balance_guard.domain.notification import (
    Notification,
    Reason,
    SentRecord,
    decide,
    finding_keys,
    fingerprint,
    release_dates,
)
from balance_guard.domain.policy import Policy
from balance_guard.domain.rules import CurrencyPosition, capacity_findings
from balance_guard.report.model import ReserveRelease

POLICY = Policy()
DAY1 = date(2026, 8, 1)


def day(n: int) -> date:
    """Run date of day n of the scenario (day 1 is DAY1)."""
    return DAY1 + timedelta(days=n - 1)


class Mailbox:
    """The policy driven night after night, remembering what was sent like the log does."""

    def __init__(self, policy: Policy = POLICY) -> None:
        self.policy = policy
        self.history: dict[str, SentRecord] = {}

    def night(self, on: date, findings: list[Finding],
              releases: tuple[ReserveRelease, ...] = ()) -> Notification | None:
        decision = decide(findings, self.history, on, self.policy, releases)
        if decision is not None:
            self.history.update({r.key: r for r in decision.records})
        return decision


def due(decision: Notification | None) -> list[tuple[str, str | None, Reason]]:
    assert decision is not None
    return [(f.code.value, f.currency, reason) for f, reason in decision.due]


def capacity_short(cause: str = "no_minimum_balance") -> Finding:
    return Finding.of(RuleCode.REFUND_CAPACITY_SHORT, "cad", 182_000, exposure=240_000,
                      capacity=58_000, cause=cause)


MIN_NOT_SET = Finding.of(RuleCode.MIN_BALANCE_NOT_SET, "cad", 250_000, exposure=240_000)
PAYOUTS_OFF = Finding.of(RuleCode.PAYOUTS_DISABLED)
BELOW_EXPOSURE_USD = Finding.of(RuleCode.MIN_BALANCE_BELOW_EXPOSURE, "usd", 10_000,
                                exposure=60_000, minimum=50_000, prefund=0)
HELD = Finding.of(RuleCode.RESERVE_HELD, "usd", 9_000, holds=2, next_release_date="2026-08-10")


def test_warnings_day1_sent_day2_same_silent_day2_again_silent_reminder_after_7_days() -> None:
    box = Mailbox()
    findings = [MIN_NOT_SET, PAYOUTS_OFF]

    first = box.night(day(1), findings)
    assert due(first) == [("MIN_BALANCE_NOT_SET", "cad", Reason.NEW),
                          ("PAYOUTS_DISABLED", None, Reason.NEW)]
    assert box.night(day(2), findings) is None
    assert box.night(day(2), findings) is None  # a second run of day 2
    assert box.night(day(7), findings) is None  # 6 days after: still quiet
    reminder = box.night(day(8), findings)  # 7 days after the last email
    assert due(reminder) == [("MIN_BALANCE_NOT_SET", "cad", Reason.REMINDER),
                             ("PAYOUTS_DISABLED", None, Reason.REMINDER)]
    assert box.night(day(9), findings) is None  # the reminder restarted the clock
    assert due(box.night(day(15), findings))


def test_new_warning_on_day2_sends_only_it_as_due_but_lists_every_finding() -> None:
    box = Mailbox()
    box.night(day(1), [MIN_NOT_SET])

    changed = box.night(day(2), [MIN_NOT_SET, BELOW_EXPOSURE_USD])

    assert due(changed) == [("MIN_BALANCE_BELOW_EXPOSURE", "usd", Reason.NEW)]
    assert changed is not None
    # The news first, then what the reader already knows.
    assert [f.code for f in changed.findings] == [RuleCode.MIN_BALANCE_BELOW_EXPOSURE,
                                                   RuleCode.MIN_BALANCE_NOT_SET]
    # Listed again on day 2, so the weekly reminder counts from day 2 for both.
    assert box.night(day(8), [MIN_NOT_SET, BELOW_EXPOSURE_USD]) is None
    assert len(due(box.night(day(9), [MIN_NOT_SET, BELOW_EXPOSURE_USD]))) == 2


def test_day9_reminder_for_a_warning_last_sent_on_day1() -> None:
    box = Mailbox()
    box.night(day(1), [MIN_NOT_SET])
    for n in range(2, 8):
        assert box.night(day(n), [MIN_NOT_SET]) is None

    assert due(box.night(day(9), [MIN_NOT_SET])) == [
        ("MIN_BALANCE_NOT_SET", "cad", Reason.REMINDER)]


def test_reminder_period_follows_the_policy() -> None:
    box = Mailbox(Policy(warning_reminder_days=3))
    box.night(day(1), [MIN_NOT_SET])

    assert box.night(day(3), [MIN_NOT_SET]) is None
    assert due(box.night(day(4), [MIN_NOT_SET])) == [
        ("MIN_BALANCE_NOT_SET", "cad", Reason.REMINDER)]


def test_critical_is_sent_every_day_while_it_lasts() -> None:
    box = Mailbox()
    for n in (1, 2, 3):
        decision = box.night(day(n), [capacity_short(), MIN_NOT_SET])
        expected = [("REFUND_CAPACITY_SHORT", "cad", Reason.CRITICAL)]
        if n == 1:
            expected.append(("MIN_BALANCE_NOT_SET", "cad", Reason.NEW))
        assert due(decision) == expected

    # The critical is resolved; the warning was listed (so sent) on day 3 already.
    assert box.night(day(4), [MIN_NOT_SET]) is None


def test_a_warning_whose_cause_changed_is_due_again() -> None:
    box = Mailbox()
    warning = Finding(code=RuleCode.MIN_BALANCE_BELOW_EXPOSURE, severity=Severity.WARNING,
                      currency="cad", amount=100, details={"cause": "first"})
    box.night(day(1), [warning])
    assert box.night(day(2), [warning]) is None

    moved = warning.model_copy(update={"details": {"cause": "second"}})
    assert due(box.night(day(2), [moved])) == [
        ("MIN_BALANCE_BELOW_EXPOSURE", "cad", Reason.CHANGED)]


def test_a_changed_amount_alone_is_not_a_change() -> None:
    box = Mailbox()
    box.night(day(1), [MIN_NOT_SET])

    grown = MIN_NOT_SET.model_copy(update={"amount": 300_000, "details": {"exposure": 290_000}})
    assert box.night(day(2), [grown]) is None


def test_the_capacity_cause_is_the_remembered_fingerprint() -> None:
    decision = decide([capacity_short("manual_payouts")], {}, day(1), POLICY)

    assert decision is not None
    assert decision.records == (
        SentRecord("REFUND_CAPACITY_SHORT:cad", day(1), "manual_payouts"),)
    assert fingerprint(MIN_NOT_SET) == ""


def test_info_findings_alone_never_send() -> None:
    assert decide([HELD], {}, day(1), POLICY) is None


def test_failed_check_is_never_sent_nor_listed() -> None:
    failed = Finding.of(RuleCode.CHECK_FAILED, reason="timeout")
    assert decide([failed], {}, day(1), POLICY) is None

    decision = decide([failed, MIN_NOT_SET], {}, day(1), POLICY)
    assert decision is not None
    assert [f.code for f in decision.findings] == [RuleCode.MIN_BALANCE_NOT_SET]


def upcoming(*dates: str, currency: str = "usd") -> Finding:
    return Finding.of(
        RuleCode.RESERVE_RELEASE_UPCOMING, currency, 1_000 * len(dates),
        releases=[{"date": d, "amount": 1_000} for d in dates], first_release_date=dates[0],
        horizon_days=14, minimum_balance=None, minimum_balance_retains=0,
    )


def test_reserve_release_is_announced_once_per_release_date() -> None:
    box = Mailbox()

    assert due(box.night(day(1), [upcoming("2026-08-10")])) == [
        ("RESERVE_RELEASE_UPCOMING", "usd", Reason.NEW_RELEASE_DATE)]
    assert box.night(day(2), [upcoming("2026-08-10")]) is None
    assert due(box.night(day(3), [upcoming("2026-08-10", "2026-08-14")])) == [
        ("RESERVE_RELEASE_UPCOMING", "usd", Reason.NEW_RELEASE_DATE)]
    assert box.night(day(4), [upcoming("2026-08-10", "2026-08-14")]) is None
    assert box.night(day(12), [upcoming("2026-08-14")]) is None


def test_within_a_severity_the_news_comes_first() -> None:
    decision = decide([HELD, upcoming("2026-08-10")], {}, day(1), POLICY)

    assert decision is not None
    assert [f.code for f in decision.findings] == [RuleCode.RESERVE_RELEASE_UPCOMING,
                                                   RuleCode.RESERVE_HELD]


def test_release_keys_are_per_currency_and_date() -> None:
    assert finding_keys(upcoming("2026-08-10", "2026-08-14"), day(1)) == (
        "RESERVE_RELEASE_UPCOMING:usd:2026-08-10", "RESERVE_RELEASE_UPCOMING:usd:2026-08-14")


def test_release_dates_fall_back_to_the_accounts_releases() -> None:
    bare = Finding.of(RuleCode.RESERVE_RELEASE_UPCOMING, "usd", 7_267)
    releases = (ReserveRelease(currency="usd", amount=7_267, release_date=date(2026, 8, 31),
                               payout_date=None, arrival_date=None),
                ReserveRelease(currency="cad", amount=1, release_date=date(2026, 8, 20),
                               payout_date=None, arrival_date=None))

    assert finding_keys(bare, day(1), releases) == ("RESERVE_RELEASE_UPCOMING:usd:2026-08-31",)


def release(currency: str, on: date) -> ReserveRelease:
    return ReserveRelease(currency=currency, amount=1_000, release_date=on, payout_date=None,
                          arrival_date=None)


def test_a_bare_release_finding_is_announced_per_release_date_of_the_account() -> None:
    # An upcoming-release finding read back without its dates: the account's releases say
    # which dates it announces, both to decide and to remember.
    bare = Finding.of(RuleCode.RESERVE_RELEASE_UPCOMING, "usd", 2_000)
    box = Mailbox()
    first = box.night(day(1), [bare], (release("usd", date(2026, 8, 10)),))
    assert due(first) == [("RESERVE_RELEASE_UPCOMING", "usd", Reason.NEW_RELEASE_DATE)]
    assert first is not None
    assert [r.key for r in first.records] == ["RESERVE_RELEASE_UPCOMING:usd:2026-08-10"]
    assert box.night(day(2), [bare], (release("usd", date(2026, 8, 10)),)) is None
    later = (release("usd", date(2026, 8, 10)), release("usd", date(2026, 8, 14)))
    assert due(box.night(day(3), [bare], later)) == [
        ("RESERVE_RELEASE_UPCOMING", "usd", Reason.NEW_RELEASE_DATE)]


def test_release_dates_fall_back_to_the_first_release_date() -> None:
    finding = Finding.of(RuleCode.RESERVE_RELEASE_UPCOMING, "usd", 2_000,
                         first_release_date="2026-08-10")
    assert release_dates(finding, (release("usd", date(2026, 8, 31)),)) == (date(2026, 8, 10),)


def test_release_rows_that_are_not_dated_objects_are_skipped() -> None:
    # Details read back from a report someone edited: a row that is not an object, or has
    # no readable date, names no date; the first release date is used instead.
    finding = Finding.of(RuleCode.RESERVE_RELEASE_UPCOMING, "usd", 2_000,
                         releases=["2026-08-12", {"date": "soon"}],
                         first_release_date="2026-08-10")
    assert release_dates(finding) == (date(2026, 8, 10),)
    mixed = finding.model_copy(update={"details": {
        "releases": ["2026-08-12", {"date": "2026-08-14", "amount": 1}]}})
    assert release_dates(mixed) == (date(2026, 8, 14),)


def test_a_finding_without_a_currency_is_keyed_with_a_dash() -> None:
    # Keys are stored in the send log between nights: their form must not drift.
    assert finding_keys(PAYOUTS_OFF, day(1)) == ("PAYOUTS_DISABLED:-",)
    assert finding_keys(MIN_NOT_SET, day(1)) == ("MIN_BALANCE_NOT_SET:cad",)


def prefund_used(previous: int, current: int) -> Finding:
    return Finding.of(RuleCode.PREFUND_USED, "cad", previous - current, previous=previous,
                      prefund=current)


def test_prefund_drop_is_sent_once_per_drop() -> None:
    box = Mailbox()

    assert due(box.night(day(1), [prefund_used(50_000, 30_000)])) == [
        ("PREFUND_USED", "cad", Reason.NEW_PREFUND_DROP)]
    assert box.night(day(1), [prefund_used(50_000, 30_000)]) is None  # a second run of day 1
    assert box.night(day(2), []) is None  # still 30 000: the rule compares with day 1
    assert due(box.night(day(3), [prefund_used(30_000, 10_000)])) == [
        ("PREFUND_USED", "cad", Reason.NEW_PREFUND_DROP)]


def test_the_same_drop_again_after_a_refill_is_a_new_drop() -> None:
    box = Mailbox()
    assert due(box.night(day(1), [prefund_used(50_000, 30_000)])) == [
        ("PREFUND_USED", "cad", Reason.NEW_PREFUND_DROP)]
    assert box.night(day(2), []) is None  # refilled to 50 000: no finding
    assert box.night(day(3), []) is None

    again = box.night(day(5), [prefund_used(50_000, 30_000)])  # same levels, days later

    assert due(again) == [("PREFUND_USED", "cad", Reason.NEW_PREFUND_DROP)]
    assert box.night(day(5), [prefund_used(50_000, 30_000)]) is None  # day 5 re-run


def test_prefund_drops_are_keyed_by_currency_and_run_date() -> None:
    cad = prefund_used(50_000, 30_000)
    usd = cad.model_copy(update={"currency": "usd"})

    assert finding_keys(cad, day(5)) == ("PREFUND_USED:cad:2026-08-05",)
    assert finding_keys(usd, day(5)) == ("PREFUND_USED:usd:2026-08-05",)
    assert finding_keys(cad, day(6)) != finding_keys(cad, day(5))
    decision = decide([cad, usd], {}, day(5), POLICY)
    assert decision is not None
    assert [r.key for r in decision.records] == ["PREFUND_USED:cad:2026-08-05",
                                                 "PREFUND_USED:usd:2026-08-05"]


def test_a_new_drop_lists_the_warnings_already_sent_without_making_them_due() -> None:
    box = Mailbox()
    depleted = Finding.of(RuleCode.PREFUND_DEPLETED, "cad", 50_000, target=50_000,
                          previous=10_000)
    box.night(day(1), [depleted])

    decision = box.night(day(2), [depleted, prefund_used(10_000, 0)])

    assert due(decision) == [("PREFUND_USED", "cad", Reason.NEW_PREFUND_DROP)]
    assert decision is not None
    assert decision.worst.code is RuleCode.PREFUND_DEPLETED


def test_same_rule_in_two_currencies_is_two_findings() -> None:
    box = Mailbox()
    box.night(day(1), [MIN_NOT_SET])

    usd = MIN_NOT_SET.model_copy(update={"currency": "usd"})
    assert due(box.night(day(2), [MIN_NOT_SET, usd])) == [
        ("MIN_BALANCE_NOT_SET", "usd", Reason.NEW)]


@pytest.mark.parametrize("code", [c for c in RuleCode if c.severity is Severity.CRITICAL])
def test_every_critical_code_sends_even_if_sent_yesterday(code: RuleCode) -> None:
    finding = Finding.of(code, "cad", 100)
    history = {k: SentRecord(k, day(1)) for k in finding_keys(finding, day(1))}

    assert due(decide([finding], history, day(2), POLICY)) == [
        (code.value, "cad", Reason.CRITICAL)]


# -- what the email advises as a whole (domain/advice.py) ---------------------------------

NEGATIVE = Finding.of(RuleCode.NEGATIVE_BALANCE, "cad", 45_000, available=-45_000)
BLOCKED = Finding.of(RuleCode.REFUND_BLOCKED, "cad", 120_000, refunds=1)
SHORT = Finding.of(RuleCode.REFUND_CAPACITY_SHORT, "cad", 185_000, exposure=185_000,
                   capacity=0, cause="balance_below_minimum")


def test_the_suggested_minimum_is_the_one_min_balance_not_set_names() -> None:
    position = CurrencyPosition("cad", available=0, prefund=0, minimum=None, exposure=182_000,
                                automatic_payouts=True)
    suggested = next(f for f in capacity_findings(position)
                     if f.code is RuleCode.MIN_BALANCE_NOT_SET)

    assert suggested_minimum(182_000, "cad") == suggested.amount == 185_000
    assert suggested_minimum(0, "cad") is None
    assert suggested_minimum(1, "jpy") == 50


@pytest.mark.parametrize(("findings", "hidden", "contexts"), [
    # An emptied prefunding balance absorbs the drop that emptied it.
    ([Finding.of(RuleCode.PREFUND_DEPLETED, "jpy", 50_000, target=None, previous=50_000),
      Finding.of(RuleCode.PREFUND_USED, "jpy", 50_000, previous=50_000, prefund=0)],
     {1}, {0: Context.PREFUND_EMPTY_ALL_USED}),
    ([Finding.of(RuleCode.PREFUND_DEPLETED, "cad", 100_000, target=100_000, previous=30_000),
      Finding.of(RuleCode.PREFUND_USED, "cad", 30_000, previous=30_000, prefund=0)],
     {1}, {0: Context.PREFUND_EMPTY_ALL_USED_TO_TARGET}),
    ([Finding.of(RuleCode.PREFUND_DEPLETED, "cad", 100_000, target=100_000, previous=None)],
     set(), {0: Context.PREFUND_EMPTY_TO_TARGET}),
    ([Finding.of(RuleCode.PREFUND_DEPLETED, "cad", 30_000, target=None, previous=30_000)],
     set(), {}),
    ([Finding.of(RuleCode.PREFUND_USED, "cad", 30_000, previous=30_000, prefund=0)],
     set(), {0: Context.PREFUND_ALL_USED}),
    ([Finding.of(RuleCode.PREFUND_USED, "cad", 10_000, previous=30_000, prefund=20_000)],
     set(), {}),
    # A minimum balance warning next to the shortfall it explains points to it.
    ([Finding.of(RuleCode.REFUND_CAPACITY_SHORT, "cad", 1, cause="minimum_below_exposure"),
      Finding.of(RuleCode.MIN_BALANCE_BELOW_EXPOSURE, "cad", 1)],
     set(), {1: Context.MINIMUM_GAP_IN_CRITICAL}),
    ([Finding.of(RuleCode.REFUND_CAPACITY_SHORT, "usd", 1, cause="minimum_below_exposure"),
      Finding.of(RuleCode.MIN_BALANCE_BELOW_EXPOSURE, "cad", 1)],
     set(), {}),
    ([Finding.of(RuleCode.REFUND_CAPACITY_SHORT, "cad", 1, cause="no_minimum_balance"),
      Finding.of(RuleCode.MIN_BALANCE_NOT_SET, "cad", 1)],
     set(), {1: Context.MINIMUM_ASKED_IN_CRITICAL}),
    ([Finding.of(RuleCode.MIN_BALANCE_NOT_SET, "cad", 1)], set(), {}),
])
def test_findings_that_tell_one_story_are_worded_once(
    findings: list[Finding], hidden: set[int], contexts: dict[int, Context],
) -> None:
    wording = plan_wording(findings)

    assert wording.hidden == hidden
    assert wording.contexts == contexts
