"""The Online Retail benchmark's injection and scoring, on a small synthetic file in Online Retail's format."""

from __future__ import annotations

import csv
import gzip
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from infra.benchmarks.common import detectors_by_transaction, messages_sent, quiet_score, recall_by_kind
from infra.benchmarks.injection import DISCOUNT, KINDS, MARKUP, Injector
from infra.benchmarks.retail import score
from infra.replay import online_retail_transactions
from shopwatch.domain.alert import Alert
from shopwatch.domain.severity import Severity

SKUS = {f"2{n:04d}": Decimal("1.25") + n for n in range(8)}


def synthetic_retail(path: Path, invoices: int = 400) -> Path:
    """Ten regular customers in two countries and some guests buying eight items at fixed prices."""
    start = datetime(2011, 3, 1, 9, tzinfo=UTC)
    with gzip.open(path, "wt", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice",
                         "CustomerID", "Country"])  # fmt: skip
        for n in range(invoices):
            customer = "" if n % 7 == 0 else f"{12000 + n % 10}.0"
            country = "France" if n % 10 == 3 else "United Kingdom"
            moment = (start + timedelta(minutes=17 * n)).strftime("%Y-%m-%d %H:%M:%S")
            for k in range(1 + n % 3):
                sku = list(SKUS)[(n + k) % len(SKUS)]
                writer.writerow([str(540000 + n), sku, f"ITEM {sku}", str(6 * (1 + k)), moment, str(SKUS[sku]),
                                 customer, country])  # fmt: skip
    return path


@pytest.fixture
def injected(tmp_path: Path) -> tuple[list[dict], Injector]:
    injector = Injector(every=20, warmup=150, seed=3)
    return list(injector.inject(online_retail_transactions(synthetic_retail(tmp_path / "retail.csv.gz")))), injector


def test_every_kind_is_injected_in_turn_after_the_warmup(injected) -> None:
    stream, injector = injected
    kinds = [t["kind"] for t in injector.truth]
    assert kinds[: len(KINDS)] == list(KINDS)
    assert len(kinds) == len(range(150, 400 + 1, 20))
    first = next(i for i, tx in enumerate(stream) if tx["transaction_id"].startswith("INJ-"))
    assert first == 150  # right after the 150th real invoice


def test_nothing_is_injected_before_the_shop_has_the_history_it_needs(tmp_path: Path) -> None:
    injector = Injector(every=10, warmup=10, seed=3)
    list(injector.inject(online_retail_transactions(synthetic_retail(tmp_path / "r.csv.gz", 100))))
    assert injector.truth == []  # 100 invoices: no item sold on 30 lines yet


def test_ground_truth_lists_exactly_the_injected_transactions(injected) -> None:
    stream, injector = injected
    listed = [t for anomaly in injector.truth for t in anomaly["transaction_ids"]]
    assert len(listed) == len(set(listed))
    assert set(listed) == {tx["transaction_id"] for tx in stream if tx["transaction_id"].startswith("INJ-")}
    assert sum(1 for tx in stream if tx["transaction_id"].startswith("OR-")) == 400


def _injected(stream: list[dict], injector: Injector, kind: str) -> list[list[dict]]:
    by_id = {tx["transaction_id"]: tx for tx in stream}
    return [[by_id[t] for t in a["transaction_ids"]] for a in injector.truth if a["kind"] == kind]


def test_price_anomalies_are_a_tenth_or_six_times_the_usual_price_of_one_well_known_item(injected) -> None:
    stream, injector = injected
    for kind, factor in (("deep_discount", DISCOUNT), ("markup", MARKUP)):
        for (tx,) in _injected(stream, injector, kind):
            odd = [i for i in tx["items"] if Decimal(i["unit_price"]) != SKUS[i["sku"]]]
            assert len(odd) == 1 and len(tx["items"]) == 3
            assert Decimal(odd[0]["unit_price"]) == (SKUS[odd[0]["sku"]] * factor).quantize(
                Decimal("0.01"), ROUND_HALF_UP
            )
            assert not tx["customer_id"].startswith("guest-")


def test_bursts_and_card_tests_come_from_one_regular_customer_within_minutes(injected) -> None:
    stream, injector = injected
    for kind, statuses in (("bot_burst", {"approved"}), ("card_testing", {"failed", "denied"})):
        for burst in _injected(stream, injector, kind):
            assert len({tx["customer_id"] for tx in burst}) == 1
            assert {tx["status"] for tx in burst} == statuses
            times = [datetime.fromisoformat(tx["timestamp"]) for tx in burst]
            assert max(times) - min(times) <= timedelta(minutes=2)


def test_new_country_is_one_the_customer_never_used(injected) -> None:
    stream, injector = injected
    for (tx,) in _injected(stream, injector, "new_country"):
        before = stream[: stream.index(tx)]
        used = {t["country"] for t in before if t["customer_id"] == tx["customer_id"] and "country" in t}
        assert len(used) == 1 and tx["country"] not in used


def test_a_device_ring_is_fresh_accounts_on_one_device_within_minutes(injected) -> None:
    stream, injector = injected
    for ring in _injected(stream, injector, "shared_device_ring"):
        customers = [tx["customer_id"] for tx in ring]
        assert len(set(customers)) == len(ring) >= 3
        assert not any(t["customer_id"] in customers for t in stream if t not in ring)
        assert len({tx["device_id"] for tx in ring}) == 1
        assert "account_created_at" not in ring[0]  # the contract does not have it yet


