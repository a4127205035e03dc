"""The local sender: each email becomes a `.eml` file and an `.html` preview in a folder.

Files are named by account and run date (`acct_123_2026-08-01.eml`, `digest_2026-08-01.eml`),
so a second run of the same date replaces its files rather than piling up copies. A name
never stands for two accounts: a reference that is not already a short file-name token
keeps a hash of all of it, and a message landing on a file this sender already wrote
(another account whose reference reads the same once shortened) gets a file of its own.
"""

from __future__ import annotations

import email.policy
import hashlib
import os
import re
import tempfile
import threading
from email.message import EmailMessage
from pathlib import Path

from balance_guard.notify.render import AS_OF_HEADER, REF_HEADER, html_part, safe_ref

DEFAULT_OUTBOX = Path("out/outbox")
_FILE_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")


def file_token(ref: str) -> str:
    """`ref` as a file-name token: itself when it already is one, else a sanitized prefix
    and a short hash of the whole of it, so two references never share a name."""
    if _FILE_TOKEN.fullmatch(ref):
        return ref
    digest = hashlib.sha256(ref.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{safe_ref(ref)[:48]}_{digest}"


class OutboxSender:
    """`EmailSender` that writes instead of sending; never rejects a recipient."""

    def __init__(self, directory: Path | str = DEFAULT_OUTBOX) -> None:
        self.directory = Path(directory)
        # Names written by this sender: a run emails each account once, so a second
        # message on one of them is another account, never a copy to replace.
        self._written: set[str] = set()
        self._lock = threading.Lock()

    def stem(self, message: EmailMessage) -> str:
        ref = file_token(str(message.get(REF_HEADER, "") or "email"))
        as_of = safe_ref(str(message.get(AS_OF_HEADER, "") or "undated"))
        return f"{ref}_{as_of}"

    def _claim_stem(self, message: EmailMessage) -> str:
        base = self.stem(message)
        with self._lock:
            stem, count = base, 1
            while stem in self._written:
                count += 1
                stem = f"{base}_{count}"
            self._written.add(stem)
        return stem

    def send(self, message: EmailMessage) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        stem = self._claim_stem(message)
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
