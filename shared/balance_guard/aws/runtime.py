"""What a Lambda container keeps between invocations: settings, AWS clients, the Stripe reader,
the notifier. Built on first use, so a cold start only pays for what its function needs
(plan_run never loads the email templates, run_digest never loads the Stripe SDK).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

import boto3

from balance_guard.aws.dynamo import (
    DynamoNotificationLog,
    DynamoSeenEvents,
    DynamoStateStore,
    RecheckWindows,
    RunLedger,
)
from balance_guard.aws.settings import Settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
    )
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

    from balance_guard.aws.sending import RetryableSender
    from balance_guard.notify.notifier import Notifier
    from balance_guard.stripe.reader import StripeReader

IDEMPOTENCY_PK = "IDEMPOTENCY#check_account"
# Long enough for any redelivery of a night's message (SQS keeps them four days).
IDEMPOTENCY_TTL_S = 4 * 24 * 3600
ACCEPTED = 202  # Lambda's answer to an asynchronous invoke it queued
# Slots a process reserves from the shared budget at once (fewer when it cannot use them in
# time): one DynamoDB write buys up to this many Stripe requests.
RESERVATION = 4


class LambdaClient(Protocol):
    def invoke(self, **kwargs: Any) -> Any: ...


class DigestTrigger(Protocol):
    def __call__(self, run_id: str) -> None: ...


@dataclass
class InvokeDigest:
    """Starts run_digest asynchronously (`InvocationType=Event`): Lambda queues the event,
    retries it on failure, and sends it to the ops topic when it keeps failing."""

    client: LambdaClient
    function_name: str

    def __call__(self, run_id: str) -> None:
        response = self.client.invoke(FunctionName=self.function_name, InvocationType="Event",
                                      Payload=json.dumps({"run_id": run_id}).encode())
        status = response.get("StatusCode")
        if status != ACCEPTED:
            raise RuntimeError(f"Lambda did not queue the digest of {run_id} (status {status})")


@dataclass
class Runtime:
    settings: Settings
    trigger_digest: DigestTrigger | None = None  # None: invoke DIGEST_FUNCTION_NAME
    # Today's date for a re-check; None: the date in the policy's time zone (tests set it).
    clock_date: Callable[[], date] | None = None
    _readers: dict[str, StripeReader] = field(default_factory=dict, repr=False)

    @classmethod
    def from_env(cls) -> Runtime:
        return cls(Settings.from_env())

    # -- AWS ------------------------------------------------------------------------------

    @cached_property
    def dynamodb(self) -> DynamoDBClient:
        return boto3.client("dynamodb")

    @cached_property
    def sqs(self) -> SQSClient:
        return boto3.client("sqs")

    @cached_property
    def s3(self) -> S3Client:
        return boto3.client("s3")

    @cached_property
    def lambda_client(self) -> LambdaClient:
        client: LambdaClient = boto3.client("lambda")
        return client

    @cached_property
    def ledger(self) -> RunLedger:
        return RunLedger(self.dynamodb, self.settings.state_table)

    @cached_property
    def state_store(self) -> DynamoStateStore:
        return DynamoStateStore(self.dynamodb, self.settings.state_table)

    @cached_property
    def notification_log(self) -> DynamoNotificationLog:
        return DynamoNotificationLog(self.dynamodb, self.settings.state_table)

    @cached_property
    def seen_events(self) -> DynamoSeenEvents:
        return DynamoSeenEvents(self.dynamodb, self.settings.state_table)

    @cached_property
    def recheck_windows(self) -> RecheckWindows:
        return RecheckWindows(self.dynamodb, self.settings.state_table)

    def today(self) -> date:
        """The run date of a re-check: today, in the platform's time zone."""
        if self.clock_date is not None:
            return self.clock_date()
        return datetime.now(UTC).astimezone(ZoneInfo(self.settings.policy.timezone)).date()

    @cached_property
    def idempotency_store(self) -> DynamoDBPersistenceLayer:
        from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

        # The run table, with a fixed partition so a renamed function keeps its records.
        return DynamoDBPersistenceLayer(
            table_name=self.settings.state_table, key_attr="pk", sort_key_attr="sk",
            static_pk_value=IDEMPOTENCY_PK, expiry_attr="ttl",
            boto3_client=self.dynamodb)

    @cached_property
    def idempotency_config(self) -> IdempotencyConfig:
        from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

        return IdempotencyConfig(event_key_jmespath="[run_id, account_id]",
                                 raise_on_no_idempotency_key=True,
                                 expires_after_seconds=IDEMPOTENCY_TTL_S, use_local_cache=True)

    def start_digest(self, run_id: str) -> None:
        trigger = self.trigger_digest
        if trigger is None:
            trigger = InvokeDigest(self.lambda_client, self.settings.require("digest_function"))
            self.trigger_digest = trigger
        trigger(run_id)

    # -- Stripe and email -----------------------------------------------------------------

    def reader(self) -> StripeReader:
        """One paced reader per key, reused by warm invocations; a rotated key (seen once
        Parameters' cache expires) gets a new one. Every process of the stack draws its
        requests from one budget of STRIPE_MAX_RPS held in the state table."""
        from balance_guard.aws.budget import DynamoSlots
        from balance_guard.stripe.reader import StripeReader

        key = self.settings.stripe_key()
        slot = hashlib.sha256(key.encode()).hexdigest()
        if slot not in self._readers:
            self._readers.clear()
            self._readers[slot] = StripeReader(
                key, api_base=self.settings.stripe_api_base,
                max_rps=self.settings.stripe_max_rps,
                slots=DynamoSlots(self.dynamodb, self.settings.state_table),
                reservation=RESERVATION)
        return self._readers[slot]

    @cached_property
    def email_sender(self) -> RetryableSender:
        """SES, with temporary failures raised as TemporarySendError (see aws/sending.py)."""
        from balance_guard.aws.sending import RetryableSender
        from balance_guard.notify.ses import SesSender

        return RetryableSender(SesSender.from_env(
            {"SES_CONFIGURATION_SET": self.settings.ses_configuration_set or ""}))

    @cached_property
    def notifier(self) -> Notifier:
        from balance_guard.notify.notifier import Notifier

        return Notifier(self.email_sender, self.notification_log, self.settings.policy,
                        sender_address=self.settings.require("sender_email"))


class _Holder:
    current: Runtime | None = None


def runtime() -> Runtime:
    """This container's runtime, built from the environment on first use."""
    if _Holder.current is None:
        _Holder.current = Runtime.from_env()
    return _Holder.current


def install(new: Runtime | None) -> None:
    """Use `new` from now on (tests); None rebuilds from the environment on next use."""
    _Holder.current = new

