"""Amazon SES v2 as the email sender: the rendered MIME message goes as `Content.Raw`.

SES throttles a burst of sends with `TooManyRequestsException`; those calls are retried
with exponential backoff and jitter, a bounded number of times. A refused message
(`MessageRejected`: an unverified or suppressed recipient in the SES sandbox, for instance)
is reported as `RecipientRejectedError` so the notifier can go on with the other
recipients. Nothing else is retried: a timeout after SES took the message could otherwise
send it twice.
"""

from __future__ import annotations

import email.policy
import os
import random
import time
from collections.abc import Callable, Mapping
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
)

from balance_guard.notify.sender import RecipientRejectedError, SendError

if TYPE_CHECKING:
    from mypy_boto3_sesv2 import SESV2Client

THROTTLING = frozenset({"TooManyRequestsException", "Throttling", "ThrottlingException"})
REJECTED = frozenset({"MessageRejected", "InvalidParameterValue", "BadRequestException"})
CONFIGURATION_SET_ENV = "SES_CONFIGURATION_SET"


class SesSender:
    """`EmailSender` over the SES v2 `SendEmail` API."""

    def __init__(
        self,
        client: SESV2Client,
        *,
        configuration_set: str | None = None,
        max_attempts: int = 6,
        base_delay_s: float = 0.5,
        max_delay_s: float = 8.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.configuration_set = configuration_set
        self.max_attempts = max(1, max_attempts)
        self.base_delay_s = base_delay_s
        self.max_delay_s = max_delay_s
        self.sleep = sleep

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SesSender:
        """A sender for the region and credentials of the environment (the Lambda's role),
        with `SES_CONFIGURATION_SET` when set. botocore's own retries are turned off so
        that the bound on attempts is this class's alone."""
        env = os.environ if env is None else env
        client = boto3.client("sesv2", config=Config(retries={"total_max_attempts": 1}))
        return cls(client, configuration_set=env.get(CONFIGURATION_SET_ENV) or None)

    def send(self, message: EmailMessage) -> str:
        raw = message.as_bytes(policy=email.policy.SMTP)
        recipients = [a for _, a in getaddresses(message.get_all("To", []))]
        _, sender = parseaddr(str(message.get("From", "")))
        for attempt in range(self.max_attempts):
            try:
                if self.configuration_set:
                    response = self.client.send_email(
                        FromEmailAddress=sender, Content={"Raw": {"Data": raw}},
                        ConfigurationSetName=self.configuration_set)
                else:
                    response = self.client.send_email(
                        FromEmailAddress=sender, Content={"Raw": {"Data": raw}})
                return response["MessageId"]
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code", "")
                text = error.response.get("Error", {}).get("Message", "")[:200]
                if code in REJECTED:
                    raise RecipientRejectedError(f"SES rejected the message: {code}: {text}",
                                                 recipients) from None
                if code not in THROTTLING:
                    raise SendError(f"SES could not send the message: {code}: {text}") from None
            except (EndpointConnectionError, ConnectTimeoutError) as error:
                if attempt == self.max_attempts - 1:
                    raise SendError(f"SES could not be reached: {error}") from None
            except BotoCoreError as error:  # credentials, a read timeout...: not safe to retry
                raise SendError(f"SES could not send the message: {error}") from None
            if attempt < self.max_attempts - 1:
                self.sleep(self._delay(attempt))
        raise SendError(f"SES kept throttling after {self.max_attempts} attempts")

    def _delay(self, attempt: int) -> float:
        ceiling = min(self.max_delay_s, self.base_delay_s * 2**attempt)
        return random.uniform(ceiling / 2, ceiling)
