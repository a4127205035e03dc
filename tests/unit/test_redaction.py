"""The key in use never reaches an output, in any form an echo can take."""

from __future__ import annotations

import logging
from urllib.parse import quote

import pytest

from balance_guard.stripe.redaction import REDACTED, RedactingFilter, redact, register_secret

KEY = "sk_live_51Redaction0Test9Key8Value"
BODY = KEY.removeprefix("sk_live_")


@pytest.fixture(autouse=True)
def registered() -> None:
    register_secret(KEY)


@pytest.mark.parametrize("echo", [
    KEY,
    KEY.upper(),
    KEY.lower(),
    KEY.replace("_", "%5F"),  # URL-encoded underscores
    KEY.replace("_", "%5f"),
    "".join(f"%{ord(c):02X}" for c in KEY),  # every character encoded
    quote(KEY, safe=""),
    BODY,  # without its prefix
    BODY.upper(),
])
def test_every_form_of_the_key_is_redacted(echo: str) -> None:
    text = f"Invalid API Key provided: {echo} (request req_123)"
    assert redact(text) == f"Invalid API Key provided: {REDACTED} (request req_123)"


def test_other_key_shaped_text_is_redacted_too() -> None:
    assert redact("key rk_test_****1234 refused") == f"key {REDACTED} refused"
    assert redact("key RK_TEST_abc refused") == f"key {REDACTED} refused"


def test_ordinary_text_is_left_alone() -> None:
    text = "Stripe 500: An unknown error occurred (acct_1Test, 1 850,00 $)"
    assert redact(text) == text


def test_short_keys_do_not_redact_ordinary_words() -> None:
    register_secret("sk_test_ab")  # a prefix-less part this short would hide real words
    assert redact("a cab and a tab") == "a cab and a tab"


def test_log_records_and_their_tracebacks_are_redacted() -> None:
    record = logging.LogRecord("t", logging.ERROR, __file__, 1, "failed with %s", (BODY,), None)
    try:
        raise ValueError(KEY.upper())
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    assert RedactingFilter().filter(record)
    text = logging.Formatter().format(record)
    assert BODY.lower() not in text.lower()
    assert text.startswith(f"failed with {REDACTED}")
    assert f"ValueError: {REDACTED}" in text
