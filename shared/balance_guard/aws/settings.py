"""The Lambda functions' configuration, read once per container from the environment.

Variables: `STRIPE_SECRET_ARN` (or `STRIPE_API_KEY`, for tests), `STRIPE_API_BASE`,
`STATE_TABLE`, `CHECK_QUEUE_URL`, `REPORTS_BUCKET`, `SENDER_EMAIL`, `OPS_EMAIL`,
`DOCS_BASE_URL`, `DEFAULT_LOCALE`, `STRIPE_MAX_RPS`, the policy's own variables (read by
`config.load_policy`: `SUPPORT_EMAIL`, `PLATFORM_NAME`, `PLATFORM_PORTAL_URL`...); and, set
by the template, `DIGEST_FUNCTION_NAME` (what `check_account` invokes when a run is done),
`CHECK_MAX_RECEIVES` (the queue's `maxReceiveCount`) and `SES_CONFIGURATION_SET`; for the
webhook, `STRIPE_WEBHOOK_SECRET_ARN` (or `STRIPE_WEBHOOK_SECRET`, for tests) and
`BALANCE_GUARD_COALESCE_SECONDS` (webhook/coalesce.py reads it).

The Stripe key itself is never held here (nor the webhook's signing secret: `webhook_secret()`):
`stripe_key()` fetches it through Powertools
Parameters (cached for a few minutes) and nothing in this module prints or logs it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from balance_guard.config import ConfigError, checked_api_base, load_policy
from balance_guard.domain.policy import Policy
from balance_guard.webhook.coalesce import DEFAULT_COALESCE_S, coalesce_seconds

SECRET_MAX_AGE_S = 300  # a rotated key is picked up within five minutes
# Keys a JSON secret may hold the Stripe key under (a plain-text secret is the key itself).
SECRET_JSON_KEYS = ("api_key", "STRIPE_API_KEY", "secret_key")
WEBHOOK_SECRET_JSON_KEYS = ("webhook_secret", "STRIPE_WEBHOOK_SECRET", "signing_secret")
DEFAULT_MAX_RPS = 20.0
DEFAULT_MAX_RECEIVES = 5


@dataclass(frozen=True)
class Settings:
    state_table: str
    policy: Policy
    stripe_secret_arn: str | None = None
    stripe_api_key: str | None = field(default=None, repr=False)
    stripe_api_base: str | None = None
    check_queue_url: str | None = None
    reports_bucket: str | None = None
    sender_email: str | None = None
    ops_email: str | None = None
    digest_function: str | None = None
    ses_configuration_set: str | None = None
    stripe_max_rps: float = DEFAULT_MAX_RPS
    max_receives: int = DEFAULT_MAX_RECEIVES
    webhook_secret_arn: str | None = None
    webhook_secret_value: str | None = field(default=None, repr=False)
    coalesce_s: float = DEFAULT_COALESCE_S

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Raises ConfigError, naming the variable, when a setting is missing or invalid."""
        env = os.environ if env is None else env

        def text(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        table = text("STATE_TABLE")
        if table is None:
            raise ConfigError("STATE_TABLE is not set: the DynamoDB table for state and runs")
        return cls(
            state_table=table,
            policy=load_policy(env),
            stripe_secret_arn=text("STRIPE_SECRET_ARN"),
            stripe_api_key=text("STRIPE_API_KEY"),
            stripe_api_base=_api_base(text("STRIPE_API_BASE")),
            check_queue_url=text("CHECK_QUEUE_URL"),
            reports_bucket=text("REPORTS_BUCKET"),
            sender_email=text("SENDER_EMAIL"),
            ops_email=text("OPS_EMAIL"),
            digest_function=text("DIGEST_FUNCTION_NAME"),
            ses_configuration_set=text("SES_CONFIGURATION_SET"),
            stripe_max_rps=_number(env, "STRIPE_MAX_RPS", DEFAULT_MAX_RPS),
            max_receives=int(_number(env, "CHECK_MAX_RECEIVES", DEFAULT_MAX_RECEIVES,
                                     whole=True)),
            webhook_secret_arn=text("STRIPE_WEBHOOK_SECRET_ARN"),
            webhook_secret_value=text("STRIPE_WEBHOOK_SECRET"),
            coalesce_s=coalesce_seconds(env),
        )

    def require(self, name: str) -> str:
        """A setting this function cannot work without, e.g. `require("reports_bucket")`."""
        value = getattr(self, name)
        if not value:
            raise ConfigError(f"{name.upper()} is not set")
        return str(value)

    def stripe_key(self) -> str:
        """The platform's Stripe key: from Secrets Manager (cached), else STRIPE_API_KEY."""
        if self.stripe_secret_arn:
            from aws_lambda_powertools.utilities import parameters

            secret = parameters.get_secret(self.stripe_secret_arn, max_age=SECRET_MAX_AGE_S)
            return _key_in(secret)
        if self.stripe_api_key:
            return self.stripe_api_key
        raise ConfigError("set STRIPE_SECRET_ARN (or STRIPE_API_KEY for local tests)")


    def webhook_secret(self) -> str:
        """The webhook endpoint's signing secret (whsec_...): from Secrets Manager (cached),
        else STRIPE_WEBHOOK_SECRET. Plain text, or JSON with "webhook_secret"."""
        if self.webhook_secret_arn:
            from aws_lambda_powertools.utilities import parameters

            secret = parameters.get_secret(self.webhook_secret_arn, max_age=SECRET_MAX_AGE_S)
            return _key_in(secret, WEBHOOK_SECRET_JSON_KEYS, "webhook signing secret")
        if self.webhook_secret_value:
            return self.webhook_secret_value
        raise ConfigError("set STRIPE_WEBHOOK_SECRET_ARN (or STRIPE_WEBHOOK_SECRET for "
                          "local tests)")


def _api_base(base: str | None) -> str | None:
    return None if base is None else checked_api_base(base, "STRIPE_API_BASE")


def _number(env: Mapping[str, str], name: str, default: float, *, whole: bool = False) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(int(raw)) if whole else float(raw)
    except ValueError:
        kind = "a whole number" if whole else "a number"
        raise ConfigError(f"{name} must be {kind} (got {raw[:20]!r})") from None
    if value <= 0:
        raise ConfigError(f"{name} must be above zero (got {raw[:20]!r})")
    return value


def _key_in(secret: str, keys: tuple[str, ...] = SECRET_JSON_KEYS,
            what: str = "Stripe secret") -> str:
    """The key in a secret that is either the key itself or a JSON object holding it under
    one of `keys`.

    Error messages never quote the secret, not even partly.
    """
    text = secret.strip()
    if text.startswith("{"):
        try:
            values = json.loads(text)
        except ValueError:
            raise ConfigError(f"the {what} looks like JSON but does not parse") from None
        found = [values.get(k) for k in keys if isinstance(values, dict)]
        text = next((str(v).strip() for v in found if isinstance(v, str) and v.strip()), "")
        if not text:
            raise ConfigError(f"the {what} holds no key under any of {', '.join(keys)}")
    if not text:
        raise ConfigError(f"the {what} is empty")
    return text
