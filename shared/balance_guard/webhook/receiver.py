"""One webhook request in, one answer out, with no socket: what both shells share.

The answer is quick by construction: it verifies, consults the replay store and hands the
account to a `RecheckSink`; the re-check itself happens elsewhere (a worker thread locally,
the check queue on AWS). Statuses: 413 for a body over the limit, 400 for anything
unsigned, badly signed, out of the 5-minute tolerance or not an event; 503 when the sink
is full (Stripe sends the event again later); 200 for everything else, including an event
that matters to no rule and an event id already received. The last is refused (nothing
is done) but still answered 2xx: a 4xx would have Stripe retry a delivery it already made
for three days, and disable an endpoint that keeps failing.

Every answer has one log line; none holds the secret or the event's figures.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from balance_guard.webhook.coalesce import RecheckSink, SinkFullError
from balance_guard.webhook.events import trigger_of
from balance_guard.webhook.seen import SeenEvents
from balance_guard.webhook.verify import MAX_BODY_BYTES, RefusedError, verify

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    line: str  # what was logged

    @property
    def headers(self) -> dict[str, str]:
        return {"Content-Type": "application/json"}


def _json(**fields: object) -> bytes:
    return json.dumps(fields, separators=(",", ":")).encode()


class Receiver:
    def __init__(self, secret: str, seen: SeenEvents, sink: RecheckSink, *,
                 limit: int = MAX_BODY_BYTES) -> None:
        if not secret:
            raise ValueError("the webhook signing secret is empty")
        self._secret = secret
        self._seen = seen
        self._sink = sink
        self.limit = limit

    def refuse(self, refusal: RefusedError) -> Answer:
        """The answer to a request refused before its body was read (e.g. its length)."""
        line = f"webhook refused ({refusal.status}): {refusal.reason}"
        log.warning("%s", line)
        return Answer(refusal.status, _json(error=refusal.reason), line)

    def handle(self, body: bytes, headers: Mapping[str, str]) -> Answer:
        try:
            event = verify(body, headers, self._secret, self.limit)
        except RefusedError as refusal:
            return self.refuse(refusal)
        where = f"{event.id} ({event.type}, {event.account or 'platform'})"
        trigger = trigger_of(event.id, event.type, event.account, event.object)
        if trigger is None:
            line = f"webhook {where}: changes no rule; ignored"
            log.info("%s", line)
            return Answer(200, _json(received=True, recheck=False), line)
        if not self._seen.first_sight(event.id):
            line = f"webhook {where}: already received; ignored (a replay, or Stripe's retry)"
            log.warning("%s", line)
            return Answer(200, _json(received=True, duplicate=True), line)
        try:
            opened = self._sink.add(trigger)
        except SinkFullError as error:
            self._seen.forget(event.id)
            line = f"webhook {where}: refused (503): {error}"
            log.warning("%s", line)
            return Answer(503, _json(error="busy; send it again later"), line)
        rules = ", ".join(rule.value for rule in trigger.rules)
        joined = "re-check queued" if opened else "joined the re-check already waiting"
        line = f"webhook {where}: {joined} ({rules})"
        log.info("%s", line)
        return Answer(200, _json(received=True, recheck=True), line)
