"""The standard a basket's most extreme line is held to: one line's tail, shared out over the basket's lines."""

from __future__ import annotations

from decimal import Decimal
from statistics import NormalDist

from shopwatch.detectors.tails import basket_sigma


def test_one_line_keeps_the_one_line_standard():
    assert basket_sigma(Decimal(3), 1) == Decimal(3)
    assert basket_sigma(Decimal(3), 0) == Decimal(3)


def test_a_basket_of_n_lines_passes_by_chance_as_rarely_as_one_line():
    one_line_tail = 1 - NormalDist().cdf(3)
    for lines in (2, 10, 100, 500):
        z = float(basket_sigma(Decimal(3), lines))
        assert abs((1 - NormalDist().cdf(z)) * lines / one_line_tail - 1) < 1e-4  # z is kept to 6 places


def test_bigger_baskets_need_a_more_extreme_line():
    assert basket_sigma(Decimal(3), 10) < basket_sigma(Decimal(3), 100) < Decimal("4.5")
