"""When a building admin gets an email, and what it lists. Pure: no clock, no I/O.

The email is worth sending when something in it needs the reader today:

- a critical finding, again every day while it lasts;
- a warning that is new, whose cause changed, or that was last sent
  `policy.warning_reminder_days` or more days ago;
- a reserve release date not announced before (`RESERVE_RELEASE_UPCOMING`);
- a new drop of the prefunding balance (`PREFUND_USED`): the rule compares with the
  previous check, so each run date it fires on is a drop of its own.

When one of these is due, the email lists every finding of the night, worst first (and
within a severity, what is due first), so the reader sees the whole picture; every finding
it lists counts as sent that day (a warning shown with a daily critical needs no separate
reminder). Otherwise nothing is sent.

A warning that goes away and comes back within the reminder period is not announced again
as new: a figure hovering around a threshold must not send an email every other night.

Between nights, a re-check (a Stripe webhook said the account changed) emails only to add,
never to repeat (`decide_realtime`): a critical finding that no email since the last night
carried (a refund that just got stuck, a balance that just went negative), at most
`policy.realtime_emails_per_day` times per account and run date; everything else waits
for the night.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Protocol

from balance_guard.domain.findings import (
    Finding,
    RuleCode,
    Severity,
    detail_date,
    most_severe_first,
)
from balance_guard.domain.policy import Policy

# Admins cannot act on a failed check; operations hear of it in the run's digest.
NOT_FOR_ADMINS = frozenset({RuleCode.CHECK_FAILED})


class Reason(StrEnum):
    """Why a finding makes tonight's email worth sending."""

    CRITICAL = "critical"
    NEW = "new"
    CHANGED = "changed"
    REMINDER = "reminder"
    NEW_RELEASE_DATE = "new_release_date"
    NEW_PREFUND_DROP = "new_prefund_drop"


@dataclass(frozen=True)
class SentRecord:
    """What was last sent about one finding identity (see `finding_keys`)."""

    key: str
    last_sent: date
    fingerprint: str = ""


@dataclass(frozen=True)
class Notification:
    """The email to send tonight: what it lists, why it is due, what to remember once sent."""

    findings: tuple[Finding, ...]  # worst first
    due: tuple[tuple[Finding, Reason], ...]
    records: tuple[SentRecord, ...]

    @property
    def worst(self) -> Finding:
        return self.findings[0]


class Release(Protocol):
    """A scheduled reserve release (e.g. `report.ReserveRelease`)."""

    @property
    def currency(self) -> str: ...

    @property
    def release_date(self) -> date: ...


def finding_keys(
    finding: Finding, as_of: date, releases: Sequence[Release] = (),
) -> tuple[str, ...]:
    """The identities a finding seen on run date `as_of` is remembered by once sent.

    Most findings are one rule in one currency. A reserve release is one key per release
    date it announces. A prefunding drop is keyed by the run date it was seen on: the rule
    fires only when the level fell since the previous check, so every run date it fires on
    is a new drop, even one of the same size as an earlier drop after a refill (50 000 ->
    30 000, refilled, 50 000 -> 30 000 again). Keying by its levels would hide that second
    drop. A second run of the same date finds its key already sent (and is refused earlier
    by the per-(account, as_of) claim of the notification log).
    """
    base = f"{finding.code.value}:{finding.currency or '-'}"
    if finding.code is RuleCode.RESERVE_RELEASE_UPCOMING:
        days = release_dates(finding, releases)
        return tuple(f"{base}:{day.isoformat()}" for day in days) or (base,)
    if finding.code is RuleCode.PREFUND_USED:
        return (f"{base}:{as_of.isoformat()}",)
    return (base,)


def fingerprint(finding: Finding) -> str:
    """What makes a finding "changed" for the reader: its cause, when it has one."""
    cause = finding.details.get("cause")
    return str(cause) if cause is not None else ""


def release_dates(finding: Finding, releases: Sequence[Release] = ()) -> tuple[date, ...]:
    """Release dates a `RESERVE_RELEASE_UPCOMING` finding announces, earliest first: from
    its `releases` details, else its `first_release_date`, else the account's releases."""
    found: set[date] = set()
    rows = finding.details.get("releases")
    for row in rows if isinstance(rows, list) else []:
        day = detail_date(row.get("date")) if isinstance(row, dict) else None
        if day is not None:
            found.add(day)
    if not found and (first := detail_date(finding.details.get("first_release_date"))) is not None:
        found.add(first)
    if not found:
        found.update(r.release_date for r in releases if r.currency == finding.currency)
    return tuple(sorted(found))


