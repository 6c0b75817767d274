"""TransactionsTable: accepted transactions, keyed by transaction_id; a conditional put is the dedupe."""

from __future__ import annotations

import heapq
import threading
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from shopwatch.domain.clock import to_iso
from shopwatch.domain.transaction import Transaction
from shopwatch.storage.aws import client, with_retries
from shopwatch.storage.batch_reads import get_many
from shopwatch.storage.items import from_attributes, to_attributes

CHECKOUT_ATTRIBUTE = "checkout"  # the decision answered at ingest, stored beside the transaction's own fields
_PARALLEL_PUTS = 16  # a batch of 500 is written in ~32 round trips, not 500
_PUT_ATTEMPTS = 4  # inside the API's 29 s: a customer's chain of puts must not sleep for seconds each
_POOL_LOCK = threading.Lock()
_pool: ThreadPoolExecutor | None = None


def _put_pool() -> ThreadPoolExecutor:
    """One pool per container, kept across warm invocations: starting 16 threads for every request cost more
    than the puts of a small batch."""
    global _pool
    with _POOL_LOCK:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=_PARALLEL_PUTS, thread_name_prefix="ingest-put")
        return _pool


class TooManyTransactions(Exception):
    """A period holds more stored transactions than its reader may keep in memory."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit:,} stored transactions in the period")
        self.limit = limit


class TransactionRepository:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def add_if_new(self, tx: Transaction, extra: dict[str, Any] | None = None) -> bool:
        """Store a transaction unless its id exists already; True when stored, False for a duplicate.

        A throttled put is retried here a few times (~0.4 s at most) beyond the SDK's own attempts: one
        throttled put among a batch's hundreds would otherwise send the whole batch back to the shop as a 503.
        A retried put that had landed meets its own condition and reads as a duplicate, which is still stored.
        `extra`: attributes stored beside the transaction's own (the checkout decision)."""
        try:
            with_retries(
                lambda: client("dynamodb").put_item(
                    TableName=self.table_name,
                    Item=to_attributes(tx.to_item() | (extra or {})),
                    ConditionExpression="attribute_not_exists(transaction_id)",
                ),
                attempts=_PUT_ATTEMPTS,
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def add_all_if_new(
        self, transactions: Iterable[Transaction], extras: Mapping[str, dict[str, Any]] | None = None
    ) -> list[bool]:
        """`add_if_new` for each; results in input order. Customers are written in parallel, each customer's
        transactions one after another in the order given, so a customer's history reaches the stream before
        the purchase that follows it in the same request. An AWS error propagates (nothing is reported
        accepted that was not stored)."""
        batch = list(transactions)
        by_customer: dict[str, list[int]] = {}
        for index, tx in enumerate(batch):
            by_customer.setdefault(tx.customer_id, []).append(index)
        extras = extras or {}
        if len(by_customer) <= 1:
            return [self.add_if_new(tx, extras.get(tx.transaction_id)) for tx in batch]

        def write_in_order(indices: list[int]) -> list[bool]:
            return [self.add_if_new(batch[i], extras.get(batch[i].transaction_id)) for i in indices]

        chains = list(by_customer.values())
        pool = _put_pool()
        futures = [pool.submit(write_in_order, indices) for indices in chains]
        wait(futures)  # every chain has finished, stored or failed, before an error is raised
        stored = [False] * len(batch)
        for indices, future in zip(chains, futures, strict=True):
            for index, result in zip(indices, future.result(), strict=True):
                stored[index] = result
        return stored

    def stored_attribute(self, transaction_ids: list[str], name: str) -> dict[str, Any]:
        """One attribute of stored transactions, by id (those without it are left out): what a resend is
        answered with."""
        keys = [{"transaction_id": {"S": t}} for t in transaction_ids]
        items = with_retries(lambda: get_many(self.table_name, keys)) if keys else []
        return {i["transaction_id"]: i[name] for i in items if name in i}

    def get(self, transaction_id: str) -> Transaction | None:
        item = self.get_item(transaction_id)
        return None if item is None else Transaction.from_item(item)

    def get_item(self, transaction_id: str) -> dict[str, Any] | None:
        response = client("dynamodb").get_item(
            TableName=self.table_name, Key={"transaction_id": {"S": transaction_id}}, ConsistentRead=True
        )
        return from_attributes(response["Item"]) if "Item" in response else None

    def newest(self, limit: int, segments: int = 4) -> list[Transaction]:
        """The `limit` newest stored transactions (by their time), newest first: a parallel Scan of the whole
        table, keeping only the newest while it streams, so memory follows `limit`, not the table. The table
        has no time index (one would cost a write on every transaction to serve a weekly read): TrainFunction
        reads it once a week, at half a read unit per 4 KB scanned (eventually consistent)."""
        if limit < 1:
            raise ValueError("limit must be at least 1")

        def scan_segment(segment: int) -> list[tuple[float, str, Transaction]]:
            kept: list[tuple[float, str, Transaction]] = []  # a min-heap of (time, id, tx): the oldest on top
            kwargs: dict[str, Any] = {"TableName": self.table_name, "Segment": segment, "TotalSegments": segments}
            while True:
                response = with_retries(lambda: client("dynamodb").scan(**kwargs))
                for raw in response.get("Items", []):
                    tx = Transaction.from_item(from_attributes(raw))
                    entry = (tx.timestamp.timestamp(), tx.transaction_id, tx)
                    if len(kept) < limit:
                        heapq.heappush(kept, entry)
                    elif entry[:2] > kept[0][:2]:
                        heapq.heapreplace(kept, entry)
                if "LastEvaluatedKey" not in response:
                    return kept
                kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

        with ThreadPoolExecutor(max_workers=segments, thread_name_prefix="train-scan") as pool:
            parts = list(pool.map(scan_segment, range(segments)))
        merged = heapq.nlargest(limit, (e for part in parts for e in part), key=lambda e: e[:2])
        return [tx for _, _, tx in merged]

    def approximate_count(self) -> int:
        """DescribeTable's ItemCount: DynamoDB refreshes it about every six hours, so it is an estimate of the
        table's size (what a full Scan reads), good for choosing how to run a read, not for counting."""
        return int(client("dynamodb").describe_table(TableName=self.table_name)["Table"].get("ItemCount", 0))

    def between(self, since: datetime, until: datetime, limit: int, segments: int = 4) -> list[Transaction]:
        """Every stored transaction whose time is in [since, until], in no particular order: a parallel Scan
        filtered on the time (the table's only time index is by customer, so a period across all customers is
        a Scan: it reads, and is billed for, the whole table whatever the period). Stored times share one
        fixed-width UTC format, so the filter compares them as strings. Raises TooManyTransactions past
        `limit` (and stops reading): memory follows `limit`, not the table."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        found: list[Transaction] = []
        lock = threading.Lock()
        stop = threading.Event()

        def scan_segment(segment: int) -> None:
            kwargs: dict[str, Any] = {
                "TableName": self.table_name,
                "Segment": segment,
                "TotalSegments": segments,
                "FilterExpression": "#t BETWEEN :since AND :until",
                "ExpressionAttributeNames": {"#t": "timestamp"},
                "ExpressionAttributeValues": {":since": {"S": to_iso(since)}, ":until": {"S": to_iso(until)}},
            }
            while not stop.is_set():
                response = with_retries(lambda: client("dynamodb").scan(**kwargs))
                page = [Transaction.from_item(from_attributes(raw)) for raw in response.get("Items", [])]
                with lock:
                    found.extend(page)
                    if len(found) > limit:
                        stop.set()
                if "LastEvaluatedKey" not in response:
                    return
                kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

        with ThreadPoolExecutor(max_workers=segments, thread_name_prefix="period-scan") as pool:
            list(pool.map(scan_segment, range(segments)))
        if len(found) > limit:
            raise TooManyTransactions(limit)
        return found
