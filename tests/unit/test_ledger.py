from __future__ import annotations

from datetime import UTC, date, datetime

from balance_guard.domain.ledger import (
    READ_OVERLAP_SECONDS,
    AccountState,
    StoredCharge,
    StoredRefund,
    blocked_refunds,
    charges_since,
    exposure_charges,
    incremental,
    known_holds,
    merge,
    merge_holds,
    read_until,
    refunds_since,
    remember_prefund,
)
from balance_guard.domain.snapshot import BlockedRefund, Charge, ReserveHold

NIGHT = date(2026, 8, 2)
LOOKBACK = 1_000


def charge(amount: int, refunded: int = 0, status: str = "succeeded",
           created: int = 5_000) -> StoredCharge:
    return StoredCharge(currency="cad", amount=amount, amount_refunded=refunded, status=status,
                        created=created)


def refund(amount: int, status: str = "succeeded", charge_id: str = "ch_1",
           reason: str | None = None, created: int = 6_000) -> StoredRefund:
    return StoredRefund(charge=charge_id, currency="cad", amount=amount, status=status,
                        pending_reason=reason, created=created)


def state(**fields: object) -> AccountState:
    base: dict[str, object] = {"last_as_of": date(2026, 8, 1), "cursor": 9_000,
                               "lookback_start": LOOKBACK}
    base.update(fields)
    return AccountState.model_validate(base)


def refundable(charges: dict[str, StoredCharge], refunds: dict[str, StoredRefund]) -> int:
    [only] = exposure_charges(charges, refunds)
    return only.refundable


def test_a_refund_read_twice_counts_once() -> None:
    kept = state(charges={"ch_1": charge(100_000)}, refunds={"re_1": refund(40_000)})
    charges, refunds = merge(kept, {}, {"re_1": refund(40_000)}, LOOKBACK, True)
    assert refundable(charges, refunds) == 60_000


def test_a_refund_kept_from_an_earlier_night_still_counts() -> None:
    kept = state(charges={"ch_1": charge(100_000)}, refunds={"re_1": refund(40_000)})
    charges, refunds = merge(kept, {}, {}, LOOKBACK, True)
    assert refunds == {"re_1": refund(40_000)}
    assert refundable(charges, refunds) == 60_000


def test_two_refunds_on_one_charge_add_up() -> None:
    refunds = {"re_1": refund(30_000), "re_2": refund(20_000)}
    assert refundable({"ch_1": charge(100_000)}, refunds) == 100_000 - 30_000 - 20_000


def test_exposure_charges_carry_their_figures_and_utc_creation_time() -> None:
    charges = {"ch_1": charge(100_000, refunded=10_000, created=5_000)}
    assert exposure_charges(charges, {}) == (
        Charge(id="ch_1", currency="cad", amount=100_000, amount_refunded=10_000,
               created=datetime(1970, 1, 1, 1, 23, 20, tzinfo=UTC)),)


def test_a_refund_already_in_amount_refunded_is_not_subtracted_again() -> None:
    charges, refunds = merge(state(), {"ch_1": charge(100_000, refunded=40_000)},
                             {"re_1": refund(40_000)}, LOOKBACK, True)
    assert refundable(charges, refunds) == 60_000


def test_refunds_we_never_read_still_count_through_amount_refunded() -> None:
    charges, refunds = merge(state(), {"ch_1": charge(100_000, refunded=75_000)}, {},
                             LOOKBACK, True)
    assert refundable(charges, refunds) == 25_000


def test_a_cancelled_refund_gives_the_amount_back() -> None:
    kept = state(charges={"ch_1": charge(100_000)},
                 refunds={"re_1": refund(100_000, "pending", reason="insufficient_funds")})
    charges, refunds = merge(kept, {}, {"re_1": refund(100_000, "canceled")}, LOOKBACK, True)
    assert refundable(charges, refunds) == 100_000
    assert blocked_refunds(refunds) == ()


