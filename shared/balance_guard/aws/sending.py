"""Email sending on the Lambda path: a temporary failure is worth an SQS retry.

The notifier turns every `SendError` into a notice ("email not sent: …") and carries on, which
suits the CLI. On AWS a throttled or unavailable SES should not make tonight's email final:
`RetryableSender` wraps the SES sender and lets such failures escape the notifier as
`TemporarySendError` (not a `SendError`, so the notifier does not swallow it; it still gives
the account's claim for the date back). check_account then fails the SQS record, and SQS
delivers it again, until the queue's last delivery, which records the notice instead.
"""

from __future__ import annotations

from email.message import EmailMessage

from botocore.exceptions import ClientError, ConnectTimeoutError, EndpointConnectionError

from balance_guard.notify.sender import EmailSender, RecipientRejectedError, SendError

# SES's (and AWS's generic) codes for "not now": throttling, quotas, its own failures.
TEMPORARY_CODES = frozenset({
    "TooManyRequestsException", "Throttling", "ThrottlingException", "LimitExceededException",
    "InternalFailure", "InternalServerError", "InternalError", "ServiceUnavailable",
    "ServiceUnavailableException", "RequestTimeout", "RequestTimeoutException",
})


class TemporarySendError(Exception):
    """SES could not take the email now (still throttling after the sender's own retries, a
    5xx, unreachable); nothing was sent, so trying again later is safe."""


def is_temporary(error: SendError) -> bool:
    """Whether the SES sender's error is worth a later retry. A read timeout is not: SES may
    have sent the message, and a retry could send it twice."""
    if isinstance(error, RecipientRejectedError):
        return False
    cause = error.__cause__ or error.__context__
    if isinstance(cause, ClientError):
        status = cause.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return cause.response.get("Error", {}).get("Code", "") in TEMPORARY_CODES or (
            status >= 500)
    if isinstance(cause, (EndpointConnectionError, ConnectTimeoutError)):
        return True
    return "throttl" in str(error).lower()  # "SES kept throttling after N attempts"


class RetryableSender:
    """An `EmailSender` around another: temporary failures become `TemporarySendError`, and
    every failure (temporary or not) is noted in `failures` for the EmailsFailed metric."""

    def __init__(self, inner: EmailSender) -> None:
        self.inner = inner
        self.failures: list[str] = []

    def send(self, message: EmailMessage) -> str:
        try:
            return self.inner.send(message)
        except RecipientRejectedError:
            raise  # one address refused: the notifier goes on with the others
        except SendError as error:
            self.failures.append(str(error)[:300])
            if is_temporary(error):
                raise TemporarySendError(str(error)[:300]) from error
            raise
