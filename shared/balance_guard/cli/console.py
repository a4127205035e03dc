"""What a person sees in the terminal: a progress bar, then a summary table.

The reader is the operator who ran the check: the headers and summary lines are in the
CLI's language (`cli.language`, from the gettext catalog); rule codes and statuses stay the
codes the logs and the JSON report write, and the figures are formatted by `report.details`.
Besides rich, it imports only the report's model and details, `cli.language` and `text`
(`display`, `i18n`, `typography`).
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
from rich.text import Text

from balance_guard.cli.language import _, cli_language, figure
from balance_guard.report.details import HOME_COUNTRY, money, readable_details
from balance_guard.report.model import AccountReport, Report, StripeLimits
from balance_guard.text.display import displayable
from balance_guard.text.i18n import gettext
from balance_guard.text.typography import colon

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
                TextColumn(escape(_("checking accounts"))), BarColumn(), MofNCompleteColumn(),
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


def _money(amount: int | None, currency: str | None, country: str) -> str:
    """Money as the platform's home market reads it (`US$` for USD on a Canadian one)."""
    return "" if amount is None or currency is None else money(amount, currency, country)


def _by_severity(accounts: list[AccountReport]) -> list[AccountReport]:
    order = ["error", "critical", "warning", "info", "ok"]
    return sorted(accounts, key=lambda a: (order.index(a.status), a.name.lower()))


def _worst(account: AccountReport, country: str) -> str:
    if not account.findings:
        return ""
    first = account.findings[0]
    return f"{first.code.value} {_money(first.amount, first.currency, country)}".strip()


def print_summary(report: Report, stream: TextIO, outputs: list[tuple[str, str]],
                  country: str = HOME_COUNTRY) -> None:
    """The night at a glance; `country` is the platform's (`Policy.platform_country`)."""
    language = cli_language()
    console = Console(file=stream, width=max(Console(file=stream).width, 120))
    table = Table(title=escape(_("Balance Guard — {day} — run {run_id}").format(
        day=report.as_of.isoformat(), run_id=report.run_id)))
    for column in (_("account"), _("building"), _("status"), _("findings"),
                   _("worst finding"), _("emails")):
        table.add_column(escape(column))
    for account in _by_severity(report.accounts):
        style = STATUS_STYLE.get(account.status, "")
        table.add_row(escape(displayable(account.account_id)), escape(account.name[:40]),
                      f"[{style}]{account.status}[/]", str(len(account.findings)),
                      _worst(account, country), str(len(account.emails)))
    for notice in report.notices:
        console.print(Text.assemble((_("platform:"), "bold red"), " ", notice))
    console.print(table)
    _print_releases(report, console, country)
    totals = report.totals
    by_status = ", ".join(f"{k} {v}" for k, v in totals.by_status.items())
    per_account = totals.stripe_requests / totals.accounts if totals.accounts else 0.0
    console.print(escape(_(
        "{accounts} accounts ({by_status}); {emails} emails; {requests} Stripe requests "
        "({per_account} per account); {seconds} s").format(
            accounts=totals.accounts, by_status=by_status, emails=totals.emails_sent,
            requests=totals.stripe_requests,
            per_account=figure(per_account, ".1f", language),
            seconds=figure(totals.duration_s, ".1f", language))))
    console.print(escape(_limits_line(totals.stripe_limits, language)))
    for label, where in outputs:
        console.print(f"  {escape(label)}{colon(language)}{escape(where)}")


def _limits_line(limits: StripeLimits, language: str) -> str:
    """How the night met Stripe's rate limit, said even when it never did."""
    def rps(value: float | None) -> str:
        return figure(value or 0.0, "g", language)

    if limits.max_rps is None:
        line = gettext("Stripe rate limit: {count} answers of 429, retried (unpaced run)",
                       language).format(count=limits.rate_limited)
    elif not limits.rate_limited:
        line = gettext("Stripe rate limit: no 429 at {max_rps} requests/s", language).format(
            max_rps=rps(limits.max_rps))
    else:
        line = gettext("Stripe rate limit: {count} answers of 429, retried; the pace fell "
                       "to {lowest} and settled at {settled} requests/s (budget {max_rps})",
                       language).format(
            count=limits.rate_limited, lowest=rps(limits.lowest_rps),
            settled=rps(limits.settled_rps), max_rps=rps(limits.max_rps))
    if limits.accounts_retried:
        line += gettext("; {count} account(s) checked again after a passing error",
                        language).format(count=limits.accounts_retried)
    return line


def _print_releases(report: Report, console: Console, country: str) -> None:
    """When reserved funds come back, and when they reach each building's bank."""
    rows = [(a, r) for a in report.accounts for r in a.reserve_releases]
    if not rows:
        return
    table = Table(title=escape(_("Reserve releases ahead")))
    for column in (_("building"), _("amount"), _("released"), _("paid out"),
                   _("at the bank")):
        table.add_column(escape(column))
    for account, release in rows:
        table.add_row(escape(account.name[:40]),
                      _money(release.amount, release.currency, country),
                      release.release_date.isoformat(),
                      release.payout_date.isoformat() if release.payout_date
                      else escape(_("manual")),
                      release.arrival_date.isoformat() if release.arrival_date else "—")
    console.print(table)


def print_account_table(account: AccountReport, stream: TextIO,
                        country: str = HOME_COUNTRY) -> None:
    language = cli_language()
    console = Console(file=stream, width=max(Console(file=stream).width, 110))
    style = STATUS_STYLE.get(account.status, "")
    console.print(f"{escape(account.name)} ({escape(displayable(account.account_id))})"
                  f"{colon(language)}[{style}]{account.status}[/]")
    if account.error:
        console.print(escape(_("  could not be checked: {error}").format(error=account.error)))
    table = Table(*(escape(column) for column in (
        _("severity"), _("code"), _("currency"), _("amount"), _("details"))))
    for finding in account.findings:
        details = "; ".join(f"{k}: {v}" for k, v in readable_details(finding, country))
        table.add_row(finding.severity.value, finding.code.value,
                      (finding.currency or "").upper(),
                      _money(finding.amount, finding.currency, country), escape(details))
    console.print(table)
    for release in account.reserve_releases:
        amount = _money(release.amount, release.currency, country)
        arrival = release.arrival_date or "—"
        if release.payout_date:
            line = _("  reserve release {amount}: {release} → payout {payout} → bank "
                     "{arrival}").format(amount=amount, release=release.release_date,
                                         payout=release.payout_date, arrival=arrival)
        else:
            line = _("  reserve release {amount}: {release} → payout manual → bank "
                     "{arrival}").format(amount=amount, release=release.release_date,
                                         arrival=arrival)
        console.print(escape(line))
    for notice in account.notices:
        console.print(escape(_("  notice: {notice}").format(notice=notice)))
