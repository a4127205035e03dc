"""The sandbox's webhooks: when the world changes (its clock moves on, by a scenario step
or a test), the Connect events Stripe would send, signed and posted to a URL.

What changed between two clock days, per connected account: a refund created
(`refund.created`, with its status and `pending_reason`, e.g. pending for lack of funds),
a disputed charge (`charge.dispute.created`), an available balance that fell on an
account paid out automatically (the payout sweep: `payout.created` then `payout.paid`),
and any change of the available balance (`balance.available`). Events are shaped from
Stripe's own examples (`stripe_events.json`, from `fixtures3.json`) with the account in
`account` and the object in `data.object`; the signature is Stripe's scheme
(`Stripe-Signature: t=<unix time>,v1=<HMAC-SHA256 of "t.payload" with the secret>`).

`WebhookPoster` posts from a thread of its own, so moving the clock never waits on the
receiver; each post is tried a few times, then given up with a log line.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import logging
import queue
import threading
import time
import urllib.error
import urllib.request
from datetime import date, timedelta
from functools import cache
from importlib import resources
from urllib.parse import urlsplit

from balance_guard.sandbox.app import DEFAULT_VERSION
from balance_guard.sandbox.ids import served_until, stable_id, timestamp
from balance_guard.sandbox.templates import JsonObject
from balance_guard.sandbox.world import AccountView, World

log = logging.getLogger(__name__)

POST_TIMEOUT_S = 5.0
POST_ATTEMPTS = 3
QUEUE_LIMIT = 10_000
USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"


@cache
def _examples() -> dict[str, JsonObject]:
    text = (resources.files("balance_guard.sandbox") / "stripe_events.json").read_text(
        encoding="utf-8")
    examples: dict[str, JsonObject] = json.loads(text)["resources"]
    return examples


def _example(kind: str) -> JsonObject:
    return copy.deepcopy(_examples()[kind])


def sign(payload: bytes, secret: str, at: int) -> str:
    """The `Stripe-Signature` header Stripe would send for `payload` at unix time `at`."""
    signed = f"{at}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


def event(kind: str, account: str, obj: JsonObject, created: int, key: object = "") -> JsonObject:
    """A Connect event of type `kind` about `obj`, on connected account `account`; its id
    is stable for the same (account, kind, object, key)."""
    shaped = _example("event")
    shaped.update({
        "id": stable_id("evt", account, kind, obj.get("id"), key),
        "account": account, "api_version": DEFAULT_VERSION, "created": created,
        "data": {"object": obj}, "livemode": False, "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None}, "type": kind,
    })
    return shaped


def _available(balance: JsonObject) -> dict[str, int]:
    return {entry["currency"]: int(entry["amount"]) for entry in balance.get("available", [])}


def _payout(account: str, currency: str, amount: int, day: date, at: int) -> JsonObject:
    payout = _example("payout")
    payout.update({
        "id": stable_id("po", account, currency, day), "amount": amount, "currency": currency,
        "created": at, "arrival_date": at + 2 * 86_400, "automatic": True, "status": "paid",
        "balance_transaction": stable_id("txn", account, "payout", currency, day),
        "destination": stable_id("ba", account, "bank"),
    })
    return payout


def _dispute(account: str, charge: JsonObject) -> JsonObject:
    dispute = _example("dispute")
    dispute.update({
        "id": stable_id("dp", account, charge["id"]), "amount": charge["amount"],
        "charge": charge["id"], "currency": charge["currency"], "created": charge["created"],
        "payment_intent": charge.get("payment_intent"), "status": "needs_response",
        "balance_transactions": [],
    })
    return dispute


def account_events(before: AccountView | None, after: AccountView, day: date) -> list[JsonObject]:
    """What one account's Stripe would have announced between two of its views."""
    acct = after.spec.id
    at = timestamp(served_until(day) - timedelta(hours=12))
    events: list[JsonObject] = []
    known_refunds = {r["id"] for r in before.refunds} if before else set()
    for refund in reversed(after.refunds):  # oldest first, as they happened
        if refund["id"] not in known_refunds:
            events.append(event("refund.created", acct, refund, refund["created"]))
    known_charges = {c["id"] for c in before.charges} if before else set()
    for charge in reversed(after.charges):
        if charge["id"] not in known_charges and charge.get("disputed"):
            events.append(event("charge.dispute.created", acct, _dispute(acct, charge),
                                charge["created"]))
    was = _available(before.balance) if before else {}
    now = _available(after.balance)
    automatic = after.spec.payout_schedule.interval != "manual"
    for currency in sorted(now):
        fell = was.get(currency, now[currency]) - now[currency]
        if fell > 0 and automatic:
            payout = _payout(acct, currency, fell, day, at)
            events.append(event("payout.created", acct, {**payout, "status": "in_transit"}, at))
            events.append(event("payout.paid", acct, payout, at))
    if before is not None and now != was:
        events.append(event("balance.available", acct, after.balance, at, day))
    return events


