"""The Stripe budget shared through DynamoDB (`DynamoSlots`), against moto."""

from __future__ import annotations

import itertools
import logging
import random
import threading
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from botocore.stub import Stubber

from balance_guard.aws.budget import TTL_S, DynamoSlots
from balance_guard.stripe.pacing import LocalSlots, Pacer
from tests.integration.test_aws_dynamo import client
from tests.integration.test_aws_handlers import TABLE

__all__ = ["client"]  # a fixture, used by name

NOW = 1_785_600_000.0  # 2026-08-01T16:00:00Z
SPACING = 0.05  # 20 requests a second


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Serialized:
    """A client whose calls run one at a time, as DynamoDB applies the writes to one item.

    moto's backend has no lock: two threads can both pass a condition before either writes,
    which DynamoDB never allows. Serializing the calls gives back DynamoDB's guarantee
    without hiding any race of the budget's own (between its two forms of write, say).
    """

    def __init__(self, client: Any) -> None:
        self._client = client
        self._lock = threading.Lock()

    def update_item(self, **params: Any) -> Any:
        with self._lock:
            return self._client.update_item(**params)


class Failing:
    """A client whose every UpdateItem fails with `error`, after `ok` calls that go through."""

    def __init__(self, client: Any, error: Exception, ok: int = 0) -> None:
        self._client = client
        self.error = error
        self.ok = ok
        self.calls = 0

    def update_item(self, **params: Any) -> Any:
        self.calls += 1
        if self.calls <= self.ok:
            return self._client.update_item(**params)
        raise self.error


def client_error(code: str, operation: str = "UpdateItem") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, operation)


def item(client: Any, key: str = "global") -> dict[str, Any]:
    found: dict[str, Any] = client.get_item(
        TableName=TABLE, Key={"pk": {"S": "BUDGET#stripe"}, "sk": {"S": key}},
        ConsistentRead=True)["Item"]
    return found


def no_sleep(seconds: float) -> None:
    pass


# -- slot arithmetic --------------------------------------------------------------------------


def test_the_first_reservation_starts_now(client: Any) -> None:
    assert DynamoSlots(client, TABLE, clock=Clock()).reserve("global", 1, SPACING) == NOW


def test_consecutive_reservations_are_spaced_by_what_they_took(client: Any) -> None:
    slots = DynamoSlots(client, TABLE, clock=Clock())
    assert slots.reserve("global", 4, SPACING) == NOW
    assert slots.reserve("global", 4, SPACING) == pytest.approx(NOW + 0.2)
    assert slots.reserve("global", 1, SPACING) == pytest.approx(NOW + 0.4)
    assert slots.reserve("global", 1, SPACING) == pytest.approx(NOW + 0.45)
    assert item(client)["next_at"] == {"N": f"{NOW + 0.5:.3f}"}


def test_an_idle_budget_restarts_at_now(client: Any) -> None:
    clock = Clock()
    slots = DynamoSlots(client, TABLE, clock=clock)
    slots.reserve("global", 4, SPACING)
    clock.advance(5.0)
    assert slots.reserve("global", 2, SPACING) == NOW + 5.0
    clock.advance(0.05)  # the budget is still 0.05 s ahead: the next slot is its end
    assert slots.reserve("global", 1, SPACING) == pytest.approx(NOW + 5.1)


def test_two_keys_are_independent(client: Any) -> None:
    slots = DynamoSlots(client, TABLE, clock=Clock())
    assert slots.reserve("global", 8, SPACING) == NOW
    assert slots.reserve("endpoint:/v1/charges", 1, 0.04) == NOW
    assert slots.reserve("endpoint:/v1/charges", 1, 0.04) == pytest.approx(NOW + 0.04)
    assert slots.reserve("global", 1, SPACING) == pytest.approx(NOW + 0.4)


def test_the_same_slots_as_the_local_budget(client: Any) -> None:
    """Any sequence of reservations and clock moves gets LocalSlots' answers (to the ms)."""
    clock = Clock()
    shared, local = DynamoSlots(client, TABLE, clock=clock), LocalSlots(clock)
    draw = random.Random(7)
    for _ in range(200):
        clock.advance(draw.choice([0.0, 0.0, 0.01, 0.05, 0.2, 1.5]))
        key = draw.choice(["global", "endpoint:/v1/balance"])
        count, spacing = draw.randint(1, 4), draw.choice([0.05, 0.04, 0.01])
        assert shared.reserve(key, count, spacing) == pytest.approx(
            local.reserve(key, count, spacing), abs=1e-6)


