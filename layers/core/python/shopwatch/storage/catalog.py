"""The catalog as the API writes and reads it: each product's entry with who changed it last and when.

The items are the StateTable's `SKU#<sku>` / `CATALOG` items the price detector reads (StateRepository.get_catalog,
which ignores the two extra attributes); this repository adds `changed_by` (the signed-in admin's user name, or
"shop" for the API key) and `changed_at`, so a price that moves the detector's reference can be traced to a caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from shopwatch.detectors.history import CatalogEntry
from shopwatch.domain.clock import parse_iso, to_iso
from shopwatch.storage.aws import client
from shopwatch.storage.batch_writes import put_many
from shopwatch.storage.items import from_attributes, to_attributes
from shopwatch.storage.state import catalog_key


@dataclass(frozen=True)
class CatalogRecord:
    entry: CatalogEntry
    changed_by: str | None = None  # None for entries written before changes were recorded (or by the CLI loader)
    changed_at: datetime | None = None


def _item(record: CatalogRecord) -> dict[str, Any]:
    entry = record.entry
    item: dict[str, Any] = catalog_key_plain(entry.sku) | {"price": entry.price, "currency": entry.currency}
    if entry.name:
        item["name"] = entry.name
    if record.changed_by is not None:
        item["changed_by"] = record.changed_by
    if record.changed_at is not None:
        item["changed_at"] = to_iso(record.changed_at)
    return item


def catalog_key_plain(sku: str) -> dict[str, str]:
    """The catalog item's key as plain values (catalog_key gives it as DynamoDB attribute values)."""
    return {name: value["S"] for name, value in catalog_key(sku).items()}


def _record(item: dict[str, Any]) -> CatalogRecord:
    entry = CatalogEntry(
        sku=item["pk"].removeprefix("SKU#"),
        price=Decimal(item["price"]),
        currency=item["currency"],
        name=item.get("name"),
    )
    changed_at = item.get("changed_at")
    return CatalogRecord(entry, item.get("changed_by"), parse_iso(changed_at) if changed_at else None)


class CatalogRepository:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def get(self, sku: str) -> CatalogRecord | None:
        response = client("dynamodb").get_item(TableName=self.table_name, Key=catalog_key(sku))
        return _record(from_attributes(response["Item"])) if "Item" in response else None

    def put(self, record: CatalogRecord) -> None:
        client("dynamodb").put_item(TableName=self.table_name, Item=to_attributes(_item(record)))

    def put_many(self, records: list[CatalogRecord]) -> None:
        put_many(self.table_name, [_item(r) for r in records])
