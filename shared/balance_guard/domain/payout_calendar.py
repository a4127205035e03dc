"""Bank business days, payout dates and arrival dates.

Which holidays close the banks comes from the `holidays` library, never a hand-written
list. The calendar chosen per country is deliberate:

- **US**: the Federal Reserve System's holidays (`holidays.financial_holidays("XFED")`),
  which ACH and Fedwire follow. They differ from the federal public holidays in one way
  that matters for money: a holiday falling on a Saturday is *not* moved to the Friday
  (on Friday 2026-07-03 banks settle; the government is closed). A Sunday holiday moves
  to the Monday.
- **CA**: the national holidays on which Canadian clearing does not settle, which are the
  federal statutory holidays: `holidays.country_holidays("CA", categories=(PUBLIC,
  GOVERNMENT))` gives New Year's Day, Good Friday, Victoria Day, Canada Day, Labour Day,
  the National Day for Truth and Reconciliation, Thanksgiving, Remembrance Day, Christmas
  and Boxing Day, with their observed Mondays. The library's default category (PUBLIC)
  has only five of them and would miss Thanksgiving and Remembrance Day. Provincial
  holidays (Family Day, Civic Holiday, Saint-Jean-Baptiste) are left out: payouts still
  settle nationally on those days.
- **Any other country the library knows**: its default (public) holidays.
- **A country it does not know**: weekends only; `has_holiday_calendar` lets a caller
  report that the dates are estimates without the country's holidays.

Weekends are the library's weekend for the country (Saturday and Sunday for US and CA).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from types import MappingProxyType
from typing import Any

import holidays

from balance_guard.domain.snapshot import Interval, PayoutSchedule

DEFAULT_ARRIVAL_BUSINESS_DAYS = 2  # Stripe's standard payout speed in its US reserve example
DEFAULT_WEEKLY_DAY = "monday"  # Stripe's default `weekly_anchor`
DEFAULT_MONTHLY_DAY = 1  # what a monthly schedule without listed days pays out on

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

# A scheduled payout day that falls on a bank holiday moves to the next business day, so a
# payout scheduled a little *before* a release can still be the first one after it. No run
# of closed bank days is this long.
_SHIFT_LOOKBACK_DAYS = 14


def _normalize_country(country: str) -> str:
    return country.strip().upper()


def _library_calendar(country: str, year: int) -> Any:
    if country == "US":
        return holidays.financial_holidays("XFED", years=year)
    if country == "CA":
        return holidays.country_holidays(
            "CA", years=year, categories=(holidays.PUBLIC, holidays.GOVERNMENT)
        )
    return holidays.country_holidays(country, years=year)


@lru_cache(maxsize=512)
def _year_table(country: str, year: int) -> tuple[Mapping[date, str], frozenset[int]]:
    """Holidays and weekend weekdays of one country for one year, immutable once built."""
    try:
        calendar = _library_calendar(country, year)
    except NotImplementedError:
        return MappingProxyType({}), frozenset({5, 6})
    table = {day: str(name) for day, name in calendar.items()}
    weekend = frozenset(int(d) for d in getattr(calendar, "weekend", {5, 6}))
    return MappingProxyType(table), weekend


@lru_cache(maxsize=256)
def has_holiday_calendar(country: str) -> bool:
    """Whether the holidays library knows this country's holidays (else: weekends only)."""
    code = _normalize_country(country)
    return code in {"US", "CA"} or code in holidays.list_supported_countries()


@dataclass(frozen=True)
class BusinessDays:
    """The bank business days of one country: neither a weekend nor a bank holiday."""

    country: str

    def holidays(self, year: int) -> Mapping[date, str]:
        """Bank holidays of the year, date to the library's (English) name."""
        return _year_table(self.country, year)[0]

    def holiday_name(self, day: date) -> str | None:
        return self.holidays(day.year).get(day)

    def is_business_day(self, day: date) -> bool:
        table, weekend = _year_table(self.country, day.year)
        return day.weekday() not in weekend and day not in table

    def on_or_after(self, day: date) -> date:
        """The day itself when banks are open, else the next business day."""
        while not self.is_business_day(day):
            day += timedelta(days=1)
        return day

    def add(self, day: date, n: int) -> date:
        """Move `n` business days forward (backward when negative); 0 returns `day` as is."""
        step = timedelta(days=1 if n >= 0 else -1)
        remaining = abs(n)
        while remaining:
            day += step
            if self.is_business_day(day):
                remaining -= 1
        return day


