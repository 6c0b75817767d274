"""The numpy scorers give scikit-learn's numbers (within 1e-9) for any fitted forest and network, and the
model layer never imports scikit-learn or scipy."""

from __future__ import annotations

import contextlib
import itertools
import subprocess
import sys
import warnings

import numpy as np
import pytest
from shopwatch_model import AutoencoderScorer, IsolationForestScorer, ModelArtifact
from sklearn import ensemble as sklearn_ensemble
from sklearn import neural_network as sklearn_nn
from sklearn.exceptions import ConvergenceWarning

from infra.template import ROOT

TOLERANCE = 1e-9


@contextlib.contextmanager
def _short_training():
    """The networks here train for a few dozen iterations: enough to have weights, not to converge."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def _data(rng: np.random.Generator, rows: int, features: int) -> np.ndarray:
    """Mixed scales, a few outliers and repeated values (ties at split points)."""
    X = rng.normal(size=(rows, features)) * rng.uniform(0.1, 1000, size=features)
    X[rng.choice(rows, size=max(1, rows // 50), replace=False)] *= 25
    X[: rows // 10, 0] = np.round(X[: rows // 10, 0])
    return X


FOREST_CASES = list(
    itertools.product(
        [1, 4, 9],  # features
        ["auto", 0.3, 40, 1.0],  # max_samples
        [1.0, 0.5, 1],  # max_features
        [False, True],  # bootstrap
    )
)


@pytest.mark.parametrize(("features", "max_samples", "max_features", "bootstrap"), FOREST_CASES)
def test_isolation_forest_scores_equal_scikit_learns(features, max_samples, max_features, bootstrap):
    rng = np.random.default_rng(features * 1000 + len(str(max_samples)) * 10 + int(bootstrap))
    X = _data(rng, 400, features)
    forest = sklearn_ensemble.IsolationForest(
        n_estimators=30, max_samples=max_samples, max_features=max_features, bootstrap=bootstrap, random_state=7
    ).fit(X)
    scorer = IsolationForestScorer.from_sklearn(forest)
    probe = np.vstack([X, _data(rng, 200, features)])
    np.testing.assert_allclose(scorer.score_samples(probe), forest.score_samples(probe), rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(scorer.decision_function(probe), forest.decision_function(probe), rtol=0, atol=TOLERANCE)


def test_rows_on_and_around_split_thresholds_go_where_scikit_learn_sends_them():
    """scikit-learn walks float32 copies of X: a value 1e-9 above a threshold can still go left."""
    rng = np.random.default_rng(3)
    X = _data(rng, 300, 3)
    forest = sklearn_ensemble.IsolationForest(n_estimators=20, random_state=1).fit(X)
    tree = forest.estimators_[0].tree_
    internal = np.flatnonzero(tree.children_left != -1)[:20]
    probe = np.repeat(X[:1], len(internal) * 3, axis=0)
    columns = np.asarray(forest.estimators_features_[0])[tree.feature[internal]]
    for k, (node, column) in enumerate(zip(internal, columns, strict=True)):
        for j, nudge in enumerate((-1e-9, 0.0, 1e-9)):
            probe[3 * k + j, column] = tree.threshold[node] * (1 + nudge)
    scorer = IsolationForestScorer.from_sklearn(forest)
    np.testing.assert_array_equal(scorer.leaves(probe)[0], forest.estimators_[0].apply(probe.astype(np.float32)))
    np.testing.assert_allclose(scorer.score_samples(probe), forest.score_samples(probe), rtol=0, atol=TOLERANCE)


def test_missing_values_follow_the_nodes_learned_direction():
    rng = np.random.default_rng(5)
    X = _data(rng, 300, 4)
    X[rng.random(X.shape) < 0.05] = np.nan
    forest = sklearn_ensemble.IsolationForest(n_estimators=25, random_state=2).fit(X)
    probe = _data(rng, 100, 4)
    probe[rng.random(probe.shape) < 0.2] = np.nan
    scorer = IsolationForestScorer.from_sklearn(forest)
    np.testing.assert_allclose(scorer.score_samples(probe), forest.score_samples(probe), rtol=0, atol=TOLERANCE)


def test_a_planted_outlier_is_credited_to_the_feature_that_makes_it_odd():
    rng = np.random.default_rng(11)
    X = rng.normal(size=(500, 5))
    forest = sklearn_ensemble.IsolationForest(n_estimators=100, random_state=0).fit(X)
    outlier = np.zeros((1, 5))
    outlier[0, 3] = 12.0
    contributions = IsolationForestScorer.from_sklearn(forest).feature_contributions(np.vstack([outlier, X[:5]]))
    assert contributions.shape == (6, 5)
    np.testing.assert_allclose(contributions.sum(axis=1), 1.0)
    assert contributions[0].argmax() == 3
    assert contributions[0, 3] > 0.4


def test_wrong_width_is_refused():
    forest = sklearn_ensemble.IsolationForest(n_estimators=5, random_state=0).fit(
        np.random.default_rng(0).normal(size=(50, 3))
    )
    with pytest.raises(ValueError, match="3 features"):
        IsolationForestScorer.from_sklearn(forest).score_samples(np.zeros((2, 4)))


@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
@pytest.mark.parametrize("hidden", [(3,), (8, 2, 8)])
def test_autoencoder_forward_pass_equals_mlp_regressor_predict(activation, hidden):
    rng = np.random.default_rng(len(hidden))
    X = rng.normal(size=(300, 6))
    network = sklearn_nn.MLPRegressor(hidden_layer_sizes=hidden, activation=activation, max_iter=60, random_state=4)
    with _short_training():
        network.fit(X, X)
    scorer = AutoencoderScorer.from_sklearn(network)
    probe = rng.normal(size=(50, 6)) * 3
    np.testing.assert_allclose(scorer.predict(probe), network.predict(probe), rtol=0, atol=TOLERANCE)
    errors = scorer.reconstruction_error(probe)
    assert errors.shape == (50,)
    np.testing.assert_allclose(errors, ((network.predict(probe) - probe) ** 2).mean(axis=1), rtol=0, atol=TOLERANCE)


def test_a_single_output_network_predicts_a_vector_like_scikit_learn():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(100, 3))
    network = sklearn_nn.MLPRegressor(hidden_layer_sizes=(4,), max_iter=50, random_state=0)
    with _short_training():
        network.fit(X, X[:, 0])
    scorer = AutoencoderScorer.from_sklearn(network)
    np.testing.assert_allclose(scorer.predict(X), network.predict(X), rtol=0, atol=TOLERANCE)


def test_an_artifact_round_trips_without_pickle(tmp_path):
    rng = np.random.default_rng(9)
    X = _data(rng, 200, 4)
    forest = sklearn_ensemble.IsolationForest(n_estimators=15, max_features=0.5, random_state=3).fit(X)
    network = sklearn_nn.MLPRegressor(hidden_layer_sizes=(2,), max_iter=30, random_state=0)
    with _short_training():
        network.fit(X, X)
    artifact = ModelArtifact(
        feature_names=("a", "b", "c", "d"),
        scaler_mean=X.mean(axis=0),
        scaler_scale=X.std(axis=0),
        forest=IsolationForestScorer.from_sklearn(forest),
        autoencoder=AutoencoderScorer.from_sklearn(network),
        thresholds={"autoencoder_error": 1.5},
        info={"training_rows": 200},
    )
    artifact.save(tmp_path / "model")
    loaded = ModelArtifact.load(tmp_path / "model")
    assert loaded.feature_names == artifact.feature_names
    assert loaded.thresholds == {"autoencoder_error": 1.5} and loaded.info == {"training_rows": 200}
    np.testing.assert_allclose(loaded.forest.score_samples(X), forest.score_samples(X), rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(loaded.autoencoder.predict(X), network.predict(X), rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(loaded.standardize(X).mean(axis=0), 0, atol=1e-9)


def test_the_model_package_imports_neither_scikit_learn_nor_scipy():
    code = (
        "import sys, shopwatch_model; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'sklearn', 'scipy', 'pandas'}); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT / "layers" / "model" / "python",
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
