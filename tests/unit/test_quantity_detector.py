"""Quantity: a line far above its usual multiple on a log scale, by every baseline that has history."""

from __future__ import annotations

from decimal import Decimal

from shopwatch.config import DetectionSettings
from shopwatch.detectors import quantity
from shopwatch.detectors.history import CustomerHistory
from shopwatch.domain.severity import Severity
from tests.builders import T0, detection_input, history_of, item, seconds, tx

SETTINGS = DetectionSettings()


def purchases(quantities, customer="c1", sku="MUG"):
    return [
        tx(f"h{i}", customer, at=T0 - seconds(60 * (i + 1)), items=(item(sku, q, "5.00"),))
        for i, q in enumerate(quantities)
    ]


def test_a_quantity_far_above_the_customers_habit_and_the_items_norm_is_a_critical_spike():
    others = [t for i in range(12) for t in purchases([2, 3], customer=f"o{i}", sku="MUG")]
    mine = purchases([2, 3, 2, 4, 3])
    data = detection_input(tx(items=(item("MUG", 200, "5.00", "Mug"),)), others + mine, customer=history_of(mine)[0])
    finding = quantity.detect(data, SETTINGS)
    assert finding is not None
    assert finding.reasons[0].code == "quantity_above_customer_norm"
    assert "200 x Mug" in finding.description
    assert finding.severity is Severity.CRITICAL


def test_a_spike_only_the_customers_habit_sees_is_reported_low():
    """The item has too few lines for a norm (5 < quantity_sku_min_history): new items come by the hundred too,
    so the customer's habit alone tells, it does not page (Online Retail, issue 16)."""
    finding = quantity.detect(
        detection_input(tx(items=(item("MUG", 40, "5.00", "Mug"),)), purchases([2, 3, 2, 4, 3])), SETTINGS
    )
    assert finding is not None
    assert finding.reasons[0].code == "quantity_above_customer_norm"
    assert finding.severity is Severity.LOW
    assert finding.strength == Decimal("0.25")


def test_a_bigger_order_of_everything_is_judged_against_the_habit_scaled_by_the_order():
    """A trader who orders every line 20 times their usual (a seasonal order) is not spiking on each line; the
    same multiple on a lone line, or on one line of an ordinary basket, still is."""
    skus = ("A", "B", "C", "D")
    others = [t for sku in skus for i in range(12) for t in purchases([2, 3], customer=f"o{i}", sku=sku)]
    mine = [t for sku in skus for t in purchases([2, 3, 2], customer="c1", sku=sku)]
    habit = history_of(mine)[0]
    big_order = tuple(item(sku, 50, "1.00") for sku in skus)
    assert (
        quantity.detect(detection_input(tx("x", "c1", items=big_order), others + mine, customer=habit), SETTINGS)
        is None
    )
    one_odd_line = (item("A", 50, "1.00"), *(item(sku, 2, "1.00") for sku in skus[1:]))
    finding = quantity.detect(
        detection_input(tx("x", "c1", items=one_odd_line), others + mine, customer=habit), SETTINGS
    )
    assert finding is not None and finding.severity >= Severity.MEDIUM
    assert (
        quantity.detect(
            detection_input(tx("x", "c1", items=(item("A", 50, "1.00"),)), others + mine, customer=habit), SETTINGS
        ).severity
        >= Severity.MEDIUM
    )


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


def test_a_new_customers_first_big_order_is_not_a_spike_without_a_habit_to_spike_from():
    """Online Retail: a new trade customer's first order of 96 when others buy 3 paged people (issue 16)."""
    others = [t for i in range(12) for t in purchases([3], customer=f"o{i}")]
    data = detection_input(tx("n1", "new", items=(item("MUG", 60, "5.00"),)), others, customer=CustomerHistory())
    assert quantity.detect(data, SETTINGS) is None


def test_a_big_basket_is_held_to_the_one_line_standard_as_a_whole():
    """One line at 3.5 of the customer's spreads (past 3) is a spike alone, not as one of 200 lines (past 4.35)."""
    mine = purchases([1, 2, 1, 1, 2, 4, 2, 1], customer="c1", sku="MUG")
    habit = history_of(mine)[0]
    mean, std = habit.log_quantity_stats()
    quantity_at_3_5 = int((mean + Decimal("3.5") * max(std, SETTINGS.quantity_log_sigma_floor)).exp()) + 1
    spike = item("MUG", quantity_at_3_5, "5.00")
    alone = detection_input(tx("x", "c1", items=(spike,)), mine, customer=habit)
    assert quantity.detect(alone, SETTINGS) is not None
    ordinary = tuple(item(f"OTHER-{n}", 1, "1.00") for n in range(199))
    in_a_big_order = detection_input(tx("x", "c1", items=(spike, *ordinary)), mine, customer=habit)
    assert quantity.detect(in_a_big_order, SETTINGS) is None


def test_returns_are_ignored():
    assert (
        quantity.detect(
            detection_input(tx(status="reversed", items=(item("MUG", -40, "5.00"),)), purchases([2, 3, 2, 4, 3])),
            SETTINGS,
        )
        is None
    )


def test_a_wholesale_order_of_an_item_sold_by_the_hundred_is_not_a_spike():
    """Online Retail's shape: the same SKU goes out in 12s, 24s, 100s and 480s."""
    sizes = [12, 24, 48, 144, 96, 480, 12, 24, 200, 72, 36, 48]
    others = [t for i, q in enumerate(sizes) for t in purchases([q], customer=f"w{i}", sku="BAG")]
    trader = purchases([12, 24, 12, 48, 24, 100], customer="trader", sku="BAG")
    data = detection_input(
        tx("big", "trader", items=(item("BAG", 480, "0.85"),)), others + trader, customer=history_of(trader)[0]
    )
    assert quantity.detect(data, SETTINGS) is None


def test_a_spike_for_the_customer_that_is_ordinary_for_the_sku_is_not_a_spike():
    others = [t for i in range(12) for t in purchases([100], customer=f"o{i}", sku="CUPS")]
    mine = purchases([1, 2, 1, 1, 2], customer="c1", sku="CUPS")
    data = detection_input(
        tx("x", "c1", items=(item("CUPS", 100, "0.10"),)), others + mine, customer=history_of(mine)[0]
    )
    assert quantity.detect(data, SETTINGS) is None
    alone = detection_input(tx("x", "c1", items=(item("CUPS", 100, "0.10"),)), mine)
    assert quantity.detect(alone, SETTINGS) is not None  # the customer's baseline alone does call it a spike


def test_when_both_baselines_agree_the_alert_gives_both_and_the_multiple():
    others = [t for i in range(12) for t in purchases([1, 2], customer=f"o{i}", sku="MUG")]
    mine = purchases([1, 2, 1, 1, 2], customer="c1", sku="MUG")
    data = detection_input(
        tx("x", "c1", items=(item("MUG", 30, "5.00", "Mug"),)), others + mine, customer=history_of(mine)[0]
    )
    finding = quantity.detect(data, SETTINGS)
    assert finding is not None
    assert [r.code for r in finding.reasons] == ["quantity_above_customer_norm", "quantity_above_sku_norm"]
    assert "30 x Mug, 23 times this customer's usual 1.3 units" in finding.reasons[0].message
