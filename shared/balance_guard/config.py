"""The platform policy from the environment or a policy file (the shell's job, not the core's)."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from pydantic import ValidationError

from balance_guard.domain.policy import Policy

# Environment variable -> Policy field.
ENVIRONMENT = {
    "BALANCE_GUARD_LOOKBACK_DAYS": "exposure_lookback_days",
    "BALANCE_GUARD_RELEASE_HORIZON_DAYS": "release_horizon_days",
    "BALANCE_GUARD_REMINDER_DAYS": "warning_reminder_days",
    "BALANCE_GUARD_REALTIME_EMAILS_PER_DAY": "realtime_emails_per_day",
    "BALANCE_GUARD_ARRIVAL_DAYS": "arrival_business_days",
    "BALANCE_GUARD_TIMEZONE": "timezone",
    "DEFAULT_LOCALE": "default_locale",
    "DOCS_BASE_URL": "docs_base_url",
    "SUPPORT_EMAIL": "support_contact",
    "PLATFORM_NAME": "platform_name",
    "PLATFORM_PORTAL_URL": "platform_portal_url",
    "PLATFORM_COUNTRY": "platform_country",
}
POLICY_FILE = "BALANCE_GUARD_POLICY_FILE"


class ConfigError(Exception):
    """A configuration mistake, worded for the operator (CLI exit code 2)."""


def load_policy(env: Mapping[str, str] | None = None, **overrides: Any) -> Policy:
    """Defaults, then the policy file, then environment variables, then explicit overrides."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    path = env.get(POLICY_FILE)
    if path:
        try:
            loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as error:
            raise ConfigError(f"cannot read the policy file {path}: {error}") from None
        if not isinstance(loaded, dict):
            raise ConfigError(f"the policy file {path} must be a mapping of settings")
        values.update(loaded)
    values.update({field: env[name] for name, field in ENVIRONMENT.items() if env.get(name)})
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return Policy.model_validate(values)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"invalid policy setting {where}: {first['msg']}") from None


def checked_api_base(base: str, name: str) -> str:
    """A Stripe API address fit to receive the key: https, or plain http to a test server
    on this machine only. `name` is the option or variable that gave it."""
    parts = urlsplit(base)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigError(f"{name} {base[:80]!r} is not an http(s) address")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ConfigError(f"{name} {base[:80]!r} must use https: the key travels with every "
                          "request, and only this machine's own test server may be plain http")
    return base


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
