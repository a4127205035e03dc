"""What a person sees in the terminal: a progress bar, then a summary table.

The reader is the operator who ran the check, so it speaks English only, like the logs and
the CLI's errors; it shows no catalog text (rule codes, statuses and figures, formatted by
`report.details`), hence nothing here goes through the gettext catalog. Besides rich, it
imports only the report's model and details and `text.display`.
"""

from __future__ import annotations

import logging
import threading
from types import TracebackType
from typing import TextIO

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress
from rich.table import Table

from balance_guard.report.details import money, readable_details
from balance_guard.report.model import AccountReport, Report, StripeLimits
from balance_guard.text.display import displayable

log = logging.getLogger("balance_guard")

STATUS_STYLE = {"ok": "green", "info": "cyan", "warning": "yellow", "critical": "bold red",
                "error": "magenta"}


class Progress:
    """A live bar on a terminal; one plain log line per account otherwise (CI, cron, files)."""

    def __init__(self, stream: TextIO) -> None:
        self._console = Console(file=stream)
        self._bar: RichProgress | None = None
        self._task: int | None = None
        self._done = 0
        self._lock = threading.Lock()

    def __enter__(self) -> Progress:
        if self._console.is_terminal:
            self._bar = RichProgress(
                TextColumn("checking accounts"), BarColumn(), MofNCompleteColumn(),
                TimeElapsedColumn(), console=self._console, transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task("accounts", total=None)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.stop()

    def account_done(self, account: AccountReport) -> None:
        with self._lock:
            self._done += 1
            if self._bar is not None and self._task is not None:
                self._bar.update(self._task, advance=1)  # type: ignore[arg-type]
            else:
                log.info("checked %s: %s (%d done)", account.account_id, account.status,
                         self._done)


def _money(amount: int | None, currency: str | None) -> str:
    return "" if amount is None or currency is None else money(amount, currency)


def _by_severity(accounts: list[AccountReport]) -> list[AccountReport]:
    order = ["error", "critical", "warning", "info", "ok"]
    return sorted(accounts, key=lambda a: (order.index(a.status), a.name.lower()))


def _worst(account: AccountReport) -> str:
    if not account.findings:
        return ""
    first = account.findings[0]
    return f"{first.code.value} {_money(first.amount, first.currency)}".strip()


def print_summary(report: Report, stream: TextIO, outputs: list[tuple[str, str]]) -> None:
    console = Console(file=stream, width=max(Console(file=stream).width, 120))
    table = Table(title=f"Balance Guard — {report.as_of.isoformat()} — run {escape(report.run_id)}")
    for column in ("account", "building", "status", "findings", "worst finding", "emails"):
        table.add_column(column)
    for account in _by_severity(report.accounts):
        style = STATUS_STYLE.get(account.status, "")
        table.add_row(escape(displayable(account.account_id)), escape(account.name[:40]),
                      f"[{style}]{account.status}[/]", str(len(account.findings)),
                      _worst(account), str(len(account.emails)))
    for notice in report.notices:
        console.print(f"[bold red]platform:[/] {escape(notice)}")
    console.print(table)
    _print_releases(report, console)
    totals = report.totals
    by_status = ", ".join(f"{k} {v}" for k, v in totals.by_status.items())
    per_account = totals.stripe_requests / totals.accounts if totals.accounts else 0.0
    console.print(
        f"{totals.accounts} accounts ({by_status}); {totals.emails_sent} emails; "
        f"{totals.stripe_requests} Stripe requests ({per_account:.1f} per account); "
        f"{totals.duration_s:.1f} s"
    )
    console.print(_limits_line(totals.stripe_limits))
    for label, where in outputs:
        console.print(f"  {label}: {where}")


def _limits_line(limits: StripeLimits) -> str:
    """How the night met Stripe's rate limit, said even when it never did."""
    if limits.max_rps is None:
        line = f"Stripe rate limit: {limits.rate_limited} answers of 429, retried (unpaced run)"
    elif not limits.rate_limited:
        line = f"Stripe rate limit: no 429 at {limits.max_rps:g} requests/s"
    else:
        line = (f"Stripe rate limit: {limits.rate_limited} answers of 429, retried; the pace "
                f"fell to {limits.lowest_rps:g} and settled at {limits.settled_rps:g} "
                f"requests/s (budget {limits.max_rps:g})")
    if limits.accounts_retried:
        line += f"; {limits.accounts_retried} account(s) checked again after a passing error"
    return line


def _print_releases(report: Report, console: Console) -> None:
    """When reserved funds come back, and when they reach each building's bank."""
    rows = [(a, r) for a in report.accounts for r in a.reserve_releases]
    if not rows:
        return
    table = Table(title="Reserve releases ahead")
    for column in ("building", "amount", "released", "paid out", "at the bank"):
        table.add_column(column)
    for account, release in rows:
        table.add_row(escape(account.name[:40]), _money(release.amount, release.currency),
                      release.release_date.isoformat(),
                      release.payout_date.isoformat() if release.payout_date else "manual",
                      release.arrival_date.isoformat() if release.arrival_date else "—")
    console.print(table)


def print_account_table(account: AccountReport, stream: TextIO) -> None:
    console = Console(file=stream, width=max(Console(file=stream).width, 110))
    style = STATUS_STYLE.get(account.status, "")
    console.print(f"{escape(account.name)} ({escape(displayable(account.account_id))}): "
                  f"[{style}]{account.status}[/]")
    if account.error:
        console.print(f"  could not be checked: {escape(account.error)}")
    table = Table("severity", "code", "currency", "amount", "details")
    for finding in account.findings:
        details = "; ".join(f"{k}: {v}" for k, v in readable_details(finding))
        table.add_row(finding.severity.value, finding.code.value,
                      (finding.currency or "").upper(),
                      _money(finding.amount, finding.currency), escape(details))
    console.print(table)
    for release in account.reserve_releases:
        console.print(f"  reserve release {_money(release.amount, release.currency)}: "
                      f"{release.release_date} → payout {release.payout_date or 'manual'} → "
                      f"bank {release.arrival_date or '—'}")
    for notice in account.notices:
        console.print(f"  notice: {escape(notice)}")
