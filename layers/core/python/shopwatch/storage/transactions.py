"""TransactionsTable: accepted transactions, keyed by transaction_id; a conditional put is the dedupe."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import ClientError

from shopwatch.domain.transaction import Transaction
from shopwatch.storage.aws import client
from shopwatch.storage.items import from_attributes, to_attributes

_PARALLEL_PUTS = 16  # a batch of 500 is written in ~32 round trips, not 500


class TransactionRepository:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def add_if_new(self, tx: Transaction) -> bool:
        """Store a transaction unless its id exists already; True when stored, False for a duplicate."""
        try:
            client("dynamodb").put_item(
                TableName=self.table_name,
                Item=to_attributes(tx.to_item()),
                ConditionExpression="attribute_not_exists(transaction_id)",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def add_all_if_new(self, transactions: Iterable[Transaction]) -> list[bool]:
        """`add_if_new` for each, in parallel; results in input order. An AWS error propagates (nothing is
        reported accepted that was not stored)."""
        batch = list(transactions)
        if len(batch) <= 1:
            return [self.add_if_new(tx) for tx in batch]
        with ThreadPoolExecutor(max_workers=min(_PARALLEL_PUTS, len(batch))) as pool:
            return list(pool.map(self.add_if_new, batch))

    def get(self, transaction_id: str) -> Transaction | None:
        item = self.get_item(transaction_id)
        return None if item is None else Transaction.from_item(item)

    def get_item(self, transaction_id: str) -> dict[str, Any] | None:
        response = client("dynamodb").get_item(
            TableName=self.table_name, Key={"transaction_id": {"S": transaction_id}}, ConsistentRead=True
        )
        return from_attributes(response["Item"]) if "Item" in response else None