def test_spans_are_rounded_up_to_the_millisecond(client: Any) -> None:
    """1/24 s is 41.67 ms: slots come 42 ms apart, never 41."""
    slots = DynamoSlots(client, TABLE, clock=Clock())
    slots.reserve("global", 1, 1 / 24)
    assert slots.reserve("global", 1, 1 / 24) == pytest.approx(NOW + 0.042)


def test_the_item_expires_a_day_after_its_last_write(client: Any) -> None:
    clock = Clock()
    slots = DynamoSlots(client, TABLE, clock=clock)
    slots.reserve("global", 1, SPACING)
    clock.advance(3600)
    slots.reserve("global", 1, SPACING)
    stored = item(client)
    assert stored["ttl"] == {"N": str(int(NOW) + 3600 + TTL_S)}
    assert stored["next_at"] == {"N": f"{NOW + 3600.05:.3f}"}


def test_a_busy_night_costs_one_write_per_reservation(client: Any) -> None:
    slots = DynamoSlots(client, TABLE, clock=Clock())
    for _ in range(20):
        slots.reserve("global", 2, SPACING)
    stats = slots.stats()
    # The first write finds the budget idle; the second tries that form again and loses;
    # every later one goes straight to the busy form.
    assert (stats.reservations, stats.writes, stats.conflicts) == (20, 21, 1)


def test_one_update_per_reservation_and_no_read(client: Any) -> None:
    """The exact requests: an idle form refused by its condition, then the busy form."""
    slots = DynamoSlots(client, TABLE, clock=Clock())
    key = {"pk": {"S": "BUDGET#stripe"}, "sk": {"S": "global"}}
    names = {"#next": "next_at", "#ttl": "ttl"}
    ttl = {"N": str(int(NOW) + TTL_S)}
    with Stubber(client) as stub:
        stub.add_client_error(
            "update_item", "ConditionalCheckFailedException", expected_params={
                "TableName": TABLE, "Key": key,
                "UpdateExpression": "SET #next = :next, #ttl = :ttl",
                "ConditionExpression":
                    "attribute_not_exists(#next) OR #next <= :now OR #next > :horizon",
                "ExpressionAttributeNames": names, "ReturnValues": "UPDATED_OLD",
                "ExpressionAttributeValues": {
                    ":next": {"N": f"{NOW + 0.15:.3f}"}, ":now": {"N": f"{NOW:.3f}"},
                    ":horizon": {"N": f"{NOW + 60:.3f}"}, ":ttl": ttl}})
        stub.add_response(
            "update_item", {"Attributes": {"next_at": {"N": f"{NOW + 1.15:.3f}"}}},
            expected_params={
                "TableName": TABLE, "Key": key,
                "UpdateExpression": "SET #next = #next + :span, #ttl = :ttl",
                "ConditionExpression": "#next > :now AND #next <= :horizon",
                "ExpressionAttributeNames": names, "ReturnValues": "UPDATED_NEW",
                "ExpressionAttributeValues": {
                    ":span": {"N": "0.150"}, ":now": {"N": f"{NOW:.3f}"},
                    ":horizon": {"N": f"{NOW + 60:.3f}"}, ":ttl": ttl}})
        assert slots.reserve("global", 3, SPACING) == pytest.approx(NOW + 1.0)
        stub.assert_no_pending_responses()


# -- races ------------------------------------------------------------------------------------


def test_two_processes_racing_for_an_idle_budget(client: Any) -> None:
    clock = Clock()
    first, second = DynamoSlots(client, TABLE, clock=clock), DynamoSlots(client, TABLE, clock=clock)
    assert first.reserve("global", 2, SPACING) == NOW
    # The second also believed the budget idle: its condition fails, its busy form wins.
    assert second.reserve("global", 2, SPACING) == pytest.approx(NOW + 0.1)
    assert second.stats().conflicts == 1
    clock.advance(10)
    # And the other way round: the first expects a busy budget, which has gone idle.
    assert first.reserve("global", 1, SPACING) == NOW + 10
    second.reserve("global", 1, SPACING)
    assert first.reserve("global", 1, SPACING) == pytest.approx(NOW + 10.1)


