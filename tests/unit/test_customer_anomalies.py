"""A customer's anomaly view judges each point against the customer's other points, not against itself."""

import math
import statistics
from datetime import timedelta
from decimal import Decimal

import pytest

from shopwatch.customers.anomalies import Z_CAP, Metric, anomaly_view, leave_one_out_z
from tests.builders import T0, tx


def test_a_purchase_twenty_times_the_usual_is_flagged():
    amounts = [Decimal("100.00") + i for i in range(-10, 10)] + [Decimal("2000.00")]
    history = [tx(f"t{i}", amount=a, at=T0 + timedelta(hours=i)) for i, a in enumerate(amounts)]
    with_itself = (2000 - statistics.fmean(map(float, amounts))) / statistics.pstdev(map(float, amounts))
    assert with_itself < 4.5  # the old reading: sqrt(20) at most, whatever the amount
    view = anomaly_view(Metric.AMOUNT, history, {})
    assert [p.transaction.transaction_id for p in view.anomalies] == ["t20"]
    assert view.anomalies[0].z_score == Z_CAP  # 1,900 above a mean of 99.5 with a spread of ~5.8
    assert all(abs(p.z_score) < 3 for p in view.points[:-1])


def test_each_z_is_against_the_mean_and_spread_of_the_others():
    numbers = [3.0, 5.0, 4.0, 9.0, 4.5]
    for i, z in enumerate(leave_one_out_z(numbers)):
        others = numbers[:i] + numbers[i + 1 :]
        assert z == pytest.approx((numbers[i] - statistics.fmean(others)) / statistics.pstdev(others))


@pytest.mark.parametrize(
    ("numbers", "expected"),
    [
        ([], []),
        ([5.0, 50.0], [0.0, 0.0]),  # no baseline from one other point
        ([100.0, 100.0, 100.0, 101.0], [-1 / 3, -1 / 3, -1 / 3, 1.0]),  # the spread floor: 1% of the mean
        ([0.0, 0.0, 0.0, 2.0], [-0.707, -0.707, -0.707, Z_CAP]),  # unlike every other point, and finite
    ],
)
def test_small_and_flat_histories_read_finite_scores(numbers, expected):
    scores = leave_one_out_z(numbers)
    assert scores == pytest.approx(expected, abs=0.01) and all(math.isfinite(z) for z in scores)