def test_a_pending_charge_is_reread_and_counts_once_it_succeeds() -> None:
    kept = state(charges={"ch_1": charge(250_000, status="pending", created=2_000)})
    assert charges_since(kept, LOOKBACK, True) == 2_000
    charges, refunds = merge(kept, {}, {}, LOOKBACK, True)
    # Kept while pending, so that tonight's read starts from it; not refundable yet.
    assert charges == {"ch_1": charge(250_000, status="pending", created=2_000)}
    assert exposure_charges(charges, refunds) == ()
    charges, refunds = merge(kept, {"ch_1": charge(250_000, created=2_000)}, {}, LOOKBACK, True)
    assert refundable(charges, refunds) == 250_000


def test_failed_and_too_old_charges_are_dropped_with_their_refunds() -> None:
    kept = state(charges={"ch_old": charge(5_000, created=10)},
                 refunds={"re_old": refund(1_000, charge_id="ch_old")})
    charges, refunds = merge(kept, {"ch_1": charge(9_000, status="failed")}, {}, LOOKBACK, True)
    assert charges == {}
    assert refunds == {}


def test_a_charge_made_at_the_lookback_start_is_kept_and_one_just_before_is_dropped() -> None:
    fresh = {"ch_at": charge(1_000, created=LOOKBACK), "ch_before": charge(2_000,
                                                                          created=LOOKBACK - 1)}
    charges, _ = merge(state(), fresh, {}, LOOKBACK, True)
    assert sorted(charges) == ["ch_at"]


def test_a_pending_refund_is_kept_even_when_its_charge_is_not() -> None:
    # Stripe still holds it for lack of funds: it must go on being reported as blocked.
    waiting = refund(5_000, "pending", charge_id="ch_old", reason="insufficient_funds")
    settled = refund(1_000, "succeeded", charge_id="ch_old")
    _, refunds = merge(state(), {}, {"re_1": waiting, "re_2": settled}, LOOKBACK, True)
    assert refunds == {"re_1": waiting}


def test_blocked_refunds_are_the_pending_ones_waiting_for_funds() -> None:
    refunds = {"re_1": refund(5_000, "pending", reason="insufficient_funds", created=6_000),
               "re_2": refund(7_000, "pending", reason="processing")}
    assert blocked_refunds(refunds) == (
        BlockedRefund(id="re_1", currency="cad", amount=5_000, charge="ch_1",
                      created=datetime(1970, 1, 1, 1, 40, tzinfo=UTC)),)


def test_pending_refunds_are_reread_until_they_settle() -> None:
    kept = state(refunds={"re_1": refund(5_000, "pending", created=3_000)})
    assert refunds_since(kept, LOOKBACK, True) == 3_000
    assert refunds_since(state(), LOOKBACK, True) == 9_000 - READ_OVERLAP_SECONDS


def test_later_nights_read_from_the_cursor_with_an_overlap() -> None:
    assert charges_since(state(), LOOKBACK, True) == 9_000 - READ_OVERLAP_SECONDS


def test_a_first_night_scans_the_whole_lookback() -> None:
    assert not incremental(AccountState(), NIGHT, LOOKBACK)
    assert charges_since(AccountState(), LOOKBACK, False) == LOOKBACK
    assert refunds_since(AccountState(), LOOKBACK, False) == LOOKBACK


def test_a_full_scan_reads_from_the_lookback_start_whatever_the_cursor() -> None:
    kept = state(charges={"ch_1": charge(1_000, status="pending", created=2_000)},
                 refunds={"re_1": refund(1_000, "pending", created=3_000)})
    assert charges_since(kept, LOOKBACK, False) == LOOKBACK
    assert refunds_since(kept, LOOKBACK, False) == LOOKBACK


def test_a_second_check_of_the_same_night_builds_on_the_first() -> None:
    assert incremental(state(last_as_of=NIGHT), NIGHT, LOOKBACK)


def test_rechecking_an_older_night_or_a_wider_lookback_scans_again() -> None:
    assert incremental(state(), NIGHT, LOOKBACK)
    assert not incremental(state(last_as_of=date(2026, 8, 3)), NIGHT, LOOKBACK)
    assert not incremental(state(), NIGHT, LOOKBACK - 1)


