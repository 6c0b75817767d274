"""DynamoDB item sizes and write units as AWS documents them, on items whose size is known by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from infra.benchmarks.write_units import entity_items, entity_units_per_transaction, item_size, value_size, write_units
from shopwatch.detectors.entities import EntityKey
from shopwatch.domain.transaction import Transaction


def test_sizes_follow_dynamodbs_rules():
    assert value_size("héllo") == 6  # UTF-8 bytes
    assert value_size(Decimal("123.4500")) == 4  # 5 significant digits: 3 bytes + 1
    assert value_size(Decimal("1000")) == 2  # trailing zeros do not count
    assert value_size({"a", "bc"}) == 3
    assert value_size(True) == 1
    assert value_size({"k": "v"}) == 3 + 1 + 1 + 1
    assert item_size({"pk": "ENT#device#D", "n": Decimal(5)}) == 2 + 12 + 1 + 2


def test_write_units_round_up_per_kilobyte_and_double_in_transactions():
    assert write_units(1) == 2 and write_units(1024) == 2 and write_units(1025) == 4
    assert write_units(1025, transactional=False) == 2


def test_units_per_transaction_sum_the_entities_each_one_touched():
    at = datetime(2025, 1, 1, tzinfo=UTC)
    tx = Transaction("t1", "c1", at, at, "approved", Decimal(1), "USD", device_id="D")
    big = {"pk": "ENT#device#D", "sk": "AGG", "blob": "x" * 1500}
    items = entity_items([big, {"pk": "ENT#customer#c1", "sk": "AGG"}, {"pk": "CUST#c1", "sk": "PROFILE"}])
    assert set(items) == {EntityKey("device", "D"), EntityKey("customer", "c1")}
    total, by_kind = entity_units_per_transaction([tx], items)
    assert (total, by_kind) == (6.0, {"customer": 2.0, "device": 4.0})
