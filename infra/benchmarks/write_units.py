"""What the entity aggregates cost in DynamoDB write units, counted from the items they leave behind.

DynamoDB bills a write by the larger of the item's size before and after it, in 1 KB units, twice inside
TransactWriteItems ("Item sizes and formats", "Capacity unit consumption for writes"). Entity items only grow
between the removals of stale buckets and tokens, so an item's final size bounds every write to it. Per
transaction and entity it touched:
- the account (kind customer) rides on the profile update each transaction makes anyway: it adds
  2 × (units of the profile with its entity attributes − units without them);
- another entity adds ceil(size / 1 KB), once when the marker names it as written outside the transaction (a
  plain conditional UpdateItem), twice when it went inside.
The sum over transactions, divided by their number, bounds the units the entity features add per transaction.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from shopwatch.detectors.entities import KIND_CODES, EntityKey, entity_keys
from shopwatch.domain.transaction import Transaction
from shopwatch.storage.items import from_attributes
from shopwatch.storage.state import item_bytes

TRANSACTIONAL = 2


def value_size(value: Any) -> int:
    return item_bytes({"": value})


def item_size(item: Mapping[str, Any]) -> int:
    """Bytes of an item as DynamoDB counts them: attribute names plus values (storage.state's measure, which
    also chooses where an entity update goes)."""
    return item_bytes(item)


def write_units(size: int, transactional: bool = True) -> int:
    return max(1, math.ceil(size / 1024)) * (TRANSACTIONAL if transactional else 1)


_ENTITY_ATTRIBUTE = re.compile(r"^(?:[cxan][sfhd]-?\d+|L[a-z][hdy]-?\d+)$")  # buckets and link sets


def entity_units_per_transaction(
    transactions: Iterable[Transaction], state_items: Iterable[Mapping[str, Any]]
) -> tuple[float, dict[str, float]]:
    """Mean write units the entity features add per transaction (an upper bound), overall and by entity kind,
    from StateTable's items (entity items, profiles and markers)."""
    items = list(state_items)
    entities = entity_items(items)
    profiles: dict[str, Mapping[str, Any]] = {}
    outside: dict[str, str] = {}
    for item in items:
        if item["sk"] == "PROFILE":
            profiles[item["pk"].removeprefix("CUST#")] = item
        elif item["sk"] == "DETECT#0":
            outside[item["pk"].removeprefix("TXN#")] = item.get("entities_outside", "")
    by_kind: dict[str, int] = {}
    count = 0
    for tx in transactions:
        count += 1
        for kind, key in entity_keys(tx).items():
            if kind == "customer":
                units = _profile_share(profiles.get(key.value, {}))
            else:
                plain = KIND_CODES[kind] in outside.get(tx.transaction_id, "")
                units = write_units(item_size(entities.get(key, {})), transactional=not plain)
            by_kind[kind] = by_kind.get(kind, 0) + units
    if not count:
        return 0.0, {}
    return sum(by_kind.values()) / count, {k: v / count for k, v in sorted(by_kind.items())}


def _profile_share(profile: Mapping[str, Any]) -> int:
    """What the account's buckets and links add to each (transactional) profile write."""
    without = {n: v for n, v in profile.items() if not _ENTITY_ATTRIBUTE.match(n)}
    return write_units(item_size(profile)) - write_units(item_size(without))


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
