"""Which DynamoDB items changed since the last look: the input of the local stack's journal (durable_state).

Why here, below moto's API: every way an item changes ends in one of three moto methods, whoever called it
(boto3 in process through the stubber or moto_direct_calls, another process through the ThreadedMotoServer,
BatchWriteItem, moto's or moto_speedups' TransactWriteItems and its rollback, moto_plain_updates):
- `Table.put_item` stores a new item object (PutItem, a transaction's Put, an update that creates the item,
  moto_speedups' simple updates);
- `Table.delete_item` removes one;
- `DynamoDBBackend.update_item` changes the stored object in place, attribute by attribute.
The TTL sweeper deletes from `table.items` directly and reports its deletions through `note()`.

Only the key is recorded (table name, hash key, range key), never the item: the journal reads the item's
current value when it commits, under moto_item_lock's WRITE_LOCK, so a key written fifty times between two
commits costs one after-image, and what is written is always a whole, committed item. Recording is off until
`start()` (a restore writes into moto's tables directly and must not be journalled again).

moto's internals patched (moto 5.2.5): `Table.put_item`, `Table.delete_item`, `DynamoDBBackend.update_item`;
`uninstall()` restores them.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from typing import Any

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table

Key = tuple[str, Any, Any]  # table name, hash key (DynamoType), range key (DynamoType or None)

_PATCHED = ((Table, "put_item"), (Table, "delete_item"), (DynamoDBBackend, "update_item"))
# what install() found in place (moto's own, or another patch's), called by the wrappers and put back by uninstall()
_ORIGINALS: dict[tuple[type, str], Callable[..., Any]] = {}


class DirtyKeys:
    """The keys written since the last `take()`; thread-safe, and free while not recording."""

    def __init__(self) -> None:
        self._keys: set[Key] = set()
        self._lock = threading.Lock()
        self.recording = False

    def note(self, table_name: str, hash_key: Any, range_key: Any) -> None:
        if self.recording:
            with self._lock:
                self._keys.add((table_name, hash_key, range_key))

    def take(self) -> set[Key]:
        with self._lock:
            keys, self._keys = self._keys, set()
        return keys

    def start(self) -> None:
        self.take()
        self.recording = True

    def stop(self) -> None:
        self.recording = False
        self.take()


DIRTY = DirtyKeys()

# A new number after every change to any item, recording or not: what moto_speedups' index-query cache is
# valid for. Each change takes a number never handed out before, so a value read before a change is never the
# value after it, whatever order two writers store theirs in.
_NUMBERS = itertools.count(1)
_generation = 0


def generation() -> int | None:
    """The number of the last change to any item; None while not installed (changes are not seen then)."""
    return _generation if _ORIGINALS else None


def _changed() -> None:
    global _generation
    _generation = next(_NUMBERS)


def note(table_name: str, hash_key: Any, range_key: Any) -> None:
    """Record a change made without moto's methods (the TTL sweeper's deletions)."""
    _changed()
    DIRTY.note(table_name, hash_key, range_key)


def _marked(function: Callable[..., Any]) -> Callable[..., Any]:
    function.__shopwatch_dirty__ = True  # type: ignore[attr-defined]
    return function


@_marked
def _put_item(self: Table, *args: Any, **kwargs: Any) -> Any:
    try:
        item = _ORIGINALS[(Table, "put_item")](self, *args, **kwargs)
    finally:
        _changed()
    DIRTY.note(self.name, item.hash_key, item.range_key)
    return item


@_marked
def _delete_item(self: Table, hash_key: Any, range_key: Any) -> Any:
    try:
        item = _ORIGINALS[(Table, "delete_item")](self, hash_key, range_key)
    finally:
        _changed()
    if item is not None:
        DIRTY.note(self.name, item.hash_key, item.range_key)
    return item


@_marked
def _update_item(self: DynamoDBBackend, table_name: str, *args: Any, **kwargs: Any) -> Any:
    try:
        item = _ORIGINALS[(DynamoDBBackend, "update_item")](self, table_name, *args, **kwargs)
    except Exception:
        # a validation error raised after part of an update was applied in place still changed the item
        _changed()
        _note_key(self, table_name, args[0] if args else kwargs.get("key"))
        raise
    _changed()
    DIRTY.note(table_name, item.hash_key, item.range_key)
    return item


def _note_key(backend: DynamoDBBackend, table_name: str, key: dict[str, Any] | None) -> None:
    if not DIRTY.recording or not key or table_name not in backend.tables:
        return
    try:
        hash_value, range_value = backend.get_keys_value(backend.tables[table_name], key)
    except Exception:  # noqa: BLE001 - a key moto itself refused: nothing was stored under it
        return
    DIRTY.note(table_name, hash_value, range_value)


_REPLACEMENTS = {"put_item": _put_item, "delete_item": _delete_item, "update_item": _update_item}


def install() -> None:
    """Record the key of every item put, updated or deleted while DIRTY is recording (idempotent).

    Installed before moto_item_lock (moto_patches' order), so the lock wraps these wrappers: a key is noted
    while its write still holds WRITE_LOCK, and a commit (which takes that lock) never sees a write's stream
    record without its key."""
    for owner, name in _PATCHED:
        current = getattr(owner, name)
        if getattr(current, "__shopwatch_dirty__", False):
            continue
        _ORIGINALS[(owner, name)] = current
        setattr(owner, name, _REPLACEMENTS[name])


def uninstall() -> None:
    for (owner, name), original in _ORIGINALS.items():
        setattr(owner, name, original)
    _ORIGINALS.clear()
    DIRTY.stop()


__all__ = ["DIRTY", "DirtyKeys", "generation", "install", "note", "uninstall"]
