from __future__ import annotations

from datetime import UTC, date, datetime

from balance_guard.domain.ledger import (
    AccountState,
    StoredCharge,
    merge_charges,
    read_since,
    read_until,
    refunds_since,
    remember_prefund,
)


def stored(refundable: int, created: int = 1_000) -> StoredCharge:
    return StoredCharge(currency="cad", refundable=refundable, created=created)


def test_fresh_charges_replace_kept_ones_and_ignore_new_refunds() -> None:
    merged = merge_charges({"ch_1": stored(10_000)}, [("ch_1", stored(4_000))],
                           [("ch_1", 6_000)], oldest=0)
    assert merged["ch_1"].refundable == 4_000


def test_new_refunds_reduce_kept_charges() -> None:
    merged = merge_charges({"ch_1": stored(10_000)}, [], [("ch_1", 2_500), (None, 99)], oldest=0)
    assert merged["ch_1"].refundable == 7_500


def test_fully_refunded_and_too_old_charges_are_dropped() -> None:
    merged = merge_charges({"ch_1": stored(10_000), "ch_2": stored(5_000, created=10)}, [],
                           [("ch_1", 10_000)], oldest=100)
    assert merged == {}


def test_a_first_night_scans_the_whole_lookback() -> None:
    assert read_since(AccountState(), date(2026, 8, 1), 500) == 500


def test_later_nights_read_from_the_cursor() -> None:
    state = AccountState(last_as_of=date(2026, 7, 31), cursor=9_000)
    assert read_since(state, date(2026, 8, 1), 500) == 9_000


def test_rechecking_an_older_night_does_a_full_scan() -> None:
    state = AccountState(last_as_of=date(2026, 8, 2), cursor=9_000)
    assert read_since(state, date(2026, 8, 1), 500) == 500


def test_refunds_are_reread_from_the_oldest_still_blocked() -> None:
    state = AccountState(blocked_refunds={"re_1": 7_000, "re_2": 8_000})
    assert refunds_since(state, 9_000) == 7_000
    assert refunds_since(AccountState(), 9_000) == 9_000


def test_a_past_night_reads_until_its_end_and_today_until_now() -> None:
    now = datetime(2026, 11, 25, 7, tzinfo=UTC)
    assert read_until(date(2026, 8, 1), now) == int(datetime(2026, 8, 2, tzinfo=UTC).timestamp())
    assert read_until(date(2026, 11, 25), now) == int(now.timestamp())


def test_previous_prefund_is_the_last_check_strictly_before_the_run_date() -> None:
    history = remember_prefund({}, date(2026, 7, 30), {"cad": 1})
    history = remember_prefund(history, date(2026, 7, 31), {"cad": 2})
    history = remember_prefund(history, date(2026, 8, 1), {"cad": 3})
    state = AccountState(prefund_history=history)
    assert state.previous_prefund(date(2026, 8, 1)) == (date(2026, 7, 31), {"cad": 2})
    assert state.previous_prefund(date(2026, 7, 30)) == (None, {})
