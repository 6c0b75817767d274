"""The model's features are the same whether DetectFunction computes them from the state it reads back from
DynamoDB (online) or a training job replays the same transactions through the in-memory state (offline)."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from shopwatch.config import DetectionSettings
from shopwatch.detection import service
from shopwatch.detection.offline import features_in_time_order
from shopwatch.detectors.features import FEATURE_NAMES, NEVER, transaction_features
from shopwatch.detectors.history import CatalogEntry
from shopwatch.domain.clock import to_iso, utcnow
from shopwatch.domain.transaction import Transaction
from shopwatch.storage.state import StateRepository


def sequence(n: int = 40) -> list[dict]:
    """Four customers, three countries, a catalogued SKU and learned ones, failures and a return."""
    rng = random.Random(8)
    start = utcnow() - timedelta(hours=6)
    out = []
    for i in range(n):
        customer = rng.choice(["ann", "bob", "cho", "dee"])
        status = rng.choices(["approved", "failed", "denied", "reversed"], weights=[14, 2, 1, 1])[0]
        items = [
            {"sku": sku, "quantity": rng.randint(1, 6) * (-1 if status == "reversed" else 1),
             "unit_price": str(Decimal(rng.choice(["4.50", "5.00", "5.25", "19.99", "120.00"])))}
            for sku in rng.sample(["MUG", "TEA", "POT", "LAMP"], rng.randint(1, 3))
        ]  # fmt: skip
        out.append(
            {
                "transaction_id": f"t{i:03d}",
                "customer_id": customer,
                "timestamp": to_iso(start + timedelta(minutes=7 * i + rng.randint(0, 5))),
                "currency": "GBP",
                "country": rng.choices(["GB", "FR", "BR"], weights=[8, 2, 1])[0],
                "status": status,
                "items": items,
            }
        )
    return out


def test_online_and_offline_features_are_identical(stack, monkeypatch):
    catalog = {"LAMP": CatalogEntry("LAMP", Decimal("110.00"), "GBP", "Lamp")}
    StateRepository(stack.table("StateTable")).put_catalog_entry(catalog["LAMP"])
    online: dict[str, tuple[float, ...]] = {}
    read_state = service.BatchState.input_for

    def recording(self, tx):
        data = read_state(self, tx)
        online[tx.transaction_id] = transaction_features(data)
        return data

    monkeypatch.setattr(service.BatchState, "input_for", recording)
    pipeline = stack.pipeline()
    for tx in sequence():  # one at a time, in time order, as the offline replay takes them
        assert pipeline.post(tx)["status"] == 202
        pipeline.drain()

    captured = dict(online)  # the offline replay below goes through the same (still recording) method
    stored = [Transaction.from_item(item) for item in stack.scan("TransactionsTable")]
    offline = dict((tx.transaction_id, row) for tx, row in features_in_time_order(stored, DetectionSettings(), catalog))
    assert len(offline) == len(captured) == 40
    assert offline == captured
    rows = list(offline.values())
    # the sequence exercises what the features are for, so equality above is not equality of constants
    column = {name: [r[i] for r in rows] for i, name in enumerate(FEATURE_NAMES)}
    assert NEVER in column["seconds_since_last"] and max(column["seconds_since_last"]) > 0
    assert max(column["unusual_country"]) == 1.0 and max(column["failed"]) == 1.0 and max(column["reversed"]) == 1.0
    assert len(set(column["price_ratio"])) > 3 and len(set(column["amount_zscore"])) > 10


def test_entity_histories_read_from_dynamodb_equal_the_offline_replays(stack, monkeypatch):
    """What the entity detectors see online (items read back from StateTable, one delivery per transaction) is
    what replay and training see offline, bucket for bucket and link for link."""
    from shopwatch.detectors.entities import EntityHistory, entity_keys

    rng = random.Random(16)
    start = utcnow() - timedelta(hours=3)
    raw = [
        {"transaction_id": f"e{i:03d}", "customer_id": rng.choice(["ann", "bob", "cho"]),
         "timestamp": to_iso(start + timedelta(seconds=45 * i)), "amount": f"{rng.randint(1, 90)}.00",
         "status": rng.choices(["approved", "failed"], weights=[5, 1])[0],
         "device_id": rng.choice(["D1", "D2"]), "ip": rng.choice(["203.0.113.5", "203.0.113.9"]),
         "email": rng.choice(["Ann@x.example", "ann@x.example", "bob@x.example"]),
         "card_fingerprint": rng.choice(["fp1", "fp2"]),
         "account_created_at": to_iso(start - timedelta(minutes=rng.randint(0, 3000)))}
        for i in range(30)
    ]  # fmt: skip
    online: dict[str, dict] = {}
    read_state = service.BatchState.input_for

    def recording(self, tx):
        data = read_state(self, tx)
        online[tx.transaction_id] = {k: data.entities.get(k, EntityHistory()) for k in entity_keys(tx).values()}
        return data

    monkeypatch.setattr(service.BatchState, "input_for", recording)
    pipeline = stack.pipeline()
    for tx in raw:
        assert pipeline.post(tx)["status"] == 202
        pipeline.drain()
    captured = dict(online)
    stored = sorted(
        (Transaction.from_item(i) for i in stack.scan("TransactionsTable")),
        key=lambda t: (t.timestamp, t.transaction_id),
    )
    state = service.BatchState.empty()
    offline = {}
    for tx in stored:
        offline[tx.transaction_id] = {k: state.entities.get(k, EntityHistory()) for k in entity_keys(tx).values()}
        state.learn(tx, DetectionSettings().failed_statuses)
    assert len(captured) == 30 and offline == captured
    last = captured["e029"]
    assert any(h.links for h in last.values()) and any(h.buckets for h in last.values())
