"""Read-only access to Stripe for one platform, through the official SDK.

Only GET requests are made: /v1/account, /v1/accounts, /v1/balance, /v1/balance_settings,
/v1/charges, /v1/refunds, /v1/reserve/holds and /v1/reserve/plans/{id}. Every request goes
through one paced, counted HTTP client. Lists are paged by hand with a page cap, so a
misbehaving server cannot keep the run looping.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import stripe
from pydantic import BaseModel, ValidationError

from balance_guard.stripe.models import (
    StripeAccount,
    StripeBalance,
    StripeBalanceSettings,
    StripeCharge,
    StripeRefund,
    StripeReserveHold,
    StripeReservePlan,
)
from balance_guard.stripe.pacing import (
    STRIPE_ENDPOINT_RPS,
    PacedHttpClient,
    Pacer,
    PacerStats,
    RetryPolicy,
    SlotSource,
)
from balance_guard.stripe.redaction import redact, register_secret

log = logging.getLogger(__name__)

RESERVES_API_VERSION = "2026-01-28.preview"
PAGE_SIZE = 100
BODY_RETRIES = 2
MAX_PAGES = 500  # 50,000 objects per list: far past any real night, short of an endless loop
# This many refusals of the Reserves API before any success: the platform itself has no
# access (a preview it is not enrolled in, or a key without the permission), not one account.
PLATFORM_REFUSALS = 3

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


class PlatformError(Exception):
    """The platform itself cannot be reached or authenticated (CLI exit code 3)."""


class AccountReadError(Exception):
    """One connected account could not be read; the message is safe to show."""


class ReservesUnavailableError(Exception):
    """Stripe would not show this account's reserves; the message is safe to show."""


@dataclass
class Listing(Generic[T]):
    """Validated items of a list, a note for each item Stripe sent malformed, and the ids
    of those malformed items (so a malformed account is reported, not silently skipped)."""

    items: list[T]
    notices: list[str]
    rejected: list[tuple[str, str]]


def is_transient(error: Exception) -> bool:
    """Whether a failed read is worth trying again later: rate limits, Stripe's own errors
    and unreadable answers, the network, timeouts. Refusals (401, 403, 404, 400) are not."""
    if isinstance(error, stripe.RateLimitError | stripe.APIConnectionError | stripe.APIError):
        return True
    status = getattr(error, "http_status", None)
    return isinstance(status, int) and (status == 409 or status >= 500)


def describe(error: stripe.StripeError) -> str:
    """A one-line reason fit for a report: status and Stripe's message, never credentials."""
    status = error.http_status or "network"
    message = " ".join((error.user_message or type(error).__name__).split())
    return f"Stripe {status}: {redact(message)[:300]}"


