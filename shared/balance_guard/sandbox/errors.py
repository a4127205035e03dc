"""Stripe's error responses: the statuses, bodies and headers clients act on.

Bodies follow Stripe's shape, `{"error": {"type", "code", "message", "param", "doc_url",
"request_log_url"}}`, so the SDK raises the same exception class it would against Stripe
(InvalidRequestError for 400/404, AuthenticationError for 401, PermissionError for 403,
RateLimitError for 429, APIError for 5xx).
"""

from __future__ import annotations

from typing import Any

INVALID_REQUEST = "invalid_request_error"
API_ERROR = "api_error"

_ERROR_DOCS = "https://stripe.com/docs/error-codes/"
_SUPPORT = "Please see https://stripe.com/docs or we can help at https://support.stripe.com/."


class StripeApiError(Exception):
    """An error the sandbox answers instead of an object."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type_: str = INVALID_REQUEST,
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type_
        self.code = code
        self.param = param
        self.headers = headers or {}

    def body(self, request_id: str) -> dict[str, Any]:
        error: dict[str, Any] = {
            "message": self.message,
            "type": self.type,
            "request_log_url": f"https://dashboard.stripe.com/test/logs/{request_id}",
        }
        if self.code:
            error["code"] = self.code
            error["doc_url"] = _ERROR_DOCS + self.code.replace("_", "-")
        if self.param:
            error["param"] = self.param
        return {"error": error}


def masked_key(key: str) -> str:
    """The key's kind only (`sk_test_****`).

    Stripe shows the last four characters too; the sandbox shows none, because the product
    promises never to print a key even partly, and echoing a tail would let a leak through
    an error message look harmless in tests.
    """
    for prefix in ("sk_test_", "sk_live_", "rk_test_", "rk_live_", "pk_test_", "pk_live_"):
        if key.startswith(prefix):
            return prefix + "*" * 24
    return "*" * 24


def no_api_key() -> StripeApiError:
    return StripeApiError(
        401, "You did not provide an API key. You need to provide your API key in the "
             "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
             "YOUR_SECRET_KEY'). " + _SUPPORT)


def invalid_api_key(key: str) -> StripeApiError:
    return StripeApiError(401, f"Invalid API Key provided: {masked_key(key)}")


def account_invalid(account_id: str, key: str) -> StripeApiError:
    return StripeApiError(
        403, f"The provided key '{masked_key(key)}' does not have access to account "
             f"'{account_id[:40]}' (or that account does not exist). Application access may "
             "have been revoked.",
        code="account_invalid")


def unrecognized_url(method: str, path: str) -> StripeApiError:
    return StripeApiError(404, f"Unrecognized request URL ({method}: {path[:200]}). {_SUPPORT}")


def resource_missing(noun: str, ident: str, param: str = "id") -> StripeApiError:
    status = 404 if param == "id" else 400
    return StripeApiError(status, f"No such {noun}: '{ident[:80]}'", code="resource_missing",
                          param=param)


def parameter_unknown(param: str) -> StripeApiError:
    return StripeApiError(400, f"Received unknown parameter: {param[:80]}",
                          code="parameter_unknown", param=param[:80])


def parameter_invalid(param: str, message: str, code: str) -> StripeApiError:
    return StripeApiError(400, message, code=code, param=param)


# `Stripe-Rate-Limited-Reason` values: which of Stripe's limits refused the request.
GLOBAL_RATE = "global-rate"
ENDPOINT_RATE = "endpoint-rate"
RATE_LIMIT_REASON_HEADER = "Stripe-Rate-Limited-Reason"


def rate_limited(reason: str = GLOBAL_RATE) -> StripeApiError:
    """A real rate limit, as Stripe answers it.

    Stripe sends no `Stripe-Should-Retry` header on a rate limit: the official SDKs
    deliberately do not retry one (stripe-python raises RateLimitError at once), so backing
    off is the client's job. Only a lock timeout (`lock_timeout`) is marked retryable.
    """
    return StripeApiError(
        429, "Request rate limit exceeded. You can learn more about rate limits here "
             "https://stripe.com/docs/rate-limits.",
        code="rate_limit", headers={RATE_LIMIT_REASON_HEADER: reason})


def lock_timeout() -> StripeApiError:
    """Another request holds the object: Stripe's one 429 that says retry."""
    return StripeApiError(
        429, "This object cannot be accessed right now because another API request or Stripe "
             "process is currently accessing it. If you see this error intermittently, retry "
             "the request. If you see this error frequently and are making multiple "
             "concurrent requests to a single object, make your requests serially or at a "
             "lower rate. See https://stripe.com/docs/rate-limits for more details.",
        code="lock_timeout", headers={"Stripe-Should-Retry": "true"})


def server_error(status: int, retry: bool) -> StripeApiError:
    headers = {"Stripe-Should-Retry": "true"} if retry else {}
    return StripeApiError(
        status, "An unknown error occurred while processing your request. " + _SUPPORT,
        type_=API_ERROR, headers=headers)


def read_only(method: str, path: str) -> StripeApiError:
    # Stripe would accept the write; the sandbox refuses it so tests can prove none is made.
    return StripeApiError(
        405, f"The Balance Guard sandbox is read-only: {method} {path[:200]} was refused "
             "and counted.",
        code="sandbox_read_only", headers={"Allow": "GET", "Stripe-Should-Retry": "false"})


def preview_version_required(version: str | None) -> StripeApiError:
    return StripeApiError(
        400, f"The Reserves API is in preview and Stripe-Version {(version or 'none')[:40]!r} "
             "is not a preview version. Send a Stripe-Version ending in '.preview' (for "
             "example 2026-01-28.preview).",
        param="Stripe-Version")


def preview_access_denied() -> StripeApiError:
    return StripeApiError(
        403, "Your platform does not have access to the Reserves API preview. Contact Stripe "
             "to request access.")


def balance_settings_unavailable(account_id: str) -> StripeApiError:
    return StripeApiError(
        403, f"Balance settings cannot be retrieved for account '{account_id[:40]}' with "
             "this key.")
