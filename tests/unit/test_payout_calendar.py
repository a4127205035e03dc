"""Bank business days, payout dates and arrival dates, for US and Canadian banks."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import islice

import pytest
from hypothesis import given
from hypothesis import strategies as st

from balance_guard.domain.payout_calendar import (
    WEEKDAYS,
    _year_table,
    add_business_days,
    arrival_business_days,
    arrival_date,
    business_days,
    has_holiday_calendar,
    is_business_day,
    payout_date,
    scheduled_days,
)
from balance_guard.domain.snapshot import Interval, PayoutSchedule

DAILY = PayoutSchedule(interval=Interval.DAILY)
MANUAL = PayoutSchedule(interval=Interval.MANUAL)


def weekly(*days: str) -> PayoutSchedule:
    return PayoutSchedule.model_validate({"interval": "weekly", "weekly_payout_days": days})


def monthly(*days: int) -> PayoutSchedule:
    return PayoutSchedule(interval=Interval.MONTHLY, monthly_payout_days=days)


@pytest.fixture(autouse=True)
def _calendars_read_afresh() -> None:
    """Each test reads the holidays library itself, not calendars an earlier test cached."""
    _year_table.cache_clear()
    has_holiday_calendar.cache_clear()


# --- business days ------------------------------------------------------------------------

@pytest.mark.parametrize("country", ["US", "CA"])
@pytest.mark.parametrize("day", [date(2026, 8, 29), date(2026, 8, 30)])
def test_weekends_are_not_business_days(country: str, day: date) -> None:
    assert not is_business_day(day, country)


@pytest.mark.parametrize("country", ["US", "CA"])
@pytest.mark.parametrize(
    "holiday",
    [
        date(2026, 1, 1),    # New Year's Day
        date(2026, 9, 7),    # Labour Day / Labor Day, first Monday of September
        date(2026, 12, 25),  # Christmas
    ],
)
def test_holidays_shared_by_both_countries_close_the_banks(country: str, holiday: date) -> None:
    assert holiday.weekday() < 5
    assert not is_business_day(holiday, country)


@pytest.mark.parametrize(
    ("day", "us_open", "ca_open"),
    [
        (date(2026, 7, 1), True, False),     # Canada Day
        (date(2025, 7, 4), False, True),     # Independence Day on a Friday
        (date(2027, 7, 5), False, True),     # Independence Day (Sunday) observed Monday
        (date(2026, 11, 26), False, True),   # US Thanksgiving, fourth Thursday of November
        (date(2026, 10, 12), False, False),  # Canadian Thanksgiving; Columbus Day in the US
        (date(2026, 11, 11), False, False),  # Remembrance Day / Veterans Day
        (date(2026, 9, 30), True, False),    # National Day for Truth and Reconciliation
        (date(2026, 12, 28), True, False),   # Boxing Day (Saturday) observed Monday in Canada
        (date(2026, 4, 3), True, False),     # Good Friday
        (date(2026, 1, 19), False, True),    # Martin Luther King Jr. Day
    ],
)
def test_country_specific_bank_holidays(day: date, us_open: bool, ca_open: bool) -> None:
    assert is_business_day(day, "US") is us_open
    assert is_business_day(day, "CA") is ca_open


def test_us_banks_stay_open_on_the_friday_before_a_saturday_holiday() -> None:
    # 2026-07-04 is a Saturday: the federal government closes Friday the 3rd, the
    # Federal Reserve (and so ACH) does not.
    assert date(2026, 7, 4).weekday() == 5
    assert is_business_day(date(2026, 7, 3), "US")


def test_provincial_holidays_do_not_close_canadian_payouts() -> None:
    assert is_business_day(date(2026, 8, 3), "CA")   # Civic Holiday (most provinces)
    assert is_business_day(date(2026, 2, 16), "CA")  # Family Day (some provinces)


def test_holidays_come_from_the_library_with_names() -> None:
    names = business_days("CA").holidays(2026)
    assert names[date(2026, 10, 12)] == "Thanksgiving Day"
    assert business_days("us").holiday_name(date(2026, 11, 26)) == "Thanksgiving Day"
    assert business_days("US").holiday_name(date(2026, 11, 27)) is None


def test_country_code_is_case_insensitive() -> None:
    assert not is_business_day(date(2026, 7, 1), "ca")


def test_unknown_country_skips_weekends_only() -> None:
    assert not has_holiday_calendar("ZZ")
    assert has_holiday_calendar("us")
    assert has_holiday_calendar("FR")
    assert is_business_day(date(2026, 12, 25), "ZZ")
    assert not is_business_day(date(2026, 12, 26), "ZZ")


def test_other_supported_countries_use_their_public_holidays() -> None:
    assert not is_business_day(date(2026, 7, 14), "FR")  # Bastille Day, a Tuesday


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (date(2026, 8, 28), 1, date(2026, 8, 31)),   # Friday + 1 -> Monday
        (date(2026, 9, 4), 1, date(2026, 9, 8)),     # over Labour Day weekend
        (date(2026, 8, 31), 0, date(2026, 8, 31)),
        (date(2026, 8, 29), 0, date(2026, 8, 29)),   # 0 never moves, even from a Saturday
        (date(2026, 9, 8), -1, date(2026, 9, 4)),    # backwards over Labour Day
        (date(2026, 8, 31), -1, date(2026, 8, 28)),  # Monday - 1 -> Friday
        (date(2026, 9, 2), -2, date(2026, 8, 31)),   # one day at a time: Tuesday counts
    ],
)
def test_add_business_days(start: date, n: int, expected: date) -> None:
    assert add_business_days(start, n, "US") == expected


# --- arrival dates ------------------------------------------------------------------------

def test_arrival_two_business_days_after_the_spec_example_payout() -> None:
    assert arrival_date(date(2026, 8, 31), "US") == date(2026, 9, 2)


@pytest.mark.parametrize(
    ("paid", "us_arrival", "ca_arrival"),
    [
        (date(2026, 9, 4), date(2026, 9, 9), date(2026, 9, 9)),        # Labour Day Monday
        (date(2026, 6, 30), date(2026, 7, 2), date(2026, 7, 3)),       # Canada Day
        (date(2025, 7, 3), date(2025, 7, 8), date(2025, 7, 7)),        # Independence Day
        (date(2026, 11, 25), date(2026, 11, 30), date(2026, 11, 27)),  # US Thanksgiving
        (date(2026, 10, 9), date(2026, 10, 14), date(2026, 10, 14)),   # CA Thanksgiving
        (date(2026, 12, 24), date(2026, 12, 29), date(2026, 12, 30)),  # Christmas, Boxing Day
        (date(2026, 12, 31), date(2027, 1, 5), date(2027, 1, 5)),      # across New Year
    ],
)
def test_arrival_skips_weekends_and_each_countrys_bank_holidays(
    paid: date, us_arrival: date, ca_arrival: date
) -> None:
    assert arrival_date(paid, "US") == us_arrival
    assert arrival_date(paid, "CA") == ca_arrival


def test_arrival_days_can_be_overridden_per_country() -> None:
    overrides = {"ca": 3}
    assert arrival_business_days("CA", 2, overrides) == 3
    assert arrival_business_days("US", 2, overrides) == 2
    assert arrival_date(date(2026, 8, 31), "CA", overrides=overrides) == date(2026, 9, 3)
    assert arrival_date(date(2026, 8, 31), "US", overrides=overrides) == date(2026, 9, 2)
    assert arrival_date(date(2026, 8, 31), "US", business_days=0) == date(2026, 8, 31)


def test_negative_arrival_time_is_rejected() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        arrival_date(date(2026, 8, 31), "US", business_days=-1)


# --- payout dates -------------------------------------------------------------------------

def test_manual_payouts_have_no_payout_date() -> None:
    assert payout_date(date(2026, 8, 31), MANUAL, "US") is None


@pytest.mark.parametrize(
    ("released", "expected"),
    [
        (date(2026, 8, 31), date(2026, 8, 31)),  # a Monday: paid the same day
        (date(2026, 8, 29), date(2026, 8, 31)),  # Saturday -> Monday
        (date(2026, 9, 6), date(2026, 9, 8)),    # Sunday before Labour Day -> Tuesday
        (date(2026, 11, 26), date(2026, 11, 27)),  # Thanksgiving -> Friday
    ],
)
def test_daily_payout_is_the_first_business_day(released: date, expected: date) -> None:
    assert payout_date(released, DAILY, "US") == expected


def test_weekly_payout_defaults_to_monday() -> None:
    assert payout_date(date(2026, 8, 5), PayoutSchedule(interval=Interval.WEEKLY), "US") == (
        date(2026, 8, 10))


def test_weekly_payout_on_a_listed_day() -> None:
    schedule = weekly("tuesday", "friday")
    assert payout_date(date(2026, 8, 5), schedule, "US") == date(2026, 8, 7)
    assert payout_date(date(2026, 8, 7), schedule, "US") == date(2026, 8, 7)
    assert payout_date(date(2026, 8, 8), schedule, "US") == date(2026, 8, 11)


def test_weekly_payout_on_a_holiday_moves_to_the_next_business_day() -> None:
    # Monday 2026-09-07 is Labour Day in both countries.
    assert payout_date(date(2026, 9, 5), weekly("monday"), "US") == date(2026, 9, 8)
    # Monday 2026-10-12 is Thanksgiving in Canada only (Columbus Day closes US banks too).
    assert payout_date(date(2026, 10, 10), weekly("monday"), "CA") == date(2026, 10, 13)
    # Wednesday 2026-07-01, Canada Day.
    assert payout_date(date(2026, 7, 1), weekly("wednesday"), "CA") == date(2026, 7, 2)
    assert payout_date(date(2026, 7, 1), weekly("wednesday"), "US") == date(2026, 7, 1)


def test_a_shifted_payout_carries_funds_released_after_its_scheduled_day() -> None:
    # The Labour Day payout goes out Tuesday, so funds released that Tuesday go with it.
    assert payout_date(date(2026, 9, 8), weekly("monday"), "US") == date(2026, 9, 8)


@pytest.mark.parametrize(
    ("released", "days", "expected"),
    [
        (date(2026, 4, 15), (31,), date(2026, 4, 30)),    # April has 30 days
        (date(2028, 2, 10), (31,), date(2028, 2, 29)),    # leap February
        (date(2028, 2, 10), (30,), date(2028, 2, 29)),
        (date(2028, 2, 10), (29,), date(2028, 2, 29)),
        (date(2027, 2, 10), (29,), date(2027, 3, 1)),     # Feb 28 2027 is a Sunday
        (date(2026, 2, 10), (31,), date(2026, 3, 2)),     # Feb 28 2026 is a Saturday
        (date(2026, 5, 1), (31,), date(2026, 6, 1)),      # May 31 2026 is a Sunday
        (date(2026, 8, 18), (15, 31), date(2026, 8, 31)),
        (date(2026, 8, 14), (15, 31), date(2026, 8, 17)),  # the 15th is a Saturday
        (date(2026, 8, 16), (15, 31), date(2026, 8, 17)),  # ...so Monday's payout carries it
        (date(2026, 12, 26), (1,), date(2027, 1, 4)),     # Jan 1 holiday, then weekend
    ],
)
def test_monthly_payout_days_are_clamped_to_the_month_end(
    released: date, days: tuple[int, ...], expected: date
) -> None:
    assert payout_date(released, monthly(*days), "US") == expected


def test_monthly_days_29_to_31_make_one_payout_in_february() -> None:
    days = list(islice(scheduled_days(date(2028, 2, 1), monthly(29, 30, 31)), 4))
    assert days == [date(2028, 2, 29), date(2028, 3, 29), date(2028, 3, 30), date(2028, 3, 31)]


def test_monthly_without_listed_days_pays_on_the_first() -> None:
    assert payout_date(date(2026, 8, 4), monthly(), "US") == date(2026, 9, 1)


def test_monthly_on_the_first_and_the_fifteenth_pays_on_the_next_of_them() -> None:
    assert payout_date(date(2026, 8, 20), monthly(1, 15), "US") == date(2026, 9, 1)


def test_monthly_days_outside_1_to_31_are_ignored() -> None:
    # Only day 32 listed: none left, so the first of the month, not the month's last day.
    assert payout_date(date(2026, 8, 4), monthly(32), "US") == date(2026, 9, 1)
    assert payout_date(date(2026, 8, 4), monthly(0, 15), "US") == date(2026, 8, 17)


def test_monthly_payout_on_a_canadian_holiday() -> None:
    # July 1st: Canada Day in Canada, an ordinary Wednesday in the US.
    assert payout_date(date(2026, 6, 15), monthly(1), "CA") == date(2026, 7, 2)
    assert payout_date(date(2026, 6, 15), monthly(1), "US") == date(2026, 7, 1)


# --- properties ---------------------------------------------------------------------------

schedules = st.one_of(
    st.just(DAILY),
    st.lists(st.sampled_from(WEEKDAYS), max_size=3, unique=True).map(lambda d: weekly(*d)),
    st.lists(st.integers(1, 31), max_size=3, unique=True).map(lambda d: monthly(*d)),
)
release_dates = st.dates(date(2024, 1, 1), date(2030, 12, 31))
countries = st.sampled_from(["US", "CA"])


@given(released=release_dates, schedule=schedules, country=countries,
       arrival=st.integers(0, 5))
def test_payout_and_arrival_are_business_days_on_or_after_the_release(
    released: date, schedule: PayoutSchedule, country: str, arrival: int
) -> None:
    paid = payout_date(released, schedule, country)
    assert paid is not None
    assert paid >= released
    assert paid - released <= timedelta(days=40)
    assert is_business_day(paid, country)
    arrives = arrival_date(paid, country, arrival)
    assert arrives >= paid
    assert arrival == 0 or is_business_day(arrives, country)
    between = [paid + timedelta(days=i) for i in range(1, (arrives - paid).days + 1)]
    assert sum(is_business_day(d, country) for d in between) == arrival


@given(released=release_dates, schedule=schedules, country=countries)
def test_no_earlier_scheduled_payout_could_carry_the_release(
    released: date, schedule: PayoutSchedule, country: str
) -> None:
    paid = payout_date(released, schedule, country)
    assert paid is not None
    calendar = business_days(country)
    for scheduled in scheduled_days(released - timedelta(days=14), schedule):
        if scheduled > paid:
            break
        shifted = calendar.on_or_after(scheduled)
        assert shifted < released or shifted >= paid
