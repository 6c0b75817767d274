"""Quantity: a line above the customer's or the SKU's mean + 3σ, with guards against ordinary baskets."""

from __future__ import annotations

from shopwatch.config import DetectionSettings
from shopwatch.detectors import quantity
from shopwatch.detectors.history import CustomerHistory
from shopwatch.domain.severity import Severity
from tests.builders import T0, detection_input, item, seconds, tx

SETTINGS = DetectionSettings()


def purchases(quantities, customer="c1", sku="MUG"):
    return [
        tx(f"h{i}", customer, at=T0 - seconds(60 * (i + 1)), items=(item(sku, q, "5.00"),))
        for i, q in enumerate(quantities)
    ]


def test_a_quantity_far_above_the_customers_habit_is_a_spike():
    finding = quantity.detect(
        detection_input(tx(items=(item("MUG", 40, "5.00", "Mug"),)), purchases([2, 3, 2, 4, 3])), SETTINGS
    )
    assert finding is not None
    assert finding.reasons[0].code == "quantity_above_customer_norm"
    assert "40 x Mug" in finding.description
    assert finding.severity is Severity.CRITICAL


def test_a_quantity_within_habit_raises_nothing():
    assert (
        quantity.detect(detection_input(tx(items=(item("MUG", 5, "5.00"),)), purchases([2, 3, 2, 4, 3])), SETTINGS)
        is None
    )


def test_two_units_for_a_customer_who_always_buys_one_is_not_a_spike():
    assert quantity.detect(detection_input(tx(items=(item("MUG", 2, "5.00"),)), purchases([1] * 8)), SETTINGS) is None


def test_too_little_history_raises_nothing():
    assert (
        quantity.detect(detection_input(tx(items=(item("MUG", 500, "5.00"),)), purchases([1, 1, 1, 1])), SETTINGS)
        is None
    )


def test_the_skus_norm_applies_to_a_new_customer():
    others = [t for i in range(12) for t in purchases([3], customer=f"o{i}")]
    finding = quantity.detect(
        detection_input(tx("n1", "new", items=(item("MUG", 60, "5.00"),)), others, customer=CustomerHistory()), SETTINGS
    )
    assert [r.code for r in finding.reasons] == ["quantity_above_sku_norm"]


def test_returns_are_ignored():
    assert (
        quantity.detect(
            detection_input(tx(status="reversed", items=(item("MUG", -40, "5.00"),)), purchases([2, 3, 2, 4, 3])),
            SETTINGS,
        )
        is None
    )
