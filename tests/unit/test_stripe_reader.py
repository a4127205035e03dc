from __future__ import annotations

import stripe

from balance_guard.adapters.stripe_reader import describe, redact


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
