"""The local shell's socket: `balance-guard listen` receives Stripe's webhooks on `/`, as
a Function URL does, on 127.0.0.1 unless told otherwise.

A body announced over the limit is refused before it is read; a body is read with a
socket timeout; everything else is `Receiver.handle`. Connections close after each
answer, and the server's threads are daemons: stopping it never waits on a client.
"""

from __future__ import annotations

import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from balance_guard.webhook.receiver import Answer, Receiver
from balance_guard.webhook.verify import RefusedError, check_size

log = logging.getLogger(__name__)

READ_TIMEOUT_S = 10.0
PATH = "/"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], receiver: Receiver) -> None:
        super().__init__(address, _Handler)
        self.receiver = receiver


class _Handler(BaseHTTPRequestHandler):
    timeout = READ_TIMEOUT_S
    server: _Server
    disable_nagle_algorithm = True

    def do_POST(self) -> None:
        if self.path.split("?", 1)[0] != PATH:
            self._reply(Answer(404, b'{"error":"not found"}', ""))
            return
        receiver = self.server.receiver
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self._reply(receiver.refuse(RefusedError(411, "no usable Content-Length")))
            return
        try:
            check_size(length, receiver.limit)
        except RefusedError as refusal:
            self.close_connection = True
            self._reply(receiver.refuse(refusal))
            return
        body = self.rfile.read(length) if length > 0 else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        self._reply(receiver.handle(body, headers))

    def do_GET(self) -> None:
        self._not_allowed()

    def do_PUT(self) -> None:
        self._not_allowed()

    def do_DELETE(self) -> None:
        self._not_allowed()

    def _not_allowed(self) -> None:
        self._reply(Answer(405, b'{"error":"POST only"}', ""), allow="POST")

    def _reply(self, answer: Answer, allow: str | None = None) -> None:
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        if allow:
            self.send_header("Allow", allow)
        self.send_header("Content-Length", str(len(answer.body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(answer.body)

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s - %s", self.address_string(), format % args)


class WebhookServer:
    """`Receiver` on `host:port` (0: any free port) in a background thread."""

    def __init__(self, receiver: Receiver, port: int, host: str = "127.0.0.1") -> None:
        self._server = _Server((host, port), receiver)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.2},
                                        name="balance-guard-webhooks", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/"

    def start(self) -> str:
        self._thread.start()
        return self.url

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
