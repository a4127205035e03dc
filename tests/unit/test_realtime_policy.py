"""Real-time emails add, never repeat: exact cases of `decide_realtime`, and the notifier's
slots, cap and flag on top of the night's send log."""

from __future__ import annotations

from datetime import date, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from balance_guard.config import load_policy
from balance_guard.domain.findings import Finding, RuleCode, Severity
from balance_guard.domain.notification import (
    Reason,
    SentRecord,
    decide_realtime,
    merged_history,
)
from balance_guard.domain.policy import AccountSettings, Locale, Policy
from balance_guard.notify.notifier import Notifier, realtime_key
from balance_guard.notify.send_log import SqliteNotificationLog
from balance_guard.report.model import AccountReport, ReserveRelease

POLICY = Policy()
TODAY = date(2026, 8, 2)
YESTERDAY = TODAY - timedelta(days=1)
SHORT = Finding.of(RuleCode.REFUND_CAPACITY_SHORT, "cad", 182_000, exposure=240_000,
                   capacity=58_000, cause="no_minimum_balance")
BLOCKED = Finding.of(RuleCode.REFUND_BLOCKED, "cad", 150_000, refunds=1)
NEGATIVE = Finding.of(RuleCode.NEGATIVE_BALANCE, "cad", 5_000, available=-5_000)
MIN_NOT_SET = Finding.of(RuleCode.MIN_BALANCE_NOT_SET, "cad", 250_000, exposure=240_000)
FAILED = Finding.of(RuleCode.CHECK_FAILED, reason="Stripe 500")


def sent(*findings: Finding, on: date) -> dict[str, SentRecord]:
    return {f"{f.code.value}:cad": SentRecord(f"{f.code.value}:cad", on, "") for f in findings}


def test_nothing_is_sent_for_a_critical_that_todays_night_email_carried() -> None:
    history = sent(SHORT, MIN_NOT_SET, on=TODAY)
    assert decide_realtime([SHORT, MIN_NOT_SET], history, TODAY, POLICY, sent_today=0,
                           last_night=TODAY) is None


def test_a_refund_that_just_got_stuck_is_sent_with_every_finding_listed() -> None:
    history = sent(SHORT, MIN_NOT_SET, on=TODAY)
    decision = decide_realtime([MIN_NOT_SET, SHORT, BLOCKED], history, TODAY, POLICY,
                               sent_today=0, last_night=TODAY)
    assert decision is not None
    assert decision.due == ((BLOCKED, Reason.CRITICAL),)
    # Within the critical ones, the news comes first (and so leads the subject).
    assert decision.findings == (BLOCKED, SHORT, MIN_NOT_SET)
    assert [(r.key, r.last_sent) for r in decision.records] == [
        ("REFUND_BLOCKED:cad", TODAY), ("REFUND_CAPACITY_SHORT:cad", TODAY),
        ("MIN_BALANCE_NOT_SET:cad", TODAY)]


def test_a_critical_of_yesterdays_email_waits_for_tonight_when_the_night_has_not_run() -> None:
    history = sent(SHORT, on=YESTERDAY)
    assert decide_realtime([SHORT], history, TODAY, POLICY, sent_today=0,
                           last_night=YESTERDAY) is None


def test_a_critical_absent_from_todays_night_is_news_when_it_comes_back() -> None:
    history = sent(SHORT, on=YESTERDAY)  # tonight found it gone, so did not send it
    decision = decide_realtime([SHORT], history, TODAY, POLICY, sent_today=0,
                               last_night=TODAY)
    assert decision is not None
    assert decision.due == ((SHORT, Reason.CRITICAL),)


def test_a_balance_that_just_went_negative_is_news() -> None:
    decision = decide_realtime([NEGATIVE, SHORT], sent(SHORT, on=TODAY), TODAY, POLICY,
                               sent_today=1, last_night=TODAY)
    assert decision is not None
    assert decision.due == ((NEGATIVE, Reason.CRITICAL),)


def test_a_new_warning_waits_for_the_night() -> None:
    assert decide_realtime([MIN_NOT_SET], {}, TODAY, POLICY, sent_today=0,
                           last_night=TODAY) is None


def test_a_failed_check_is_never_emailed() -> None:
    assert decide_realtime([FAILED], {}, TODAY, POLICY, sent_today=0) is None


@pytest.mark.parametrize(("per_day", "sent_today", "due"), [
    (2, 0, True), (2, 1, True), (2, 2, False), (2, 5, False), (0, 0, False), (3, 2, True),
])
def test_at_most_the_policys_number_of_realtime_emails_per_day(
        per_day: int, sent_today: int, due: bool) -> None:
    policy = Policy(realtime_emails_per_day=per_day)
    decision = decide_realtime([BLOCKED], {}, TODAY, policy, sent_today=sent_today,
                               last_night=TODAY)
    assert (decision is not None) is due


