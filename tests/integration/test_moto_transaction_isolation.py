"""On the local stack a TransactWriteItems is applied item by item (moto_speedups, under moto_item_lock's lock).
A read that ran in between saw a transaction in part: AggregateFunction's marker without its bucket counts
(or, with a bucket updated in place, the counts without the marker), which the fault suite's accounting
reported as one transaction lost and one counted twice. DynamoDB never shows part of a transaction to a
GetItem, and never part of an item to any read; here a read waits until the transaction is whole.

The interleaving is forced: the transaction is held after its marker is written, before its bucket ADDs."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from infra.local import moto_speedups
from shopwatch.domain.buckets import Grain
from shopwatch.domain.transaction import Transaction
from shopwatch.storage.buckets import BucketRepository, aggregate_marker_key, bucket_key
from tests.conftest import Stack

AT = datetime(2026, 3, 31, 12, 30, 15, tzinfo=UTC)


@pytest.fixture
def held_transaction(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[threading.Event, threading.Event]]:
    """The local stack's transactions, the first bucket update of which waits for `release`."""
    moto_speedups.install()
    reached, release = threading.Event(), threading.Event()
    real = moto_speedups._simple_update

    def held(backend: Any, op: dict[str, Any], key: dict[str, Any], *stored: Any) -> bool:
        if not reached.is_set():
            reached.set()
            release.wait(30)
        return real(backend, op, key, *stored)

    monkeypatch.setattr(moto_speedups, "_simple_update", held)
    yield reached, release
    release.set()
    moto_speedups.uninstall()


def view_by_scan(stack: Stack) -> tuple[int, int]:
    """What the fault suite's accounting reads: AGG markers, and the transactions the minute buckets count."""
    items = stack.scan("StateTable")
    markers = sum(1 for i in items if i["pk"].startswith("TXN#") and i["sk"] == "AGG")
    counted = sum(int(i.get("transactions", 0)) for i in items if i["pk"].startswith("AGG#minute#"))
    return markers, counted


def view_by_get_item(stack: Stack) -> tuple[int, int]:
    """The marker, then the minute bucket, each by GetItem (serializable with TransactWriteItems in DynamoDB)."""
    table = stack.table("StateTable")
    marker = stack.dynamodb.get_item(TableName=table, Key=aggregate_marker_key("t1"), ConsistentRead=True)
    bucket = stack.dynamodb.get_item(
        TableName=table, Key=bucket_key(Grain.MINUTE, Grain.MINUTE.start_of(AT)), ConsistentRead=True
    )
    return int("Item" in marker), int(bucket.get("Item", {}).get("transactions", {}).get("N", 0))


@pytest.mark.parametrize("read", [view_by_scan, view_by_get_item], ids=["scan", "get_item"])
def test_a_read_never_sees_a_transaction_in_part(stack: Stack, held_transaction, read: Callable[[Stack], Any]):
    reached, release = held_transaction
    tx = Transaction("t1", "c1", AT, AT, "approved", Decimal("12.50"), "USD")
    writer = threading.Thread(target=BucketRepository(stack.table("StateTable")).add, args=([tx], AT))
    writer.start()
    assert reached.wait(10), "the transaction never reached its bucket update"

    seen: list[tuple[int, int]] = []
    reader = threading.Thread(target=lambda: seen.append(read(stack)))
    reader.start()
    reader.join(timeout=1.0)  # the marker is written and the bucket is not: a read now would see half of it
    release.set()
    reader.join(timeout=30)
    writer.join(timeout=30)

    assert seen in ([(0, 0)], [(1, 1)]), f"marker and bucket counts seen apart: {seen}"
    assert read(stack) == (1, 1)
