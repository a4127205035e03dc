"""What every email sender (the outbox, Amazon SES) promises the notifier."""

from __future__ import annotations

from collections.abc import Sequence
from email.message import EmailMessage
from typing import Protocol


class SendError(Exception):
    """The email could not be sent; the message says why, for operations."""


class RecipientRejectedError(SendError):
    """The email service refused this message's recipients; others may still be sent."""

    def __init__(self, message: str, recipients: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.recipients = tuple(recipients)


class EmailSender(Protocol):
    def send(self, message: EmailMessage) -> str:
        """Send one message; return its message id. Raises RecipientRejectedError or
        SendError."""
        ...
