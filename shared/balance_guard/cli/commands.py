"""What each `balance-guard` sub-command does, once its options are parsed."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from pathlib import Path

from balance_guard.check.runner import RunOptions, missing_accounts, run_night
from balance_guard.check.state_store import SqliteStateStore
from balance_guard.cli.console import Progress, print_account_table, print_summary
from balance_guard.cli.language import _
from balance_guard.cli.options import (
    EXIT_ACCOUNT_FAILED,
    EXIT_OK,
    EXIT_PLATFORM,
    EXIT_UNDELIVERED,
    EXIT_USAGE,
    UsageError,
    policy_of,
    run_date,
    stripe_target,
)
from balance_guard.domain.policy import Policy
from balance_guard.notify.delivery import build_notifier
from balance_guard.notify.notifier import StopSignal
from balance_guard.notify.send_log import claim_lease_seconds
from balance_guard.report.model import Report
from balance_guard.stripe.reader import PlatformError, StripeReader
from balance_guard.stripe.redaction import redact

log = logging.getLogger("balance_guard")


def _write(path: Path | None, text: str, option: str = "") -> bool:
    """Write an output; False, with one line on stderr, when it cannot be written."""
    if path is None:
        return True
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(redact(text), encoding="utf-8")
    except OSError as error:
        print(_("balance-guard: {option} {path}: not written ({reason})").format(
            option=option, path=path, reason=error.strerror), file=sys.stderr)
        return False
    return True


def run(args: argparse.Namespace) -> int:
    policy = policy_of(args)
    as_of = run_date(args, policy)
    options = RunOptions(as_of=as_of, policy=policy, concurrency=args.concurrency,
                         only_accounts=tuple(args.account))
    _check_writable(args)
    previous = _previous_report(args.previous_report_json)
    claim_lease_seconds()  # a bad lease setting fails before anything starts
    stop = StopSignal()
    written = True
    try:
        with stripe_target(args, as_of) as target, stop.on_signals():
            reader = StripeReader(target.api_key, api_base=target.api_base,
                                  max_rps=args.max_rps)
            reader.set_deadline(args.time_limit * 60)
            store = SqliteStateStore(args.state)
            try:
                notifier = build_notifier(args, policy, args.state, stop=stop)
                with Progress(sys.stderr) as progress:
                    report = run_night(reader, store, notifier, options,
                                       progress.account_done, stop=stop)
            finally:
                store.close()
            json_written = _write(args.report_json, report.to_json(), "--report-json")
            html_written = True
            if args.report_html:
                from balance_guard.report.html import render_report_html

                page = render_report_html(report, policy, previous)
                html_written = _write(args.report_html, page, "--report-html")
            csv_written = True
            if args.report_csv:
                from balance_guard.report.csv import report_csv

                csv_written = _write(args.report_csv, report_csv(report), "--report-csv")
            written = json_written and html_written and csv_written
            # The digest links the report written: the HTML one, else the JSON one.
            notifier.report_location = _file_url(
                args.report_html if args.report_html and html_written else
                args.report_json if args.report_json and json_written else None)
            digest_sent = notifier.finish(report)
    except PlatformError as error:
        print(_("balance-guard: {error}").format(error=error), file=sys.stderr)
        return EXIT_PLATFORM
    print_summary(report, sys.stdout, outputs=_outputs(args), country=policy.platform_country)
    unknown = missing_accounts(options, report)
    if unknown:
        raise UsageError(_("no such connected account on this platform: {accounts}").format(
            accounts=", ".join(unknown)))
    return exit_code(report, delivered=written and digest_sent)


def _previous_report(path: Path | None) -> Report | None:
    """An earlier night's report, read before the night starts: a wrong file is one line
    and exit 2, not a report that marks everything new."""
    if path is None:
        return None
    try:
        return Report.model_validate_json(Path(path).read_bytes())
    except OSError as error:
        raise UsageError(_("--previous-report-json {path}: {reason}").format(
            path=path, reason=error.strerror)) from None
    except ValueError:
        raise UsageError(_("--previous-report-json {path}: not a Balance Guard report").format(
            path=path)) from None


def _file_url(path: Path | None) -> str | None:
    return Path(path).resolve().as_uri() if path is not None else None


def exit_code(report: Report, delivered: bool) -> int:
    """3: a platform notice; 1: an account could not be checked; 4: all were checked, but
    some email, the digest or a report did not go out; 0: everything done."""
    if report.notices and not any(n.startswith("run interrupted") for n in report.notices):
        return EXIT_PLATFORM
    if any(account.status == "error" for account in report.accounts):
        return EXIT_ACCOUNT_FAILED
    if not delivered or any(account.undelivered for account in report.accounts):
        return EXIT_UNDELIVERED
    return EXIT_OK


def _check_writable(args: argparse.Namespace) -> None:
    """Where the run will write must be writable before any account is read: a wrong path
    is one line and exit 2, not a traceback after the night's work."""
    targets = [("--report-json", args.report_json), ("--report-html", args.report_html),
               ("--report-csv", args.report_csv)]
    for option, path in targets:
        if path is not None:
            _writable_dir(option, Path(path).parent, path)
    if not args.ses:
        _writable_dir("--outbox", Path(args.outbox), args.outbox)


