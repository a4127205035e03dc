"""The sandbox over real HTTP: a threaded server on 127.0.0.1, in-process or standalone.

    with Sandbox(load_scenario(None), clock=date(2026, 8, 1)) as sandbox:
        client = stripe.StripeClient(sandbox.secret_key,
                                     base_addresses={"api": sandbox.base_url})

With a `WebhookPoster`, every move of the clock (`set_clock`, or a scenario's `steps`
while it runs) posts the events of what changed (sandbox/webhooks.py).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Sequence
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from balance_guard.sandbox.app import RecordedRequest, SandboxApp
from balance_guard.sandbox.faults import DEFAULT_FAULTS, FaultKind
from balance_guard.sandbox.scenario import Scenario, load_scenario
from balance_guard.sandbox.webhooks import WebhookPoster, world_events

log = logging.getLogger(__name__)

MAX_BODY = 1 << 20  # a write's body is read and thrown away; anything bigger closes the socket
IDLE_TIMEOUT_S = 10.0  # a keep-alive connection left idle this long is closed


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog of 5 drops connections when a concurrent run opens
    # more at once, and the client only retries the connect a second later.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: SandboxApp) -> None:
        super().__init__(address, _Handler)
        self.app = app
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def get_request(self) -> tuple[socket.socket, Any]:
        conn, address = super().get_request()
        with self._open_lock:
            self._open.add(conn)
        return conn, address

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """End keep-alive connections too, so a stopped sandbox answers nobody."""
        with self._open_lock:
            conns = list(self._open)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    # Headers and body go out in two writes: without TCP_NODELAY, Nagle's algorithm holds
    # the body back ~40 ms on every response.
    disable_nagle_algorithm = True
    # HTTP/1.1 keeps the SDK's connections alive, as Stripe's servers do.
    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT_S
    server: _Server

    def _serve(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = MAX_BODY + 1
        if length > MAX_BODY or length < 0:
            self.close_connection = True
        elif length:
            self.rfile.read(length)
        headers = {name.lower(): value for name, value in self.headers.items()}
        try:
            reply = self.server.app.handle(self.command, self.path, headers)
        except Exception:
            # A sandbox bug (or a scenario's deliberately broken object) must look like a
            # Stripe 500 to the client, not like a dropped connection.
            log.exception("sandbox failed on %s %s", self.command, self.path)
            reply = SandboxApp.internal_error()
        if reply is None:
            self.close_connection = True  # an injected drop: the client gets no answer
            return
        self.send_response(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(reply.body)

    # http.server dispatches on these names; writes get the sandbox's read-only refusal.
    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s - %s", self.address_string(), format % args)


class Sandbox:
    """A Stripe-compatible server for one scenario; `start()` returns its base URL.

    The limits and faults are SandboxApp's: `rate_limit_rps` is the global limit (Stripe:
    100 requests a second live, 25 in test mode), `endpoint_rate_limit_rps` the limit for
    each endpoint (Stripe's default: 25 a second; None here, no limit), and both answer a
    429 with code `rate_limit`, a `Stripe-Rate-Limited-Reason` header and no
    `Stripe-Should-Retry`, so stripe-python raises RateLimitError without retrying.
    `fault_kinds` defaults to 500, 503, drop and malformed; `lock_timeout` and `429` are
    injected only when named.
    """

    def __init__(
        self,
        scenario: Scenario | str | Path | None = None,
        port: int = 0,
        latency_ms: float = 0,
        rate_limit_rps: float | None = None,
        fault_rate: float = 0.0,
        seed: int = 0,
        clock: date | None = None,
        *,
        host: str = "127.0.0.1",
        fault_kinds: Sequence[FaultKind] = DEFAULT_FAULTS,
        endpoint_rate_limit_rps: float | None = None,
        webhooks: WebhookPoster | None = None,
    ) -> None:
        self.scenario = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        self.webhooks = webhooks
        self._steps_stop = threading.Event()
        self._steps: threading.Thread | None = None
        self.app = SandboxApp(
            self.scenario, latency_ms=latency_ms, rate_limit_rps=rate_limit_rps,
            fault_rate=fault_rate, seed=seed, clock=clock, fault_kinds=fault_kinds,
            endpoint_rate_limit_rps=endpoint_rate_limit_rps,
        )
        self._address = (host, port)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> str:
        if self._server is None:
            self._server = _Server(self._address, self.app)
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                name=f"stripe-sandbox:{self.port}", daemon=True)
            self._thread.start()
            if self.scenario.steps:
                self._steps_stop.clear()
                self._steps = threading.Thread(target=self._run_steps, name="sandbox-steps",
                                               daemon=True)
                self._steps.start()
        return self.base_url

    def _run_steps(self) -> None:
        started = time.monotonic()
        for step in self.scenario.steps:
            if self._steps_stop.wait(max(0.0, started + step.after_seconds - time.monotonic())):
                return
            self.set_clock(step.clock)

    def stop(self) -> None:
        self._steps_stop.set()
        if self._steps is not None:
            self._steps.join(timeout=5)
            self._steps = None
        if self.webhooks is not None:
            self.webhooks.stop()
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def wait(self) -> None:
        """Block until the server stops (used by `balance-guard sandbox`)."""
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what clients and tests need -----------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the sandbox is not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self._address[0]}:{self.port}"

    @property
    def secret_key(self) -> str:
        return self.scenario.platform.secret_key

    @property
    def clock(self) -> date:
        return self.app.clock

    def set_clock(self, day: date) -> None:
        """Move the world to `day`; with webhooks, post the events of what changed."""
        before = self.app.clock
        self.app.set_clock(day)
        if self.webhooks is not None and day != before:
            events = world_events(self.app.world, before, day)
            log.info("clock %s -> %s: %d webhook event(s)", before, day, len(events))
            self.webhooks.send(events)

    @property
    def request_count(self) -> int:
        return self.app.request_count

    @property
    def requests(self) -> list[RecordedRequest]:
        """(method, path, Stripe-Account) of every request so far, in arrival order."""
        return self.app.requests

    @property
    def write_attempts(self) -> int:
        return self.app.write_attempts

    @property
    def rate_limited_count(self) -> int:
        """How many 429s the sandbox answered, whatever the reason (limits and faults)."""
        return self.app.rate_limited_count

    def busiest_second(self) -> int:
        """The most requests that arrived within any one second (0 before any request)."""
        return self.app.busiest_second()

    def reset_counters(self) -> None:
        self.app.reset_counters()


def serve_forever(
    scenario_path: str | Path | None,
    port: int,
    latency_ms: float = 0,
    rate_limit_rps: float | None = None,
    fault_rate: float = 0.0,
    *,
    clock: date | None = None,
    seed: int = 0,
    endpoint_rate_limit_rps: float | None = None,
    fault_kinds: Sequence[FaultKind] = DEFAULT_FAULTS,
    webhooks: WebhookPoster | None = None,
) -> None:
    """Run the sandbox in the foreground until interrupted (`balance-guard sandbox`)."""
    sandbox = Sandbox(load_scenario(scenario_path), port=port, latency_ms=latency_ms,
                      rate_limit_rps=rate_limit_rps, fault_rate=fault_rate, seed=seed,
                      clock=clock, fault_kinds=fault_kinds,
                      endpoint_rate_limit_rps=endpoint_rate_limit_rps, webhooks=webhooks)
    url = sandbox.start()
    scenario = sandbox.scenario
    print(f"Stripe sandbox at {url}: {len(scenario.accounts)} connected accounts of "
          f"{scenario.platform.business_name}, clock {sandbox.clock.isoformat()}.")
    # The sandbox's own published test key, not a secret: clients need it to connect.
    if webhooks is not None:
        steps = ", ".join(f"{s.clock} after {s.after_seconds:g} s" for s in scenario.steps)
        print(f"Webhooks to {webhooks.url} when the clock moves"
              f"{f' ({steps})' if steps else ''}.")
    print(f"Sandbox API key: {sandbox.secret_key}   (Ctrl-C stops)", flush=True)
    try:
        sandbox.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
