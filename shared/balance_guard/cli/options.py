"""What every sub-command reads from its options: the exit codes, the policy, the run date,
and which Stripe platform to read with which key."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from balance_guard.cli.language import _
from balance_guard.config import checked_api_base, load_policy
from balance_guard.domain.policy import Policy

EXIT_OK, EXIT_ACCOUNT_FAILED, EXIT_USAGE, EXIT_PLATFORM, EXIT_UNDELIVERED = 0, 1, 2, 3, 4
log = logging.getLogger("balance_guard")


class UsageError(Exception):
    """A wrong option, reported as one line with exit code 2."""


@dataclass(frozen=True)
class StripeTarget:
    api_key: str = field(repr=False)
    api_base: str | None


def policy_of(args: argparse.Namespace) -> Policy:
    return load_policy(default_locale=getattr(args, "default_locale", None),
                       docs_base_url=getattr(args, "docs_base_url", None))


def run_date(args: argparse.Namespace, policy: Policy) -> date:
    today = datetime.now(ZoneInfo(policy.timezone)).date()
    if args.as_of is None:
        return today
    if args.as_of > today + timedelta(days=1):
        # A future night would move every account's memory ahead of the real nights.
        raise UsageError(_("--as-of {day} is in the future (today is {today})").format(
            day=args.as_of, today=today))
    return args.as_of  # type: ignore[no-any-return]


def api_key(args: argparse.Namespace) -> str | None:
    """The platform key given by option, file or environment; None when none is given.
    A key given but empty (an unset shell variable) is a usage error, never "no key"."""
    if args.api_key is not None:
        log.warning("--api-key shows the key to anyone who can list processes; "
                    "prefer --api-key-file or STRIPE_API_KEY")
        return _non_empty(args.api_key, _("--api-key is empty (an unset shell variable?)"))
    if args.api_key_file is not None:
        piped = str(args.api_key_file) == "-"
        where = _("standard input") if piped else str(args.api_key_file)
        try:
            text = sys.stdin.read() if piped else args.api_key_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            reason = error.strerror if isinstance(error, OSError) else _("not UTF-8 text")
            raise UsageError(_("--api-key-file {where}: cannot read it ({reason})").format(
                where=where, reason=reason)) from None
        return _non_empty(text, _("--api-key-file {where} holds no key").format(where=where))
    if "STRIPE_API_KEY" in os.environ:
        return _non_empty(os.environ["STRIPE_API_KEY"], _("STRIPE_API_KEY is set but empty"))
    return None


def _non_empty(key: str, problem: str) -> str:
    if not key.strip():
        raise UsageError(problem)
    return key.strip()


@contextmanager
def stripe_target(args: argparse.Namespace, as_of: date) -> Iterator[StripeTarget]:
    """The platform to read: the given key and address, or, when neither is given, the
    built-in sample platform, started here."""
    key = api_key(args)
    base = (args.stripe_api_base or "").strip() or None
    if key:
        yield StripeTarget(key, checked_api_base(base, "--stripe-api-base") if base else None)
        return
    if base is not None:
        raise UsageError(_("--stripe-api-base (or STRIPE_API_BASE) needs a key: give "
                           "--api-key-file or STRIPE_API_KEY"))
    from balance_guard.sandbox.scenario import load_scenario
    from balance_guard.sandbox.server import Sandbox

    scenario = load_scenario(None)
    with Sandbox(scenario, clock=as_of) as sandbox:
        print(_("balance-guard: no Stripe key given: checking the built-in sample platform "
                "({url}), not a real one").format(url=sandbox.base_url), file=sys.stderr)
        yield StripeTarget(scenario.platform.secret_key, sandbox.base_url)
