"""What the entity aggregates cost in DynamoDB write units, counted from the items they leave behind.

DynamoDB bills a write by the larger of the item's size before and after it, in 1 KB units, twice inside
TransactWriteItems (which is where DetectFunction writes entity items, with the marker). Entity items only grow
between the removals of stale buckets, so an item's final size is an upper bound on every write to it; summing
2 × ceil(final size / 1 KB) over the entities each transaction touched gives an upper bound on the units the
entity features add per transaction. Item sizes follow DynamoDB's documented rules ("Item sizes and formats").
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from shopwatch.detectors.entities import EntityKey, entity_keys
from shopwatch.domain.transaction import Transaction
from shopwatch.storage.items import from_attributes

TRANSACTIONAL = 2


def _number_size(value: Decimal | int) -> int:
    """About one byte per two significant digits, plus one (leading and trailing zeros do not count)."""
    significant = len(Decimal(value).normalize().as_tuple().digits)
    return math.ceil(significant / 2) + 1


def value_size(value: Any) -> int:
    if isinstance(value, bool) or value is None:
        return 1
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, bytes | bytearray):
        return len(value)
    if isinstance(value, int | Decimal):
        return _number_size(value)
    if isinstance(value, set | frozenset):
        return sum(value_size(v) for v in value)
    if isinstance(value, list | tuple):
        return 3 + sum(value_size(v) + 1 for v in value)
    if isinstance(value, dict):
        return 3 + sum(len(str(k).encode()) + value_size(v) + 1 for k, v in value.items())
    raise TypeError(f"not a DynamoDB value: {type(value).__name__}")


def item_size(item: Mapping[str, Any]) -> int:
    """Bytes of an item as DynamoDB counts them: attribute names plus values."""
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def write_units(size: int, transactional: bool = True) -> int:
    return max(1, math.ceil(size / 1024)) * (TRANSACTIONAL if transactional else 1)


def entity_units_per_transaction(
    transactions: Iterable[Transaction], entity_items: Mapping[EntityKey, Mapping[str, Any]]
) -> tuple[float, dict[str, float]]:
    """Mean write units the entity items add per transaction (an upper bound), overall and by entity kind."""
    units = {key: write_units(item_size(item)) for key, item in entity_items.items()}
    by_kind: dict[str, int] = {}
    count = 0
    for tx in transactions:
        count += 1
        for kind, key in entity_keys(tx).items():
            by_kind[kind] = by_kind.get(kind, 0) + units.get(key, TRANSACTIONAL)
    if not count:
        return 0.0, {}
    return sum(by_kind.values()) / count, {k: v / count for k, v in sorted(by_kind.items())}


def scan(dynamodb: Any, table: str) -> Iterable[dict[str, Any]]:
    """Every item of a (local) table, deserialised."""
    for page in dynamodb.get_paginator("scan").paginate(TableName=table):
        yield from map(from_attributes, page["Items"])


def entity_items(items: Iterable[Mapping[str, Any]]) -> dict[EntityKey, Mapping[str, Any]]:
    """StateTable items of entities, by key (`ENT#<kind>#<value>`; values may contain '#')."""
    found = {}
    for item in items:
        if item["pk"].startswith("ENT#") and item["sk"] == "AGG":
            kind, _, value = item["pk"].removeprefix("ENT#").partition("#")
            found[EntityKey(kind, value)] = item
    return found
