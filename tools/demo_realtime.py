"""`make demo`'s third step: during the demo's second day a refund gets stuck, Stripe's
webhook reaches `balance-guard listen`, and one real-time email lands in the outbox.

    .venv/bin/python tools/demo_realtime.py --as-of 2026-08-02 --state out/state.sqlite \\
        --outbox out/outbox --work out/realtime [--docs-base-url URL] [--timeout 30]

The scenario, written to `--work` from the packaged sample platform: the sample platform
plus one refund at Les Habitations Beaubien (a building night 2 found nothing wrong with),
pending for lack of funds since 15:40 on 2026-08-02 in Montreal, and one step moving the
sandbox's clock from night 1's day to night 2's a few seconds after it starts. The
sandbox's clock counts whole days, so that step posts every change of day 2: those night
2 already saw (refunds at Les Jardins de Maisonneuve and Sakura Heights, Sakura's payout)
re-check their buildings and email nothing, since nothing critical is new; the stuck
refund is the one new critical finding and makes the one email. The sample file itself is
left alone: the tests pin both of its nights, and a step in it would move the clock of
every sandbox started from it. The derived file is checked to serve night 1's and night
2's worlds unchanged, the new refund aside.

Then `balance-guard sandbox` on that scenario, posting signed events to `balance-guard
listen --as-of` the second night (the nights' state file, outbox and help address; a
coalescing window of `BALANCE_GUARD_COALESCE_SECONDS`, 1 s unless set). Prints one line:
which email arrived and how long after the sandbox's events; exits 1 when none arrived
within `--timeout` seconds, 2 when a step failed (a process that did not start or died).
Whatever happens, both processes are stopped (SIGTERM, then killed after a bounded
wait), a SIGTERM or Ctrl-C to this script included; their logs stay in `--work`.

A developer's tool, not the product: stdlib, the package's scenario loader, PyYAML.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes
from email import policy as email_policy
from importlib import resources
from pathlib import Path
from types import FrameType
from typing import Any

import yaml

from balance_guard.sandbox.scenario import SAMPLE_SCENARIO, load_scenario
from balance_guard.sandbox.world import World

BUILDING = "acct_1HbbHabBeaubien01"  # Les Habitations Beaubien: ok on night 2
CHARGE = "ch_3HbbJul20Apt14Partial0"  # its partial July payment, 25000 refunded so far
# The rest of apartment 14's payment, at 15:40 in Montreal: inside the UTC day a re-check
# dated 2026-08-02 reads to.
REFUND = {
    "id": "re_3HbbAug02Apt14MoveOut0", "amount": 70_000, "currency": "cad",
    "charge": CHARGE, "created": datetime(2026, 8, 2, 19, 40, tzinfo=UTC),
    "status": "pending", "pending_reason": "insufficient_funds",
}
# Long enough for `listen` to be up before the sandbox posts (it starts in about a
# second), short enough not to keep the demo waiting.
STEP_AFTER_S = 4.0
START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 15.0
POLL_S = 0.02
CLOCK_MOVED = re.compile(r"clock (\S+) -> (\S+): (\d+) webhook event")
SANDBOX_URL = re.compile(r"Stripe sandbox at (http://127\.0\.0\.1:\d+)")
LISTENING = re.compile(r"listening for Stripe webhooks on (http://\S+/)")
RECHECKED = re.compile(rf"re-check of {BUILDING} after .*")


class DemoError(Exception):
    """A step that did not happen; the message says which and where the logs are."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def derived_scenario(night: date) -> dict[str, Any]:
    """The sample platform with the stuck refund and the step to `night` revealing it."""
    text = (resources.files("balance_guard.sandbox") / "scenarios" / SAMPLE_SCENARIO).read_text(
        encoding="utf-8")
    raw: dict[str, Any] = yaml.safe_load(text)
    raw["description"] = (f"{raw['description'].strip()} Derived by tools/demo_realtime.py: "
                          f"day 2 as it happens, and a refund stuck for lack of funds.")
    if raw["clock"] + timedelta(days=1) != night:
        raise DemoError(f"{SAMPLE_SCENARIO} starts on {raw['clock']}, not the day before {night}")
    raw["steps"] = [{"after_seconds": STEP_AFTER_S, "clock": night}]
    [building] = [a for a in raw["accounts"] if a["id"] == BUILDING]
    [charge] = [c for c in building["charges"] if c.get("id") == CHARGE]
    charge["amount_refunded"] = 0  # served from its refunds, as each one's day comes
    building["refunds"] = [*building.get("refunds", []), dict(REFUND)]
    return raw


