"""A local Stripe-compatible server driven by scenario files .

It serves, read-only, every endpoint Balance Guard calls, for the platform and each
connected account, with Stripe's object shapes, list pagination, error bodies, and
injectable latency, rate limit and faults.
"""

from balance_guard.sandbox.faults import FaultKind
from balance_guard.sandbox.scenario import (
    DEFAULT_SECRET_KEY,
    Scenario,
    ScenarioError,
    load_scenario,
    parse_scenario,
)
from balance_guard.sandbox.server import Sandbox, serve_forever

__all__ = [
    "DEFAULT_SECRET_KEY",
    "FaultKind",
    "Sandbox",
    "Scenario",
    "ScenarioError",
    "load_scenario",
    "parse_scenario",
    "serve_forever",
]
