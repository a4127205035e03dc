"""`balance-guard listen`: Stripe's Connect webhooks in, a re-check of the account and,
when it adds something critical, an email out, within seconds of the coalescing window.

Wiring only: the receiver, the replay store, the coalescer and the re-check are
`balance_guard.webhook`'s; the reader, the state, the notifier and the outbox are the
night's (`--state`, `--outbox` / `--ses`, `--max-rps`). The HTTP answer is the receiver's
(verification and enqueue); the re-checks run in one worker thread. SIGTERM or Ctrl-C
stops taking requests, lets an email already started go out and be recorded, starts no
Stripe request or email after that, and leaves the re-checks not done for the night.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from balance_guard.check.state_store import SqliteStateStore, StateStore
from balance_guard.cli.language import _, figure
from balance_guard.cli.options import (
    EXIT_OK,
    EXIT_PLATFORM,
    UsageError,
    policy_of,
    run_date,
    stripe_target,
)
from balance_guard.domain.policy import Policy
from balance_guard.notify.delivery import build_notifier
from balance_guard.notify.notifier import Notifier, StopSignal
from balance_guard.notify.send_log import claim_lease_seconds
from balance_guard.stripe.reader import PlatformError, StripeReader
from balance_guard.stripe.redaction import register_secret
from balance_guard.webhook.coalesce import Coalescer, Pending, coalesce_seconds
from balance_guard.webhook.receiver import Receiver
from balance_guard.webhook.recheck import RecheckResult, StripeAccounts, recheck_account
from balance_guard.webhook.seen import SeenEvents, SqliteSeenEvents
from balance_guard.webhook.server import WebhookServer
from balance_guard.webhook.worker import RecheckWorker

log = logging.getLogger("balance_guard")

SECRET_ENV = "STRIPE_WEBHOOK_SECRET"  # noqa: S105 (the variable's name)
DEFAULT_PORT = 8787
RECHECK_TIME_LIMIT_S = 120.0  # no Stripe request of one re-check starts after this long
STOP_WAIT_S = 30.0  # how long a stop waits for the re-check in flight
_TICK_S = 0.2


def add_options(parser: argparse.ArgumentParser) -> None:
    """`listen`'s own options, beside the Stripe options every checking command has."""
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, metavar="N",
                        help=_("port to receive Stripe's webhooks on, at / (default "
                               "{port}; 0: any free port)").format(port=DEFAULT_PORT))
    parser.add_argument("--host", default="127.0.0.1",
                        help=_("address to bind (default 127.0.0.1: put a TLS proxy or a "
                               "tunnel in front)"))
    parser.add_argument("--webhook-secret-file", type=Path, metavar="PATH",
                        help=_("the endpoint's signing secret (whsec_…); default: "
                               "${variable}").format(variable=SECRET_ENV))
    delivery = parser.add_mutually_exclusive_group()
    delivery.add_argument("--outbox", type=Path, default=Path("out/outbox"), metavar="DIR")
    delivery.add_argument("--ses", action="store_true", help=_("send through Amazon SES"))
    parser.set_defaults(report_html=None, report_json=None)


def webhook_secret(path: Path | None, env: dict[str, str] | None = None) -> str:
    """The signing secret from the file (its trailing newline stripped) or the environment."""
    env = dict(os.environ) if env is None else env
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            reason = error.strerror if isinstance(error, OSError) else _("not UTF-8 text")
            raise UsageError(_("--webhook-secret-file {path}: cannot read it ({reason})")
                             .format(path=path, reason=reason)) from None
        secret, where = text.rstrip("\r\n"), f"--webhook-secret-file {path}"
    elif SECRET_ENV in env:
        secret, where = env[SECRET_ENV], SECRET_ENV
    else:
        raise UsageError(_("the webhook signing secret is needed: --webhook-secret-file "
                           "or {variable}").format(variable=SECRET_ENV))
    if not secret.strip() or secret != secret.strip():
        raise UsageError(_("{where}: no usable signing secret (empty, or spaces around it)")
                         .format(where=where))
    register_secret(secret)
    return secret


class Listener:
    """The receiver on a socket and the worker re-checking behind it, wired to one reader,
    state file and notifier: what `listen` runs, and what tests and the bench start."""

    def __init__(self, *, reader: StripeReader, store: StateStore, seen: SeenEvents,
                 notifier: Notifier | None, policy: Policy, as_of: Callable[[], date],
                 secret: str, window_s: float, port: int = 0, host: str = "127.0.0.1",
                 on_result: Callable[[RecheckResult], None] | None = None) -> None:
        self.reader = reader
        self.coalescer = Coalescer(window_s)
        accounts = StripeAccounts(reader)

        def recheck(pending: Pending) -> RecheckResult:
            reader.set_deadline(RECHECK_TIME_LIMIT_S)
            return recheck_account(pending.account, reader=reader, accounts=accounts,
                                   store=store, notifier=notifier, policy=policy,
                                   as_of=as_of())

        self.worker = RecheckWorker(self.coalescer, recheck, on_result=on_result)
        try:
            self.server = WebhookServer(Receiver(secret, seen, self.coalescer), port, host)
        except OSError as error:
            raise UsageError(_("--port {port}: cannot listen on {host} ({reason})").format(
                port=port, host=host, reason=error.strerror)) from None

    def start(self) -> str:
        self.worker.start()
        return self.server.start()

    def stop(self) -> tuple[bool, int]:
        """Take no more requests, start no Stripe request (an email already started goes
        out); (whether the worker stopped, how many re-checks were left undone)."""
        self.server.stop()
        self.reader.set_deadline(0)
        finished = self.worker.stop(STOP_WAIT_S)
        return finished, len(self.worker.left())


def run(args: argparse.Namespace) -> int:
    policy = policy_of(args)
    secret = webhook_secret(args.webhook_secret_file)
    window = coalesce_seconds()
    claim_lease_seconds()  # a bad lease setting fails before anything starts

    def as_of() -> date:
        return run_date(args, policy)  # today, in the platform's time zone, unless --as-of

    stop = StopSignal()
    try:
        with stripe_target(args, as_of()) as target, stop.on_signals(signal.SIGTERM,
                                                                       signal.SIGINT):
            reader = StripeReader(target.api_key, api_base=target.api_base,
                                  max_rps=args.max_rps)
            reader.platform_account_id()  # a wrong key fails now, not at the first event
            store = SqliteStateStore(args.state)
            seen = SqliteSeenEvents(args.state)
            try:
                notifier = build_notifier(args, policy, args.state, stop=stop).notifier
                listener = Listener(reader=reader, store=store, seen=seen, notifier=notifier,
                                    policy=policy, as_of=as_of, secret=secret, window_s=window,
                                    port=args.port, host=args.host)
                _serve(listener, window, stop)
            finally:
                seen.close()
                store.close()
    except PlatformError as error:
        print(_("balance-guard: {error}").format(error=error), file=sys.stderr)
        return EXIT_PLATFORM
    return EXIT_OK


def _serve(listener: Listener, window: float, stop: StopSignal) -> None:
    url = listener.start()
    print(_("balance-guard: listening for Stripe webhooks on {url} (events of one account "
            "within {window} s make one re-check; Ctrl-C stops)").format(
              url=url, window=figure(window, "g")), file=sys.stderr, flush=True)
    try:
        while not stop.is_set():
            time.sleep(_TICK_S)
    finally:
        finished, left = listener.stop()
        log.info("stopped (%s): %d re-check(s) done, %d left for the night%s",
                 stop.reason or "done", listener.worker.done, left,
                 "" if finished else "; one was still running")
