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


def test_units_per_transaction_count_plain_writes_once_transactional_twice_and_the_profiles_growth():
    at = datetime(2025, 1, 1, tzinfo=UTC)
    tx = Transaction(
        "t1", "c1", at, at, "approved", Decimal(1), "USD", device_id="D", email="e@x.example", ip="10.0.0.1"
    )
    state = [
        {"pk": "ENT#device#D", "sk": "AGG", "blob": "x" * 1500},  # 2 KB: 2 units plain
        {"pk": "ENT#email#e@x.example", "sk": "AGG"},  # inside the transaction: 2 units
        {"pk": "ENT#ip#10.0.0.1", "sk": "AGG"},
        {"pk": "ENT#ipnet#10.0.0.0/24", "sk": "AGG"},
        {"pk": "TXN#t1", "sk": "DETECT#0", "entities_outside": "vin"},
        # the account's buckets and links take the profile past 1 KB: its write costs 4 units instead of 2
        {"pk": "CUST#c1", "sk": "PROFILE", "transactions": Decimal(1), "name": "x" * 900}
        | {f"Lvd{20000 + i}": {"D" * 10} for i in range(12)},
    ]
    assert set(entity_items(state)) == {EntityKey(k, v) for k, v in
                                        [("device", "D"), ("email", "e@x.example"), ("ip", "10.0.0.1"),
                                         ("ipnet", "10.0.0.0/24")]}  # fmt: skip
    total, by_kind = entity_units_per_transaction([tx], state)
    assert by_kind == {"customer": 2.0, "device": 2.0, "email": 2.0, "ip": 1.0, "ipnet": 1.0}
    assert total == 8.0
