"""Customers as the API lists them: profiles from StateTable's sparse `by-kind` index (only profile items
carry `kind`), newest activity first, and a customer's latest transactions from TransactionsTable."""

from __future__ import annotations

from typing import Any

from shopwatch.domain.transaction import Transaction
from shopwatch.pagination import Cursor
from shopwatch.storage.aws import client
from shopwatch.storage.items import from_attributes
from shopwatch.storage.newest_first import IndexQuery

CUSTOMER_KIND = "customer"
_FIRST, _LAST = "0000", "9999"  # bounds of every stored time


class CustomerRepository:
    def __init__(self, state_table: str, transactions_table: str) -> None:
        self.state_table = state_table
        self.transactions_table = transactions_table

    def page(self, after: Cursor | None, limit: int) -> tuple[list[dict[str, Any]], Cursor | None]:
        query = IndexQuery(self.state_table, "by-kind", "kind", "last_seen", "pk", _FIRST, _LAST)
        return query.page([CUSTOMER_KIND], after, limit)

    def recent_transactions(self, customer_id: str, limit: int) -> list[Transaction]:
        response = client("dynamodb").query(
            TableName=self.transactions_table,
            IndexName="by-customer",
            KeyConditionExpression="customer_id = :c",
            ExpressionAttributeValues={":c": {"S": customer_id}},
            ScanIndexForward=False,
            Limit=limit,
        )
        return [Transaction.from_item(from_attributes(i)) for i in response.get("Items", [])]
