"""Traffic buckets in StateTable, counted exactly once per transaction, and read back by time range.

Key layout (pk / sk):
    AGG#minute#<YYYY-MM-DD> / <YYYY-MM-DDTHH:MMZ>   a minute's counters (kept 8 days)
    AGG#hour#<YYYY-MM>      / <YYYY-MM-DDTHH:MMZ>   an hour's counters (kept 130 days: 3,000 hours of history)
    AGG#day#<YYYY>          / <YYYY-MM-DDTHH:MMZ>   a day's counters (kept 800 days: two years of weekdays)
    TXN#<txn id>            / AGG                   marker: this transaction is in the buckets

Why exactly once: a batch's markers (Put if absent) and its merged bucket ADDs go in one TransactWriteItems.
Either all land or none do, so a redelivered record either finds its marker (and is dropped from the retry)
or finds nothing (and is counted once). A refused write names the markers that already existed; those
transactions are dropped and the rest are written again.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from shopwatch.domain.buckets import Bucket, Grain, buckets_of
from shopwatch.domain.clock import epoch_seconds, parse_iso, to_iso
from shopwatch.domain.transaction import Transaction
from shopwatch.storage.aws import client
from shopwatch.storage.items import add_counters_action, from_attributes, to_attribute
from shopwatch.storage.unit_of_work import MAX_ACTIONS, TransactionRefused, UnitOfWork

RETENTION = {Grain.MINUTE: timedelta(days=8), Grain.HOUR: timedelta(days=130), Grain.DAY: timedelta(days=800)}
MARKER_RETENTION = timedelta(days=7)  # beyond the stream's 24 h retention
_PARTITION = {Grain.MINUTE: "%Y-%m-%d", Grain.HOUR: "%Y-%m", Grain.DAY: "%Y"}
_SORT = "%Y-%m-%dT%H:%MZ"


def bucket_key(grain: Grain, start: datetime) -> dict[str, Any]:
    return {"pk": {"S": f"AGG#{grain.value}#{start.strftime(_PARTITION[grain])}"}, "sk": {"S": start.strftime(_SORT)}}


def aggregate_marker_key(transaction_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"TXN#{transaction_id}"}, "sk": {"S": "AGG"}}


@dataclass(frozen=True)
class Applied:
    counted: int  # transactions added to the buckets by this call
    already: int  # transactions whose marker was there (a redelivery or a replay)


class BucketRepository:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    # --- writes -------------------------------------------------------------------------------------------
    def add(self, transactions: list[Transaction], now: datetime) -> Applied:
        """Count each transaction once in its minute, hour and day, however often it is offered."""
        unique = list({tx.transaction_id: tx for tx in transactions}.values())
        counted = already = 0
        for chunk in _chunks(unique):
            c, a = self._add_chunk(chunk, now)
            counted, already = counted + c, already + a
        return Applied(counted, already + len(transactions) - len(unique))

    def _add_chunk(self, chunk: list[Transaction], now: datetime) -> tuple[int, int]:
        """The chunk's markers and buckets in one unit of work. A refused marker is a transaction counted
        before (a redelivery): the rest are written again without it, so each try leaves one fewer. Throttling
        and conflicts on hot buckets are ridden out by the unit of work itself."""
        pending, already = list(chunk), 0
        while pending:
            unit = UnitOfWork()
            for tx in pending:
                unit.add(("marker", tx.transaction_id), self._marker_action(tx, now))
            for bucket in buckets_of(pending):
                unit.add(("bucket", (bucket.grain, bucket.start)), self._bucket_action(bucket, now))
            try:
                unit.commit()
                return len(pending), already
            except TransactionRefused as refused:
                counted_before = set(refused.refused_of("marker"))
                if not counted_before:
                    raise
                already += len(counted_before)
                pending = [tx for tx in pending if tx.transaction_id not in counted_before]
        return 0, already

    def _marker_action(self, tx: Transaction, now: datetime) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self.table_name,
                "Item": aggregate_marker_key(tx.transaction_id)
                | {
                    "counted_at": to_attribute(to_iso(now)),
                    "minute": to_attribute(Grain.MINUTE.start_of(tx.timestamp).strftime(_SORT)),
                    "expires_at": to_attribute(epoch_seconds(now + MARKER_RETENTION)),
                },
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    def _bucket_action(self, bucket: Bucket, now: datetime) -> dict[str, Any]:
        adds: dict[str, Decimal] = {"transactions": Decimal(bucket.transactions)}
        adds |= {f"st_{status}": Decimal(n) for status, n in bucket.statuses.items()}
        adds |= {f"rev_{currency}": amount for currency, amount in bucket.revenue.items()}
        expires = epoch_seconds(max(now, bucket.end) + RETENTION[bucket.grain])
        return add_counters_action(self.table_name, bucket_key(bucket.grain, bucket.start), adds, expires)

    # --- reads --------------------------------------------------------------------------------------------
    def get_range(self, grain: Grain, since: datetime, until: datetime) -> list[Bucket]:
        """The stored buckets whose start lies in [since, until], oldest first (empty buckets are absent)."""
        low, high = grain.start_of(since), grain.start_of(until)
        found: list[Bucket] = []
        for partition in _partitions(grain, low, high):
            kwargs: dict[str, Any] = {
                "TableName": self.table_name,
                "KeyConditionExpression": "pk = :pk AND sk BETWEEN :lo AND :hi",
                "ExpressionAttributeValues": {
                    ":pk": {"S": partition},
                    ":lo": {"S": low.strftime(_SORT)},
                    ":hi": {"S": high.strftime(_SORT)},
                },
                "ConsistentRead": True,
            }
            while True:
                response = client("dynamodb").query(**kwargs)
                found.extend(_bucket_from_item(grain, from_attributes(i)) for i in response.get("Items", []))
                if "LastEvaluatedKey" not in response:
                    break
                kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return found


def _chunks(transactions: list[Transaction]) -> Iterator[list[Transaction]]:
    """Runs of transactions whose markers and distinct buckets fit one TransactWriteItems (100 actions)."""
    chunk: list[Transaction] = []
    keys: set[tuple[Grain, datetime]] = set()
    for tx in transactions:
        new = {(g, g.start_of(tx.timestamp)) for g in Grain} - keys
        if chunk and len(chunk) + 1 + len(keys) + len(new) > MAX_ACTIONS:
            yield chunk
            chunk, keys, new = [], set(), {(g, g.start_of(tx.timestamp)) for g in Grain}
        chunk.append(tx)
        keys |= new
    if chunk:
        yield chunk


def _partitions(grain: Grain, low: datetime, high: datetime) -> list[str]:
    names: list[str] = []
    for start in _partition_starts(grain, low, high):
        name = f"AGG#{grain.value}#{start.strftime(_PARTITION[grain])}"
        if name not in names:
            names.append(name)
    return names


def _partition_starts(grain: Grain, low: datetime, high: datetime) -> Iterator[datetime]:
    """One moment in each partition between low and high: days for minutes, months for hours, years for days."""
    day = Grain.DAY.start_of(low)
    while day <= high:
        yield day
        if grain is Grain.MINUTE:
            day += timedelta(days=1)
        elif grain is Grain.HOUR:
            day = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
        else:
            day = day.replace(year=day.year + 1, month=1, day=1)


def _bucket_from_item(grain: Grain, item: dict[str, Any]) -> Bucket:
    statuses = {name.removeprefix("st_"): int(v) for name, v in item.items() if name.startswith("st_")}
    revenue = {name.removeprefix("rev_"): Decimal(v) for name, v in item.items() if name.startswith("rev_")}
    start = parse_iso(item["sk"].replace("Z", ":00Z"))
    return Bucket(grain, start, int(item.get("transactions", 0)), statuses, revenue)
