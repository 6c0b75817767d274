"""Loading catalog prices from CSV into StateTable, so the price detector can compare against list prices.

CSV columns: sku, price, and optionally currency and name (header row required). Every row is validated
before anything is written: a bad file changes nothing.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from shopwatch.catalog.service import make_entry
from shopwatch.detectors.history import CatalogEntry
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
                price = (row.get("price") or "").strip()
                currency = (row.get("currency") or "").strip() or None
                entries.append(make_entry(row.get("sku") or "", price, currency, row.get("name"), default_currency))
            except ValueError as exc:
                problems.append(f"line {line}: {exc}")
    if problems:
        raise CatalogFileError(tuple(problems))
    return entries


def load_catalog(path: Path, table_name: str, default_currency: str = "USD") -> int:
    entries = read_catalog(path, default_currency)
    StateRepository(table_name).put_catalog_entries(entries)
    return len(entries)
