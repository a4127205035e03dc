"""Tell each building admin what needs them tonight, and operations how the night went.

The runner (locally) and the `check_account` / `run_digest` Lambdas call `Notifier`; the
policy deciding *whether* to write is `domain/notification.py`, the words are the catalog's
and the templates', and the sending is an `EmailSender` (the outbox or Amazon SES).

An account's email is claimed in the notification log before it is sent and recorded once
sent; a claim left behind by a killed run lapses and is taken over (see
`adapters/notification_log.py`). A `StopSignal` (SIGTERM) lets the email in flight finish
and be recorded, and starts no other.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from types import FrameType

from balance_guard.domain.notification import (
    Notification,
    SentRecord,
    decide,
    decide_realtime,
    merged_history,
)
from balance_guard.domain.policy import AccountSettings, Policy
from balance_guard.notify.digest import render_digest
from balance_guard.notify.recipients import resolve_recipients, shown
from balance_guard.notify.render import (
    RenderedEmail,
    build_message,
    render_account_email,
    reply_to_header,
    sender_header,
)
from balance_guard.notify.send_log import NotificationLog, SendStatus
from balance_guard.notify.sender import EmailSender, RecipientRejectedError, SendError
from balance_guard.report.model import AccountReport, EmailRecord, Report

__all__ = ["EmailSender", "Notifier", "NotifyOutcome", "RecipientRejectedError", "SendError",
           "StopSignal"]

logger = logging.getLogger(__name__)

DEFAULT_SENDER = "Balance Guard <no-reply@balance-guard.local>"
DIGEST_REF = "digest"
REALTIME_REF = "realtime"


def realtime_key(account_id: str, slot: int) -> str:
    """The send log's key (and the email's reference, so its outbox file is its own) of an
    account's `slot`-th real-time email of a run date."""
    return f"{account_id}-{REALTIME_REF}-{slot}"


@dataclass
class NotifyOutcome:
    """What happened for one account: emails sent, notices for operations, and when nothing
    was sent, why (for logs and the CLI).

    `emails` is every email this account got for the run date: the first `earlier` of them
    were sent by an earlier attempt (read from the log), the rest by this call. `in_flight`:
    another attempt holds the claim, and the email may not have gone out yet. `interrupted`:
    an email was due, but the run was asked to stop before it started.
    """

    emails: list[EmailRecord] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    reason: str = ""
    earlier: int = 0
    in_flight: bool = False
    interrupted: bool = False
    # An email was due and did not go out: the operator hears of it (CLI exit code 4).
    failed: bool = False

    @property
    def sent_now(self) -> list[EmailRecord]:
        """The emails this call sent (not those of an earlier attempt)."""
        return self.emails[self.earlier:]


class DigestInFlightError(Exception):
    """The run's digest is claimed by another attempt that has not recorded it as sent."""


class StopSignal:
    """A request to stop sending, from a signal handler (SIGTERM) or any thread.

    The notifier reads it before claiming each account's email: an email already started
    goes on to all its recipients and is recorded, and none starts after it.
    """

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason = ""

    def set(self, reason: str = "interrupted") -> None:
        if not self._event.is_set():
            self.reason = reason
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    @contextmanager
    def on_signals(self, *signums: int) -> Iterator[StopSignal]:
        """Within the block, the first of `signums` (SIGTERM when none is given) sets this
        signal; a second one acts as before the block (SIGTERM: the process ends at once).
        Python runs signal handlers in the main thread only: enter the block there."""
        chosen = signums or (signal.SIGTERM,)
        previous = {signum: signal.getsignal(signum) for signum in chosen}

        def restore(signum: int) -> None:
            handler = previous[signum]
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)

        def handle(signum: int, frame: FrameType | None) -> None:
            self.set(f"received {signal.Signals(signum).name}")
            restore(signum)

        for signum in chosen:
            signal.signal(signum, handle)
        try:
            yield self
        finally:
            for signum in chosen:
                restore(signum)


