"""Counters that DynamoDB can keep with ADD: they give exact statistics whatever the order of updates."""

from __future__ import annotations

import math
import random
from dataclasses import fields, replace
from datetime import timedelta
from decimal import Decimal

from shopwatch.detectors.history import (
    CustomerHistory,
    SkuHistory,
    apply_customer_delta,
    apply_sku_delta,
    customer_delta,
    log_quantity,
    mean_and_std,
    sku_deltas,
)
from tests.builders import T0, history_of, item, tx

FAILED = frozenset({"declined"})


def test_mean_and_std_are_exact_for_constant_values():
    assert mean_and_std(Decimal(4), Decimal(48), Decimal(576)) == (Decimal(12), Decimal(0))


def test_profiles_are_the_same_in_any_order():
    purchases = [
        tx(f"t{i}", amount=f"{i}.25", country=c, items=(item("A", i + 1, "0.25"),))
        for i, c in enumerate(["GB", "FR", "GB", "DE"])
    ]
    shuffled = purchases[:]
    random.Random(7).shuffle(shuffled)
    assert history_of(purchases) == history_of(shuffled)


def test_the_median_price_is_the_middle_lines_bin_mean():
    history = SkuHistory()
    for price in ["1.00", "1.00", "5.00", "5.00", "5.00", "100.00"]:
        for delta in sku_deltas(tx(items=(item("A", 1, price),))):
            history = apply_sku_delta(history, delta)
    assert history.median_price() == Decimal("5.0000")
    assert history.priced_lines == 6


def test_failed_and_returned_lines_teach_nothing():
    assert sku_deltas(tx(status="failed", items=(item("A", 1, "5.00"),))) == []
    assert sku_deltas(tx(items=(item("A", -1, "5.00"),))) == []


def test_repeated_lines_of_one_sku_are_one_delta():
    (delta,) = sku_deltas(tx(items=(item("A", 2, "5.00"), item("A", 3, "5.00"))))
    assert (delta.lines, delta.quantity_logsum) == (2, log_quantity(2) + log_quantity(3))


def _sold_at(prices: list[str]) -> SkuHistory:
    history = SkuHistory()
    for price in prices:
        for delta in sku_deltas(tx(items=(item("A", 1, price),))):
            history = apply_sku_delta(history, delta)
    return history


def test_lines_near_a_price_count_the_bins_within_about_one_percent():
    history = _sold_at(["2.10", "2.10", "2.11", "2.55"])
    assert history.lines_near(Decimal("2.10")) == 3
    assert history.lines_near(Decimal("2.55")) == 1
    assert history.lines_near(Decimal("2.30")) == 0
    assert history.lines_near(Decimal("0")) == 0


def test_the_log_price_spread_is_zero_for_one_price_and_grows_with_the_tiers():
    assert _sold_at(["2.10"] * 5).log_price_spread() == 0
    tiers = _sold_at(["2.10", "1.45"] * 5).log_price_spread()
    assert tiers == Decimal(f"{(math.log(2.10) - math.log(1.45)) / 2:.6f}")
    assert _sold_at(["2.10", "0.42"] * 5).log_price_spread() > tiers


def test_a_learned_history_answers_from_its_own_bins_not_the_cached_answers_of_the_one_before():
    before = SkuHistory()
    for price in ("10.00", "10.00", "10.00"):
        (delta,) = sku_deltas(tx(items=(item("A", 1, price),)))
        before = apply_sku_delta(before, delta)
    quantiles = [before.price_quantile(q) for q in (0.0, 0.5, 1.0)]
    assert quantiles == [Decimal("10.0000")] * 3 and before.log_price_spread() == 0 and before.priced_lines == 3
    after = before
    for price in ("40.00", "40.00", "40.00", "40.00"):
        (delta,) = sku_deltas(tx(items=(item("A", 1, price),)))
        after = apply_sku_delta(after, delta)
    assert [after.price_quantile(q) for q in (0.0, 0.5, 1.0)] == [
        Decimal("10.0000"),
        Decimal("40.0000"),
        Decimal("40.0000"),
    ]
    assert after.priced_lines == 7 and after.log_price_spread() > 0
    assert [before.price_quantile(q) for q in (0.0, 0.5, 1.0)] == quantiles and before.priced_lines == 3


def test_applying_a_delta_carries_every_field_of_the_profile():
    """apply_customer_delta names each field (faster than dataclasses.replace): a new field must be added there."""
    assert [f.name for f in fields(CustomerHistory)] == [
        "transactions", "approved", "failed", "amount_sum", "amount_sumsq", "quantity_lines", "quantity_logsum",
        "quantity_logsumsq", "countries", "first_seen", "last_seen",
    ]  # fmt: skip
    history = CustomerHistory(3, 2, 1, Decimal(30), Decimal(500), 4, Decimal("1.5"), Decimal("0.9"), frozenset({"GB"}),
                              T0, T0 + timedelta(days=1))  # fmt: skip
    later = apply_customer_delta(history, customer_delta(tx(at=T0 + timedelta(days=2), items=(item("A", 2),)), FAILED))
    assert later == replace(
        history, transactions=4, approved=3, amount_sum=Decimal("50.00"), amount_sumsq=Decimal("900.0000"),
        quantity_lines=5, quantity_logsum=Decimal("1.5") + log_quantity(2),
        quantity_logsumsq=Decimal("0.9") + (log_quantity(2) ** 2).quantize(Decimal("1e-12")), last_seen=T0 + timedelta(days=2),
    )  # fmt: skip
