"""One request in, one Stripe-like answer out: the sandbox without its socket.

`SandboxApp.handle` is called by the HTTP server's threads. It counts every request,
applies the injected latency, rate limits and faults, checks the key and the
`Stripe-Account`, and answers from the scenario. It never blocks beyond the latency it was
asked to add, and holds its lock only to update counters.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlsplit

from balance_guard.sandbox import errors
from balance_guard.sandbox.faults import DEFAULT_FAULTS, FaultKind, FaultPlan, TokenBucket
from balance_guard.sandbox.ids import stable_id
from balance_guard.sandbox.routes import Call, Route, resolve
from balance_guard.sandbox.scenario import AccountSpec, Scenario
from balance_guard.sandbox.world import World

# What a cut-off response looks like: the start of a JSON body, then nothing.
MALFORMED_BODY = b'{\n  "object": "list",\n  "data": [\n    {\n      "id": "ch_'
DEFAULT_VERSION = "2026-10-28.endive"


class _Request(NamedTuple):
    method: str
    path: str
    stripe_account: str | None


class RecordedRequest(_Request):
    """(method, path, Stripe-Account) of one request, and `at`: when it arrived.

    `at` is the sandbox's `time.monotonic()` on arrival, before any injected latency. It is
    an attribute beside the tuple, not a fourth item, so `method, path, account = request`
    and comparisons with a 3-tuple keep working; two requests that differ only in `at`
    compare equal.
    """

    at: float = 0.0  # what a copy made by `_replace` or `_make` reads

    def __new__(cls, method: str, path: str, stripe_account: str | None,
                at: float = 0.0) -> RecordedRequest:
        request = super().__new__(cls, method, path, stripe_account)
        request.at = at
        return request

    def __repr__(self) -> str:
        return (f"RecordedRequest(method={self.method!r}, path={self.path!r}, "
                f"stripe_account={self.stripe_account!r}, at={self.at!r})")


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()


def api_key_from(authorization: str | None) -> str | None:
    """The key from `Bearer <key>` (what the SDK sends) or HTTP basic auth (`curl -u key:`)."""
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return ""
        return decoded.partition(":")[0]
    return ""


def busiest_second(times: Sequence[float]) -> int:
    """The most arrivals within any one second: times `t` to just before `t + 1`.

    Two arrivals exactly one second apart fall in different seconds, as a rate limit
    stated per second counts them.
    """
    ordered = sorted(times)
    best = start = 0
    for end, arrived in enumerate(ordered):
        while arrived - ordered[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


class SandboxApp:
    """The sandbox's answers, without the socket.

    Rate limits answer as Stripe does: HTTP 429, type `invalid_request_error`, code
    `rate_limit`, a `Stripe-Rate-Limited-Reason` header and no `Stripe-Should-Retry`.

    - `rate_limit_rps`: the global limit, every request together (reason `global-rate`).
      Stripe allows 100 requests a second in live mode and 25 in test mode.
    - `endpoint_rate_limit_rps`: a limit for each endpoint on its own (reason
      `endpoint-rate`). An endpoint is a route: GET /v1/balance is one, the charge list
      another, and GET /v1/reserve/plans/{id} one for every plan. Stripe's default is 25
      requests a second per endpoint; the sandbox applies none unless asked (None).

    Both are token buckets allowing bursts of one second's worth, shared by the platform
    and every connected account (requests made with `Stripe-Account` count against the
    platform's budget). A request over the global limit spends nothing from its endpoint's;
    one refused by its endpoint's limit has still spent a global token.

    `fault_kinds` is what `fault_rate` draws from: by default 500, 503, drop and malformed;
    the 429 kinds (`lock_timeout`, and `429`, a random rate limit) only when named.
    `timer` is the clock the limits and the arrival times use (seconds, monotonic).
    """

    def __init__(
        self,
        scenario: Scenario,
        *,
        latency_ms: float = 0,
        rate_limit_rps: float | None = None,
        fault_rate: float = 0.0,
        seed: int = 0,
        clock: date | None = None,
        fault_kinds: Sequence[FaultKind] = DEFAULT_FAULTS,
        endpoint_rate_limit_rps: float | None = None,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        if latency_ms < 0:
            raise ValueError("latency_ms cannot be negative")
        if endpoint_rate_limit_rps is not None and endpoint_rate_limit_rps <= 0:
            raise ValueError("endpoint_rate_limit_rps must be above 0 (None: no limit)")
        self.scenario = scenario
        self.world = World(scenario)
        self.latency_s = latency_ms / 1000
        self._timer = timer
        self.bucket = TokenBucket(rate_limit_rps, clock=timer) if rate_limit_rps else None
        self.endpoint_rate_limit_rps = endpoint_rate_limit_rps
        self._endpoint_buckets: dict[Route, TokenBucket] = {}
        self.faults = FaultPlan(fault_rate, seed, fault_kinds)
        self.seed = seed
        self._clock = clock or scenario.clock
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._write_attempts = 0
        self._rate_limited = 0
        self._account_failures: dict[str, int] = {}

    # -- state shared with tests ---------------------------------------------------------

    @property
    def clock(self) -> date:
        with self._lock:
            return self._clock

    def set_clock(self, day: date) -> None:
        with self._lock:
            self._clock = day

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self._requests)

    @property
    def write_attempts(self) -> int:
        with self._lock:
            return self._write_attempts

    @property
    def rate_limited_count(self) -> int:
        """How many 429s the sandbox answered, whatever the reason (limits and faults)."""
        with self._lock:
            return self._rate_limited

    def busiest_second(self) -> int:
        """The most requests that arrived within any one second (0 before any request)."""
        with self._lock:
            times = [request.at for request in self._requests]
        return busiest_second(times)

    def reset_counters(self) -> None:
        with self._lock:
            self._requests.clear()
            self._write_attempts = 0
            self._rate_limited = 0
            self._account_failures.clear()

    # -- one request ---------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: Mapping[str, str]) -> Reply | None:
        """Answer one request; None means: close the connection without answering."""
        url = urlsplit(target)
        account_id = headers.get("stripe-account") or None
        with self._lock:
            self._requests.append(RecordedRequest(method, url.path, account_id, self._timer()))
            number = len(self._requests)
            clock = self._clock
            if method != "GET":
                self._write_attempts += 1
        request_id = stable_id("req", self.seed, number, length=14)
        if self.latency_s:
            time.sleep(self.latency_s)
        try:
            reply = self._answer(method, url.path, url.query, headers, number, clock,
                                 request_id)
        except errors.StripeApiError as error:
            reply = self._error(error, request_id)
        if reply is not None and reply.status == 429:
            with self._lock:
                self._rate_limited += 1
        return reply

    def _answer(
        self, method: str, path: str, raw_query: str, headers: Mapping[str, str], number: int,
        clock: date, request_id: str,
    ) -> Reply | None:
        if method != "GET":
            raise errors.read_only(method, path)
        bucket = self.bucket  # read once: it may be swapped while requests run
        if bucket is not None and not bucket.take():
            raise errors.rate_limited(errors.GLOBAL_RATE)
        found = resolve(path)
        if found is not None and not self._endpoint_allows(found[0]):
            raise errors.rate_limited(errors.ENDPOINT_RATE)
        fault = self.faults.decide(number)
        if fault is not None:
            return self._fault(fault, request_id, retry=True)
        self._authenticate(headers.get("authorization"))
        account_id = headers.get("stripe-account") or None
        view = self.world.view(account_id, clock)
        if view is None:
            raise errors.account_invalid(account_id or "", self.scenario.platform.secret_key)
        if found is None:
            raise errors.unrecognized_url(method, path)
        route, ident = found
        spec = self.scenario.account(account_id) if account_id else None
        if spec is not None and self._should_fail(spec, route):
            return self._account_fault(spec, request_id)
        version = headers.get("stripe-version") or DEFAULT_VERSION
        if route.preview:
            self._check_preview(version)
        # Stripe keeps the last value of a repeated parameter.
        query = dict(parse_qsl(raw_query, keep_blank_values=True))
        call = Call(self.world, view, view.spec.id == self.world.platform_id, clock, query,
                    ident)
        return self._json(200, route.handler(call), request_id, (("Stripe-Version", version),))

    def _authenticate(self, authorization: str | None) -> None:
        key = api_key_from(authorization)
        if key is None:
            raise errors.no_api_key()
        if not hmac.compare_digest(key.encode(), self.scenario.platform.secret_key.encode()):
            raise errors.invalid_api_key(key)

    def _check_preview(self, version: str) -> None:
        if not version.endswith(".preview"):
            raise errors.preview_version_required(version)
        if not self.scenario.platform.reserves_preview:
            raise errors.preview_access_denied()

    def _endpoint_allows(self, route: Route) -> bool:
        rate = self.endpoint_rate_limit_rps
        if rate is None:
            return True
        with self._lock:
            bucket = self._endpoint_buckets.get(route)
            if bucket is None:
                bucket = self._endpoint_buckets[route] = TokenBucket(rate, clock=self._timer)
        return bucket.take()

    def _should_fail(self, spec: AccountSpec, route: Route) -> bool:
        if spec.fail_with is None or (spec.fail_on is not None and route.name not in spec.fail_on):
            return False
        with self._lock:
            failed = self._account_failures.get(spec.id, 0)
            if spec.fail_first is not None and failed >= spec.fail_first:
                return False
            self._account_failures[spec.id] = failed + 1
        return True

    def _account_fault(self, spec: AccountSpec, request_id: str) -> Reply | None:
        fail = spec.fail_with
        if fail == "drop":
            return None
        if fail == "malformed" or fail is None:
            return Reply(200, MALFORMED_BODY, (("Content-Type", "application/json"),))
        # A 429 answers as a real (global) rate limit: no Stripe-Should-Retry unless the
        # scenario's `fail_should_retry` asks for one.
        error = errors.rate_limited(errors.GLOBAL_RATE) if fail == 429 else (
            errors.server_error(fail, retry=False) if fail >= 500 else errors.StripeApiError(
                fail, f"This sandbox scenario makes requests for account '{spec.id}' fail "
                      f"with HTTP {fail}."))
        if spec.fail_should_retry is not None:
            error.headers["Stripe-Should-Retry"] = "true" if spec.fail_should_retry else "false"
        raise error

    def _fault(self, fault: FaultKind, request_id: str, retry: bool) -> Reply | None:
        if fault is FaultKind.DROP:
            return None
        if fault is FaultKind.MALFORMED:
            return Reply(200, MALFORMED_BODY, (("Content-Type", "application/json"),
                                               ("Request-Id", request_id)))
        if fault is FaultKind.LOCK_TIMEOUT:
            return self._error(errors.lock_timeout(), request_id)
        if fault is FaultKind.RATE_LIMITED:
            return self._error(errors.rate_limited(errors.GLOBAL_RATE), request_id)
        return self._error(errors.server_error(int(fault.value), retry), request_id)

    @classmethod
    def internal_error(cls) -> Reply:
        return cls._json(500, errors.server_error(500, retry=False).body("req_internal"),
                         "req_internal")

    def _error(self, error: errors.StripeApiError, request_id: str) -> Reply:
        return self._json(error.status, error.body(request_id), request_id,
                          tuple(error.headers.items()))

    @staticmethod
    def _json(
        status: int, payload: Any, request_id: str, extra: tuple[tuple[str, str], ...] = ()
    ) -> Reply:
        # Compact: Stripe indents its bodies, but Python's indenting encoder is the pure-Python
        # one, and it dominated the sandbox's time on a full scan.
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        headers = (("Content-Type", "application/json"), ("Request-Id", request_id), *extra)
        return Reply(status, body, headers)
