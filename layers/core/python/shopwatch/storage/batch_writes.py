"""BatchWriteItem with the retries it needs: 25 puts per call, what DynamoDB leaves unprocessed sent again."""

from __future__ import annotations

import time
from typing import Any

from shopwatch.storage.aws import client
from shopwatch.storage.items import to_attributes

BATCH = 25  # BatchWriteItem's limit
_ATTEMPTS = 8


def put_many(table_name: str, items: list[dict[str, Any]]) -> None:
    """Put every item (plain values); unprocessed puts are retried with backoff, and an error if they outlast it."""
    for start in range(0, len(items), BATCH):
        pending = {table_name: [{"PutRequest": {"Item": to_attributes(i)}} for i in items[start : start + BATCH]]}
        for attempt in range(_ATTEMPTS):
            pending = client("dynamodb").batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if not pending:
                break
            time.sleep(min(0.05 * 2**attempt, 2.0))
        if pending:
            raise RuntimeError(f"DynamoDB left writes to {table_name} unprocessed after {_ATTEMPTS} attempts")
