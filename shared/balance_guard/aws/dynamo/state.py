"""Each account's state between two runs: the `STATE` item of its `ACCOUNT#<acct>`
partition, zlib-compressed JSON, split into `STATE#<n>` chunks when it outgrows one item.

Owns `DynamoStateStore` (the `StateStore` of the AWS run) and nothing else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from balance_guard.aws.dynamo._common import (
    INLINE_LIMIT,
    Record,
    Table,
    account_pk,
    attributes,
    key,
    pack,
    unpack,
)
from balance_guard.domain.ledger import AccountState

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

MAX_CHUNKS = 10  # a transaction carries at most 4 MB
STATE = "STATE"


class StateTooLargeError(Exception):
    """An account's state does not fit in DynamoDB even split into chunks."""


def _chunk_sk(index: int) -> str:
    return f"{STATE}#{index:04d}"


class DynamoStateStore:
    """`StateStore` on DynamoDB: one item per account, its state compressed JSON."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._table = Table(client, table)

    def load(self, account_id: str) -> AccountState:
        pk = account_pk(account_id)
        record = self._table.get(key(pk, STATE))
        if record is None:
            return AccountState()
        blob = record.blob("data")
        if blob is None:
            count = record.integer("chunks")
            parts = list(self._table.query_prefix(pk, f"{STATE}#"))[:count]
            blob = b"".join(part.blob("data") or b"" for part in parts)
        return AccountState.model_validate_json(unpack(blob))

    def save(self, account_id: str, state: AccountState) -> None:
        pk = account_pk(account_id)
        blob = pack(state.model_dump_json())
        table = self._table
        if len(blob) <= INLINE_LIMIT:
            response = table.client.put_item(
                TableName=table.table, ReturnValues="ALL_OLD",
                Item=key(pk, STATE) | attributes({"data": blob, "chunks": 0}))
            old = response.get("Attributes")
            stale = Record(old).integer("chunks") if old else 0
            if stale:  # the state shrank back under the limit: its old chunks go
                table.write_all([{"DeleteRequest": {"Key": key(pk, _chunk_sk(i))}}
                                 for i in range(stale)])
            return
        parts = [blob[i:i + INLINE_LIMIT] for i in range(0, len(blob), INLINE_LIMIT)]
        if len(parts) > MAX_CHUNKS:
            raise StateTooLargeError(
                f"the state of {account_id} is {len(blob)} bytes compressed, over "
                f"{MAX_CHUNKS * INLINE_LIMIT}")
        old_record = table.get(key(pk, STATE), "chunks")
        stale = old_record.integer("chunks") if old_record else 0
        # One transaction: a reader sees the old state or the new one, never half of each.
        items: list[TransactWriteItemTypeDef] = [
            {"Put": {"TableName": table.table,
                     "Item": key(pk, STATE) | attributes({"chunks": len(parts)})}}]
        for i, part in enumerate(parts):
            items.append({"Put": {"TableName": table.table,
                                  "Item": key(pk, _chunk_sk(i)) | attributes({"data": part})}})
        for i in range(len(parts), stale):
            items.append({"Delete": {"TableName": table.table, "Key": key(pk, _chunk_sk(i))}})
        table.client.transact_write_items(TransactItems=items)