def business_days(country: str) -> BusinessDays:
    """The business-day calendar of a country (ISO 3166 code, any case), as chosen above."""
    return BusinessDays(_normalize_country(country))


def is_business_day(day: date, country: str) -> bool:
    return business_days(country).is_business_day(day)


def add_business_days(day: date, n: int, country: str) -> date:
    return business_days(country).add(day, n)


def _last_day_of_month(year: int, month: int) -> int:
    next_month = date(year + month // 12, month % 12 + 1, 1)
    return (next_month - timedelta(days=1)).day


def _weekly_days(schedule: PayoutSchedule) -> frozenset[int]:
    listed = schedule.weekly_payout_days or (DEFAULT_WEEKLY_DAY,)
    return frozenset(WEEKDAYS.index(name) for name in listed)


def _monthly_days(schedule: PayoutSchedule) -> tuple[int, ...]:
    listed = tuple(d for d in schedule.monthly_payout_days if 1 <= d <= 31)
    return listed or (DEFAULT_MONTHLY_DAY,)


def scheduled_days(start: date, schedule: PayoutSchedule) -> Iterator[date]:
    """Days the schedule creates payouts on, from `start` on, in order, before any shift for
    holidays. Monthly days past the month's end are clamped to its last day (31 -> Feb 28
    or 29, Apr 30), as Stripe does. Manual schedules have none."""
    if schedule.interval is Interval.MANUAL:
        return
    weekly = _weekly_days(schedule)
    monthly = _monthly_days(schedule)
    day = start
    while True:
        if schedule.interval is Interval.DAILY:
            yield day
        elif schedule.interval is Interval.WEEKLY:
            if day.weekday() in weekly:
                yield day
        else:
            last = _last_day_of_month(day.year, day.month)
            if day.day in {min(d, last) for d in monthly}:
                yield day
        day += timedelta(days=1)


def payout_date(release_date: date, schedule: PayoutSchedule, country: str) -> date | None:
    """The first payout that can carry funds released on `release_date`; None when manual.

    A scheduled day that is not a business day pays out on the next business day (Stripe
    does not send payouts on weekends or bank holidays), so the answer is the earliest
    business-day-adjusted scheduled day on or after the release date. Daily schedules pay
    out every business day: the release date itself when banks are open.
    """
    if schedule.interval is Interval.MANUAL:
        return None
    calendar = business_days(country)
    start = release_date - timedelta(days=_SHIFT_LOOKBACK_DAYS)
    shifted = (calendar.on_or_after(day) for day in scheduled_days(start, schedule))
    return next(paid for paid in shifted if paid >= release_date)


def arrival_business_days(
    country: str,
    default: int = DEFAULT_ARRIVAL_BUSINESS_DAYS,
    overrides: Mapping[str, int] | None = None,
) -> int:
    """Standard payout speed for a country: the override for it when given, else `default`."""
    if overrides:
        code = _normalize_country(country)
        for key, days in overrides.items():
            if _normalize_country(key) == code:
                return days
    return default


def arrival_date(
    payout_date: date,
    country: str,
    business_days: int = DEFAULT_ARRIVAL_BUSINESS_DAYS,
    overrides: Mapping[str, int] | None = None,
) -> date:
    """When a payout reaches the bank: `business_days` bank business days after it is sent
    (or the country's entry in `overrides`), skipping weekends and bank holidays."""
    days = arrival_business_days(country, business_days, overrides)
    if days < 0:
        raise ValueError(f"arrival time must not be negative, got {days} business days")
    return add_business_days(payout_date, days, country)