def test_the_cap_is_a_policy_setting_from_the_environment() -> None:
    assert load_policy({}).realtime_emails_per_day == 2
    assert load_policy({"BALANCE_GUARD_REALTIME_EMAILS_PER_DAY": "1"}).realtime_emails_per_day == 1


def test_without_a_known_night_only_todays_emails_count_as_carried() -> None:
    assert decide_realtime([SHORT], sent(SHORT, on=YESTERDAY), TODAY, POLICY,
                           sent_today=0) is not None
    assert decide_realtime([SHORT], sent(SHORT, on=TODAY), TODAY, POLICY,
                           sent_today=0) is None


def test_merged_history_keeps_the_latest_record_per_key() -> None:
    night = {"A": SentRecord("A", YESTERDAY, "x"), "B": SentRecord("B", TODAY, "")}
    realtime = {"A": SentRecord("A", TODAY, "y")}
    assert merged_history(night, realtime) == {"A": SentRecord("A", TODAY, "y"),
                                               "B": SentRecord("B", TODAY, "")}


def test_within_the_criticals_the_news_comes_first_even_after_its_rule_order() -> None:
    # REFUND_BLOCKED sorts before REFUND_CAPACITY_SHORT: the carried one must still follow.
    decision = decide_realtime([MIN_NOT_SET, BLOCKED, SHORT], sent(BLOCKED, on=TODAY), TODAY,
                               POLICY, sent_today=0, last_night=TODAY)
    assert decision is not None
    assert decision.due == ((SHORT, Reason.CRITICAL),)
    assert decision.findings == (SHORT, BLOCKED, MIN_NOT_SET)


def release(currency: str, on: date) -> ReserveRelease:
    return ReserveRelease(currency=currency, amount=1_000, release_date=on, payout_date=None,
                          arrival_date=None)


DROP = Finding.of(RuleCode.PREFUND_USED, "cad", 20_000, previous=50_000, prefund=30_000)
BARE_RELEASE = Finding.of(RuleCode.RESERVE_RELEASE_UPCOMING, "usd", 2_000)  # dates: releases


def test_the_records_keep_each_findings_cause_and_its_keys_for_the_run_date_and_releases(
        ) -> None:
    # A prefunding drop is remembered by the run date, a bare release finding by the
    # account's release dates, a capacity shortfall with its cause (what "changed" compares).
    decision = decide_realtime([BARE_RELEASE, DROP, SHORT], {}, TODAY, POLICY, sent_today=0,
                               last_night=TODAY, releases=(release("usd", date(2026, 8, 10)),
                                                           release("cad", date(2026, 8, 20))))
    assert decision is not None
    assert decision.findings == (SHORT, DROP, BARE_RELEASE)
    assert decision.records == (
        SentRecord("REFUND_CAPACITY_SHORT:cad", TODAY, "no_minimum_balance"),
        SentRecord("PREFUND_USED:cad:2026-08-02", TODAY, ""),
        SentRecord("RESERVE_RELEASE_UPCOMING:usd:2026-08-10", TODAY, ""))


def critical(finding: Finding) -> Finding:
    return finding.model_copy(update={"severity": Severity.CRITICAL})


def test_a_critical_is_carried_by_the_very_keys_its_records_are_stored_under() -> None:
    # No critical rule is keyed by run date or release date today; a finding built so pins
    # that the "carried" check and the records agree on its keys, whatever the rule.
    drop = critical(DROP)
    assert decide_realtime([drop], {"PREFUND_USED:cad:2026-08-02": SentRecord(
        "PREFUND_USED:cad:2026-08-02", TODAY)}, TODAY, POLICY, sent_today=0,
        last_night=TODAY) is None
    yesterdays = {"PREFUND_USED:cad:2026-08-01": SentRecord("PREFUND_USED:cad:2026-08-01",
                                                            TODAY)}
    decision = decide_realtime([drop], yesterdays, TODAY, POLICY, sent_today=0,
                               last_night=TODAY)
    assert decision is not None
    assert decision.due == ((drop, Reason.CRITICAL),)

    bare = critical(BARE_RELEASE)
    announced = {"RESERVE_RELEASE_UPCOMING:usd:2026-08-10": SentRecord(
        "RESERVE_RELEASE_UPCOMING:usd:2026-08-10", TODAY)}
    assert decide_realtime([bare], announced, TODAY, POLICY, sent_today=0, last_night=TODAY,
                           releases=(release("usd", date(2026, 8, 10)),)) is None
    later = (release("usd", date(2026, 8, 10)), release("usd", date(2026, 8, 14)))
    decision = decide_realtime([bare], announced, TODAY, POLICY, sent_today=0,
                               last_night=TODAY, releases=later)
    assert decision is not None
    assert [r.key for r in decision.records] == ["RESERVE_RELEASE_UPCOMING:usd:2026-08-10",
                                                 "RESERVE_RELEASE_UPCOMING:usd:2026-08-14"]