def test_a_full_scan_forgets_what_was_kept() -> None:
    kept = state(charges={"ch_1": charge(100_000)},
                 refunds={"re_1": refund(40_000),
                          "re_2": refund(5_000, "pending", reason="insufficient_funds")})
    charges, refunds = merge(kept, {}, {}, LOOKBACK, False)
    assert (charges, refunds) == ({}, {})
    # The charge read again tonight comes back alone: its refunds are read again too.
    charges, refunds = merge(kept, {"ch_1": charge(100_000)}, {}, LOOKBACK, False)
    assert (charges, refunds) == ({"ch_1": charge(100_000)}, {})


def test_a_past_night_reads_until_its_end_and_today_until_now() -> None:
    now = datetime(2026, 11, 25, 7, tzinfo=UTC)
    assert read_until(date(2026, 8, 1), now) == int(datetime(2026, 8, 2, tzinfo=UTC).timestamp())
    assert read_until(date(2026, 11, 25), now) == int(now.timestamp())


def test_a_run_date_ends_at_midnight_in_the_platform_s_time_zone() -> None:
    # 21:30 in Toronto on 2 August is 01:30 UTC on the 3rd: still the 2nd's run date.
    evening = datetime(2026, 8, 3, 1, 30, tzinfo=UTC)
    assert read_until(date(2026, 8, 2), evening, "America/Toronto") == int(evening.timestamp())
    # Past the end of that day there (04:00 UTC in summer), the read stops there.
    later = datetime(2026, 8, 3, 6, 0, tzinfo=UTC)
    assert read_until(date(2026, 8, 2), later, "America/Toronto") == int(
        datetime(2026, 8, 3, 4, 0, tzinfo=UTC).timestamp())
    midnight_utc = datetime(2026, 8, 3, tzinfo=UTC)
    assert read_until(date(2026, 8, 2), evening) == int(midnight_utc.timestamp())


def test_previous_prefund_is_the_last_check_strictly_before_the_run_date() -> None:
    history = remember_prefund({}, date(2026, 7, 30), {"cad": 1})
    history = remember_prefund(history, date(2026, 7, 31), {"cad": 2})
    history = remember_prefund(history, date(2026, 8, 1), {"cad": 3})
    kept = AccountState(prefund_history=history)
    assert kept.previous_prefund(date(2026, 8, 1)) == (date(2026, 7, 31), {"cad": 2})
    assert kept.previous_prefund(date(2026, 7, 30)) == (None, {})


def hold(ident: str, amount: int, release: datetime | None) -> ReserveHold:
    return ReserveHold(id=ident, currency="usd", amount=amount, scheduled_release=release)


def test_holds_are_read_up_to_the_last_frontier_within_a_week() -> None:
    kept = state(holds_frontier=["rh_9", "rh_8"], holds_read_in_full_on=date(2026, 7, 27))
    assert known_holds(kept, NIGHT, True) == frozenset({"rh_9", "rh_8"})
    assert known_holds(kept, date(2026, 8, 3), True) == frozenset()  # a week on: read it all
    assert known_holds(kept, NIGHT, False) == frozenset()


def test_kept_holds_go_once_released_and_fresh_ones_are_taken_as_stripe_says() -> None:
    aug_2 = datetime(2026, 8, 2, tzinfo=UTC)
    aug_9 = datetime(2026, 8, 9, tzinfo=UTC)
    kept = {"rh_1": hold("rh_1", 100, aug_2), "rh_2": hold("rh_2", 200, aug_9),
            "rh_3": hold("rh_3", 300, None)}
    fresh = {"rh_4": hold("rh_4", 400, aug_2), "rh_5": hold("rh_5", 0, aug_9),
             "rh_6": hold("rh_6", 1, aug_9)}
    merged = merge_holds(kept, fresh, NIGHT, in_full=False)
    assert sorted(merged) == ["rh_2", "rh_3", "rh_4", "rh_6"]
    assert sorted(merge_holds(kept, fresh, NIGHT, in_full=True)) == ["rh_4", "rh_6"]