@pytest.mark.parametrize("spacing", [0.005, 0.02])
def test_threads_of_several_processes_never_share_a_slot(client: Any, spacing: float) -> None:
    """16 threads over 4 instances (processes) on the real clock. At 5 ms a slot, the budget
    keeps going idle and busy again under the writers, so both forms race each other."""
    shared = Serialized(client)
    processes = [DynamoSlots(shared, TABLE) for _ in range(4)]  # type: ignore[arg-type]
    taken: list[float] = []
    lock = threading.Lock()
    failures: list[BaseException] = []

    def worker(seed: int) -> None:
        draw = random.Random(seed)
        slots = processes[seed % len(processes)]
        try:
            for _ in range(25):
                count = draw.randint(1, 3)
                start = slots.reserve("global", count, spacing)
                with lock:
                    taken.extend(start + i * spacing for i in range(count))
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    ordered = sorted(taken)
    gaps = [b - a for a, b in itertools.pairwise(ordered)]
    assert min(gaps) >= spacing - 1e-6
    assert len(taken) >= 16 * 25
    assert sum(p.stats().fallbacks for p in processes) == 0


def test_pacers_of_two_processes_share_one_budget(client: Any) -> None:
    """What StripeReader does with `slots=`: two pacers, one budget of 20 requests a second."""
    clock = Clock()
    sent: list[float] = []

    def pacer() -> Pacer:
        return Pacer(20, slots=DynamoSlots(client, TABLE, clock=clock), clock=clock,
                     sleep=clock.advance)

    pacers = [pacer(), pacer()]
    for n in range(40):
        pacers[n % 2].acquire("/v1/balance")
        sent.append(clock.now)
    # The pacer spaces its slots a little wider than the budget (headroom for jitter).
    spacing = SPACING * Pacer.HEADROOM
    assert all(b - a >= spacing - 1e-6 for a, b in itertools.pairwise(sent))
    assert sent[-1] - sent[0] == pytest.approx(39 * spacing, abs=0.01)


class Slow:
    """A client whose every call takes `delay` seconds of the test's clock."""

    def __init__(self, client: Any, clock: Clock, delay: float) -> None:
        self._client = client
        self._clock = clock
        self.delay = delay

    def update_item(self, **params: Any) -> Any:
        self._clock.advance(self.delay)
        return self._client.update_item(**params)


def test_a_slot_passed_on_arrival_is_given_up_and_the_next_set_ahead(client: Any) -> None:
    clock = Clock()
    slow = Slow(client, clock, 0.2)
    slots = DynamoSlots(slow, TABLE, clock=clock)  # type: ignore[arg-type]
    # Asked at NOW for NOW, answered at NOW + 0.2: too late to use. The next reservation,
    # asked at NOW + 0.2, starts when its answer is expected.
    assert slots.reserve("global", 1, SPACING) == pytest.approx(NOW + 0.4)
    assert slots.stats().late == 1
    assert slots.stats().lead_s == pytest.approx(0.2)
    assert clock.now == pytest.approx(NOW + 0.4)
    slow.delay = 0.0
    assert slots.reserve("global", 1, SPACING) == pytest.approx(NOW + 0.45)
    assert slots.stats().late == 1
    # A faster round trip lowers the lead gradually.
    clock.advance(10)
    assert slots.reserve("global", 1, SPACING) == pytest.approx(NOW + 10.4 + 0.2 * 0.9 ** 2)


def test_a_slot_still_late_after_a_few_rounds_is_used_all_the_same(client: Any) -> None:
    clock = Clock()
    slow = Slow(client, clock, 0.8)  # the lead is capped below this round trip
    slots = DynamoSlots(slow, TABLE, clock=clock)  # type: ignore[arg-type]
    start = slots.reserve("global", 1, SPACING)
    assert clock.now - start > SPACING
    assert slots.stats().late == 2


# -- a clock far ahead ------------------------------------------------------------------------


