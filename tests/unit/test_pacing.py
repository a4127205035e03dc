"""Pacing, backoff and deadlines of every Stripe request, on a clock that only moves when
the code under test sleeps."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Mapping
from typing import Any

import pytest
import stripe

from balance_guard.stripe.pacing import (
    GLOBAL,
    LocalSlots,
    OutOfTimeError,
    PacedHttpClient,
    Pacer,
    RetryPolicy,
    endpoint_of,
)


class FakeTime:
    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start
        self.slept: list[float] = []
        self.lock = threading.Lock()

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.slept.append(seconds)
            self.now += seconds


def pacer(time: FakeTime, max_rps: float = 10, **kwargs: Any) -> Pacer:
    return Pacer(max_rps, slots=LocalSlots(time.clock), clock=time.clock, sleep=time.sleep,
                 **kwargs)


def test_local_slots_are_spaced_and_an_idle_budget_restarts_now() -> None:
    time = FakeTime()
    slots = LocalSlots(time.clock)
    assert slots.reserve(GLOBAL, 3, 0.1) == 1_000.0
    assert slots.reserve(GLOBAL, 1, 0.1) == pytest.approx(1_000.3)
    assert slots.reserve("endpoint:/v1/charges", 1, 0.04) == 1_000.0  # its own budget
    time.now = 1_010.0
    assert slots.reserve(GLOBAL, 1, 0.1) == 1_010.0


def test_requests_go_out_one_spacing_apart_never_in_a_burst() -> None:
    time = FakeTime()
    paced = pacer(time, max_rps=10)
    sent = []
    for _ in range(21):
        paced.acquire("/v1/balance")
        sent.append(time.now)
    gaps = [b - a for a, b in itertools.pairwise(sent)]
    assert gaps == pytest.approx([0.1 * Pacer.HEADROOM] * 20)
    # slots a little wider than the budget: any one-second window, ends included, holds
    # max_rps requests, leaving one of room for the network's jitter
    assert max(sum(1 for t in sent if start <= t <= start + 1 + 1e-9) for start in sent) == 10


def test_the_endpoint_limit_binds_only_when_tighter_than_the_budget() -> None:
    time = FakeTime()
    paced = pacer(time, max_rps=100, endpoint_rps=25)
    for _ in range(26):
        paced.acquire("/v1/charges")
    assert time.now - 1_000.0 == pytest.approx(Pacer.HEADROOM)  # 25 a second on one endpoint
    loose = FakeTime()
    under = pacer(loose, max_rps=20, endpoint_rps=25)
    for _ in range(21):
        under.acquire("/v1/charges")
    assert loose.now - 1_000.0 == pytest.approx(Pacer.HEADROOM)  # the budget of 20 binds


class RecordingSlots(LocalSlots):
    def __init__(self, time: FakeTime) -> None:
        super().__init__(time.clock)
        self.counts: list[int] = []

    def reserve(self, key: str, count: int, spacing: float) -> float:
        if key == GLOBAL:
            self.counts.append(count)
        return super().reserve(key, count, spacing)


def test_a_lone_sender_reserves_one_slot_per_request() -> None:
    """A Lambda instance sends one request at a time: a second slot would pass unused."""
    time = FakeTime()
    slots = RecordingSlots(time)
    paced = Pacer(10, slots=slots, reservation=4, clock=time.clock, sleep=time.sleep)
    for _ in range(5):
        paced.acquire("/v1/balance")
        time.now += 0.3  # the request itself
    assert slots.counts == [1, 1, 1, 1, 1]


def test_waiting_threads_share_one_reservation_and_stale_slots_are_dropped() -> None:
    time = FakeTime()
    slots = RecordingSlots(time)
    paced = Pacer(10, slots=slots, reservation=4, clock=time.clock, sleep=time.sleep)
    paced._waiting = 3  # three other threads are waiting for a slot too
    paced.acquire("/v1/balance")
    paced._waiting = 0
    sent = []
    for _ in range(2):
        paced.acquire("/v1/balance")
        sent.append(time.now)
    assert slots.counts == [4]  # one write bought four slots
    assert sent == pytest.approx([1_000 + 0.1 * Pacer.HEADROOM, 1_000 + 0.2 * Pacer.HEADROOM])
    time.now += 1.0  # the fourth slot (+0.3) is long past: dropped, never sent late
    before = time.now
    paced.acquire("/v1/balance")
    assert slots.counts == [4, 1]
    assert time.now == before


def test_a_slot_woken_up_for_too_late_is_dropped_and_another_taken() -> None:
    time = FakeTime()
    overslept = [0.5]  # the process pauses half a second during its first wait

    def sleep(seconds: float) -> None:
        time.sleep(seconds + (overslept.pop() if overslept else 0.0))

    slots = RecordingSlots(time)
    slots.reserve(GLOBAL, 5, 0.1)  # another process holds the next half second
    paced = Pacer(10, slots=slots, clock=time.clock, sleep=sleep)
    paced.acquire("/v1/balance")  # due at +0.5, woken at +1.0: dropped
    assert slots.counts == [5, 1, 1]
    assert time.now == pytest.approx(1_001.0)  # sent at its fresh slot, on time


def test_a_rate_limit_lowers_the_ceiling_once_per_burst_and_it_climbs_back() -> None:
    time = FakeTime()
    paced = pacer(time, max_rps=20)
    paced.rate_limited()
    time.now += 1.9
    paced.rate_limited()  # same burst: no second decrease
    assert paced.stats().settled_rps == 14.0  # 20 × 0.7
    time.now += 0.1
    paced.rate_limited()
    assert paced.stats().settled_rps == 9.8
    assert paced.stats().rate_limited == 3
    time.now += 3.0
    paced.succeeded()  # a tenth of the budget (2 rps) per second without a 429
    assert paced.stats().settled_rps == 15.8
    time.now += 100.0
    paced.succeeded()
    stats = paced.stats()
    assert (stats.settled_rps, stats.lowest_rps) == (20.0, 9.8)


def test_the_ceiling_never_falls_below_the_floor() -> None:
    time = FakeTime()
    paced = pacer(time, max_rps=2, min_rps=0.5)
    for _ in range(8):
        paced.rate_limited()
        time.now += 2.0
    assert paced.stats().lowest_rps == 0.5


def test_the_lowered_ceiling_spaces_requests() -> None:
    time = FakeTime()
    paced = pacer(time, max_rps=10)
    paced.rate_limited()  # 7 a second now
    paced.acquire("/v1/balance")
    start = time.now
    paced.acquire("/v1/balance")
    assert time.now - start == pytest.approx(Pacer.HEADROOM / 7)


def test_a_pacer_needs_a_positive_rate() -> None:
    with pytest.raises(ValueError, match="positive"):
        Pacer(0)


@pytest.mark.parametrize(("url", "endpoint"), [
    ("http://127.0.0.1:1/v1/balance", "/v1/balance"),
    ("https://api.stripe.com/v1/charges?limit=100&created[gte]=1", "/v1/charges"),
    ("https://api.stripe.com/v1/reserve/plans/resplan_123", "/v1/reserve/plans/{id}"),
    ("https://api.stripe.com/v1/reserve/holds", "/v1/reserve/holds"),
])
def test_endpoints_group_requests_as_stripe_limits_them(url: str, endpoint: str) -> None:
    assert endpoint_of(url) == endpoint


# -- the retry loop ---------------------------------------------------------------------------

Answer = tuple[bytes, int, Mapping[str, str]] | stripe.APIConnectionError


class ScriptedClient(PacedHttpClient):
    """Answers from a script instead of the network; everything else is the real loop."""

    def __init__(self, answers: list[Answer], time: FakeTime, **kwargs: Any) -> None:
        super().__init__(pacer(time, max_rps=1000), sleep=time.sleep,
                         draw=lambda low, high: high, **kwargs)
        self.answers = answers
        self.timeouts: list[float] = []

    def request(self, method: str, url: str, headers: Mapping[str, str] | None,
                post_data: Any = None) -> tuple[bytes, int, Mapping[str, str]]:
        self.timeouts.append(self._timeout)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def rate_limited(**headers: str) -> tuple[bytes, int, Mapping[str, str]]:
    body = b'{"error": {"type": "invalid_request_error", "code": "rate_limit"}}'
    return body, 429, {"stripe-rate-limited-reason": "global-rate", **headers}


OK = (b'{"id": "acct_1"}', 200, {})


def call(client: PacedHttpClient) -> tuple[Any, int, Mapping[str, str]]:
    return client.request_with_retries("get", "http://127.0.0.1:1/v1/account", {})


def test_a_429_without_should_retry_is_retried_with_full_jitter_backoff() -> None:
    time = FakeTime()
    client = ScriptedClient([rate_limited(), rate_limited(), rate_limited(), OK], time)
    assert call(client)[1] == 200
    assert client.request_count == 4
    # the largest draw of each exponential window: 0.5, 1, 2 (full jitter draws in [0, x])
    assert [s for s in time.slept if s >= 0.4] == [0.5, 1.0, 2.0]
    assert client.pacer is not None
    assert client.pacer.stats().rate_limited == 3


def test_retry_after_is_honoured_when_longer_than_the_backoff() -> None:
    time = FakeTime()
    client = ScriptedClient([rate_limited(**{"retry-after": "7"}), OK], time)
    assert call(client)[1] == 200
    assert 7.0 in time.slept


def test_a_lock_timeout_is_retried_without_lowering_the_rate() -> None:
    time = FakeTime()
    lock_timeout = (b"{}", 429, {"stripe-should-retry": "true"})
    client = ScriptedClient([lock_timeout, OK], time)
    assert call(client)[1] == 200
    assert client.pacer is not None
    assert client.pacer.stats().rate_limited == 0


def test_rate_limits_get_a_bounded_number_of_tries_then_the_429_is_returned() -> None:
    time = FakeTime()
    client = ScriptedClient([rate_limited() for _ in range(8)], time)
    assert call(client)[1] == 429  # the SDK turns it into RateLimitError
    assert client.request_count == RetryPolicy().rate_limit_tries == 8


@pytest.mark.parametrize(("answer", "tries"), [
    ((b"{}", 500, {}), 3),
    ((b"{}", 503, {}), 3),
    ((b"{}", 409, {}), 3),
    ((b"{}", 500, {"stripe-should-retry": "false"}), 1),
    ((b"{}", 404, {}), 1),
    ((b"{}", 403, {}), 1),
    ((b"{}", 400, {}), 1),
])
def test_other_answers_are_retried_only_when_they_may_pass(
    answer: tuple[bytes, int, Mapping[str, str]], tries: int,
) -> None:
    time = FakeTime()
    client = ScriptedClient([answer] * 3, time)
    assert call(client)[1] == answer[1]
    assert client.request_count == tries


def test_a_dropped_connection_is_retried_then_raised() -> None:
    time = FakeTime()
    dropped = [stripe.APIConnectionError("reset", should_retry=True) for _ in range(3)]
    client = ScriptedClient(list(dropped), time)
    with pytest.raises(stripe.APIConnectionError, match="reset"):
        call(client)
    assert client.request_count == 3


def test_the_deadline_shortens_the_request_timeout() -> None:
    time = FakeTime()
    client = ScriptedClient([OK, OK], time, timeout=30.0)
    call(client)
    client.deadline.set_in(12.5)
    call(client)
    assert client.timeouts[0] == 30.0
    assert client.timeouts[1] == pytest.approx(12.5, abs=0.01)


def test_the_deadline_cuts_retries_short_instead_of_waiting_past_it() -> None:
    time = FakeTime()
    client = ScriptedClient([rate_limited(**{"retry-after": "30"}), OK], time)
    client.deadline.set_in(10.0)
    assert call(client)[1] == 429  # waiting 30 s would outlive the deadline
    assert client.request_count == 1


def test_no_request_starts_without_time_for_it() -> None:
    time = FakeTime()
    client = ScriptedClient([OK], time)
    client.deadline.set_in(0.5)
    with pytest.raises(OutOfTimeError):
        call(client)
    assert client.request_count == 0


def test_a_slot_past_the_deadline_is_refused_rather_than_waited_for() -> None:
    time = FakeTime()
    paced = pacer(time, max_rps=1)
    paced.acquire("/v1/balance", within=5.0)  # now
    paced.acquire("/v1/balance", within=5.0)  # one second later
    before = time.now
    with pytest.raises(OutOfTimeError):
        paced.acquire("/v1/balance", within=0.5)  # the next slot is a second away
    assert time.now == before  # refused at once, no wait
