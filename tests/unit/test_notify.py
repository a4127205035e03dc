"""The notifier end to end with the outbox and the SQLite log: who gets what, once."""

from __future__ import annotations

import argparse
import os
import signal
from collections.abc import Sequence
from datetime import date, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from markupsafe import escape

from balance_guard.check.account import AccountCheck
from balance_guard.check.outcome import Redelivery
from balance_guard.check.outcome import notify as notify_step
from balance_guard.domain.findings import Finding, RuleCode
from balance_guard.domain.headline import Headline
from balance_guard.domain.notification import SentRecord
from balance_guard.domain.policy import AccountSettings, Locale, Policy
from balance_guard.notify.delivery import LocalDelivery, build_notifier
from balance_guard.notify.digest import render_digest
from balance_guard.notify.notifier import (
    DIGEST_REF,
    DigestInFlightError,
    Notifier,
    NotifyOutcome,
    RecipientRejectedError,
    SendError,
    StopSignal,
)
from balance_guard.notify.outbox import OutboxSender
from balance_guard.notify.send_log import SqliteNotificationLog
from balance_guard.report.model import AccountReport, EmailRecord, Report, totals_of

AS_OF = date(2026, 8, 1)
SHORT = Finding.of(RuleCode.REFUND_CAPACITY_SHORT, "cad", 182_000, exposure=240_000,
                   capacity=58_000, cause="no_minimum_balance")
MIN_NOT_SET = Finding.of(RuleCode.MIN_BALANCE_NOT_SET, "cad", 250_000, exposure=240_000)
EN = AccountSettings(locale=Locale.EN)


def account(account_id: str = "acct_1", findings: tuple[Finding, ...] = (SHORT, MIN_NOT_SET),
            name: str = "Les Tours du Parc", status: str = "critical") -> AccountReport:
    return AccountReport.model_validate({"account_id": account_id, "name": name, "locale": "en",
                                         "status": status, "findings": list(findings)})


class RecordingSender:
    """A sender that keeps messages and can refuse chosen recipients or fail outright."""

    def __init__(self, reject: set[str] | None = None, fail: int = 0) -> None:
        self.sent: list[EmailMessage] = []
        self.reject = reject or set()
        self.fail = fail

    def send(self, message: EmailMessage) -> str:
        to = {a.strip() for a in str(message["To"]).split(",")}
        if self.fail:
            self.fail -= 1
            raise SendError("service unavailable")
        if to & self.reject:
            raise RecipientRejectedError("MessageRejected", sorted(to))
        self.sent.append(message)
        return f"<id-{len(self.sent)}@test>"


class Clock:
    """Seconds since the epoch, moved by hand."""

    def __init__(self) -> None:
        self.now = 1_785_560_000.0

    def __call__(self) -> float:
        return self.now


LEASE_S = 300.0


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def log(tmp_path: Path, clock: Clock) -> SqliteNotificationLog:
    return SqliteNotificationLog(tmp_path / "state.sqlite", lease_seconds=LEASE_S, clock=clock)


