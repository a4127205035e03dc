"""Which events matter, and events of one account within a window making one re-check."""

from __future__ import annotations

import pytest

from balance_guard.domain.findings import RuleCode
from balance_guard.webhook.coalesce import (
    Coalescer,
    CoalesceSettingError,
    SinkFullError,
    coalesce_seconds,
)
from balance_guard.webhook.events import WATCHED_EVENTS, Trigger, rules_changed_by, trigger_of

CAPACITY = (RuleCode.NEGATIVE_BALANCE, RuleCode.REFUND_CAPACITY_SHORT)


@pytest.mark.parametrize(("kind", "obj", "rules"), [
    ("refund.created", {"status": "pending", "pending_reason": "insufficient_funds"},
     (RuleCode.REFUND_BLOCKED,)),
    ("refund.updated", {"status": "pending", "pending_reason": "insufficient_funds"},
     (RuleCode.REFUND_BLOCKED,)),
    ("refund.updated", {"status": "requires_action"}, (RuleCode.REFUND_CAPACITY_SHORT,)),
    ("refund.updated", {"status": "failed"},
     (RuleCode.REFUND_BLOCKED, RuleCode.REFUND_CAPACITY_SHORT)),
    ("refund.failed", {"status": "failed"},
     (RuleCode.REFUND_BLOCKED, RuleCode.REFUND_CAPACITY_SHORT)),
    ("refund.created", {"status": "succeeded"}, ()),
    ("refund.created", {"status": "pending", "pending_reason": "processing"}, ()),
    ("charge.dispute.created", {}, CAPACITY),
    ("payout.created", {}, CAPACITY),
    ("payout.paid", {}, CAPACITY),
    ("account.updated", {"payouts_enabled": False}, (RuleCode.PAYOUTS_DISABLED,)),
    ("account.updated", {"payouts_enabled": True}, ()),
    ("balance.available", {}, CAPACITY),
    ("customer.created", {}, ()),
])
def test_each_event_maps_to_the_rules_it_can_change(
        kind: str, obj: dict[str, object], rules: tuple[RuleCode, ...]) -> None:
    assert rules_changed_by(kind, obj) == rules


def test_every_watched_event_can_start_a_recheck() -> None:
    relevant = {"status": "failed", "payouts_enabled": False}
    assert all(rules_changed_by(kind, relevant) for kind in WATCHED_EVENTS)


def test_a_platform_event_starts_no_recheck() -> None:
    assert trigger_of("evt_1", "balance.available", None, {}) is None


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def trigger(n: int, account: str = "acct_1A", kind: str = "balance.available") -> Trigger:
    return Trigger(f"evt_{n}", kind, account, rules_changed_by(kind, {"payouts_enabled": False}))


def test_a_burst_of_100_events_of_one_account_is_one_recheck() -> None:
    clock = Clock()
    sink = Coalescer(60, clock=clock)
    opened = [sink.add(trigger(n)) for n in range(100)]
    assert opened == [True] + [False] * 99
    clock.now += 59.9
    assert sink.take_due() == []
    clock.now += 0.1
    [pending] = sink.take_due()
    assert (pending.account, pending.events, pending.rules) == ("acct_1A", 100, set(CAPACITY))
    assert pending.event_ids == ("evt_0", "evt_1", "evt_2", "evt_3", "evt_4")
    assert sink.take_due() == []


def test_the_window_opens_with_the_first_event_and_is_not_pushed_back() -> None:
    clock = Clock()
    sink = Coalescer(60, clock=clock)
    sink.add(trigger(1))
    clock.now += 50
    sink.add(trigger(2, kind="account.updated"))
    clock.now += 10
    [pending] = sink.take_due()
    assert pending.events == 2
    assert pending.event_types == ("balance.available", "account.updated")
    assert pending.rules == {*CAPACITY, RuleCode.PAYOUTS_DISABLED}


def test_an_event_after_the_recheck_started_opens_the_next_window() -> None:
    clock = Clock()
    sink = Coalescer(60, clock=clock)
    sink.add(trigger(1))
    clock.now += 60
    assert len(sink.take_due()) == 1
    assert sink.add(trigger(2)) is True
    assert len(sink) == 1


def test_accounts_have_windows_of_their_own() -> None:
    clock = Clock()
    sink = Coalescer(60, clock=clock)
    sink.add(trigger(1, "acct_1A"))
    clock.now += 30
    sink.add(trigger(2, "acct_1B"))
    clock.now += 30
    assert [p.account for p in sink.take_due()] == ["acct_1A"]
    clock.now += 30
    assert [p.account for p in sink.take_due()] == ["acct_1B"]


def test_a_zero_window_is_due_at_once() -> None:
    sink = Coalescer(0, clock=Clock())
    sink.add(trigger(1))
    assert len(sink.take_due()) == 1


def test_too_many_waiting_accounts_refuse_the_next() -> None:
    sink = Coalescer(60, clock=Clock(), max_accounts=2)
    sink.add(trigger(1, "acct_1A"))
    sink.add(trigger(2, "acct_1B"))
    assert sink.add(trigger(3, "acct_1A")) is False  # joining costs nothing
    with pytest.raises(SinkFullError):
        sink.add(trigger(4, "acct_1C"))


def test_the_window_comes_from_the_environment() -> None:
    assert coalesce_seconds({}) == 60.0
    assert coalesce_seconds({"BALANCE_GUARD_COALESCE_SECONDS": "0"}) == 0.0
    assert coalesce_seconds({"BALANCE_GUARD_COALESCE_SECONDS": " 12.5 "}) == 12.5
    with pytest.raises(CoalesceSettingError) as error:
        coalesce_seconds({"BALANCE_GUARD_COALESCE_SECONDS": "soon"})
    assert str(error.value) == ("BALANCE_GUARD_COALESCE_SECONDS must be a number of seconds "
                                "(got 'soon')")
    with pytest.raises(CoalesceSettingError) as error:
        coalesce_seconds({"BALANCE_GUARD_COALESCE_SECONDS": "901"})
    assert str(error.value) == ("BALANCE_GUARD_COALESCE_SECONDS must be between 0 and 900 "
                                "seconds (got '901')")