def world_events(world: World, before: date, after: date) -> list[JsonObject]:
    """Every connected account's events for the clock moving from `before` to `after`."""
    if after <= before:
        return []
    events: list[JsonObject] = []
    for spec in world.scenario.accounts:
        view = world.view(spec.id, after)
        if view is not None:
            events += account_events(world.view(spec.id, before), view, after)
    return events


def checked_webhook_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"--webhook-url {url[:80]!r} is not an http(s) address")
    return url


class WebhookPoster:
    """Signs and posts events to `url`, in order, from a background thread."""

    def __init__(self, url: str, secret: str, *, timeout_s: float = POST_TIMEOUT_S,
                 attempts: int = POST_ATTEMPTS) -> None:
        if not secret:
            raise ValueError("the webhook signing secret is empty")
        self.url = checked_webhook_url(url)
        self._secret = secret
        self._timeout_s = timeout_s
        self._attempts = attempts
        self._queue: queue.Queue[JsonObject | None] = queue.Queue(QUEUE_LIMIT)
        self._thread: threading.Thread | None = None
        self.sent: list[tuple[str, float, int]] = []  # (event id, when posted, status)
        self._lock = threading.Lock()

    def post(self, shaped: JsonObject) -> int:
        """Post one event now; its HTTP status, or 0 when no answer came."""
        payload = json.dumps(shaped, separators=(",", ":")).encode()
        status = 0
        for attempt in range(self._attempts):
            request = urllib.request.Request(  # noqa: S310 (http(s) only: checked_webhook_url)
                self.url, data=payload, method="POST", headers={
                    "Content-Type": "application/json; charset=utf-8",
                    "Stripe-Signature": sign(payload, self._secret, int(time.time())),
                    "User-Agent": USER_AGENT})
            posted = time.monotonic()
            try:
                with urllib.request.urlopen(request, timeout=self._timeout_s) as answer:  # noqa: S310
                    status = int(answer.status)
            except urllib.error.HTTPError as error:
                status = error.code
            except (urllib.error.URLError, OSError) as error:
                log.info("webhook %s to %s: no answer (%s)", shaped.get("id"), self.url, error)
                status = 0
            with self._lock:
                self.sent.append((str(shaped.get("id")), posted, status))
            if 200 <= status < 300 or 400 <= status < 500:
                break
            time.sleep(min(2.0, 0.2 * 2 ** attempt))
        log.info("webhook %s %s -> %s", shaped.get("type"), shaped.get("id"), status or "no answer")
        return status

    def send(self, events: list[JsonObject]) -> None:
        """Queue events for the background thread (started on first use)."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="sandbox-webhooks",
                                                daemon=True)
                self._thread.start()
        for shaped in events:
            try:
                self._queue.put_nowait(shaped)
            except queue.Full:
                log.warning("webhook %s dropped: %d events already wait", shaped.get("id"),
                            QUEUE_LIMIT)

    def _loop(self) -> None:
        while True:
            shaped = self._queue.get()
            if shaped is None:
                return
            self.post(shaped)

    def stop(self, timeout: float = 5.0) -> None:
        """Post what is queued (within `timeout`), then stop the thread."""
        with self._lock:
            thread = self._thread
        if thread is None:
            return
        try:
            self._queue.put(None, timeout=timeout)
        except queue.Full:
            return
        thread.join(timeout)

