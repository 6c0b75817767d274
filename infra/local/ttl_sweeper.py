"""DynamoDB's Time to Live on moto: expired items are deleted in the background, as the TTL process does.

moto stores a table's TimeToLiveSpecification (UpdateTimeToLive, which infra/local/resources.py calls with the
template's spec) but never deletes anything, so every marker, bucket and budget item the product gives an
`expires_at` stayed in memory forever. `TtlSweeper.sweep()` applies DynamoDB's documented rules to every
table whose TTL is ENABLED:
- an item expires when its TTL attribute is a top-level Number holding epoch seconds below now;
- an attribute of any other type (a String, a List, ...) is ignored: the item is kept;
- a value more than five years in the past is ignored too (AWS: TTL only deletes items whose expiry is
  within the last five years, so a value in milliseconds or a mistaken one never wipes a table);
- the deletion is a delete like any other for indexes, and on a table with a stream it writes a REMOVE
  record whose `userIdentity` is {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"} (the Streams
  API's member names; Lambda's event spells them "type"/"principalId", see stream_events.lambda_record),
  numbered as stream_retention numbers records (it must be installed, as the local stack does).
DynamoDB deletes "typically within a few days"; locally the stack's housekeeping thread sweeps every
`SWEEP_INTERVAL` seconds, so an expired item is gone at most one interval (plus one sweep's duration) after
its expiry. Until then it is still read, queried and scanned, as on AWS.

Each item is checked and deleted under moto_item_lock's WRITE_LOCK, a few hundred partitions at a time, so a
write running concurrently is never half-seen and never waits for a whole sweep; an item updated after the
partition list was taken is judged on its new value.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from infra.local import moto_dirty_items, stream_retention
from infra.local.moto_item_lock import WRITE_LOCK

SWEEP_INTERVAL = 60.0  # seconds between sweeps in the local stack
FIVE_YEARS = 5 * 365 * 24 * 3600
TTL_IDENTITY = {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}
_CHUNK = 256  # partitions examined per hold of the write lock


@dataclass
class SweepResult:
    examined: int = 0
    deleted: int = 0


def expiry(item: Any, attribute: str) -> Decimal | None:
    """The item's TTL value in epoch seconds, or None when the attribute is absent or not a Number."""
    value = item.attrs.get(attribute)
    if value is None or value.type != "N":
        return None
    try:
        return Decimal(value.value)
    except InvalidOperation:
        return None


def is_expired(item: Any, attribute: str, now: float) -> bool:
    """DynamoDB's rule: a Number below now, and not more than five years below it."""
    moment = expiry(item, attribute)
    return moment is not None and now - FIVE_YEARS <= moment < Decimal(str(now))


class TtlSweeper:
    """Deletes the expired items of every TTL-enabled table of one moto DynamoDB backend."""

    def __init__(self, backend: Any, clock: Callable[[], float] = time.time) -> None:
        self.backend = backend
        self.clock = clock
        self.totals = SweepResult()

    def sweep(self) -> SweepResult:
        result = SweepResult()
        now = self.clock()
        for table in list(self.backend.tables.values()):
            if table.ttl.get("TimeToLiveStatus") == "ENABLED" and table.ttl.get("AttributeName"):
                self._sweep_table(table, table.ttl["AttributeName"], now, result)
        self.totals.examined += result.examined
        self.totals.deleted += result.deleted
        return result

    def _sweep_table(self, table: Any, attribute: str, now: float, result: SweepResult) -> None:
        with WRITE_LOCK:
            partitions = list(table.items.keys())
        for start in range(0, len(partitions), _CHUNK):
            with WRITE_LOCK:
                for hash_key in partitions[start : start + _CHUNK]:
                    self._sweep_partition(table, hash_key, attribute, now, result)

    def _sweep_partition(self, table: Any, hash_key: Any, attribute: str, now: float, result: SweepResult) -> None:
        stored = table.items.get(hash_key)
        if stored is None:
            return
        if table.range_key_attr is None:
            result.examined += 1
            if is_expired(stored, attribute, now):
                del table.items[hash_key]
                self._removed(table, stored, result)
            return
        for range_key, item in list(stored.items()):
            result.examined += 1
            if is_expired(item, attribute, now):
                del stored[range_key]
                self._removed(table, item, result)
        if not stored:  # moto leaves an emptied partition behind; DynamoDB keeps nothing for it
            del table.items[hash_key]

    @staticmethod
    def _removed(table: Any, item: Any, result: SweepResult) -> None:
        result.deleted += 1
        moto_dirty_items.note(table.name, item.hash_key, item.range_key)  # the journal keeps the deletion
        if table.stream_shard is not None:
            stream_retention.add_record(table.stream_shard, item, None, TTL_IDENTITY)


__all__ = ["FIVE_YEARS", "SWEEP_INTERVAL", "TTL_IDENTITY", "SweepResult", "TtlSweeper", "expiry", "is_expired"]
