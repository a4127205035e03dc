"""`balance-guard`: the nightly check, one account's check, rule explanations, the sandbox."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

from balance_guard.cli.language import _
from balance_guard.cli.options import (
    EXIT_ACCOUNT_FAILED,
    EXIT_USAGE,
    UsageError,
)
from balance_guard.config import ConfigError
from balance_guard.domain.policy import Locale

log = logging.getLogger("balance_guard")


def _iso_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            _("not a date (YYYY-MM-DD): {text!r}").format(text=text)) from None


def _positive(kind: type[int] | type[float]) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                _("not a number: {text!r}").format(text=text)) from None
        if value <= 0:
            raise argparse.ArgumentTypeError(_("must be positive: {text!r}").format(text=text))
        return value

    return parse


def _stripe_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help=_("log every step"))
    parser.add_argument("--stripe-api-base", metavar="URL",
                        default=os.environ.get("STRIPE_API_BASE"),
                        help=_("Stripe-compatible API address (default: Stripe itself)"))
    key = parser.add_mutually_exclusive_group()
    key.add_argument("--api-key-file", type=Path, metavar="PATH",
                     help=_("read the platform's secret key from this file ('-': standard "
                            "input); default: $STRIPE_API_KEY; no key and no "
                            "--stripe-api-base: the built-in sample platform"))
    key.add_argument("--api-key", metavar="KEY",
                     help=_("the key itself (shows in the process list: prefer --api-key-file)"))
    parser.add_argument("--as-of", type=_iso_day, metavar="YYYY-MM-DD",
                        help=_("run date (default: today in the platform timezone)"))
    parser.add_argument("--state", type=Path, default=Path(".balance-guard/state.sqlite"))
    parser.add_argument("--max-rps", type=_positive(float), metavar="R",
                        default=os.environ.get("STRIPE_MAX_RPS", "20"),
                        help=_("Stripe requests per second, all workers together (default 20)"))
    parser.add_argument("--default-locale", choices=[x.value for x in Locale])
    parser.add_argument("--docs-base-url", metavar="URL")


def build_parser() -> argparse.ArgumentParser:
    from balance_guard.cli import simulate

    # The module's docstring, said to the reader in their language.
    parser = argparse.ArgumentParser(prog="balance-guard", description=_(
        "`balance-guard`: the nightly check, one account's check, rule explanations, the "
        "sandbox."))
    parser.add_argument("-v", "--verbose", action="store_true")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help=_("check every connected account tonight"))
    _stripe_options(run)
    delivery = run.add_mutually_exclusive_group()
    delivery.add_argument("--outbox", type=Path, default=Path("out/outbox"), metavar="DIR")
    delivery.add_argument("--ses", action="store_true", help=_("send through Amazon SES"))
    run.add_argument("--report-json", type=Path, metavar="FILE")
    run.add_argument("--report-html", type=Path, metavar="FILE")
    run.add_argument("--report-csv", type=Path, metavar="FILE",
                     help=_("one row per account and currency, for a spreadsheet"))
    run.add_argument("--previous-report-json", type=Path, metavar="FILE",
                     help=_("an earlier night's report: --report-html marks what is new since"))
    run.add_argument("--concurrency", type=_positive(int), default=8, metavar="N")
    run.add_argument("--time-limit", type=_positive(float), default=120.0, metavar="MINUTES",
                     help=_("no Stripe request starts after this long; accounts left are "
                            "reported CHECK_FAILED (default 120)"))
    run.add_argument("--account", action="append", default=[], metavar="acct_…",
                     help=_("check only this account (repeatable)"))

    check = commands.add_parser("check", help=_("check one account, without sending email"))
    check.add_argument("account_id", metavar="acct_…")
    _stripe_options(check)
    check.add_argument("--json", action="store_true", help=_("print the report@1 JSON"))

    explain = commands.add_parser("explain", help=_("what a rule code means and what to do"))
    explain.add_argument("code")
    explain.add_argument("--locale", choices=["en", "fr"], default="en")
    explain.add_argument("--docs-base-url", metavar="URL")

    sandbox = commands.add_parser("sandbox", help=_("serve the Stripe-compatible sandbox"))
    sandbox.add_argument("--port", type=int, default=12111)
    sandbox.add_argument("--scenario", type=Path, metavar="FILE")
    sandbox.add_argument("--latency-ms", type=int, default=0)
    sandbox.add_argument("--rate-limit", type=float, metavar="RPS")
    sandbox.add_argument("--fault-rate", type=float, default=0.0, metavar="P")
    from balance_guard.sandbox.faults import DEFAULT_FAULTS, fault_kinds_argument

    sandbox.add_argument("--endpoint-rate-limit", type=_positive(float), metavar="RPS",
                         help=_("limit for each endpoint on its own, beside --rate-limit "
                                "(Stripe's default: 25; default here: none)"))
    sandbox.add_argument("--fault-kinds", type=fault_kinds_argument, default=DEFAULT_FAULTS,
                         metavar="K,K",
                         help=_("what --fault-rate injects, comma separated: 500, 503, drop, "
                                "malformed, lock_timeout (a retryable 429), 429 (a rate "
                                "limit), or all (default: 500,503,drop,malformed)"))
    sandbox.add_argument("--webhook-url", metavar="URL",
                         help=_("post signed Stripe events there when the clock moves "
                                "(e.g. balance-guard listen's http://127.0.0.1:8787/)"))
    sandbox.add_argument("--webhook-secret-file", type=Path, metavar="PATH",
                         help=_("the signing secret for --webhook-url; default: "
                                "$STRIPE_WEBHOOK_SECRET"))

    simulate.add_parser(commands)

    from balance_guard.cli import listen as listen_command

    listen = commands.add_parser("listen", help=_("receive Stripe's webhooks: re-check an "
                                                  "account minutes after it changes"))
    _stripe_options(listen)
    listen_command.add_options(listen)
    return parser


def _listen(args: argparse.Namespace) -> int:
    from balance_guard.cli import listen

    return listen.run(args)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    from balance_guard.stripe.redaction import RedactingFilter

    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactingFilter())
    for noisy in ("stripe", "urllib3", "botocore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from balance_guard.cli import commands

    handlers = {
        "run": commands.run, "check": commands.check, "explain": commands.explain,
        "sandbox": commands.sandbox, "listen": _listen,
    }
    try:
        if args.command == "reserve-simulate":
            from balance_guard.cli import simulate

            return simulate.run(args)
        return handlers[args.command](args)
    except (ConfigError, UsageError) as error:
        print(_("balance-guard: {error}").format(error=error), file=sys.stderr)
        return EXIT_USAGE
    except Exception as error:  # a bug of ours: one line, the traceback only when asked
        if args.verbose:
            raise
        from balance_guard.stripe.redaction import redact

        print(_("balance-guard: internal error: {kind}: {error} (--verbose shows the details)")
              .format(kind=type(error).__name__, error=redact(str(error))[:200]),
              file=sys.stderr)
        return EXIT_ACCOUNT_FAILED


if __name__ == "__main__":
    sys.exit(main())