SERVED = ("account", "balance", "balance_settings", "charges", "refunds",
          "balance_transactions", "reserve_holds", "reserve_plans")


def write_scenario(path: Path, night: date) -> None:
    """Write the derived scenario; make sure it serves what both nights saw, but for the
    new refund on `night`."""
    path.write_text(
        "# Written by tools/demo_realtime.py from the sample platform; rewritten each run.\n"
        + yaml.safe_dump(derived_scenario(night), allow_unicode=True, sort_keys=False),
        encoding="utf-8")
    derived, sample = World(load_scenario(path)), World(load_scenario(None))
    for spec in sample.scenario.accounts:
        for day in (night - timedelta(days=1), night):
            before, after = sample.view(spec.id, day), derived.view(spec.id, day)
            changed: tuple[str, ...] = SERVED
            if before is not None and after is not None and (spec.id, day) == (BUILDING, night):
                # The refund itself, and its charge's refunded total and refund list.
                if [r["id"] for r in after.refunds] != [
                        REFUND["id"], *(r["id"] for r in before.refunds)]:
                    raise DemoError(f"{path}: {spec.id} on {day}: not the one new refund")
                changed = tuple(n for n in SERVED if n not in ("refunds", "charges"))
            if before is None or after is None or any(
                    getattr(before, name) != getattr(after, name) for name in changed):
                raise DemoError(f"{path}: {spec.id} on {day} is not what the sample serves")