class StripeReader:
    """One platform's Stripe, read on behalf of its connected accounts."""

    def __init__(
        self,
        api_key: str,
        *,
        api_base: str | None = None,
        max_rps: float | None = None,
        slots: SlotSource | None = None,
        endpoint_rps: float = STRIPE_ENDPOINT_RPS,
        reservation: int = 1,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
    ) -> None:
        register_secret(api_key)
        self.max_rps = max_rps
        pacer = Pacer(max_rps, slots=slots, endpoint_rps=endpoint_rps,
                      reservation=reservation) if max_rps else None
        self.http = PacedHttpClient(pacer, timeout=timeout, retry=retry)
        self.client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else None,
            # Our client runs the retry loop itself (see PacedHttpClient).
            max_network_retries=0,
            http_client=self.http,
        )
        self.reserves_available: bool | None = None
        self.reserves_refusal: str | None = None  # why, when the whole platform is refused
        self._reserves_lock = threading.Lock()
        self._reserves_read = 0
        self._reserves_refused = 0

    @property
    def request_count(self) -> int:
        return self.http.request_count

    def pacer_stats(self) -> PacerStats | None:
        return self.http.pacer.stats() if self.http.pacer else None

    def set_deadline(self, seconds: float | None) -> None:
        """From now on, no request starts and no retry waits past `seconds` from now."""
        self.http.deadline.set_in(seconds)

    # -- platform ---------------------------------------------------------------------------

    def platform_account_id(self) -> str:
        """Prove the key works before touching any connected account."""
        try:
            body = self._get("/v1/account", None)
        except stripe.AuthenticationError as error:
            raise PlatformError(f"Stripe rejected the platform key ({describe(error)})") from None
        except stripe.PermissionError as error:
            raise PlatformError("the platform key may not read its own account: it lacks a "
                                f"permission ({describe(error)})") from None
        except stripe.StripeError as error:
            raise PlatformError(f"Stripe could not be reached ({describe(error)})") from None
        return str(body.get("id", ""))

    def list_accounts(self) -> Listing[StripeAccount]:
        try:
            return self._list("/v1/accounts", None, StripeAccount, {})
        except stripe.StripeError as error:
            raise PlatformError(f"listing connected accounts failed ({describe(error)})") from None
        except AccountReadError as error:
            raise PlatformError(f"listing connected accounts failed ({error})") from None

    # -- one connected account --------------------------------------------------------------

    def balance(self, account: str) -> StripeBalance:
        return self._one("/v1/balance", account, StripeBalance)

    def balance_settings(self, account: str) -> StripeBalanceSettings | None:
        """None when Stripe will not show them (retrieval for Express accounts is unconfirmed)."""
        try:
            return self._one("/v1/balance_settings", account, StripeBalanceSettings)
        except (stripe.InvalidRequestError, stripe.PermissionError) as error:
            log.info("balance settings unavailable for %s: %s", account, describe(error))
            return None

    def charges(self, account: str, created_gte: int, created_lte: int) -> Listing[StripeCharge]:
        window = {"created": {"gte": created_gte, "lte": created_lte}}
        return self._list("/v1/charges", account, StripeCharge, window)

    def refunds(self, account: str, created_gte: int, created_lte: int) -> Listing[StripeRefund]:
        window = {"created": {"gte": created_gte, "lte": created_lte}}
        return self._list("/v1/refunds", account, StripeRefund, window)

    def reserve_holds(
        self, account: str, known: frozenset[str] = frozenset()
    ) -> Listing[StripeReserveHold]:
        """Holds, newest first. Raises ReservesUnavailableError when Stripe refuses them.

        The holds list has no `created` filter: with `known` ids, paging stops after the
        first page that reaches a hold already known, so a night costs one request.
        """
        if self.reserves_available is False:
            raise ReservesUnavailableError(
                f"the platform cannot read reserves ({self.reserves_refusal})")
        try:
            listing = self._list("/v1/reserve/holds", account, StripeReserveHold, {},
                                 version=RESERVES_API_VERSION, stop_at=known)
        except stripe.PermissionError as error:
            # Judged per account: one account's refusal says nothing of the others, but
            # refusals before any success mean the platform has no access at all.
            reason = describe(error)
            with self._reserves_lock:
                self._reserves_refused += 1
                if not self._reserves_read and self._reserves_refused >= PLATFORM_REFUSALS:
                    self.reserves_available = False
                    self.reserves_refusal = reason
            log.info("reserves unavailable for %s: %s", account, reason)
            raise ReservesUnavailableError(reason) from None
        except stripe.InvalidRequestError as error:
            log.info("reserves unavailable for %s: %s", account, describe(error))
            raise ReservesUnavailableError(describe(error)) from None
        with self._reserves_lock:
            self._reserves_read += 1
        self.reserves_available = True
        return listing

    def reserve_plan(self, account: str, plan_id: str) -> StripeReservePlan:
        return self._one(f"/v1/reserve/plans/{plan_id}", account, StripeReservePlan,
                         version=RESERVES_API_VERSION)

    # -- plumbing -------------------------------------------------------------------------

    def _get(
        self, path: str, account: str | None, params: dict[str, Any] | None = None,
        version: str | None = None,
    ) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if account:
            options["stripe_account"] = account
        if version:
            options["stripe_version"] = version
        # raw_request rather than typed services: the SDK's deserialisation crashes on real
        # balance_settings (a null `automatic_transfer_rules_by_currency`, as Stripe's own
        # example has it) and has no reserve service; we validate every object
        # with our own models anyway. Errors still come back as the SDK's exceptions.
        for attempt in range(1 + BODY_RETRIES):
            try:
                response = self.client.raw_request("get", path, **(params or {}), **options)
                break
            except stripe.APIError as error:
                # A 200 whose body is cut or not JSON: the SDK never retries it, but a read
                # is safe to repeat.
                if error.http_status != 200 or attempt == BODY_RETRIES:
                    raise
                log.info("unreadable body from %s; reading it again", path)
        body = response.data
        if not isinstance(body, dict):
            raise stripe.APIError("Stripe sent an unexpected body", http_status=response.code)
        return body

    def _one(self, path: str, account: str, model: type[M], version: str | None = None) -> M:
        body = self._get(path, account, version=version)
        try:
            return model.model_validate(body)
        except ValidationError as error:
            raise AccountReadError(
                f"Stripe sent a malformed {path.rsplit('/', 1)[-1]} object "
                f"({error.error_count()} problem(s), first: {_first_problem(error)})"
            ) from None

    def _list(
        self, path: str, account: str | None, model: type[M], filters: dict[str, Any],
        version: str | None = None, stop_at: frozenset[str] = frozenset(),
    ) -> Listing[M]:
        listing: Listing[M] = Listing([], [], [])
        pages = self._pages(lambda params: self._get(path, account, params, version), filters,
                            stop_at)
        for raw in pages:
            try:
                listing.items.append(model.model_validate(raw))
            except ValidationError as error:
                ident = raw.get("id") if isinstance(raw, dict) else None
                problem = _first_problem(error)
                listing.notices.append(
                    f"skipped a malformed object from {path} ({str(ident)[:40]}): {problem}")
                # An object without a usable id is still reported, under what it did send.
                shown = ident if isinstance(ident, str) and ident else f"(id {ident!r})"
                listing.rejected.append((shown[:80], problem))
        return listing

    @staticmethod
    def _pages(
        fetch: Callable[[dict[str, Any]], dict[str, Any]], filters: dict[str, Any],
        stop_at: frozenset[str] = frozenset(),
    ) -> Iterator[Any]:
        params: dict[str, Any] = {"limit": PAGE_SIZE, **filters}
        for _ in range(MAX_PAGES):
            page = fetch(params)
            data = page.get("data")
            if not isinstance(data, list):
                raise stripe.APIError("Stripe sent a list without data")
            yield from data
            last = data[-1].get("id") if data and isinstance(data[-1], dict) else None
            reached_known = any(isinstance(item, dict) and item.get("id") in stop_at
                                for item in data)
            if not page.get("has_more") or not last or reached_known:
                return
            params = {**params, "starting_after": last}
        raise AccountReadError(f"more than {MAX_PAGES} pages in one list; stopped reading")


def _first_problem(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ()))
    return f"{where}: {first.get('msg', 'invalid')}"[:160]
