"""What the rules see of an account, and what of it is kept between nights."""

from __future__ import annotations

from datetime import UTC, datetime

from balance_guard.domain.snapshot import ReserveHold, ReservePlan

RELEASE = datetime(2026, 8, 31, tzinfo=UTC)


def test_a_hold_or_plan_without_notices_is_stored_without_the_field() -> None:
    # Holds and plans are kept in the state store every night: an empty list is not stored.
    hold = ReserveHold(id="rh_1", currency="usd", amount=7_267, scheduled_release=RELEASE)
    plan = ReservePlan(id="rp_1", type="fixed_release", percent=25.0)
    assert "notices" not in hold.model_dump()
    assert "notices" not in plan.model_dump()


def test_a_hold_with_notices_keeps_them() -> None:
    hold = ReserveHold(id="rh_1", currency="usd", amount=7_267, scheduled_release=RELEASE,
                       notices=("reserve hold rh_1: reason 'audit' is unknown",))
    assert hold.model_dump()["notices"] == ("reserve hold rh_1: reason 'audit' is unknown",)
    assert ReserveHold.model_validate(hold.model_dump()) == hold