class Child:
    """A `balance-guard` command in a process of its own, its output in a log file."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.log = name, log
        with log.open("wb") as out:
            # Our own command line (this Python, `-m balance_guard.cli.main`), no shell.
            self.process = subprocess.Popen(command, env=env, stdout=out,  # noqa: S603
                                            stderr=subprocess.STDOUT)

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, pattern: re.Pattern[str], timeout: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while True:
            if (found := pattern.search(self.text())) is not None:
                return found
            if self.process.poll() is not None:
                raise DemoError(f"{self.name} exited ({self.process.returncode}); see {self.log}")
            if time.monotonic() > deadline:
                raise DemoError(f"{self.name}: no {pattern.pattern!r} within {timeout:g} s; "
                                f"see {self.log}")
            time.sleep(POLL_S)

    def stop(self, how: signal.Signals) -> int | None:
        """Ask it to stop, kill it if it does not within the bound; its exit code, None
        when it had to be killed."""
        if self.process.poll() is not None:
            return self.process.returncode
        self.process.send_signal(how)
        try:
            return self.process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(STOP_TIMEOUT_S)
            return None


@contextmanager
def stopped_on_exit(children: list[Child]) -> Iterator[list[Child]]:
    """Stop every child however the block ends; a SIGTERM to this script ends it too."""

    def terminated(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, terminated)
    try:
        yield children
    finally:
        # The listener first: it may be mid-email. SIGTERM for both: `listen` stops cleanly
        # on it, and the sandbox keeps nothing; SIGINT may be ignored (a shell's `&`).
        for child in reversed(children):
            code = child.stop(signal.SIGTERM)
            if code not in (0, -signal.SIGTERM):
                print(f"demo_realtime: {child.name} stopped with {code}; see {child.log}",
                      file=sys.stderr)
        signal.signal(signal.SIGTERM, previous)


def realtime_emails(outbox: Path, night: date) -> set[Path]:
    return set(outbox.glob(f"*-realtime-*_{night.isoformat()}.eml"))


def describe(path: Path) -> str:
    message = message_from_bytes(path.read_bytes(), policy=email_policy.default)
    return f"to {message['To']}: “{message['Subject']}”"


def run(args: argparse.Namespace) -> int:
    work: Path = args.work
    work.mkdir(parents=True, exist_ok=True)
    scenario, secret_file = work / "scenario.yaml", work / "webhook-secret.txt"
    write_scenario(scenario, args.as_of)
    # A throwaway signing secret for this run's two processes on 127.0.0.1.
    secret_file.write_text(f"whsec_demo_{secrets.token_hex(16)}\n", encoding="utf-8")
    secret_file.chmod(0o600)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.setdefault("BALANCE_GUARD_COALESCE_SECONDS", "1")
    for inherited in ("STRIPE_API_KEY", "STRIPE_API_BASE", "STRIPE_WEBHOOK_SECRET"):
        env.pop(inherited, None)
    balance_guard = [sys.executable, "-m", "balance_guard.cli.main"]
    port = _free_port()
    already = realtime_emails(args.outbox, args.as_of)
    with stopped_on_exit([]) as children:
        sandbox = Child("sandbox", [
            *balance_guard, "sandbox", "--port", "0", "--scenario", str(scenario),
            "--webhook-url", f"http://127.0.0.1:{port}/",
            "--webhook-secret-file", str(secret_file)], env, work / "sandbox.log")
        children.append(sandbox)
        api_base = sandbox.wait_for(SANDBOX_URL, START_TIMEOUT_S)[1]
        listen_command = [
            *balance_guard, "listen", "--port", str(port), "--as-of", args.as_of.isoformat(),
            "--stripe-api-base", api_base, "--state", str(args.state),
            "--outbox", str(args.outbox), "--webhook-secret-file", str(secret_file)]
        if args.docs_base_url:
            listen_command += ["--docs-base-url", args.docs_base_url]
        key = load_scenario(scenario).platform.secret_key  # the sandbox's published test key
        listen = Child("listen", listen_command, {**env, "STRIPE_API_KEY": key},
                       work / "listen.log")
        children.append(listen)
        listen.wait_for(LISTENING, START_TIMEOUT_S)
        if CLOCK_MOVED.search(sandbox.text()):
            raise DemoError(f"the sandbox moved its clock before listen was up; raise "
                            f"STEP_AFTER_S ({STEP_AFTER_S:g} s) in {__file__}")
        moved = sandbox.wait_for(CLOCK_MOVED, STEP_AFTER_S + START_TIMEOUT_S)
        event_seen = time.monotonic()
        deadline = event_seen + args.timeout
        while not (arrived := realtime_emails(args.outbox, args.as_of) - already):
            if listen.process.poll() is not None:
                raise DemoError(f"listen exited ({listen.process.returncode}); see {listen.log}")
            if time.monotonic() > deadline:
                rerun = ("; the state file had already received these events: run the "
                         "nights again first (make demo)"
                         if "already received" in listen.text() else "")
                print(f"demo_realtime: no real-time email in {args.outbox} within "
                      f"{args.timeout:g} s of the sandbox's clock move ({moved[0]}); see "
                      f"{listen.log} and {sandbox.log}{rerun}", file=sys.stderr)
                return 1
            time.sleep(POLL_S)
        elapsed = time.monotonic() - event_seen
        listen.wait_for(RECHECKED, START_TIMEOUT_S)
    [email] = sorted(arrived)
    print(f"Real-time email {email} {describe(email)}, {elapsed:.1f} s after the sandbox's "
          f"events ({env['BALANCE_GUARD_COALESCE_SECONDS']} s of it the coalescing window)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--as-of", type=date.fromisoformat, required=True,
                        help="the demo's second night (YYYY-MM-DD)")
    parser.add_argument("--state", type=Path, required=True, help="the nights' state file")
    parser.add_argument("--outbox", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True,
                        help="where the scenario, the signing secret and the logs go")
    parser.add_argument("--docs-base-url")
    parser.add_argument("--timeout", type=float, default=30.0,
                        help="seconds to wait for the email after the event (default 30)")
    args = parser.parse_args(argv)
    try:
        return run(args)
    except DemoError as error:
        print(f"demo_realtime: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
