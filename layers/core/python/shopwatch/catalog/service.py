"""The product catalog the price detector compares against: one rule for every way in (the CSV loader,
PUT /products/{sku} and bulk POST /products with the shop's key, the same under /admin/ for a signed-in admin), a
bulk load that validates every row before writing any, and every API write recorded with who made it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from shopwatch.detectors.history import CatalogEntry
from shopwatch.domain.geography import normalize_currency
from shopwatch.domain.input_rules import has_control_characters, reject_unaddressable
from shopwatch.domain.money import to_decimal
from shopwatch.domain.transaction import MAX_AMOUNT
from shopwatch.errors import NotFound, ValidationFailed
from shopwatch.storage.catalog import CatalogRecord, CatalogRepository

MAX_SKU_LENGTH = 64
MAX_BULK = 500


def make_entry(sku: str, price: object, currency: str | None, name: str | None, default_currency: str) -> CatalogEntry:
    """A validated catalog entry; ValueError names what is wrong."""
    sku = sku.strip()
    if not sku or len(sku) > MAX_SKU_LENGTH:
        raise ValueError(f"sku must be 1-{MAX_SKU_LENGTH} characters, not only spaces")
    try:
        reject_unaddressable(sku)
    except ValueError as exc:
        raise ValueError(f"sku {exc}") from None
    if name is not None and has_control_characters(name):
        raise ValueError("name must not contain control characters or line breaks")
    amount = to_decimal(price, places=4, maximum=MAX_AMOUNT)
    if amount <= Decimal(0):
        raise ValueError("price must be greater than 0")
    return CatalogEntry(sku, amount, normalize_currency(currency or default_currency), (name or "").strip() or None)


class CatalogService:
    def __init__(self, repository: CatalogRepository, default_currency: str) -> None:
        self.repository = repository
        self.default_currency = default_currency

    def _entry(self, sku: str, price: object, currency: str | None, name: str | None) -> CatalogEntry:
        try:
            return make_entry(sku, price, currency, name, self.default_currency)
        except ValueError as exc:
            raise ValidationFailed(str(exc), {"sku": sku}) from None

    def put(
        self, sku: str, price: object, currency: str | None, name: str | None, by: str, now: datetime
    ) -> CatalogRecord:
        """Store one product; `by` is the caller API Gateway authenticated (an admin's user name, or the shop)."""
        record = CatalogRecord(self._entry(sku, price, currency, name), by, now)
        self.repository.put(record)
        return record

    def get(self, sku: str) -> CatalogRecord:
        found = self.repository.get(sku) if 0 < len(sku) <= MAX_SKU_LENGTH else None
        if found is None:
            raise NotFound(f"no product {sku}", {"sku": sku})
        return found

    def put_many(self, rows: list[tuple[str, object, str | None, str | None]], by: str, now: datetime) -> int:
        """Store every row or none; the number of products stored (a repeated sku counts once)."""
        entries: list[CatalogEntry] = []
        problems: list[dict[str, object]] = []
        for index, (sku, price, currency, name) in enumerate(rows):
            try:
                entries.append(make_entry(sku, price, currency, name, self.default_currency))
            except ValueError as exc:
                problems.append({"index": index, "sku": sku, "message": str(exc)})
        if problems:
            raise ValidationFailed(f"{len(problems)} of {len(rows)} products refused; nothing stored", problems)
        latest = list({e.sku: e for e in entries}.values())  # a repeated sku: its last row, as a CSV load does
        self.repository.put_many([CatalogRecord(entry, by, now) for entry in latest])
        return len(latest)