def decide(
    findings: Iterable[Finding],
    history: Mapping[str, SentRecord],
    as_of: date,
    policy: Policy,
    releases: Sequence[Release] = (),
) -> Notification | None:
    """Tonight's email for one account, or None when nothing in it is due."""
    listed = most_severe_first([f for f in findings if f.code not in NOT_FOR_ADMINS])
    due: list[tuple[Finding, Reason]] = []
    for finding in listed:
        reason = _reason(finding, history, as_of, policy, releases)
        if reason is not None:
            due.append((finding, reason))
    return _notification(listed, due, as_of, releases)



def _notification(
    listed: Sequence[Finding], due: list[tuple[Finding, Reason]], as_of: date,
    releases: Sequence[Release],
) -> Notification | None:
    """The email for `listed` when something in it is `due`, with what it will have sent."""
    if not due:
        return None
    # Within one severity, what made the email worth sending comes first (and in the subject).
    news = {id(f) for f, _ in due}
    ordered = sorted(listed, key=lambda f: (-f.severity.rank, id(f) not in news))
    records = tuple(
        SentRecord(key=key, last_sent=as_of, fingerprint=fingerprint(finding))
        for finding in ordered
        for key in finding_keys(finding, as_of, releases)
    )
    return Notification(findings=tuple(ordered), due=tuple(due), records=records)

def _reason(
    finding: Finding,
    history: Mapping[str, SentRecord],
    as_of: date,
    policy: Policy,
    releases: Sequence[Release],
) -> Reason | None:
    keys = finding_keys(finding, as_of, releases)
    if finding.severity is Severity.CRITICAL:
        return Reason.CRITICAL
    if finding.code is RuleCode.RESERVE_RELEASE_UPCOMING:
        return Reason.NEW_RELEASE_DATE if any(k not in history for k in keys) else None
    if finding.code is RuleCode.PREFUND_USED:
        return Reason.NEW_PREFUND_DROP if any(k not in history for k in keys) else None
    if finding.severity is not Severity.WARNING:
        return None
    sent = history.get(keys[0])
    if sent is None:
        return Reason.NEW
    if sent.fingerprint != fingerprint(finding):
        return Reason.CHANGED
    if (as_of - sent.last_sent).days >= policy.warning_reminder_days:
        return Reason.REMINDER
    return None


def decide_realtime(
    findings: Iterable[Finding],
    history: Mapping[str, SentRecord],
    as_of: date,
    policy: Policy,
    *,
    sent_today: int,
    last_night: date | None = None,
    releases: Sequence[Release] = (),
) -> Notification | None:
    """A re-check's email for one account on run date `as_of`, or None.

    Due only for a critical finding that no email since the last night carried: one whose
    keys were all last sent before `last_night` (the run date of the account's last nightly
    check; `as_of` when unknown or later). A critical finding present at that night was in
    its email, since criticals are due every night; one absent then, or absent from every
    email since, is news. `sent_today`: the real-time emails already sent to the account
    for `as_of`; none once it reaches `policy.realtime_emails_per_day`. The email lists
    every finding, like the night's, and each counts as sent on `as_of`.
    """
    if sent_today >= policy.realtime_emails_per_day:
        return None
    since = as_of if last_night is None or last_night > as_of else last_night
    listed = most_severe_first([f for f in findings if f.code not in NOT_FOR_ADMINS])
    due = [
        (finding, Reason.CRITICAL)
        for finding in listed
        if finding.severity is Severity.CRITICAL
        and not _carried_since(finding, history, since, as_of, releases)
    ]
    return _notification(listed, due, as_of, releases)


def _carried_since(
    finding: Finding,
    history: Mapping[str, SentRecord],
    since: date,
    as_of: date,
    releases: Sequence[Release],
) -> bool:
    sent = [history.get(key) for key in finding_keys(finding, as_of, releases)]
    return all(record is not None and record.last_sent >= since for record in sent)


def merged_history(*histories: Mapping[str, SentRecord]) -> dict[str, SentRecord]:
    """Several histories as one: per key, the record sent last (the night's and the
    real-time emails' are kept apart in the send log)."""
    merged: dict[str, SentRecord] = {}
    for history in histories:
        for key, record in history.items():
            known = merged.get(key)
            if known is None or record.last_sent >= known.last_sent:
                merged[key] = record
    return merged
