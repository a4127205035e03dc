"""Sending the run's check messages to SQS, ten per `SendMessageBatch` call.

SQS may accept part of a batch: the entries it failed on its side are sent again (a few
times, with a pause); those it refused as the sender's fault, or that still fail, are
returned so the run can report those accounts instead of waiting for them forever.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef

BATCH_SIZE = 10  # SQS's limit per SendMessageBatch
ATTEMPTS = 3


@dataclass(frozen=True)
class Unsent:
    """A message SQS would not take, and why (SQS's code and message, for operations)."""

    index: int
    reason: str


def send_all(
    sqs: SQSClient, queue_url: str, bodies: Sequence[str],
    sleep: Callable[[float], None] = time.sleep,
) -> list[Unsent]:
    """Send every body; return the ones that could not be sent (empty when all went)."""
    unsent: list[Unsent] = []
    for start in range(0, len(bodies), BATCH_SIZE):
        unsent += _send_batch(sqs, queue_url, bodies, range(start, min(start + BATCH_SIZE,
                                                                        len(bodies))), sleep)
    return unsent


def _send_batch(
    sqs: SQSClient, queue_url: str, bodies: Sequence[str], indexes: range,
    sleep: Callable[[float], None],
) -> list[Unsent]:
    pending = list(indexes)
    failed: dict[int, str] = {}
    for attempt in range(ATTEMPTS):
        entries: list[SendMessageBatchRequestEntryTypeDef] = [
            {"Id": str(i), "MessageBody": bodies[i]} for i in pending]
        try:
            response = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
        except (ClientError, BotoCoreError) as error:  # botocore already retried the call
            failed = {i: f"SendMessageBatch failed: {_reason(error)}" for i in pending}
            break
        retry: list[int] = []
        for entry in response.get("Failed", []):
            index = int(entry["Id"])
            failed[index] = f"{entry.get('Code', '?')}: {entry.get('Message', '')}"[:200]
            if not entry.get("SenderFault", False):
                retry.append(index)
        for done in response.get("Successful", []):
            failed.pop(int(done["Id"]), None)
        if not retry or attempt == ATTEMPTS - 1:
            break
        pending = retry
        sleep(0.2 * 2**attempt)
    return [Unsent(index, reason) for index, reason in sorted(failed.items())]


def _reason(error: ClientError | BotoCoreError) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", "error"))
    return type(error).__name__
