"""How the local run delivers email: the outbox by default, Amazon SES with `--ses`."""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from balance_guard.config import ConfigError
from balance_guard.domain.policy import AccountSettings, Policy
from balance_guard.notify.notifier import DEFAULT_SENDER, Notifier, NotifyOutcome, StopSignal
from balance_guard.notify.outbox import OutboxSender
from balance_guard.notify.send_log import SqliteNotificationLog, claim_lease_seconds
from balance_guard.notify.sender import EmailSender
from balance_guard.report.model import AccountReport, Report

log = logging.getLogger(__name__)

LOCAL_OPS_EMAIL = "operations@platform.example"


@dataclass
class LocalDelivery:
    """The run's notifier, plus the operations digest sent once the run is over."""

    notifier: Notifier
    ops_email: str | None
    report_location: str | None = None

    def notify_account(
        self, account: AccountReport, *, account_email: str | None, settings: AccountSettings,
        as_of: date, run_id: str, country: str | None = None,
    ) -> NotifyOutcome:
        return self.notifier.notify_account(account, account_email=account_email,
                                            settings=settings, as_of=as_of, run_id=run_id,
                                            country=country)

    @property
    def interrupted(self) -> str | None:
        """Why the run was asked to stop (e.g. "received SIGTERM"), or None."""
        stop = self.notifier.stop
        return stop.reason if stop is not None and stop.is_set() else None

    def finish(self, report: Report) -> bool:
        """Send the operations digest, unless the run was interrupted (no email starts after
        that; the next run's digest covers the night). The reports are already written,
        whatever happens. False when a digest was due and did not go out."""
        if self.interrupted is not None:
            log.warning("run interrupted (%s): the operations digest is not sent",
                        self.interrupted)
            return False
        try:
            self.notifier.send_digest(report, self.ops_email, self.report_location)
        except Exception as error:  # a failed digest must not turn a completed run into a crash
            log.error("the operations digest could not be sent: %s", error)
            log.debug("why the digest failed", exc_info=True)
            return False
        return True


def build_notifier(
    args: argparse.Namespace, policy: Policy, state_path: Path,
    env: Mapping[str, str] | None = None, stop: StopSignal | None = None,
) -> LocalDelivery:
    """The run's delivery. Raises ConfigError (a bad SENDER_EMAIL with --ses, or a bad
    BALANCE_GUARD_CLAIM_LEASE_SECONDS); once `stop` is set, no account's email starts."""
    env = os.environ if env is None else env
    sent_log = SqliteNotificationLog(state_path, lease_seconds=claim_lease_seconds(env))
    sender_address = env.get("SENDER_EMAIL") or DEFAULT_SENDER
    if args.ses:
        from balance_guard.notify.ses import SesSender

        if not env.get("SENDER_EMAIL"):
            raise ConfigError("--ses needs SENDER_EMAIL, the verified address to send from")
        sender: EmailSender = SesSender.from_env(env)
        ops = env.get("OPS_EMAIL")
    else:
        sender = OutboxSender(args.outbox)
        ops = env.get("OPS_EMAIL") or LOCAL_OPS_EMAIL
    try:
        notifier = Notifier(sender, sent_log, policy, sender_address=sender_address, stop=stop)
    except ValueError as error:  # the sender or the support contact does not parse
        variable = "SENDER_EMAIL" if "sender" in str(error) else "SUPPORT_EMAIL"
        raise ConfigError(f"{variable}: {error}") from None
    return LocalDelivery(notifier, ops, _location(args))


def _location(args: argparse.Namespace) -> str | None:
    """Where the digest says the full report is: the HTML one if written, else the JSON."""
    path = args.report_html or args.report_json
    return str(Path(path).resolve()) if path else None
