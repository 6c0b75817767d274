"""Loading catalog prices from CSV into StateTable, so the price detector can compare against list prices.

CSV columns: sku, price, and optionally currency and name (header row required). Every row is validated
before anything is written: a bad file changes nothing.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from shopwatch.detectors.history import CatalogEntry
from shopwatch.domain.geography import normalize_currency
from shopwatch.domain.money import to_decimal
from shopwatch.domain.transaction import MAX_AMOUNT
from shopwatch.storage.state import StateRepository


@dataclass(frozen=True)
class CatalogFileError(Exception):
    problems: tuple[str, ...]

    def __str__(self) -> str:
        return "catalog file refused:\n" + "\n".join(f"  {p}" for p in self.problems)


def read_catalog(path: Path, default_currency: str) -> list[CatalogEntry]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {"sku", "price"} - set(reader.fieldnames or ())
        if missing:
            raise CatalogFileError((f"missing column(s): {', '.join(sorted(missing))}",))
        entries, problems = [], []
        for line, row in enumerate(reader, start=2):
            try:
                sku = (row.get("sku") or "").strip()
                if not sku or len(sku) > 64:
                    raise ValueError("sku must be 1-64 characters")
                price = to_decimal((row.get("price") or "").strip(), places=4, maximum=MAX_AMOUNT)
                if price <= Decimal(0):
                    raise ValueError("price must be greater than 0")
                currency = normalize_currency((row.get("currency") or "").strip() or default_currency)
                entries.append(CatalogEntry(sku, price, currency, (row.get("name") or "").strip() or None))
            except ValueError as exc:
                problems.append(f"line {line}: {exc}")
    if problems:
        raise CatalogFileError(tuple(problems))
    return entries


def load_catalog(path: Path, table_name: str, default_currency: str = "USD") -> int:
    entries = read_catalog(path, default_currency)
    repository = StateRepository(table_name)
    for entry in entries:
        repository.put_catalog_entry(entry)
    return len(entries)
