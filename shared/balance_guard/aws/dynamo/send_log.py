"""Which emails were sent, in each account's `ACCOUNT#<acct>` partition: `SENT#<as_of>` for
a date's email (a leased `sending` claim, then `sent`), `FINDING#<key>` for when a finding
was last emailed and its cause.

Owns `DynamoNotificationLog` (the `NotificationLog` of the AWS run) and its claim leases.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from balance_guard.aws.dynamo._common import (
    Table,
    account_pk,
    attributes,
    expires,
    failed_condition,
    key,
    seconds,
)
from balance_guard.domain.notification import SentRecord
from balance_guard.notify.send_log import (
    Clock,
    SendStatus,
    claim_lease_seconds,
    send_status,
)
from balance_guard.report.model import EmailRecord

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from balance_guard.aws.dynamo._common import Item

SENT_TTL_DAYS = 400  # which date was emailed; findings' history has no expiry
SENDING = "sending"
SENT = "sent"


def _sent_key(account_id: str, as_of: date) -> Item:
    return key(account_pk(account_id), f"SENT#{as_of.isoformat()}")


class DynamoNotificationLog:
    """`NotificationLog` on DynamoDB: the claim is a conditional put, so two Lambdas (or a
    retry) racing for the same account and date cannot both send. A claim is a lease
    (`lease_until`, seconds since the epoch): one that lapsed, its Lambda killed before the
    record, is taken over by the next delivery. `lease_seconds` defaults to
    `claim_lease_seconds()`; `clock` is for tests."""

    def __init__(self, client: DynamoDBClient, table: str, *,
                 lease_seconds: float | None = None, clock: Clock = time.time) -> None:
        self._table = Table(client, table)
        self.lease_seconds = claim_lease_seconds() if lease_seconds is None else lease_seconds
        self._clock = clock

    def history(self, account_id: str) -> dict[str, SentRecord]:
        records: dict[str, SentRecord] = {}
        for record in self._table.query_prefix(account_pk(account_id), "FINDING#"):
            finding = (record.text("sk") or "").removeprefix("FINDING#")
            day = record.text("last_sent")
            if day:
                records[finding] = SentRecord(finding, date.fromisoformat(day),
                                              record.text("fingerprint") or "")
        return records

    def status(self, account_id: str, as_of: date) -> SendStatus:
        record = self._table.get(_sent_key(account_id, as_of))
        if record is None:
            return SendStatus("open")
        state = record.text("send_state") or SENDING
        # A claim written before leases has no lease_until: it has lapsed.
        until = record.number("lease_until")
        return send_status(state, record.text("run_id") or "", until, record.text("emails"),
                           now=self._clock())

    def already_sent(self, account_id: str, as_of: date) -> bool:
        return self.status(account_id, as_of).state in (SENDING, SENT)

    def claim(self, account_id: str, as_of: date, run_id: str) -> bool:
        table = self._table
        now = self._clock()
        try:
            table.client.put_item(
                TableName=table.table,
                Item=_sent_key(account_id, as_of) | attributes({
                    "send_state": SENDING, "run_id": run_id,
                    "lease_until": seconds(now + self.lease_seconds),
                    "ttl": expires(SENT_TTL_DAYS)}),
                ConditionExpression="attribute_not_exists(pk) OR (#state = :sending AND"
                                    " (attribute_not_exists(#until) OR #until <= :now))",
                ExpressionAttributeNames={"#state": "send_state", "#until": "lease_until"},
                ExpressionAttributeValues=attributes({":sending": SENDING,
                                                      ":now": seconds(now)}))
        except ClientError as error:
            if failed_condition(error):
                return False
            raise
        return True

    def release(self, account_id: str, as_of: date, run_id: str | None = None) -> None:
        table = self._table
        condition = "send_state = :sending"
        values: dict[str, object] = {":sending": SENDING}
        if run_id is not None:
            condition += " AND run_id = :run"
            values[":run"] = run_id
        try:
            table.client.delete_item(
                TableName=table.table, Key=_sent_key(account_id, as_of),
                ConditionExpression=condition, ExpressionAttributeValues=attributes(values))
        except ClientError as error:
            if not failed_condition(error):
                raise

    def record(
        self, account_id: str, as_of: date, run_id: str, emails: Sequence[EmailRecord],
        findings: Sequence[SentRecord],
    ) -> bool:
        sent_key = _sent_key(account_id, as_of)
        current = self._table.get(sent_key, "send_state")
        if current is not None and current.text("send_state") == SENT:
            return False
        # Findings first: should the Lambda stop right here, the history already says what the
        # admin was told, so once the claim lapses only a critical email is sent again.
        day = as_of.isoformat()
        for finding in findings:
            # A late re-run of an older date must not make a finding look less recent.
            self._table.conditional_update(
                key(account_pk(account_id), f"FINDING#{finding.key}"),
                "SET #last = :day, #fp = :fp",
                "attribute_not_exists(#last) OR #last <= :day",
                {"#last": "last_sent", "#fp": "fingerprint"},
                {":day": finding.last_sent.isoformat(), ":fp": finding.fingerprint},
            )
        payload = json.dumps([e.model_dump(mode="json") for e in emails])
        return self._table.conditional_update(
            sent_key,
            "SET #state = :sent, #emails = :emails, #run = :run, #ttl = :ttl, #day = :day",
            "attribute_not_exists(pk) OR #state <> :sent",
            {"#state": "send_state", "#emails": "emails", "#run": "run_id", "#ttl": "ttl",
             "#day": "as_of"},
            {":sent": SENT, ":emails": payload, ":run": run_id,
             ":ttl": expires(SENT_TTL_DAYS), ":day": day},
        )

    def sent_emails(self, account_id: str, as_of: date) -> list[EmailRecord]:
        return list(self.status(account_id, as_of).emails)
