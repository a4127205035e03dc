"""Reserves: what Stripe holds back, and when it comes back (RESERVE_* findings and release dates).

One engine serves two sources, so the nightly check, the `reserve-simulate` command and
the help site's worked examples can never disagree:

- real holds read from Stripe's Reserves API (`reserve.hold`), via `releases_from_holds`;
- projections of reserve terms over a list of transactions, via `project` then
  `releases_from_movements`.

Both end as `Release` rows grouped by currency and release date, which `release_schedule`
turns into payout and arrival dates.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Literal

from balance_guard.domain.findings import Finding, RuleCode
from balance_guard.domain.payout_calendar import (
    DEFAULT_ARRIVAL_BUSINESS_DAYS,
    arrival_date,
    payout_date,
)
from balance_guard.domain.snapshot import PayoutSchedule, ReserveHold


class ReserveTermsError(ValueError):
    """Reserve terms that cannot describe a Stripe reserve; the message says what to fix."""


def _check_percent(percent: Decimal) -> None:
    if not percent.is_finite() or not 0 <= percent <= 100:
        raise ReserveTermsError(f"the reserve percent must be between 0 and 100, got {percent}")


def reserved_part(net: int, percent: Decimal) -> int:
    """The part of a net amount a reserve holds: `percent` of it, rounded down to the minor
    unit, so rounding never holds more than the percent. A net of zero or less (a fee larger
    than the payment) holds nothing.

    >>> reserved_part(19390, Decimal(25))  # 48.475 -> 48.47
    4847
    """
    _check_percent(percent)
    if net <= 0:
        return 0
    return math.floor(Fraction(percent) * net / 100)


def card_fee(gross: int, percent: Decimal = Decimal("2.9"), fixed: int = 30) -> int:
    """Stripe's card fee on a payment: `percent` of it, rounded half up to the minor unit,
    plus `fixed` minor units (US standard pricing: 2.9 % + 30¢, so $100.00 costs $3.20)."""
    if gross < 0:
        raise ValueError(f"a payment amount must not be negative, got {gross}")
    if not percent.is_finite() or percent < 0:
        raise ValueError(f"a fee percent must be zero or more, got {percent}")
    return math.floor(Fraction(percent) * gross / 100 + Fraction(1, 2)) + fixed


@dataclass(frozen=True)
class Transaction:
    """A payment as a reserve sees it: what was charged and Stripe's fee, in minor units."""

    day: date
    gross: int
    fee: int
    currency: str

    @property
    def net(self) -> int:
        return self.gross - self.fee


class ReserveKind(StrEnum):
    FIXED = "fixed"
    ROLLING = "rolling"
    BALANCE_TRANSFER = "balance_transfer"


@dataclass(frozen=True)
class ReserveTerms:
    """What a reserve plan says, as Stripe announces it to the business.

    - fixed: `percent` of each new transaction up to `release_on` (Stripe's
      `release_after`) is held, and all of it is released the next day, because Stripe's
      `scheduled_release` is midnight UTC after `release_after`. Transactions after
      `release_on` are not reserved.
    - rolling: `percent` of each transaction is held for `window_days` days.
    - balance transfer: on `transfer_on`, `percent` of the existing `balance` moves into
      the reserve once, on top of a fixed (`release_on`) or rolling (`window_days`)
      reserve on new transactions; the transferred part is released with the fixed
      release, or `window_days` after the transfer. `currency` is the balance's currency;
      without it, the transactions' single currency.
    """

    kind: ReserveKind
    percent: Decimal
    release_on: date | None = None
    window_days: int | None = None
    transfer_on: date | None = None
    balance: int | None = None
    currency: str | None = None

    def __post_init__(self) -> None:
        _check_percent(self.percent)
        if self.window_days is not None and self.window_days < 1:
            raise ReserveTermsError("the rolling window must be at least one day")
        if self.kind is ReserveKind.FIXED:
            self._require(self.release_on is not None, "a fixed reserve needs a release date")
            self._require(self.window_days is None, "a fixed reserve has no rolling window")
        elif self.kind is ReserveKind.ROLLING:
            self._require(self.window_days is not None, "a rolling reserve needs a window")
            self._require(self.release_on is None, "a rolling reserve has no release date")
        else:
            self._require(self.balance is not None and self.balance >= 0,
                          "a balance transfer needs the balance moved, zero or more")
            self._require(self.transfer_on is not None, "a balance transfer needs its date")
            self._require((self.release_on is None) != (self.window_days is None),
                          "a balance transfer needs either a release date or a window")
            self._require(self.release_on is None or self.transfer_on is None
                          or self.transfer_on <= self.release_on,
                          "the balance transfer must come before the release date")
        if self.kind is not ReserveKind.BALANCE_TRANSFER:
            self._require(self.balance is None and self.transfer_on is None,
                          "only a balance transfer moves an existing balance")

    @staticmethod
    def _require(condition: bool, message: str) -> None:
        if not condition:
            raise ReserveTermsError(message)

    def release_day(self, held_on: date) -> date | None:
        """When funds held from a transaction on `held_on` come back; None: not reserved."""
        if self.release_on is not None:
            return self.release_on + timedelta(days=1) if held_on <= self.release_on else None
        assert self.window_days is not None  # guaranteed by __post_init__
        return held_on + timedelta(days=self.window_days)


