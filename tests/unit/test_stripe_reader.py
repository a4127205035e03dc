from __future__ import annotations

from typing import Any

import pytest
import stripe

from balance_guard.stripe.reader import (
    MAX_PAGES,
    PLATFORM_REFUSALS,
    Listing,
    PlatformError,
    ReservesUnavailableError,
    StripeReader,
    describe,
    is_transient,
    redact,
)


def test_key_shaped_text_is_redacted_whatever_part_is_shown() -> None:
    assert "1234" not in redact("Invalid API Key provided: sk_test_****1234")
    assert redact("key rk_live_abcDEF123 denied") == "key [redacted key] denied"


def test_describe_is_one_line_with_status_and_no_key() -> None:
    error = stripe.AuthenticationError("Invalid API Key provided: sk_live_****9876\nRetry.",
                                       http_status=401)
    text = describe(error)
    assert text.startswith("Stripe 401: ")
    assert "\n" not in text
    assert "9876" not in text
    assert "Retry." in text


def endless(reader: StripeReader) -> None:
    """Every page of every list says there is more, and names a new object."""
    pages = iter(range(10**6))

    def page(path: str, account: str | None, params: Any = None, version: Any = None) -> Any:
        n = next(pages)
        return {"data": [{"id": f"acct_{n:08d}", "object": "account"}], "has_more": True}

    reader._get = page  # type: ignore[method-assign]


def test_an_endless_account_listing_is_a_platform_error_not_a_crash() -> None:
    reader = StripeReader("sk_test_endlessPAGINATION1")
    endless(reader)
    with pytest.raises(PlatformError, match=f"more than {MAX_PAGES} pages"):
        reader.list_accounts()


def refusing(reader: StripeReader, refused: set[str]) -> None:
    def listing(path: str, account: str | None, *args: Any, **kwargs: Any) -> Any:
        if account in refused:
            raise stripe.PermissionError("The provided key does not have the required "
                                         "permissions (rak_reserve_read).", http_status=403)
        return Listing([], [], [])

    reader._list = listing  # type: ignore[method-assign]


def test_one_accounts_reserve_refusal_is_judged_for_that_account_only() -> None:
    reader = StripeReader("sk_test_reserveREFUSAL001")
    refusing(reader, {"acct_b"})
    assert reader.reserve_holds("acct_a").items == []
    with pytest.raises(ReservesUnavailableError, match=r"Stripe 403: .*rak_reserve_read"):
        reader.reserve_holds("acct_b")
    for _ in range(PLATFORM_REFUSALS):
        with pytest.raises(ReservesUnavailableError):
            reader.reserve_holds("acct_b")
    assert reader.reserves_available is True  # one success: the platform has access
    assert reader.reserve_holds("acct_c").items == []


def test_refusals_before_any_success_are_the_platforms_and_stop_the_asking() -> None:
    reader = StripeReader("sk_test_reserveREFUSAL002")
    refusing(reader, {"acct_a", "acct_b", "acct_c", "acct_d"})
    for account in ("acct_a", "acct_b"):
        with pytest.raises(ReservesUnavailableError):
            reader.reserve_holds(account)
    assert reader.reserves_available is None  # two refusals may still be two accounts
    with pytest.raises(ReservesUnavailableError):
        reader.reserve_holds("acct_c")
    assert reader.reserves_available is False
    assert reader.reserves_refusal is not None
    assert "rak_reserve_read" in reader.reserves_refusal
    refusing(reader, set())  # not asked again tonight, whatever Stripe would say
    with pytest.raises(ReservesUnavailableError, match="the platform cannot read reserves"):
        reader.reserve_holds("acct_d")


@pytest.mark.parametrize(("error", "transient"), [
    (stripe.RateLimitError("slow down", http_status=429), True),
    (stripe.APIConnectionError("reset"), True),
    (stripe.APIError("bad gateway", http_status=502), True),
    (stripe.APIError("cut-off body", http_status=200), True),
    (stripe.PermissionError("no", http_status=403), False),
    (stripe.AuthenticationError("no", http_status=401), False),
    (stripe.InvalidRequestError("no such", None, http_status=404), False),
])
def test_passing_errors_are_told_from_refusals(error: Exception, transient: bool) -> None:
    assert is_transient(error) is transient
