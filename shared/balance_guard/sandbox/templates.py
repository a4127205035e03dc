"""Stripe's own example objects, the starting point of every object the sandbox serves.

`stripe_objects.json` holds the examples for the types we serve, copied unchanged from
`fixtures3.json` in Stripe's public openapi repository (MIT, `LICENSE-stripe-openapi`).
Starting from them guarantees every field Stripe documents is present; the builders then
overwrite the example's placeholder values with the scenario's.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from typing import Any

JsonObject = dict[str, Any]


@cache
def _examples() -> dict[str, JsonObject]:
    text = (resources.files("balance_guard.sandbox") / "stripe_objects.json").read_text(
        encoding="utf-8")
    examples: dict[str, JsonObject] = json.loads(text)["resources"]
    return examples


def kinds() -> list[str]:
    return sorted(_examples())


def template(kind: str) -> JsonObject:
    """A fresh deep copy of Stripe's example object of that kind."""
    return copy.deepcopy(_examples()[kind])


def deep_merge(base: JsonObject, overlay: JsonObject) -> JsonObject:
    """`overlay` written into `base` (in place): nested objects merge, anything else replaces."""
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            deep_merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base
