"""The drift statistic: PSI per feature against the training deciles."""

from __future__ import annotations

import numpy as np
import pytest
from shopwatch_model.drift import SHIFTED, FeatureReference, drift, psi, reference_of


def test_the_same_distribution_is_stable_and_a_shifted_one_is_not():
    rng = np.random.default_rng(5)
    train = np.column_stack([rng.lognormal(3, 1, 20_000), rng.integers(0, 24, 20_000)])
    references = reference_of(train, ["amount", "hour"])
    same = np.column_stack([rng.lognormal(3, 1, 5_000), rng.integers(0, 24, 5_000)])
    assert all(value < 0.02 for _, value in drift(references, same))
    shifted = np.column_stack([rng.lognormal(3.8, 1, 5_000), rng.integers(0, 24, 5_000)])
    worst = drift(references, shifted)
    assert worst[0][0] == "amount" and worst[0][1] > SHIFTED
    assert worst[1][1] < 0.02


def test_a_feature_with_few_values_gets_a_bin_per_value():
    flags = np.array([0.0] * 900 + [1.0] * 100)
    (reference,) = reference_of(flags[:, None], ["failed"])
    assert reference.edges == (0.5,)
    assert reference.shares == pytest.approx((0.9, 0.1))
    # half the payments failing where one in ten did: (0.5-0.9) ln(0.5/0.9) + (0.5-0.1) ln(0.5/0.1)
    assert psi(reference, np.array([0.0, 1.0] * 50)) == pytest.approx(0.4 * np.log(0.9 / 0.5) + 0.4 * np.log(5))


def test_a_reference_round_trips_and_a_broken_one_is_refused():
    (reference,) = reference_of(np.arange(100.0)[:, None], ["amount"])
    assert FeatureReference.from_meta(reference.meta()) == reference
    with pytest.raises(ValueError, match="edges"):
        FeatureReference.from_meta({"name": "x", "edges": [1.0], "shares": [1.0]})