@dataclass(frozen=True)
class Movement:
    """Money entering (`hold`) or leaving (`release`) the reserve on a day."""

    day: date
    kind: Literal["hold", "release"]
    amount: int
    currency: str
    source: str  # "transaction", "balance_transfer" or "reserve_hold"


def _balance_currency(terms: ReserveTerms, transactions: Sequence[Transaction]) -> str:
    if terms.currency:
        return terms.currency
    found = {t.currency for t in transactions}
    if len(found) != 1:
        raise ReserveTermsError("say which currency the transferred balance is in")
    return found.pop()


def project(terms: ReserveTerms, transactions: Sequence[Transaction]) -> list[Movement]:
    """Every hold and release the terms cause over the transactions, by day, holds first.

    Each held amount is released exactly once, never before it is held; amounts that round
    down to nothing make no movement.
    """
    movements: list[Movement] = []

    def hold(day: date, amount: int, currency: str, source: str) -> None:
        release = terms.release_day(day)
        if release is None or amount <= 0:
            return
        movements.append(Movement(day, "hold", amount, currency, source))
        movements.append(Movement(release, "release", amount, currency, source))

    if terms.transfer_on is not None and terms.balance is not None:  # a balance transfer
        hold(terms.transfer_on, reserved_part(terms.balance, terms.percent),
             _balance_currency(terms, transactions), "balance_transfer")
    for tx in sorted(transactions, key=lambda t: t.day):
        hold(tx.day, reserved_part(tx.net, terms.percent), tx.currency, "transaction")
    return sorted(movements, key=lambda m: (m.day, m.kind != "hold"))


@dataclass(frozen=True)
class Release:
    """Reserved funds of one currency becoming available on one day."""

    currency: str
    amount: int
    release_date: date


def _grouped(rows: Iterable[tuple[str, date, int]]) -> list[Release]:
    totals: dict[tuple[date, str], int] = defaultdict(int)
    for currency, day, amount in rows:
        totals[(day, currency)] += amount
    return [Release(currency, amount, day) for (day, currency), amount in sorted(totals.items())]


def _utc_date(moment: datetime) -> date:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).date()


def hold_release_date(hold: ReserveHold) -> date | None:
    """When a hold's funds become available: Stripe's `scheduled_release` (a UTC midnight),
    else the day after `release_after`; None when Stripe schedules no release (a manual
    release plan)."""
    if hold.scheduled_release is not None:
        return _utc_date(hold.scheduled_release)
    if hold.release_after is not None:
        return _utc_date(hold.release_after) + timedelta(days=1)
    return None


def _holding(holds: Iterable[ReserveHold]) -> list[ReserveHold]:
    return [h for h in holds if h.held > 0]