def test_first_night_writes_one_eml_and_one_html_named_by_account_and_date(
    tmp_path: Path, log: SqliteNotificationLog,
) -> None:
    outbox = tmp_path / "outbox"
    notifier = Notifier(OutboxSender(outbox), log, Policy())

    outcome = notifier.notify_account(account(), account_email="owner@example.com",
                                      settings=EN, as_of=AS_OF, run_id="run-1")

    assert sorted(p.name for p in outbox.iterdir()) == ["acct_1_2026-08-01.eml",
                                                        "acct_1_2026-08-01.html"]
    [record] = outcome.emails
    assert record.to == ["owner@example.com"]
    assert record.subject.startswith("Les Tours du Parc: Not enough money set aside")
    message = message_from_bytes((outbox / "acct_1_2026-08-01.eml").read_bytes(),
                                 policy=policy.default)
    assert message["Message-ID"] == record.message_id
    assert message["Subject"] == record.subject
    html = (outbox / "acct_1_2026-08-01.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert "$1,820.00" in html


def test_rerunning_the_same_date_sends_nothing_and_reports_the_earlier_email(
    tmp_path: Path, log: SqliteNotificationLog,
) -> None:
    sender = RecordingSender()
    notifier = Notifier(sender, log, Policy())
    kwargs = {"account_email": "owner@example.com", "settings": EN, "as_of": AS_OF}

    first = notifier.notify_account(account(), run_id="run-1", **kwargs)  # type: ignore[arg-type]
    again = notifier.notify_account(account(), run_id="run-2", **kwargs)  # type: ignore[arg-type]

    assert len(first.emails) == 1
    assert first.sent_now == first.emails
    # The report of the rerun (or of an SQS redelivery) still lists tonight's email.
    assert again.emails == first.emails
    assert again.earlier == 1
    assert again.sent_now == []
    assert again.reason == "already notified for this date"
    assert len(sender.sent) == 1


def test_a_fresh_notifier_on_the_same_state_file_does_not_resend(tmp_path: Path) -> None:
    sender = RecordingSender()
    for run in ("run-1", "lambda-retry"):
        with SqliteNotificationLog(tmp_path / "state.sqlite") as log:
            Notifier(sender, log, Policy()).notify_account(
                account(), account_email="owner@example.com", settings=EN, as_of=AS_OF,
                run_id=run)

    assert len(sender.sent) == 1


def test_critical_is_sent_again_the_next_day_but_not_an_unchanged_warning(
    log: SqliteNotificationLog,
) -> None:
    sender = RecordingSender()
    notifier = Notifier(sender, log, Policy())
    nights = [(AS_OF, (SHORT, MIN_NOT_SET)), (AS_OF + timedelta(days=1), (SHORT, MIN_NOT_SET)),
              (AS_OF + timedelta(days=2), (MIN_NOT_SET,))]

    sent = [
        len(notifier.notify_account(account(findings=findings), account_email="o@example.com",
                                    settings=EN, as_of=day, run_id=str(day)).emails)
        for day, findings in nights
    ]

    assert sent == [1, 1, 0]


def test_each_account_goes_only_to_its_own_recipients(log: SqliteNotificationLog) -> None:
    sender = RecordingSender()
    notifier = Notifier(sender, log, Policy())

    notifier.notify_account(account("acct_a", name="Alpha"), account_email="a@example.com",
                            settings=EN, as_of=AS_OF, run_id="r")
    notifier.notify_account(
        account("acct_b", name="Beta"), account_email="b-owner@example.com",
        settings=AccountSettings(locale=Locale.FR, emails=("b1@example.com", "b2@example.com")),
        as_of=AS_OF, run_id="r")

    alpha, beta = sender.sent
    assert alpha["To"] == "a@example.com"
    assert beta["To"] == "b1@example.com, b2@example.com"
    assert "Alpha" in str(alpha["Subject"])
    assert "Beta" in str(beta["Subject"])
    beta_html = beta.get_body(preferencelist=("html",))
    assert beta_html is not None
    assert "Alpha" not in beta_html.get_content()


def test_locale_comes_from_the_settings(log: SqliteNotificationLog) -> None:
    sender = RecordingSender()
    notifier = Notifier(sender, log, Policy())

    notifier.notify_account(account(), account_email="o@example.com",
                            settings=AccountSettings(locale=Locale.FR_EN), as_of=AS_OF,
                            run_id="r")

    assert sender.sent[0]["Content-Language"] == "fr, en"
    assert "Les fonds mis de côté" in str(sender.sent[0]["Subject"])


def test_a_rejected_recipient_is_reported_and_the_others_still_receive_it(
    log: SqliteNotificationLog,
) -> None:
    sender = RecordingSender(reject={"bad@example.com"})
    notifier = Notifier(sender, log, Policy())
    settings = AccountSettings(locale=Locale.EN,
                               emails=("good@example.com", "bad@example.com", "also@example.com"))

    outcome = notifier.notify_account(account(), account_email=None, settings=settings,
                                      as_of=AS_OF, run_id="r")

    assert [e.to for e in outcome.emails] == [["good@example.com"], ["also@example.com"]]
    assert len(outcome.notices) == 1
    assert "'bad@example.com' rejected" in outcome.notices[0]
    assert log.already_sent("acct_1", AS_OF)


def test_nothing_delivered_leaves_the_date_open_for_a_retry(log: SqliteNotificationLog) -> None:
    sender = RecordingSender(fail=1)
    notifier = Notifier(sender, log, Policy())
    kwargs = {"account_email": "o@example.com", "settings": EN, "as_of": AS_OF}

    failed = notifier.notify_account(account(), run_id="r1", **kwargs)  # type: ignore[arg-type]
    assert failed.emails == []
    assert failed.notices == ["email not sent: service unavailable"]
    assert not log.already_sent("acct_1", AS_OF)

    retried = notifier.notify_account(account(), run_id="r2", **kwargs)  # type: ignore[arg-type]
    assert len(retried.emails) == 1


def test_an_unexpected_sender_error_releases_the_claim(log: SqliteNotificationLog) -> None:
    class BrokenSender:
        def send(self, message: EmailMessage) -> str:
            raise RuntimeError("bug")

    notifier = Notifier(BrokenSender(), log, Policy())
    with pytest.raises(RuntimeError):
        notifier.notify_account(account(), account_email="o@example.com", settings=EN,
                                as_of=AS_OF, run_id="r")

    assert not log.already_sent("acct_1", AS_OF)


def test_failed_check_and_quiet_accounts_get_no_email(log: SqliteNotificationLog) -> None:
    sender = RecordingSender()
    notifier = Notifier(sender, log, Policy())
    failed = AccountReport(account_id="acct_x", name="X", locale="en", status="error",
                           findings=[Finding.of(RuleCode.CHECK_FAILED, reason="timeout")],
                           error="timeout")
    held = account("acct_y", findings=(Finding.of(RuleCode.RESERVE_HELD, "usd", 900),),
                   status="info")

    outcomes = [notifier.notify_account(a, account_email="o@example.com", settings=EN,
                                        as_of=AS_OF, run_id="r") for a in (failed, held)]

    assert [o.emails for o in outcomes] == [[], []]
    assert sender.sent == []


def test_no_valid_recipient_sends_nothing_and_says_why(log: SqliteNotificationLog) -> None:
    notifier = Notifier(RecordingSender(), log, Policy())

    outcome = notifier.notify_account(account(), account_email="not an address",
                                      settings=EN, as_of=AS_OF, run_id="r")

    assert outcome.emails == []
    assert outcome.reason == "no valid recipient"
    assert any("no valid email address" in n for n in outcome.notices)


def test_a_bad_sender_address_fails_at_start_up(log: SqliteNotificationLog) -> None:
    with pytest.raises(ValueError, match="not a sender address"):
        Notifier(RecordingSender(), log, Policy(), sender_address="Balance Guard")


def run_report() -> Report:
    accounts = [
        account("acct_1", name="Les Tours du Parc").model_copy(update={
            "notices": ["balance_guard_emails: dropped invalid address 'nope'"]}),
        AccountReport(account_id="acct_2", name="Place Verte", locale="fr", status="error",
                      findings=[Finding.of(RuleCode.CHECK_FAILED, reason="timeout")],
                      error="Stripe did not answer after 3 tries"),
        account("acct_3", name="Calm Towers", findings=(), status="ok"),
    ]
    return Report(run_id="2026-08-01T06:00:00Z-3f2a", as_of=AS_OF, accounts=accounts,
                  totals=totals_of(accounts, stripe_requests=15, duration_s=2.5))


def test_the_digest_goes_to_operations_once_per_run(tmp_path: Path,
                                                    log: SqliteNotificationLog) -> None:
    outbox = tmp_path / "outbox"
    notifier = Notifier(OutboxSender(outbox), log, Policy())

    record = notifier.send_digest(run_report(), "ops@example.com")
    again = notifier.send_digest(run_report(), "ops@example.com")

    assert record is not None
    assert again is None
    assert record.to == ["ops@example.com"]
    assert record.subject == (
        "Balance Guard nightly digest for Saturday, August 1, 2026: 1 critical, 1 not checked")
    text = (outbox / "digest_2026-08-01.eml").read_bytes()
    body = message_from_bytes(text, policy=policy.default)
    assert isinstance(body, EmailMessage)
    part = body.get_body(preferencelist=("plain",))
    assert part is not None
    content = part.get_content()
    for expected in ("Critical: 1", "Not checked: 1", "OK: 1", "Stripe requests: 15",
                     "Duration: 2.5 s", "Accounts in this run: 3", "Les Tours du Parc (acct_1)",
                     "Largest refund not covered: $1,820.00 — No minimum balance is set",
                     "Place Verte (acct_2)", "Stripe did not answer after 3 tries",
                     "dropped invalid address 'nope'"):
        assert expected in content
    # Operators read about the accounts, not to a building's admin.
    assert "Not enough money set aside for your" not in content
    assert "Accounts checked" not in content
    assert (outbox / "digest_2026-08-01.html").exists()


def test_the_digest_is_written_in_the_platform_language(log: SqliteNotificationLog) -> None:
    sender = RecordingSender()
    notifier = Notifier(sender, log, Policy(default_locale=Locale.FR))

    record = notifier.send_digest(run_report(), "ops@example.com")

    assert record is not None
    # The subject keeps French typography's no-break spaces.
    assert record.subject.startswith("Bilan de nuit Balance Guard du samedi 1er\xa0août 2026\xa0:")
    content = digest_text(sender)
    # Every label meets its figure with French typography's no-break space.
    for expected in ("Critique\u00a0: 1", "Requêtes Stripe\u00a0: 15", "Durée\u00a0: 2,5 s",
                     "Plus gros remboursement non couvert\u00a0: 1\u00a0820,00\u00a0$",
                     "Les Tours du Parc (acct_1)\u00a0: balance_guard_emails"):
        assert expected in content, expected


def test_no_operations_address_means_no_digest(log: SqliteNotificationLog) -> None:
    notifier = Notifier(RecordingSender(), log, Policy())

    assert notifier.send_digest(run_report(), None) is None
    assert notifier.send_digest(run_report(), "not-an-address") is None


def test_a_failed_digest_can_be_retried(log: SqliteNotificationLog) -> None:
    sender = RecordingSender(fail=1)
    notifier = Notifier(sender, log, Policy())

    with pytest.raises(SendError):
        notifier.send_digest(run_report(), "ops@example.com")
    assert notifier.send_digest(run_report(), "ops@example.com") is not None


def test_a_digest_claimed_by_a_dead_attempt_fails_loudly_until_the_lease_lapses(
    tmp_path: Path,
) -> None:
    now = [1_000_000.0]
    log = SqliteNotificationLog(tmp_path / "log.sqlite", lease_seconds=300,
                                clock=lambda: now[0])
    report = run_report()
    assert log.claim(f"{DIGEST_REF}:{report.run_id}", report.as_of, report.run_id)  # then died
    notifier = Notifier(RecordingSender(), log, Policy())

    with pytest.raises(DigestInFlightError, match="claimed by another attempt until"):
        notifier.send_digest(report, "ops@example.com")
    now[0] += 301
    assert notifier.send_digest(report, "ops@example.com") is not None


def digest_text(sender: RecordingSender) -> str:
    part = sender.sent[-1].get_body(preferencelist=("plain",))
    assert part is not None
    content: str = part.get_content()
    return content


def test_the_digest_formats_money_for_the_platforms_country(
    log: SqliteNotificationLog,
) -> None:
    usd = Finding.of(RuleCode.REFUND_CAPACITY_SHORT, "usd", 190_000, exposure=240_000,
                     capacity=50_000, cause="manual_payouts")
    accounts = [account("acct_1", name="Maple Court", findings=(usd,)),
                account("acct_2", name="Victoria Park")]
    report = Report(run_id="r", as_of=AS_OF, accounts=accounts,
                    totals=totals_of(accounts, stripe_requests=4, duration_s=1.0))
    sender = RecordingSender()

    Notifier(sender, log, Policy()).send_digest(report, "ops@example.com")

    content = digest_text(sender)
    assert "Largest refund not covered: US$1,900.00 — Payouts are manual or turned off" in (
        content)
    assert "Largest refund not covered: $1,820.00" in content  # CAD, for a Canadian platform
    assert "Accounts checked: 2" in content  # every account was checked

    Notifier(sender, log, Policy(platform_country="us")).send_digest(
        report.model_copy(update={"run_id": "r2"}), "ops@example.com")
    american = digest_text(sender)
    assert "Largest refund not covered: $1,900.00" in american
    assert "Largest refund not covered: CA$1,820.00" in american


def test_the_platform_country_must_be_a_country_code() -> None:
    assert Policy().platform_country == "CA"
    with pytest.raises(ValueError, match="country code"):
        Policy(platform_country="Canada")


def test_the_digest_says_where_the_full_report_is(log: SqliteNotificationLog) -> None:
    sender = RecordingSender()

    Notifier(sender, log, Policy()).send_digest(
        run_report(), "ops@example.com",
        report_location="s3://reports/2026-08-01/run.json\r\nBcc: x@y.z")

    content = digest_text(sender)
    assert "Full report: s3://reports/2026-08-01/run.json Bcc: x@y.z" in content
    assert sender.sent[-1]["Bcc"] is None


# -- the digest to act on --------------------------------------------------------------------


def acting_report() -> Report:
    """A night with something to do: a wire and a minimum balance, two currencies, a
    warning, a failed check, an id that is not Stripe's, a platform notice."""
    def acct(account_id: str, name: str, status: str, findings: Sequence[Finding] = (),
             **extra: object) -> AccountReport:
        return AccountReport.model_validate({
            "account_id": account_id, "name": name, "locale": "fr", "status": status,
            "findings": list(findings), **extra})

    accounts = [
        acct("acct_1RslStLaurent0001", "Résidence Saint-Laurent", "critical", (
            Finding.of(RuleCode.REFUND_CAPACITY_SHORT, "cad", 182_000, exposure=182_000,
                       capacity=0, cause="no_minimum_balance"),
            Finding.of(RuleCode.MIN_BALANCE_NOT_SET, "cad", 185_000, exposure=182_000)),
            headlines=[Headline(currency="cad", add=0, minimum=185_000,
                                deadline=date(2026, 8, 7), urgent=False,
                                next_payout=date(2026, 8, 7))]),
        acct("acct_1TdpToursDuParc", "Les Tours du Parc", "critical", (
            Finding.of(RuleCode.NEGATIVE_BALANCE, "cad", 45_000, available=-45_000),
            Finding.of(RuleCode.REFUND_BLOCKED, "cad", 120_000, count=1),
            Finding.of(RuleCode.REFUND_CAPACITY_SHORT, "cad", 185_000, exposure=185_000,
                       capacity=0, cause="balance_below_minimum"),
            Finding.of(RuleCode.REFUND_CAPACITY_SHORT, "usd", 10_000, exposure=10_000,
                       capacity=0, cause="manual_payouts")),
            headlines=[
                Headline(currency="cad", add=350_000, minimum=None, deadline=AS_OF,
                         urgent=True, next_payout=date(2026, 8, 3), negative=45_000,
                         blocked=120_000, blocked_refunds=1, shortfall=185_000),
                Headline(currency="usd", add=10_000, minimum=20_000, deadline=AS_OF,
                         urgent=True, shortfall=10_000)]),
        acct("acct_1RdgRideauGardens", "Rideau Gardens", "warning",
             (Finding.of(RuleCode.PAYOUTS_DISABLED),)),
        acct("acct_1MtcLeMontcalm001", "Le Montcalm", "error",
             (Finding.of(RuleCode.CHECK_FAILED, reason="Stripe 500"),), error="Stripe 500",
             notices=["balance_guard_locale: 'de' is not fr, en or fr+en; using en"]),
        acct('not-an-id"><script>', "Odd Id Court", "warning",
             (Finding.of(RuleCode.PREFUND_BELOW_TARGET, "cad", 60_000),)),
        acct("acct_1WmhWestmountHts1", "Westmount Heights", "ok"),
    ]
    return Report(run_id="2026-08-01T06:00:00Z-3f2a", as_of=AS_OF, accounts=accounts,
                  totals=totals_of(accounts, stripe_requests=12, duration_s=3.25),
                  notices=["Stripe refused the Reserves API: the key lacks rak_reserve_read"])


DASHBOARD = "https://dashboard.stripe.com/connect/accounts/"
ACTING_EN = f"""\
Balance Guard nightly digest for Saturday, August 1, 2026: 2 critical, 1 not checked
Nightly run 2026-08-01T06:00:00Z-3f2a for Saturday, August 1, 2026.
Full report: file:///srv/balance-guard/report%202026-08-01.html

Platform notices (1)
- Stripe refused the Reserves API: the key lacks rak_reserve_read

Accounts by status
  Critical: 2
  Not checked: 1
  Warning: 2
  OK: 1
  Accounts in this run: 6
  Emails sent: 0
  Stripe requests: 12
  Duration: 3.2 s

Critical accounts (2)
- Les Tours du Parc (acct_1TdpToursDuParc)
    Add $3,500.00 to the prefunding balance today.
    Add US$100.00 to the prefunding balance and set the minimum balance to US$200.00 today.
    Balance below zero: $450.00
    Refunds on hold for lack of funds: $1,200.00
    Largest refund not covered: $1,850.00 — The balance has not reached the minimum yet
    (+1 more)
    Open in the Stripe Dashboard: {DASHBOARD}acct_1TdpToursDuParc
- Résidence Saint-Laurent (acct_1RslStLaurent0001)
    Set the minimum balance to $1,850.00 before the automatic payout of Friday, August 7, 2026.
    Largest refund not covered: $1,820.00 — No minimum balance is set
    Open in the Stripe Dashboard: {DASHBOARD}acct_1RslStLaurent0001

Accounts with a warning (2)
- Odd Id Court (not-an-id"><script>)
    Prefunding below target: $600.00
- Rideau Gardens (acct_1RdgRideauGardens)
    Payouts disabled
    Open in the Stripe Dashboard: {DASHBOARD}acct_1RdgRideauGardens

Accounts that could not be checked (1)
- Le Montcalm (acct_1MtcLeMontcalm001)
    Stripe 500
    Open in the Stripe Dashboard: {DASHBOARD}acct_1MtcLeMontcalm001

Notices (1)
- Le Montcalm (acct_1MtcLeMontcalm001): balance_guard_locale: 'de' is not fr, en or fr+en; \
using en
"""
# French typography: a no-break space (here ~) before ":", inside figures and before "$".
ACTING_FR = f"""\
Bilan de nuit Balance Guard du samedi 1er~août 2026~: 2 critique(s), 1 non vérifié(s)
Vérification de nuit 2026-08-01T06:00:00Z-3f2a du samedi 1er~août 2026.
Rapport complet~: file:///srv/balance-guard/report%202026-08-01.html

Avis sur la plateforme (1)
- Stripe refused the Reserves API: the key lacks rak_reserve_read

Comptes par état
  Critique~: 2
  Non vérifié~: 1
  Avertissement~: 2
  Aucun problème~: 1
  Comptes inclus dans cette vérification~: 6
  Courriels envoyés~: 0
  Requêtes Stripe~: 12
  Durée~: 3,2 s

Comptes critiques (2)
- Les Tours du Parc (acct_1TdpToursDuParc)
    Verser 3~500,00~$ dans le solde de préfinancement aujourd’hui.
    Verser 100,00~$~US dans le solde de préfinancement et fixer le solde minimum à 200,00~$~US \
aujourd’hui.
    Solde négatif~: 450,00~$
    Remboursements en attente faute de fonds~: 1~200,00~$
    Plus gros remboursement non couvert~: 1~850,00~$ — Solde pas encore au niveau du minimum
    (+1 autre)
    Ouvrir dans le tableau de bord Stripe~: {DASHBOARD}acct_1TdpToursDuParc
- Résidence Saint-Laurent (acct_1RslStLaurent0001)
    Fixer le solde minimum à 1~850,00~$ avant le virement automatique du vendredi 7~août 2026.
    Plus gros remboursement non couvert~: 1~820,00~$ — Aucun solde minimum n’est défini
    Ouvrir dans le tableau de bord Stripe~: {DASHBOARD}acct_1RslStLaurent0001

Comptes avec un avertissement (2)
- Odd Id Court (not-an-id"><script>)
    Préfinancement sous la cible~: 600,00~$
- Rideau Gardens (acct_1RdgRideauGardens)
    Virements désactivés
    Ouvrir dans le tableau de bord Stripe~: {DASHBOARD}acct_1RdgRideauGardens

Comptes qui n’ont pas pu être vérifiés (1)
- Le Montcalm (acct_1MtcLeMontcalm001)
    Stripe 500
    Ouvrir dans le tableau de bord Stripe~: {DASHBOARD}acct_1MtcLeMontcalm001

Avis (1)
- Le Montcalm (acct_1MtcLeMontcalm001)~: balance_guard_locale: 'de' is not fr, en or fr+en; \
using en
""".replace("~", "\u00a0")
LOCAL_REPORT = "/srv/balance-guard/report 2026-08-01.html"


@pytest.mark.parametrize(("language", "expected"), [("en", ACTING_EN), ("fr", ACTING_FR)])
def test_the_digest_lists_every_account_to_act_on_with_its_headline_and_its_link(
    language: str, expected: str,
) -> None:
    digest = render_digest(acting_report(), (language,), country="CA",
                           report_location=LOCAL_REPORT)

    assert digest.text == expected


def test_the_digest_links_each_stripe_account_and_the_report_in_its_html() -> None:
    html = render_digest(acting_report(), ("en",), country="CA",
                         report_location=LOCAL_REPORT).html

    assert html.count(f'<a href="{DASHBOARD}acct_') == 4
    assert 'Full report: <a href="file:///srv/balance-guard/report%202026-08-01.html" ' \
           'style="color:#175cd3;">report 2026-08-01.html</a>' in html
    # An id that is not a Stripe account id is shown, escaped, and never linked.
    assert "not-an-id&#34;&gt;&lt;script&gt;" in html
    assert "<script" not in html
    assert html.count("Open in the Stripe Dashboard</a>") == 4
    # Critical, then warning, then not checked; the platform's notices before them all.
    order = [html.index(text) for text in (
        "Platform notices (1)", "Accounts by status", "Critical accounts (2)",
        "Accounts with a warning (2)", "Accounts that could not be checked (1)",
        "Notices (1)")]
    assert order == sorted(order)


@pytest.mark.parametrize(("location", "href"), [
    ("https://balance-guard-reports.s3.ca-central-1.amazonaws.com/reports/2026-08-01/"
     "run.html?X-Amz-Expires=604800&X-Amz-Signature=ab12",
     'href="https://balance-guard-reports.s3.ca-central-1.amazonaws.com/reports/2026-08-01/'
     'run.html?X-Amz-Expires=604800&amp;X-Amz-Signature=ab12"'),
    ("file:///tmp/out/report.html", 'href="file:///tmp/out/report.html"'),
    ("/tmp/out/report.json", 'href="file:///tmp/out/report.json"'),
])
def test_the_report_is_linked_when_it_is_a_link(location: str, href: str) -> None:
    digest = render_digest(run_report(), ("en",), report_location=location)

    assert href in digest.html
    link = location if "://" in location else f"file://{location}"
    assert f"Full report: {link}\n" in digest.text


@pytest.mark.parametrize("location", [
    "javascript:alert(1)", "s3://reports/2026-08-01/run.json", "report.html",
    'https://evil.example/"><script>', "https://a.example/x y", "https:///nohost",
    "//evil.example/report.html",
])
def test_anything_else_is_shown_as_text_never_linked(location: str) -> None:
    digest = render_digest(run_report(), ("en",), report_location=location)

    assert "Full report: <a" not in digest.html
    assert f"Full report: {escape(location)}</p>" in digest.html
    assert "<script" not in digest.html
    assert f"Full report: {location}\n" in digest.text


def test_a_long_list_is_cut_and_says_how_many_more_are_in_the_report() -> None:
    many = [account(f"acct_{i:04d}", name=f"Building {i:04d}",
                    findings=(MIN_NOT_SET,), status="warning") for i in range(203)]
    report = Report(run_id="r", as_of=AS_OF, accounts=many,
                    totals=totals_of(many, stripe_requests=1, duration_s=1.0))

    text = render_digest(report, ("fr",)).text

    assert "Comptes avec un avertissement (203)\n" in text
    assert "- Building 0199 (acct_0199)" in text
    assert "Building 0200" not in text
    assert "… et 3 autres dans le rapport complet.\n" in text


def emailed_between_nights() -> Report:
    """Last night's run, plus a building a re-check emailed twice during the day (and once
    the night before), and a critical one that only had its nightly email."""
    def email(subject: str, *, realtime: bool = False) -> EmailRecord:
        return EmailRecord(to=["gestion@habitations-beaubien.example"], subject=subject,
                           message_id=f"<{len(subject)}@x>", realtime=realtime)

    beaubien = AccountReport(
        account_id="acct_1HbbHabBeaubien01", name="Les Habitations Beaubien", locale="fr",
        status="ok", emails=[
            email("Les Habitations Beaubien\u00a0: un remboursement est en attente",
                  realtime=True),
            email("Les Habitations Beaubien\u00a0: solde négatif", realtime=True),
            email("Les Habitations Beaubien\u00a0: bilan de la nuit")])
    nightly = account("acct_4", name="Harbourview Lofts").model_copy(update={
        "emails": [email("Harbourview Lofts: refund capacity is short")]})
    accounts = [*run_report().accounts, beaubien, nightly]
    return Report(run_id="2026-08-01T06:00:00Z-3f2a", as_of=AS_OF, accounts=accounts,
                  totals=totals_of(accounts, stripe_requests=15, duration_s=2.5))


REALTIME_EN = f"""\
Accounts that could not be checked (1)
- Place Verte (acct_2)
    Stripe did not answer after 3 tries
    Open in the Stripe Dashboard: {DASHBOARD}acct_2

Emails sent in real time (2)
- Les Habitations Beaubien (acct_1HbbHabBeaubien01)
    Les Habitations Beaubien~: un remboursement est en attente
    Les Habitations Beaubien~: solde négatif
    Open in the Stripe Dashboard: {DASHBOARD}acct_1HbbHabBeaubien01

Notices (1)
""".replace("~", "\u00a0")
REALTIME_FR = f"""\
Courriels envoyés en temps réel (2)
- Les Habitations Beaubien (acct_1HbbHabBeaubien01)
    Les Habitations Beaubien~: un remboursement est en attente
    Les Habitations Beaubien~: solde négatif
    Ouvrir dans le tableau de bord Stripe~: {DASHBOARD}acct_1HbbHabBeaubien01

Avis (1)
""".replace("~", "\u00a0")


@pytest.mark.parametrize(("language", "expected"), [("en", REALTIME_EN), ("fr", REALTIME_FR)])
def test_the_digest_lists_the_emails_sent_in_real_time_after_the_accounts_to_act_on(
    language: str, expected: str,
) -> None:
    text = render_digest(emailed_between_nights(), (language,)).text

    assert expected in text
    # The night's own emails are not listed, however critical their building.
    assert "refund capacity is short" not in text
    assert "bilan de la nuit" not in text


def test_the_digest_html_heads_the_real_time_emails_and_escapes_their_subjects() -> None:
    report = emailed_between_nights()
    hostile = report.accounts[-2].model_copy(update={"emails": [EmailRecord(
        to=["a@b.example"], subject="<img src=x onerror=alert(1)>", message_id="<h@x>",
        realtime=True)]})
    report = report.model_copy(update={"accounts": [*report.accounts[:-2], hostile]})

    html = render_digest(report, ("en",)).html

    assert '<h2 style="margin:0 0 6px 0;font-size:16px;color:#0e7090;">Emails sent in real ' \
           'time (1)</h2>' in html
    assert '<br><span style="font-size:14px;">&lt;img src=x onerror=alert(1)&gt;</span>' in html
    assert "<img" not in html
    order = [html.index(text) for text in (
        "Accounts that could not be checked (1)", "Emails sent in real time (1)",
        "Notices (1)")]
    assert order == sorted(order)


def test_a_night_without_real_time_emails_has_no_such_list() -> None:
    digest = render_digest(run_report(), ("en",))

    assert "real time" not in digest.text
    assert "real time" not in digest.html


BOREAL = "Boréal Gestion immobilière support <support@boreal-gestion.example>"


def test_the_support_contact_is_the_reply_to_and_the_footer(
    log: SqliteNotificationLog,
) -> None:
    sender = RecordingSender()
    policy = Policy(support_contact=BOREAL, platform_name="Boréal Gestion immobilière")

    Notifier(sender, log, policy).notify_account(
        account(), account_email="o@example.com", settings=EN, as_of=AS_OF, run_id="r")

    [message] = sender.sent
    assert message["Reply-To"] == BOREAL
    assert message["To"] == "o@example.com"
    text = message.get_body(preferencelist=("plain",))
    assert text is not None
    content = text.get_content()
    assert ("For questions, or to change who receives these emails or their language, write "
            "to Boréal Gestion immobilière support (support@boreal-gestion.example).") in content
    assert "alerts of Boréal Gestion immobilière." in content


def test_without_a_support_contact_there_is_no_reply_to(log: SqliteNotificationLog) -> None:
    sender = RecordingSender()

    Notifier(sender, log, Policy()).notify_account(
        account(), account_email="o@example.com", settings=EN, as_of=AS_OF, run_id="r")
    Notifier(sender, log, Policy()).send_digest(run_report(), "ops@example.com")

    assert [m["Reply-To"] for m in sender.sent] == [None, None]


def test_a_bad_support_contact_fails_at_start_up(log: SqliteNotificationLog) -> None:
    for bad in ("Support <not-an-address>", "support@", "a@b.example, c@d.example"):
        with pytest.raises(ValueError, match="not a support contact"):
            Notifier(RecordingSender(), log, Policy(support_contact=bad))


# -- a run killed, or asked to stop, in the middle of sending ---------------------------------


class Killed(BaseException):
    """The process dying (SIGKILL, a Lambda timeout): nothing after it runs."""


class DiesBeforeRecording(SqliteNotificationLog):
    """A log whose process dies between the send and its record."""

    def record(self, account_id: str, as_of: date, run_id: str,
               emails: Sequence[EmailRecord], findings: Sequence[SentRecord]) -> bool:
        raise Killed


def notify(notifier: Notifier, run_id: str) -> NotifyOutcome:
    return notifier.notify_account(account(), account_email="o@example.com", settings=EN,
                                   as_of=AS_OF, run_id=run_id)


def test_a_run_killed_after_sending_costs_one_duplicate_once_the_lease_lapses(
    tmp_path: Path, clock: Clock, log: SqliteNotificationLog,
) -> None:
    sender = RecordingSender()
    dying = DiesBeforeRecording(tmp_path / "state.sqlite", lease_seconds=LEASE_S, clock=clock)
    with pytest.raises(Killed):
        notify(Notifier(sender, dying, Policy()), "killed-run")
    assert len(sender.sent) == 1

    # Within the lease the claim may belong to a live run still sending: nothing is sent,
    # and the report says why.
    clock.now += LEASE_S - 1
    held = notify(Notifier(sender, log, Policy()), "rerun-1")
    assert held.in_flight
    assert held.emails == []
    assert "another attempt (run killed-run) holds this account's claim" in held.notices[0]
    assert len(sender.sent) == 1

    clock.now += 1
    retried = notify(Notifier(sender, log, Policy()), "rerun-2")
    assert len(retried.sent_now) == 1
    assert any("(run killed-run) stopped before recording this email" in n
               for n in retried.notices)
    assert len(sender.sent) == 2  # one duplicate for the one email in flight, never none
    assert log.status("acct_1", AS_OF).state == "sent"

    clock.now += 10 * LEASE_S
    assert notify(Notifier(sender, log, Policy()), "rerun-3").sent_now == []
    assert len(sender.sent) == 2


def test_a_run_killed_between_claim_and_send_loses_nothing(
    clock: Clock, log: SqliteNotificationLog,
) -> None:
    assert log.claim("acct_1", AS_OF, "killed-run")  # ...and the process died right there
    sender = RecordingSender()

    assert notify(Notifier(sender, log, Policy()), "rerun-1").in_flight
    clock.now += LEASE_S
    assert len(notify(Notifier(sender, log, Policy()), "rerun-2").emails) == 1
    assert len(sender.sent) == 1


def test_a_stopped_run_starts_no_email_and_the_next_run_sends_it(
    log: SqliteNotificationLog,
) -> None:
    sender = RecordingSender()
    stop = StopSignal()
    stop.set("received SIGTERM")

    stopped = notify(Notifier(sender, log, Policy(), stop=stop), "run-1")

    assert stopped.interrupted
    assert stopped.notices == ["run interrupted (received SIGTERM) before this email: not "
                               "sent; the next run sends it"]
    assert sender.sent == []
    assert log.status("acct_1", AS_OF).state == "open"  # nothing claimed, nothing to lapse
    assert len(notify(Notifier(sender, log, Policy()), "run-2").emails) == 1


def test_sigterm_sets_the_stop_signal_and_a_second_one_goes_to_the_old_handler() -> None:
    received: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: received.append(signum))
    try:
        stop = StopSignal()
        with stop.on_signals():
            os.kill(os.getpid(), signal.SIGTERM)
            assert stop.is_set()
            assert stop.reason == "received SIGTERM"
            assert received == []
            os.kill(os.getpid(), signal.SIGTERM)
            assert received == [signal.SIGTERM]
        os.kill(os.getpid(), signal.SIGTERM)
        assert received == [signal.SIGTERM, signal.SIGTERM]
        assert stop.reason == "received SIGTERM"
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_an_interrupted_local_run_sends_no_digest(tmp_path: Path) -> None:
    args = argparse.Namespace(ses=False, outbox=tmp_path / "outbox", report_html=None,
                              report_json=None)
    stop = StopSignal()
    delivery: LocalDelivery = build_notifier(args, Policy(), tmp_path / "state.sqlite",
                                             env={}, stop=stop)
    assert delivery.interrupted is None
    stop.set("received SIGTERM")

    delivery.finish(run_report())

    assert delivery.interrupted == "received SIGTERM"
    assert not (tmp_path / "outbox").exists()


