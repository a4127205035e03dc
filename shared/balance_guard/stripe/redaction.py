"""Keys never reach an output, whatever shape Stripe or a proxy echoes them back in.

A key-shaped pattern catches any Stripe key (`sk_live_…`, `rk_test_****1234`). The key this
process actually uses is also hidden in the forms an echo can take: exact, upper- or
lower-cased, URL-encoded character by character (`sk%5Flive%5F…`), or without its prefix.
"""

from __future__ import annotations

import logging
import re
import threading

REDACTED = "[redacted key]"
_KEY_SHAPED = re.compile(r"\b[a-z]{2,4}_(?:test|live)_[A-Za-z0-9*_]*", re.IGNORECASE)
_PREFIX = re.compile(r"^[a-z]{2,4}_(?:test|live)_", re.IGNORECASE)
MIN_SECRET_PART = 8  # shorter fragments would redact ordinary words


class _Secrets:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._parts: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def add(self, key: str) -> None:
        key = key.strip()
        parts = {key, _PREFIX.sub("", key)}
        with self._lock:
            self._parts |= {p for p in parts if len(p) >= MIN_SECRET_PART}
            # Longest first, so a whole key is hidden before its prefix-less tail.
            alternatives = sorted(self._parts, key=len, reverse=True)
            self._pattern = re.compile("|".join(_encodable(p) for p in alternatives),
                                       re.IGNORECASE) if alternatives else None

    def redact(self, text: str) -> str:
        pattern = self._pattern
        if pattern is not None:
            text = pattern.sub(REDACTED, text)
        return _KEY_SHAPED.sub(REDACTED, text)


def _encodable(secret: str) -> str:
    """Each character as itself or percent-encoded (`_` or `%5F`, any case of hex)."""
    return "".join(f"(?:{re.escape(c)}|%{ord(c):02X})" if ord(c) < 128 else re.escape(c)
                   for c in secret)


_SECRETS = _Secrets()


def register_secret(key: str) -> None:
    """From now on, `redact` hides this key in every form it can come back in."""
    _SECRETS.add(key)


def redact(text: str) -> str:
    return _SECRETS.redact(text)


class RedactingFilter(logging.Filter):
    """Applied to a handler: every record it writes is redacted, tracebacks included."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
            record.exc_text = None
        record.msg = redact(message)
        record.args = None
        return True