def test_merged_history_keeps_an_older_record_out_whatever_the_order() -> None:
    night = {"A": SentRecord("A", TODAY, "x")}
    realtime = {"A": SentRecord("A", YESTERDAY, "y")}
    assert merged_history(night, realtime) == {"A": SentRecord("A", TODAY, "x")}


def test_merged_history_takes_the_later_history_on_a_same_day_tie() -> None:
    # The notifier passes the night's log first, then the day's real-time slots in order.
    first = {"A": SentRecord("A", TODAY, "x")}
    second = {"A": SentRecord("A", TODAY, "y")}
    assert merged_history(first, second) == {"A": SentRecord("A", TODAY, "y")}


class Sender:
    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    def send(self, message: EmailMessage) -> str:
        self.sent.append(message)
        return f"<id-{len(self.sent)}@test>"


def report(*findings: Finding) -> AccountReport:
    return AccountReport.model_validate({
        "account_id": "acct_1RtmStuckRefund01", "name": "Stuck Refund Towers", "locale": "en",
        "status": "critical", "findings": list(findings)})


EN = AccountSettings(locale=Locale.EN)


@pytest.fixture
def notifier(tmp_path: Path) -> tuple[Notifier, Sender]:
    sender = Sender()
    return Notifier(sender, SqliteNotificationLog(tmp_path / "s.sqlite"), POLICY), sender


def realtime(notifier: Notifier, *findings: Finding, on: date = TODAY):  # type: ignore[no-untyped-def]
    return notifier.notify_realtime(report(*findings), account_email="admin@stuck.example",
                                    settings=EN, as_of=on, run_id=f"realtime-{len(findings)}",
                                    last_night=TODAY)


def test_the_notifier_adds_never_repeats_and_stops_at_the_cap(
        notifier: tuple[Notifier, Sender]) -> None:
    notify, sender = notifier
    night = notify.notify_account(report(SHORT), account_email="admin@stuck.example",
                                  settings=EN, as_of=TODAY, run_id="night")
    assert len(night.emails) == 1
    quiet = realtime(notify, SHORT)
    assert (quiet.emails, quiet.reason) == ([], "nothing critical that today's emails did not "
                                                "carry")
    first = realtime(notify, SHORT, BLOCKED)
    assert [e.realtime for e in first.emails] == [True]
    assert first.emails[0].subject == sender.sent[-1]["Subject"]
    assert sender.sent[-1]["X-Balance-Guard-Ref"] == realtime_key("acct_1RtmStuckRefund01", 1)
    assert realtime(notify, SHORT, BLOCKED).emails == []  # carried now
    second = realtime(notify, SHORT, BLOCKED, NEGATIVE)
    assert len(second.emails) == 1
    third = realtime(notify, SHORT, BLOCKED, NEGATIVE,
                     Finding.of(RuleCode.REFUND_BLOCKED, "usd", 1_000, refunds=1))
    assert (third.emails, third.reason) == (
        [], "the day's real-time emails are all sent: the night tells the rest")
    assert len(sender.sent) == 3


def test_the_next_night_lists_the_realtime_emails_and_counts_their_findings_as_sent(
        notifier: tuple[Notifier, Sender]) -> None:
    notify, _ = notifier
    first = realtime(notify, BLOCKED, MIN_NOT_SET)
    tomorrow = TODAY + timedelta(days=1)
    # The refund got unstuck overnight; the warning went out with the real-time email.
    night = notify.notify_account(report(MIN_NOT_SET), account_email="admin@stuck.example",
                                  settings=EN, as_of=tomorrow, run_id="night-2")
    assert night.emails == first.emails
    assert night.emails[0].realtime is True
    assert (night.sent_now, night.reason) == ([], "nothing new since the last email")
    after = notify.notify_account(report(MIN_NOT_SET), account_email="admin@stuck.example",
                                  settings=EN, as_of=tomorrow + timedelta(days=1),
                                  run_id="night-3")
    assert after.emails == []  # listed once, by the night after it


def test_a_realtime_email_leaves_the_nights_claim_of_the_date_open(
        notifier: tuple[Notifier, Sender]) -> None:
    notify, _ = notifier
    assert len(realtime(notify, BLOCKED).emails) == 1
    night = notify.notify_account(report(BLOCKED), account_email="admin@stuck.example",
                                  settings=EN, as_of=TODAY, run_id="night")
    assert len(night.sent_now) == 1  # criticals are the night's every night
