"""The GET endpoints the sandbox serves, and what each answers from an account's view."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

from balance_guard.sandbox import errors
from balance_guard.sandbox.listing import ListEndpoint, check_params, page
from balance_guard.sandbox.scenario import Endpoint
from balance_guard.sandbox.templates import JsonObject
from balance_guard.sandbox.world import AccountView, World

ACCOUNTS = ListEndpoint("/v1/accounts", "account")
CHARGES = ListEndpoint("/v1/charges", "charge", {
    "customer": "string", "payment_intent": "string", "transfer_group": "string"})
REFUNDS = ListEndpoint("/v1/refunds", "refund", {"charge": "string", "payment_intent": "string"})
BALANCE_TRANSACTIONS = ListEndpoint("/v1/balance_transactions", "balance transaction", {
    "currency": "string", "type": "string", "source": "string", "payout": "string"})
# Stripe's Reserves API lists holds without a `created` filter: one is refused.
RESERVE_HOLDS = ListEndpoint("/v1/reserve/holds", "reserve hold", {
    "currency": "string", "is_releasable": "boolean", "reason": "string",
    "reserve_plan": "string"}, created_filter=False)


@dataclass(frozen=True)
class Call:
    """One authenticated GET, resolved to the account it is made for."""

    world: World
    view: AccountView
    is_platform: bool
    clock: date
    query: Mapping[str, str]
    ident: str  # the `{id}` of a retrieve route, else ""


Handler = Callable[[Call], JsonObject]


@dataclass(frozen=True)
class Route:
    name: Endpoint
    pattern: re.Pattern[str]
    handler: Handler
    preview: bool = False  # needs a `.preview` Stripe-Version and the platform's access


def _no_params(call: Call) -> None:
    check_params(call.query, set())


def _account(call: Call) -> JsonObject:
    _no_params(call)
    return call.view.account


def _accounts(call: Call) -> JsonObject:
    # A connected account has no connected accounts of its own.
    found = call.world.connected_accounts(call.clock) if call.is_platform else []
    return page(ACCOUNTS, found, call.query)


def _account_by_id(call: Call) -> JsonObject:
    _no_params(call)
    if call.ident == call.view.account["id"]:
        return call.view.account
    if call.is_platform:
        for account in call.world.connected_accounts(call.clock):
            if account["id"] == call.ident:
                return account
    raise errors.resource_missing("account", call.ident)


def _balance(call: Call) -> JsonObject:
    _no_params(call)
    return call.view.balance


def _balance_settings(call: Call) -> JsonObject:
    _no_params(call)
    if call.view.balance_settings is None:
        raise errors.balance_settings_unavailable(call.view.spec.id)
    return call.view.balance_settings


def _lister(endpoint: ListEndpoint, pick: Callable[[AccountView], list[JsonObject]]) -> Handler:
    def handler(call: Call) -> JsonObject:
        return page(endpoint, pick(call.view), call.query)
    return handler


def _retriever(endpoint: ListEndpoint,
               pick: Callable[[AccountView], list[JsonObject]]) -> Handler:
    def handler(call: Call) -> JsonObject:
        _no_params(call)
        for obj in pick(call.view):
            if obj["id"] == call.ident:
                return obj
        raise errors.resource_missing(endpoint.noun, call.ident)
    return handler


def _reserve_plan(call: Call) -> JsonObject:
    _no_params(call)
    plan = call.view.reserve_plans.get(call.ident)
    if plan is None:
        raise errors.resource_missing("reserve plan", call.ident)
    return plan


def _route(name: Endpoint, pattern: str, handler: Handler, preview: bool = False) -> Route:
    return Route(name, re.compile(f"^{pattern}$"), handler, preview)


_ID = "/(?P<id>[A-Za-z0-9_]+)"
ROUTES: tuple[Route, ...] = (
    _route("account", "/v1/account", _account),
    _route("accounts", "/v1/accounts", _accounts),
    _route("accounts", "/v1/accounts" + _ID, _account_by_id),
    _route("balance", "/v1/balance", _balance),
    _route("balance_settings", "/v1/balance_settings", _balance_settings),
    _route("charges", "/v1/charges", _lister(CHARGES, lambda v: v.charges)),
    _route("charges", "/v1/charges" + _ID, _retriever(CHARGES, lambda v: v.charges)),
    _route("refunds", "/v1/refunds", _lister(REFUNDS, lambda v: v.refunds)),
    _route("refunds", "/v1/refunds" + _ID, _retriever(REFUNDS, lambda v: v.refunds)),
    _route("balance_transactions", "/v1/balance_transactions",
           _lister(BALANCE_TRANSACTIONS, lambda v: v.balance_transactions)),
    _route("balance_transactions", "/v1/balance_transactions" + _ID,
           _retriever(BALANCE_TRANSACTIONS, lambda v: v.balance_transactions)),
    _route("reserve_holds", "/v1/reserve/holds", _lister(RESERVE_HOLDS,
                                                         lambda v: v.reserve_holds), True),
    _route("reserve_holds", "/v1/reserve/holds" + _ID,
           _retriever(RESERVE_HOLDS, lambda v: v.reserve_holds), True),
    _route("reserve_plans", "/v1/reserve/plans" + _ID, _reserve_plan, True),
)


def resolve(path: str) -> tuple[Route, str] | None:
    """The route for a path and the id it names, or None for a URL Stripe would not know."""
    for route in ROUTES:
        match = route.pattern.match(path)
        if match:
            return route, match.groupdict().get("id") or ""
    return None
