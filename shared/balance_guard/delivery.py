"""How the local run delivers email: the outbox by default, Amazon SES with `--ses`."""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from balance_guard.adapters.notification_log import SqliteNotificationLog
from balance_guard.adapters.outbox import OutboxSender
from balance_guard.config import ConfigError
from balance_guard.domain.policy import AccountSettings, Policy
from balance_guard.notify import DEFAULT_SENDER, Notifier, NotifyOutcome
from balance_guard.report import AccountReport, Report

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

    def finish(self, report: Report) -> None:
        """Send the operations digest; the reports are already written, whatever happens."""
        try:
            self.notifier.send_digest(report, self.ops_email, self.report_location)
        except Exception:  # the digest failing must not turn a completed run into a crash
            log.exception("the operations digest could not be sent")


def build_notifier(
    args: argparse.Namespace, policy: Policy, state_path: Path,
    env: Mapping[str, str] | None = None,
) -> LocalDelivery:
    env = os.environ if env is None else env
    sent_log = SqliteNotificationLog(state_path)
    if args.ses:
        from balance_guard.adapters.ses import SesSender

        sender_address = env.get("SENDER_EMAIL")
        if not sender_address:
            raise ConfigError("--ses needs SENDER_EMAIL, the verified address to send from")
        notifier = Notifier(SesSender.from_env(env), sent_log, policy,
                            sender_address=sender_address)
        return LocalDelivery(notifier, env.get("OPS_EMAIL"), _location(args))
    notifier = Notifier(OutboxSender(args.outbox), sent_log, policy,
                        sender_address=env.get("SENDER_EMAIL") or DEFAULT_SENDER)
    return LocalDelivery(notifier, env.get("OPS_EMAIL") or LOCAL_OPS_EMAIL, _location(args))


def _location(args: argparse.Namespace) -> str | None:
    """Where the digest says the full report is: the HTML one if written, else the JSON."""
    path = args.report_html or args.report_json
    return str(Path(path).resolve()) if path else None