def releases_from_holds(holds: Sequence[ReserveHold]) -> list[Release]:
    """Funds still held, grouped by release date then currency. Holds with no scheduled
    release are left out: `unscheduled_holds` totals them."""
    return _grouped(
        (h.currency, day, h.held)
        for h in _holding(holds)
        if (day := hold_release_date(h)) is not None
    )


def unscheduled_holds(holds: Sequence[ReserveHold]) -> dict[str, int]:
    """Per currency, what is held with no release date (Stripe releases it by hand)."""
    totals: dict[str, int] = defaultdict(int)
    for h in _holding(holds):
        if hold_release_date(h) is None:
            totals[h.currency] += h.held
    return dict(sorted(totals.items()))


def releases_from_movements(movements: Iterable[Movement]) -> list[Release]:
    """Projected releases, grouped by release date then currency, like real holds."""
    return _grouped((m.currency, m.day, m.amount) for m in movements if m.kind == "release")


def held_total(holds: Sequence[ReserveHold]) -> dict[str, int]:
    """Per currency, everything still held now."""
    totals: dict[str, int] = defaultdict(int)
    for h in _holding(holds):
        totals[h.currency] += h.held
    return dict(sorted(totals.items()))


def minimum_balance_retains(released: int, minimum: int | None, available: int) -> int:
    """How much of released funds a minimum balance keeps back before any payout: a
    balance below its minimum refills first, so up to `minimum - available`."""
    if minimum is None or available >= minimum:
        return 0
    return min(minimum - max(available, 0), max(released, 0))


def reserve_findings(
    holds: Sequence[ReserveHold] | None,
    as_of: date,
    horizon_days: int,
    minimum_balances: Mapping[str, int | None] | None,
    available: Mapping[str, int],
) -> list[Finding]:
    """RESERVE_HELD and RESERVE_RELEASE_UPCOMING per currency.

    `holds` None means reserves could not be read: no finding, not "no reserves".
    The horizon is the `horizon_days` days after the run date: a release dated `as_of`
    happened at midnight UTC, before the nightly run, so it is not upcoming; one dated
    `as_of + horizon_days` is.
    """
    if holds is None:
        return []
    releases = releases_from_holds(holds)
    unscheduled = unscheduled_holds(holds)
    counts: dict[str, int] = defaultdict(int)
    for h in _holding(holds):
        counts[h.currency] += 1
    horizon_end = as_of + timedelta(days=horizon_days)

    findings: list[Finding] = []
    for currency, total in held_total(holds).items():
        mine = [r for r in releases if r.currency == currency]
        upcoming = [r for r in mine if as_of < r.release_date <= horizon_end]
        next_release = next((r.release_date for r in mine if r.release_date > as_of), None)
        findings.append(Finding.of(
            RuleCode.RESERVE_HELD, currency, total,
            holds=counts[currency],
            next_release_date=next_release.isoformat() if next_release else None,
            no_scheduled_release=unscheduled.get(currency, 0),
        ))
        if not upcoming:
            continue
        released = sum(r.amount for r in upcoming)
        minimum = (minimum_balances or {}).get(currency)
        findings.append(Finding.of(
            RuleCode.RESERVE_RELEASE_UPCOMING, currency, released,
            releases=[{"date": r.release_date.isoformat(), "amount": r.amount}
                      for r in upcoming],
            first_release_date=upcoming[0].release_date.isoformat(),
            horizon_days=horizon_days,
            minimum_balance=minimum,
            minimum_balance_retains=minimum_balance_retains(
                released, minimum, available.get(currency, 0)),
        ))
    return findings


def release_schedule(
    releases: Sequence[Release],
    schedule: PayoutSchedule,
    country: str,
    arrival_days: int = DEFAULT_ARRIVAL_BUSINESS_DAYS,
) -> list[tuple[Release, date | None, date | None]]:
    """Each release with the payout that carries it and that payout's arrival at the bank;
    both None for manual payouts."""
    rows: list[tuple[Release, date | None, date | None]] = []
    for release in releases:
        paid = payout_date(release.release_date, schedule, country)
        arrives = arrival_date(paid, country, arrival_days) if paid is not None else None
        rows.append((release, paid, arrives))
    return rows
