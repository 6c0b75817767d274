"""Make moto's DynamoDB writes atomic under threads, as DynamoDB's are, and its reads see only whole writes.

moto checks a condition, writes the item and numbers its stream record (`len(shard.items) + start`) without a
lock. Ingest writes a batch from several threads, so two records could get the same sequence number: a
stream reader that resumes after the highest number it saw then reads the same records again forever, and
Lambda's `batchItemFailures` (keyed by sequence number) become ambiguous. Two concurrent conditional puts of
one key could also both succeed. Real DynamoDB serialises writes per item and numbers stream records
uniquely, so every process that runs the handlers on moto with threads (the local stack and the tests)
installs this lock around moto's item writes.

Reads take the same lock. A TransactWriteItems is applied item by item (moto's own, and the local stack's
faster one in moto_speedups), and moto's UpdateItem changes a stored item attribute by attribute, in place;
an unlocked read running in between saw a transaction's marker without its counters, or an item half
updated. DynamoDB never shows either: GetItem and TransactGetItems are serializable with TransactWriteItems,
and every read returns whole items (AWS, "Isolation levels for DynamoDB transactions"). The lock is held
around the request handler's whole read, because moto hands back its stored items and the handler turns
them into the answer after the backend call. A Query or Scan page thus sees no transaction in part, which
is stricter than DynamoDB (read-committed there); a check that needs a finished state must still wait for
the consumers to be idle (LocalStack.wait_until_idle), not rely on this.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.responses import DynamoHandler

WRITE_LOCK = threading.RLock()
_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items")
_READS = ("get_item", "batch_get_item", "transact_get_items", "query", "scan")
_ORIGINALS: dict[tuple[type, str], Callable[..., Any]] = {
    **{(DynamoDBBackend, name): getattr(DynamoDBBackend, name) for name in _WRITES},
    **{(DynamoHandler, name): getattr(DynamoHandler, name) for name in _READS},
}


def _locked(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with WRITE_LOCK:
            return method(*args, **kwargs)

    locked.__shopwatch_locked__ = True  # type: ignore[attr-defined]
    return locked


def install() -> None:
    """Serialise moto's DynamoDB writes, and its reads with them (idempotent)."""
    for owner, name in _ORIGINALS:
        if not getattr(getattr(owner, name), "__shopwatch_locked__", False):
            setattr(owner, name, _locked(getattr(owner, name)))


def uninstall() -> None:
    for (owner, name), original in _ORIGINALS.items():
        setattr(owner, name, original)


__all__ = ["WRITE_LOCK", "install", "uninstall"]
