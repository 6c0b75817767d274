"""The model's features of one transaction, each from the state the detectors see."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from shopwatch.detectors.features import FEATURE_NAMES, NEVER, transaction_features
from shopwatch.detectors.history import CatalogEntry
from tests.builders import T0, detection_input, item, seconds, tx


def named(row: tuple[float, ...]) -> dict[str, float]:
    assert len(row) == len(FEATURE_NAMES)
    return dict(zip(FEATURE_NAMES, row, strict=True))


def test_a_first_purchase_has_no_history():
    row = named(transaction_features(detection_input(tx(items=(item("MUG", 3, "5.00"),)))))
    assert row["amount"] == 15.0 and row["log_amount"] == pytest.approx(math.log1p(15))
    assert (row["items"], row["quantity"]) == (1.0, 3.0)
    assert (row["hour"], row["weekday"]) == (16.0, float(T0.weekday()))
    assert row["customer_transactions"] == 0.0
    assert row["seconds_since_last"] == NEVER and row["days_since_first_seen"] == NEVER
    assert (row["amount_zscore"], row["price_ratio"], row["unusual_country"]) == (0.0, 1.0, 0.0)


def test_history_gives_gaps_zscore_countries_and_the_odd_price():
    past = [
        tx(f"h{i}", at=T0 - seconds(3600 * (i + 1)), items=(item("MUG", 1, p),), country="GB")
        for i, p in enumerate(["10.00", "12.00", "10.00", "11.00", "10.00"])
    ]
    current = tx(at=T0, items=(item("MUG", 1, "40.00"),), country="BR")
    row = named(transaction_features(detection_input(current, past)))
    assert row["customer_transactions"] == 5.0
    assert row["seconds_since_last"] == 3600.0
    assert row["days_since_first_seen"] == pytest.approx(5 / 24)
    assert (row["countries"], row["unusual_country"]) == (1.0, 1.0)
    mean, std = Decimal("10.6"), Decimal("0.8")
    assert row["amount_zscore"] == pytest.approx(float((Decimal(40) - mean) / std))
    assert row["price_ratio"] == pytest.approx(4.0)  # against the learned median 10.00


def test_the_catalog_price_is_the_reference_when_listed_and_the_furthest_line_wins():
    current = tx(items=(item("MUG", 1, "9.00"), item("LAMP", 1, "30.00")), currency="USD")
    catalog = {"LAMP": CatalogEntry("LAMP", Decimal("120.00"), "USD", "Lamp")}
    row = named(transaction_features(detection_input(current, catalog=catalog)))
    assert row["price_ratio"] == 0.25


@pytest.mark.parametrize(("status", "failed", "reversed_"), [("failed", 1, 0), ("denied", 1, 0), ("reversed", 0, 1)])
def test_status_flags(status, failed, reversed_):
    row = named(transaction_features(detection_input(tx(status=status, items=(item(),)))))
    assert (row["failed"], row["reversed"]) == (failed, reversed_)
