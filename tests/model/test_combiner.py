"""The learned risk combination: numpy's Newton fit against scikit-learn's, and the artifact round trip."""

from __future__ import annotations

import numpy as np
import pytest
from shopwatch_model import ModelArtifact
from shopwatch_model.artifact import DEFAULT_ARTIFACT
from shopwatch_model.combiner import LogisticCombiner, fit_logistic
from sklearn.linear_model import LogisticRegression


def labelled(seed: int = 3, n: int = 4000) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5)) * [1, 10, 0.1, 3, 1] + [0, 50, 0, 0, 2]
    z = 1.5 * X[:, 0] - 0.2 * (X[:, 1] - 50) + 4 * X[:, 2] - 2.5
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(float)
    return X, y


@pytest.mark.parametrize("l2", [0.1, 1.0, 30.0])
def test_the_fit_is_scikit_learns_l2_logistic_regression_on_standardized_inputs(l2):
    X, y = labelled()
    ours = fit_logistic(X, y, [f"x{i}" for i in range(5)], l2=l2)
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    theirs = LogisticRegression(C=1 / l2, tol=1e-12, max_iter=10_000).fit(Z, y)
    assert np.allclose(ours.coef, theirs.coef_[0], atol=1e-5)
    assert ours.intercept == pytest.approx(theirs.intercept_[0], abs=1e-5)
    assert np.allclose(ours.probabilities(X), theirs.predict_proba(Z)[:, 1], atol=1e-6)


def test_one_row_in_plain_python_equals_the_vectorized_probability():
    X, y = labelled()
    combiner = fit_logistic(X, y, [f"x{i}" for i in range(5)])
    assert [combiner.probability(row.tolist()) for row in X[:50]] == pytest.approx(combiner.probabilities(X[:50]))


def test_calibrated_on_the_base_rate_and_ranked_by_what_matters():
    X, y = labelled()
    combiner = fit_logistic(X, y, ["strong", "negative", "small_scale", "noise", "shifted"])
    assert combiner.probabilities(X).mean() == pytest.approx(y.mean(), abs=1e-6)  # no class weighting
    assert {name for name, _ in combiner.weights()[:3]} == {"strong", "negative", "small_scale"}
    assert dict(combiner.weights())["negative"] < 0


def test_one_class_or_a_wrong_width_is_refused():
    X, y = labelled()
    with pytest.raises(ValueError, match="both classes"):
        fit_logistic(X, np.zeros(len(y)), [f"x{i}" for i in range(5)])
    with pytest.raises(ValueError, match="columns"):
        fit_logistic(X, y, ["only_one"])


def test_a_combiner_travels_in_the_artifact(tmp_path):
    X, y = labelled()
    combiner = fit_logistic(X, y, [f"x{i}" for i in range(5)])
    artifact = ModelArtifact.load(DEFAULT_ARTIFACT)
    from dataclasses import replace

    replace(artifact, combiner=combiner, amount_scales={"USD": 40.0, "GBP": 18.5}).save(tmp_path)
    loaded = ModelArtifact.load(tmp_path)
    assert loaded.combiner == combiner
    assert loaded.amount_scales == {"USD": 40.0, "GBP": 18.5}
    assert ModelArtifact.load(DEFAULT_ARTIFACT).combiner is None  # older artifacts: no combiner, raw amounts


def test_a_broken_combiner_or_scale_is_refused():
    good = fit_logistic(*labelled(), [f"x{i}" for i in range(5)]).meta()
    with pytest.raises(ValueError, match="match"):
        LogisticCombiner.from_meta(good | {"coef": good["coef"][:2]})
    with pytest.raises(ValueError, match="kind"):
        LogisticCombiner.from_meta(good | {"kind": "neural"})
    artifact = ModelArtifact.load(DEFAULT_ARTIFACT)
    from dataclasses import replace

    with pytest.raises(ValueError, match="positive"):
        replace(artifact, amount_scales={"USD": 0.0})
