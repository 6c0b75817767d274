"""Make moto's DynamoDB writes atomic under threads, as DynamoDB's are.

moto checks a condition, writes the item and numbers its stream record (`len(shard.items) + start`) without a
lock. Ingest writes a batch from several threads, so two records could get the same sequence number: a
stream reader that resumes after the highest number it saw then reads the same records again forever, and
Lambda's `batchItemFailures` (keyed by sequence number) become ambiguous. Two concurrent conditional puts of
one key could also both succeed. Real DynamoDB serialises writes per item and numbers stream records
uniquely, so every process that runs the handlers on moto with threads (the local stack and the tests)
installs this lock around moto's item writes.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from moto.dynamodb.models import DynamoDBBackend

WRITE_LOCK = threading.RLock()
_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items")
_ORIGINALS: dict[str, Callable[..., Any]] = {name: getattr(DynamoDBBackend, name) for name in _WRITES}


def _locked(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def write(*args: Any, **kwargs: Any) -> Any:
        with WRITE_LOCK:
            return method(*args, **kwargs)

    write.__shopwatch_locked__ = True  # type: ignore[attr-defined]
    return write


def install() -> None:
    """Serialise moto's DynamoDB writes (idempotent)."""
    for name in _WRITES:
        if not getattr(getattr(DynamoDBBackend, name), "__shopwatch_locked__", False):
            setattr(DynamoDBBackend, name, _locked(getattr(DynamoDBBackend, name)))


def uninstall() -> None:
    for name, original in _ORIGINALS.items():
        setattr(DynamoDBBackend, name, original)


__all__ = ["WRITE_LOCK", "install", "uninstall"]
