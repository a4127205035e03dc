"""The local sender: each email becomes a `.eml` file and an `.html` preview in a folder.

Files are named by account and run date (`acct_123_2026-08-01.eml`, `digest_2026-08-01.eml`),
so a second run of the same date replaces its files rather than piling up copies.
"""

from __future__ import annotations

import email.policy
import os
import tempfile
from email.message import EmailMessage
from pathlib import Path

from balance_guard.emails.render import AS_OF_HEADER, REF_HEADER, html_part, safe_ref

DEFAULT_OUTBOX = Path("out/outbox")


class OutboxSender:
    """`EmailSender` that writes instead of sending; never rejects a recipient."""

    def __init__(self, directory: Path | str = DEFAULT_OUTBOX) -> None:
        self.directory = Path(directory)

    def stem(self, message: EmailMessage) -> str:
        ref = safe_ref(str(message.get(REF_HEADER, "") or "email"))
        as_of = safe_ref(str(message.get(AS_OF_HEADER, "") or "undated"))
        return f"{ref}_{as_of}"

    def send(self, message: EmailMessage) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        stem = self.stem(message)
        _write(self.directory / f"{stem}.eml", message.as_bytes(policy=email.policy.SMTP))
        _write(self.directory / f"{stem}.html", html_part(message).encode("utf-8"))
        return str(message["Message-ID"])


def _write(path: Path, data: bytes) -> None:
    """Whole file or nothing: a reader never sees half an email."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
