"""Stripe's list endpoints: parameters, filters and cursor pagination.

Lists are newest first. `starting_after` / `ending_before` name an object of the unfiltered
list, as in Stripe, and the page holds the matching objects past that cursor.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from balance_guard.sandbox import errors
from balance_guard.sandbox.objects import list_object
from balance_guard.sandbox.templates import JsonObject

DEFAULT_LIMIT = 10
MAX_LIMIT = 100
_CURSORS = ("starting_after", "ending_before")
_CREATED_OPS: dict[str, Callable[[int, int], bool]] = {
    "gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le,
}
FilterKind = Literal["string", "boolean"]


@dataclass(frozen=True)
class ListEndpoint:
    url: str
    noun: str  # as Stripe names the object in "No such ...: 'id'"
    filters: Mapping[str, FilterKind] = field(default_factory=dict)
    created_filter: bool = True


def check_params(query: Mapping[str, str], allowed: set[str]) -> None:
    """Refuse what Stripe would: unknown parameters, and expansions we do not serve."""
    for key in query:
        base = key.split("[", 1)[0]
        if base == "expand":
            raise errors.StripeApiError(
                400, "The Balance Guard sandbox does not expand objects.", param="expand")
        if key not in allowed:
            raise errors.parameter_unknown(key)


def _integer(param: str, raw: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise errors.parameter_invalid(param, f"Invalid integer: {raw[:40]}",
                                       "parameter_invalid_integer") from None


def _limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    value = _integer("limit", raw)
    if value < 1:
        raise errors.parameter_invalid("limit", "This value must be greater than or equal to 1.",
                                       "parameter_invalid_integer")
    if value > MAX_LIMIT:
        raise errors.parameter_invalid(
            "limit", f"This value must be less than or equal to {MAX_LIMIT}.",
            "parameter_invalid_integer")
    return value


def _boolean(param: str, raw: str) -> bool:
    if raw in ("true", "false"):
        return raw == "true"
    raise errors.parameter_invalid(param, f"Invalid boolean: {raw[:40]}",
                                   "parameter_invalid_boolean")


Test = Callable[[JsonObject], bool]


def _created_test(compare: Callable[[int, int], bool], bound: int) -> Test:
    return lambda obj: compare(obj["created"], bound)


def _field_test(name: str, wanted: object) -> Test:
    return lambda obj: obj.get(name) == wanted


def _tests(endpoint: ListEndpoint, query: Mapping[str, str]) -> list[Test]:
    """One predicate per filter in the query (already checked against allowed names)."""
    tests: list[Test] = []
    for key, raw in query.items():
        if key == "created":
            tests.append(_created_test(operator.eq, _integer(key, raw)))
        elif key.startswith("created["):
            tests.append(_created_test(_CREATED_OPS[key[len("created["):-1]],
                                       _integer(key, raw)))
        elif key in endpoint.filters:
            kind = endpoint.filters[key]
            tests.append(_field_test(key, _boolean(key, raw) if kind == "boolean" else raw))
    return tests


def allowed_params(endpoint: ListEndpoint) -> set[str]:
    allowed = {"limit", *_CURSORS, *endpoint.filters}
    if endpoint.created_filter:
        allowed |= {"created", *(f"created[{op}]" for op in _CREATED_OPS)}
    return allowed


def page(endpoint: ListEndpoint, objects: list[JsonObject], query: Mapping[str, str]) -> JsonObject:
    """One page of `objects` (newest first) as Stripe's list envelope."""
    check_params(query, allowed_params(endpoint))
    limit = _limit(query.get("limit"))
    if all(c in query for c in _CURSORS):
        raise errors.StripeApiError(
            400, "You may only specify one of these parameters: ending_before, starting_after.")
    tests = _tests(endpoint, query)
    positions = {obj["id"]: index for index, obj in enumerate(objects)}
    selected = [(positions[obj["id"]], obj) for obj in objects if all(t(obj) for t in tests)]
    if "ending_before" in query:
        cursor = _cursor(endpoint, positions, query, "ending_before")
        before = [obj for index, obj in selected if index < cursor]
        return list_object(endpoint.url, before[-limit:], len(before) > limit)
    cursor = _cursor(endpoint, positions, query, "starting_after") if (
        "starting_after" in query) else -1
    after = [obj for index, obj in selected if index > cursor]
    return list_object(endpoint.url, after[:limit], len(after) > limit)


def _cursor(
    endpoint: ListEndpoint, positions: Mapping[str, int], query: Mapping[str, str], param: str
) -> int:
    ident = query[param]
    if ident not in positions:
        raise errors.resource_missing(endpoint.noun, ident, param)
    return positions[ident]