# -- the notify step both shells share --------------------------------------------------------


class ThrottledError(Exception):
    """A failure the Lambda shell hands back to SQS (SES throttling, in the test's words)."""


class ClaimHeldError(Exception):
    """What the Lambda shell raises while another delivery holds the account's claim."""


class Raising:
    """A notifier whose every call fails, as one that cannot be built or reach its log."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def notify_account(self, *args: object, **kwargs: object) -> NotifyOutcome:
        raise self.error


def checked(report: AccountReport | None = None) -> AccountCheck:
    return AccountCheck(report or account(), EN, "owner@example.com", None, None)


def redelivery(attempts: int, final: bool) -> Redelivery:
    return Redelivery(attempts, final, passing=(ThrottledError,), claim_held=ClaimHeldError)


def test_the_notify_step_adds_what_was_sent_to_the_report(
    log: SqliteNotificationLog,
) -> None:
    sender = RecordingSender()

    notified = notify_step(Notifier(sender, log, Policy()), checked(), AS_OF, "run-1")
    again = notify_step(Notifier(sender, log, Policy()), checked(), AS_OF, "run-2",
                        redelivery(2, final=False))

    [email] = notified.report.emails
    assert notified.sent_now == 1
    assert not notified.report.undelivered
    assert again.report.emails == [email]  # a rerun's report still lists tonight's email
    assert again.sent_now == 0
    assert len(sender.sent) == 1


def test_without_a_notifier_the_report_is_left_as_checked() -> None:
    report = account()
    notified = notify_step(None, checked(report), AS_OF, "run-1")
    assert notified.report is report
    assert notified.outcome is None
    assert notified.sent_now == 0


@pytest.mark.parametrize("delivery", [None, redelivery(1, final=False)])
def test_an_error_not_worth_a_redelivery_is_a_notice_and_undelivered(
    delivery: Redelivery | None,
) -> None:
    notified = notify_step(Raising(OSError(28, "No space left on device")), checked(), AS_OF,
                           "run-1", delivery)

    assert notified.report.notices == ["email not sent: OSError"]
    assert notified.report.undelivered
    assert notified.report.findings == account().findings  # the check itself stands
    assert notified.outcome is None


def test_a_passing_error_is_raised_for_a_redelivery_until_the_last_one() -> None:
    throttled = Raising(ThrottledError("SES kept throttling after 3 attempts"))

    with pytest.raises(ThrottledError):
        notify_step(throttled, checked(), AS_OF, "run-1", redelivery(4, final=False))
    last = notify_step(throttled, checked(), AS_OF, "run-1", redelivery(5, final=True))
    local = notify_step(throttled, checked(), AS_OF, "run-1")

    assert last.report.notices == ["email not sent after 5 attempts: SES kept throttling "
                                   "after 3 attempts"]
    assert last.report.undelivered
    assert local.report.notices == ["email not sent: ThrottledError"]  # no SQS to hand it back to


def test_a_claim_held_by_another_delivery_is_raised_until_the_last_one(
    log: SqliteNotificationLog,
) -> None:
    assert log.claim("acct_1", AS_OF, "other-delivery")
    notifier = Notifier(RecordingSender(), log, Policy())

    with pytest.raises(ClaimHeldError, match="another delivery holds this account's email claim"):
        notify_step(notifier, checked(), AS_OF, "run-1", redelivery(1, final=False))
    for delivery in (redelivery(5, final=True), None):
        notified = notify_step(notifier, checked(), AS_OF, "run-1", delivery)
        [notice] = notified.report.notices
        assert "another attempt (run other-delivery) holds this account's claim" in notice
        assert notified.report.emails == []
        assert notified.outcome is not None
        assert notified.outcome.in_flight