def test_entity_fields_are_added_only_when_asked(tmp_path: Path) -> None:
    injector = Injector(every=5, warmup=150, seed=3, kinds=("shared_device_ring",), entity_fields=True)
    ring = [
        tx
        for tx in injector.inject(online_retail_transactions(synthetic_retail(tmp_path / "r.csv.gz", 160)))
        if tx["transaction_id"].startswith("INJ-")
    ]
    assert ring and all(tx["account_created_at"] < tx["timestamp"] for tx in ring)


def _alert(detector: str, severity: Severity, *tids: str) -> Alert:
    now = datetime(2011, 3, 1, tzinfo=UTC)
    return Alert(alert_id=f"{detector}-{tids[0]}", detector=detector, severity=severity, risk_score=Decimal(50),
                 subject="s", window_start=now, window_end=now, reasons=(), transaction_ids=tids, summary="s",
                 created_at=now, updated_at=now)  # fmt: skip


def test_scoring_counts_real_invoices_paged_and_alerted_and_recall_by_expected_detector() -> None:
    truth = [
        {"anomaly_id": "d1", "kind": "deep_discount", "transaction_ids": ["INJ-1"], "expected_detectors": ["price"]},
        {"anomaly_id": "d2", "kind": "deep_discount", "transaction_ids": ["INJ-2"], "expected_detectors": ["price"]},
        {"anomaly_id": "r1", "kind": "shared_device_ring", "transaction_ids": ["INJ-3", "INJ-4"],
         "expected_detectors": []},
    ]  # fmt: skip
    alerts = [
        _alert("price", Severity.HIGH, "INJ-1", "OR-1"),  # grouped with a real invoice: that one is paged too
        _alert("quantity", Severity.MEDIUM, "INJ-2"),  # not the expected detector
        _alert("geo", Severity.LOW, "INJ-4", "OR-2"),  # low: alerted, not paged, and catches nothing
        _alert("price", Severity.LOW, "OR-3"),
    ]
    accepted = ["OR-1", "OR-2", "OR-3", "OR-4", "INJ-1", "INJ-2", "INJ-3", "INJ-4"]
    deliveries = [{"subscription": "AlertEmailSubscription", "attributes": {"sms": "none"}}] * 2 + [
        {"subscription": "AlertEmailSubscription", "attributes": {"sms": "held"}},
        {"subscription": "AlertSmsSubscription", "attributes": {"sms": "send"}},
        {"subscription": "DigestEmailSubscription"},
    ]
    quiet, kinds, messages = score(truth, accepted, alerts, deliveries)
    assert (quiet.real, quiet.paged, quiet.alerted) == (4, 1, 3)
    assert (quiet.paged_share, quiet.alerted_share) == (0.25, 0.75)
    assert quiet.paged_by_detector == Counter({"price": 1})
    assert quiet.alerted_by_detector == Counter({"price": 2, "geo": 1})
    assert [(k, v.injected, v.caught, v.missed) for k, v in kinds.items()] == [
        ("deep_discount", 2, 1, ["d2"]),
        ("shared_device_ring", 1, 0, ["r1"]),
    ]
    assert messages == Counter({"email": 3, "sms": 1, "sms_held": 1})


def test_a_ring_is_caught_by_any_detector_paging_one_of_its_transactions() -> None:
    truth = [{"anomaly_id": "r", "kind": "shared_device_ring", "transaction_ids": ["a", "b"], "expected_detectors": []}]
    paged = detectors_by_transaction([_alert("velocity", Severity.MEDIUM, "b")])
    assert recall_by_kind(truth, paged)["shared_device_ring"].caught == 1


def test_nothing_sent_and_no_real_invoices_score_zero() -> None:
    assert messages_sent([]) == Counter()
    assert quiet_score([], []).paged_share == 0.0


def test_model_outliers_are_twice_the_shops_largest_invoice_and_basket_and_do_not_raise_the_bar(tmp_path):
    from infra.benchmarks.injection import MODEL_KINDS

    real = list(online_retail_transactions(synthetic_retail(tmp_path / "r.csv.gz")))
    injector = Injector(every=20, warmup=300, seed=3, kinds=MODEL_KINDS)
    sent = list(injector.inject(real))
    largest = max(sum(Decimal(i["unit_price"]) * i["quantity"] for i in t["items"]) for t in real)
    most_units = max(sum(i["quantity"] for i in t["items"]) for t in real)
    injected = {t for a in injector.truth for t in a["transaction_ids"]}
    kinds = Counter(a["kind"] for a in injector.truth)
    assert kinds == {"amount_outlier": 3, "basket_outlier": 3}  # taking turns
    for tx in (t for t in sent if t["transaction_id"] in injected):
        amount = sum(Decimal(i["unit_price"]) * i["quantity"] for i in tx["items"])
        units = sum(i["quantity"] for i in tx["items"])
        if "amount_outlier" in tx["transaction_id"]:
            assert amount >= 2 * largest
        else:
            assert units >= 2 * most_units
        assert {a["expected_detectors"][0] for a in injector.truth} == {"model"}
    assert injector.memory.largest_amount == largest  # the injected ones never raised the bar they double
    assert injector.memory.most_units == most_units