class Notifier:
    def __init__(
        self,
        sender: EmailSender,
        log: NotificationLog,
        policy: Policy,
        sender_address: str = DEFAULT_SENDER,
        contact: str | None = None,
        stop: StopSignal | None = None,
    ) -> None:
        """`contact` (whom admins write to) defaults to the policy's `support_contact`;
        with an address in it, admins' emails link to it and carry it as Reply-To. Once
        `stop` is set, no account's email starts."""
        sender_header(sender_address)  # a bad SENDER_EMAIL fails at start-up, not mid-run
        self.sender = sender
        self.log = log
        self.policy = policy
        self.sender_address = sender_address
        self.contact = contact if contact is not None else policy.support_contact
        self.reply_to = reply_to_header(self.contact)  # ...and so does a bad SUPPORT_EMAIL
        self.stop = stop

    def notify_account(
        self,
        account: AccountReport,
        *,
        account_email: str | None,
        settings: AccountSettings,
        as_of: date,
        run_id: str,
        country: str | None = None,
    ) -> NotifyOutcome:
        """At most one email for this account and run date, only when something is due;
        one more only when a run died while sending it (its claim is taken over once the
        lease lapses). The outcome lists every email of the date, an earlier attempt's too.

        `country` (the account's, e.g. `CA`) picks the money and date conventions; without
        it each currency is formatted as in its own country. The real-time emails of the
        day before come first in the outcome's emails, as sent earlier.
        """
        outcome = self._notify_night(account, account_email=account_email,
                                     settings=settings, as_of=as_of, run_id=run_id,
                                     country=country)
        if account.status == "error" or account.error is not None:
            return outcome
        earlier = self.realtime_emails(account.account_id, as_of - timedelta(days=1))
        if not earlier:
            return outcome
        return replace(outcome, emails=[*earlier, *outcome.emails],
                       earlier=len(earlier) + outcome.earlier)

    def _notify_night(
        self, account: AccountReport, *, account_email: str | None,
        settings: AccountSettings, as_of: date, run_id: str, country: str | None,
    ) -> NotifyOutcome:
        if account.status == "error" or account.error is not None:
            return NotifyOutcome(reason="not checked: operations hear of it in the digest")
        acct = account.account_id
        status = self.log.status(acct, as_of)
        if status.state in ("sending", "sent"):
            return _claimed_elsewhere(status, [])
        decision = decide(account.findings, self.history(acct), as_of, self.policy,
                          account.reserve_releases)
        if decision is None:
            return NotifyOutcome(reason="nothing new since the last email")
        return self._send_decision(account, decision, acct, status, as_of, run_id, settings,
                                   account_email, country)

    def notify_realtime(
        self,
        account: AccountReport,
        *,
        account_email: str | None,
        settings: AccountSettings,
        as_of: date,
        run_id: str,
        country: str | None = None,
        last_night: date | None = None,
    ) -> NotifyOutcome:
        """A re-check's email, only for a critical finding no email since the last night
        (`last_night`: the account's last nightly run date) carried, and at most
        `policy.realtime_emails_per_day` per account and run date: the same email as the
        night's, recorded under the date's next real-time slot, flagged `realtime`."""
        if account.status == "error" or account.error is not None:
            return NotifyOutcome(reason="not checked: the night tries again")
        acct = account.account_id
        slots = range(1, self.policy.realtime_emails_per_day + 1)
        statuses = [(slot, self.log.status(realtime_key(acct, slot), as_of)) for slot in slots]
        if any(status.state == "sending" for _, status in statuses):
            return NotifyOutcome(reason="another re-check is sending this account's email",
                                 in_flight=True)
        sent_today = sum(status.state == "sent" for _, status in statuses)
        free = next(((slot, status) for slot, status in statuses if status.state != "sent"),
                    None)
        decision = decide_realtime(account.findings, self.history(acct), as_of, self.policy,
                                   sent_today=sent_today, last_night=last_night,
                                   releases=account.reserve_releases)
        if decision is None or free is None:
            why = ("the day's real-time emails are all sent: the night tells the rest"
                   if free is None or sent_today >= self.policy.realtime_emails_per_day
                   else "nothing critical that today's emails did not carry")
            return NotifyOutcome(reason=why)
        slot, status = free
        return self._send_decision(account, decision, realtime_key(acct, slot), status, as_of,
                                   run_id, settings, account_email, country, realtime=True)

    def history(self, account_id: str) -> dict[str, SentRecord]:
        """What was last sent about each finding, by the night's or a real-time email."""
        slots = range(1, self.policy.realtime_emails_per_day + 1)
        return merged_history(self.log.history(account_id),
                              *(self.log.history(realtime_key(account_id, n)) for n in slots))

    def realtime_emails(self, account_id: str, as_of: date) -> list[EmailRecord]:
        """The real-time emails recorded for this account and run date, in slot order."""
        return [email for slot in range(1, self.policy.realtime_emails_per_day + 1)
                for email in self.log.sent_emails(realtime_key(account_id, slot), as_of)]

    def _send_decision(
        self, account: AccountReport, decision: Notification, key: str, status: SendStatus,
        as_of: date, run_id: str, settings: AccountSettings, account_email: str | None,
        country: str | None, *, realtime: bool = False,
    ) -> NotifyOutcome:
        """Render, claim `key` for `as_of` (where `status` stood), send, and record (or
        give the claim back)."""
        recipients = resolve_recipients(settings.emails, account_email,
                                        self.policy.max_recipients)
        notices = list(recipients.notices)
        if not recipients.addresses:
            return NotifyOutcome(notices=notices, reason="no valid recipient")
        rendered = render_account_email(
            account, decision.findings, languages=settings.locale.languages, as_of=as_of,
            docs_base_url=self.policy.docs_base_url, contact=self.contact, country=country,
            platform_name=self.policy.platform_name,
            portal=self.policy.platform_portal_url,
        )
        if self.stop is not None and self.stop.is_set():
            notices.append(f"run interrupted ({self.stop.reason}) before this email: "
                           "not sent; the next run sends it")
            return NotifyOutcome(notices=notices, reason="run interrupted", interrupted=True,
                                 failed=True)
        if not self.log.claim(key, as_of, run_id):
            return _claimed_elsewhere(self.log.status(key, as_of), notices)
        if status.state == "lapsed":
            notices.append(f"an earlier attempt (run {status.run_id}) stopped before recording "
                           "this email: sent again, so it may arrive twice")
        emails: list[EmailRecord] = []
        try:
            self._deliver(rendered, recipients.addresses, key, as_of, emails, notices)
        finally:
            if realtime:
                emails[:] = [email.model_copy(update={"realtime": True}) for email in emails]
            if emails:
                self.log.record(key, as_of, run_id, emails, decision.records)
            else:
                self.log.release(key, as_of, run_id)
        return NotifyOutcome(emails, notices, "" if emails else "no recipient could be reached",
                             failed=not emails)

    def send_digest(
        self, report: Report, ops_email: str | None, report_location: str | None = None,
    ) -> EmailRecord | None:
        """The run's one operations digest; None when no operations address is configured,
        or when this run's digest already went out. Raises SendError when it cannot be
        sent, so that a Lambda retry can try again. `report_location` (e.g. the report's
        S3 URI) is shown in it when given."""
        if not ops_email:
            return None
        recipients = resolve_recipients(ops_email.split(","), None, self.policy.max_recipients)
        if not recipients.addresses:
            logger.warning("OPS_EMAIL holds no valid address; the digest is not sent")
            return None
        rendered = render_digest(report, self.policy.default_locale.languages,
                                 country=self.policy.platform_country,
                                 report_location=report_location)
        message = build_message(rendered, sender=self.sender_address,
                                to=recipients.addresses, ref=DIGEST_REF, as_of=report.as_of)
        key = f"{DIGEST_REF}:{report.run_id}"
        if not self.log.claim(key, report.as_of, report.run_id):
            status = self.log.status(key, report.as_of)
            if status.state == "sending":
                # An attempt that died mid-send holds the claim: not "already sent". Raised,
                # so the invocation fails loudly (and is retried) rather than going quiet.
                until = f" until {status.lease_until:%H:%M:%S} UTC" if status.lease_until else ""
                raise DigestInFlightError(f"the digest of run {report.run_id} is claimed by "
                                          f"another attempt{until}; it is sent once that "
                                          "claim lapses")
            return None
        try:
            message_id = self.sender.send(message)
        except BaseException:
            self.log.release(key, report.as_of, report.run_id)
            raise
        record = EmailRecord(to=list(recipients.addresses), subject=rendered.subject,
                             message_id=message_id)
        self.log.record(key, report.as_of, report.run_id, [record], [])
        return record

    def _deliver(
        self, rendered: RenderedEmail, addresses: Sequence[str], ref: str, as_of: date,
        emails: list[EmailRecord], notices: list[str],
    ) -> None:
        """One message to all of the account's recipients; when the service rejects it,
        one per recipient, so a single bad address does not keep the others uninformed."""
        try:
            emails.append(self._send(rendered, addresses, ref, as_of))
            return
        except RecipientRejectedError as error:
            if len(addresses) == 1:
                notices.append(f"recipient {shown(addresses[0])} rejected: {error}")
                return
        except SendError as error:
            notices.append(f"email not sent: {error}")
            return
        for address in addresses:
            try:
                emails.append(self._send(rendered, [address], ref, as_of))
            except RecipientRejectedError as error:
                notices.append(f"recipient {shown(address)} rejected: {error}")
            except SendError as error:
                notices.append(f"email to {shown(address)} not sent: {error}")

    def _send(
        self, rendered: RenderedEmail, addresses: Sequence[str], ref: str, as_of: date,
    ) -> EmailRecord:
        message = build_message(rendered, sender=self.sender_address, to=addresses, ref=ref,
                                as_of=as_of, sent_at=datetime.now(UTC),
                                reply_to=self.reply_to)
        message_id = self.sender.send(message)
        return EmailRecord(to=list(addresses), subject=rendered.subject, message_id=message_id)


def _claimed_elsewhere(status: SendStatus, notices: list[str]) -> NotifyOutcome:
    """The outcome when another attempt sent this date's email, or holds its claim."""
    if status.state == "sent":
        return NotifyOutcome(list(status.emails), notices, "already notified for this date",
                             earlier=len(status.emails))
    until = f" until {status.lease_until:%H:%M:%S} UTC" if status.lease_until else ""
    notices.append(f"email not confirmed sent: another attempt (run {status.run_id}) holds "
                   f"this account's claim{until}; if it stopped, a run after that sends it")
    return NotifyOutcome(notices=notices, reason="being sent by another attempt",
                         in_flight=True)