def test_an_item_far_in_the_future_is_reset(client: Any,
                                            caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    DynamoSlots(client, TABLE, clock=Clock(NOW + 3600)).reserve("global", 1, SPACING)
    slots = DynamoSlots(client, TABLE, clock=clock)
    with caplog.at_level(logging.WARNING, "balance_guard.aws.budget"):
        assert slots.reserve("global", 1, SPACING) == NOW
    assert "3600 s ahead" in caplog.text
    assert slots.stats().resets == 1
    assert item(client)["next_at"] == {"N": f"{NOW + 0.05:.3f}"}
    assert slots.reserve("global", 1, SPACING) == pytest.approx(NOW + 0.05)


def test_no_slot_is_ever_more_than_max_ahead(client: Any) -> None:
    slots = DynamoSlots(client, TABLE, clock=Clock(), max_ahead_s=1.0)
    starts = [slots.reserve("global", 1, SPACING) for _ in range(30)]
    assert max(starts) <= NOW + 1.0
    assert starts[20] == NOW + 1.0
    assert starts[21] == NOW  # 1.05 s ahead: taken as the work of a clock far ahead


# -- DynamoDB unavailable ---------------------------------------------------------------------


def test_throttled_dynamodb_falls_back_to_local_pacing(
    client: Any, caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    failing = Failing(client, client_error("ThrottlingException"))
    pauses: list[float] = []
    slots = DynamoSlots(failing, TABLE, clock=clock, max_attempts=3,  # type: ignore[arg-type]
                        sleep=pauses.append)
    with caplog.at_level(logging.WARNING, "balance_guard.aws.budget"):
        assert slots.reserve("global", 2, SPACING) == NOW
        # DynamoDB is left alone for a while: paced locally, no more calls, no more warnings.
        assert slots.reserve("global", 1, SPACING) == pytest.approx(NOW + 0.1)
        assert slots.reserve("global", 1, SPACING) == pytest.approx(NOW + 0.15)
    assert failing.calls == 3
    assert len(pauses) == 2
    assert all(0 < pause <= 0.2 for pause in pauses)
    assert len(caplog.records) == 1
    assert "ThrottlingException" in caplog.text
    assert slots.stats().fallbacks == 3


def test_local_pacing_starts_where_the_shared_slots_ended(client: Any) -> None:
    failing = Failing(client, EndpointConnectionError(endpoint_url="https://dynamodb"), ok=1)
    slots = DynamoSlots(failing, TABLE, clock=Clock(), sleep=no_sleep)  # type: ignore[arg-type]
    assert slots.reserve("global", 4, SPACING) == NOW
    assert slots.reserve("global", 1, SPACING) == pytest.approx(NOW + 0.2)
    assert failing.calls == 1 + slots.max_attempts


def test_a_refusal_is_not_retried_but_still_falls_back(client: Any) -> None:
    failing = Failing(client, client_error("AccessDeniedException"))
    slots = DynamoSlots(failing, TABLE, clock=Clock(), sleep=no_sleep)  # type: ignore[arg-type]
    assert slots.reserve("global", 1, SPACING) == NOW
    assert failing.calls == 1


def test_dynamodb_is_tried_again_after_the_pause(
    client: Any, caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    failing = Failing(client, client_error("InternalServerError"))
    slots = DynamoSlots(failing, TABLE, clock=clock, max_attempts=2,  # type: ignore[arg-type]
                        outage_pause_s=10, sleep=no_sleep)
    with caplog.at_level(logging.INFO, "balance_guard.aws.budget"):
        slots.reserve("global", 1, SPACING)
        clock.advance(9)
        slots.reserve("global", 1, SPACING)
        assert failing.calls == 2
        clock.advance(2)
        failing.ok = 10**6  # DynamoDB is back
        assert slots.reserve("global", 1, SPACING) == NOW + 11
    assert failing.calls == 3
    assert slots.stats().reservations == 1
    assert [r.levelname for r in caplog.records] == ["WARNING", "INFO"]


def test_reservations_need_a_slot_and_a_spacing(client: Any) -> None:
    slots = DynamoSlots(client, TABLE, clock=Clock())
    with pytest.raises(ValueError, match="at least one slot"):
        slots.reserve("global", 0, SPACING)
    with pytest.raises(ValueError, match="positive spacing"):
        slots.reserve("global", 1, 0)