def _writable_dir(option: str, folder: Path, given: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise UsageError(_("{option} {path}: cannot write there ({reason})").format(
            option=option, path=given, reason=error.strerror)) from None


def _outputs(args: argparse.Namespace) -> list[tuple[str, str]]:
    outputs = [(_("state"), str(args.state))]
    if args.report_json:
        outputs.append((_("report (JSON)"), str(args.report_json)))
    if args.report_html:
        outputs.append((_("report (HTML)"), str(args.report_html)))
    if args.report_csv:
        outputs.append((_("report (CSV)"), str(args.report_csv)))
    outputs.append((_("emails"), "Amazon SES" if args.ses else str(args.outbox)))
    return outputs


def check(args: argparse.Namespace) -> int:
    policy = policy_of(args)
    as_of = run_date(args, policy)
    options = RunOptions(as_of=as_of, policy=policy, concurrency=1,
                         only_accounts=(args.account_id,), save_state=False)
    try:
        with stripe_target(args, as_of) as target:
            reader = StripeReader(target.api_key, api_base=target.api_base,
                                  max_rps=args.max_rps)
            store = SqliteStateStore(args.state)
            try:
                report: Report = run_night(reader, store, None, options)
            finally:
                store.close()
    except PlatformError as error:
        print(_("balance-guard: {error}").format(error=error), file=sys.stderr)
        return EXIT_PLATFORM
    if not report.accounts:
        raise UsageError(_("no such connected account on this platform: {accounts}").format(
            accounts=args.account_id))
    if args.json:
        print(report.to_json())
    else:
        print_account_table(report.accounts[0], sys.stdout, policy.platform_country)
    return EXIT_ACCOUNT_FAILED if report.accounts[0].status == "error" else EXIT_OK


def _docs_base(policy: Policy) -> str:
    """The configured help site; else the copy `make docs` built here, when there is one."""
    local = Path("out/docs").resolve()
    if "DOCS_BASE_URL" not in os.environ and (local / "en" / "rules.html").exists():
        return local.as_uri()
    return policy.docs_base_url


def explain(args: argparse.Namespace) -> int:
    from balance_guard.cli.explain import UnknownRuleError, render_explain

    base = args.docs_base_url or _docs_base(policy_of(args))
    try:
        print(render_explain(args.code, args.locale, base))
    except UnknownRuleError as error:
        print(_("balance-guard: {error}").format(error=error), file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def sandbox(args: argparse.Namespace) -> int:
    from balance_guard.sandbox.server import serve_forever

    webhooks = None
    if args.webhook_url:
        from balance_guard.cli.listen import webhook_secret
        from balance_guard.sandbox.webhooks import WebhookPoster

        try:
            webhooks = WebhookPoster(args.webhook_url, webhook_secret(args.webhook_secret_file))
        except ValueError as error:
            raise UsageError(str(error)) from None
    serve_forever(args.scenario, args.port, args.latency_ms, args.rate_limit, args.fault_rate,
                  endpoint_rate_limit_rps=args.endpoint_rate_limit, fault_kinds=args.fault_kinds,
                  webhooks=webhooks)
    return EXIT_OK
