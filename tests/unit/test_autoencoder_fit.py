"""The numpy autoencoder fit: from the same starting weights it takes scikit-learn's MLPRegressor steps (loss,
gradients, Adam) to ~1e-12, stops by scikit-learn's no-improvement rule, and on a labelled set its
reconstruction errors rank outliers as well as a scikit-learn network's do."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from shopwatch_model import AutoencoderScorer, ModelArtifact, fit_isolation_forest
from shopwatch_model.autoencoder_fit import (
    AutoencoderSettings,
    _Network,
    fit_autoencoder,
    fit_autoencoder_run,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor

from infra.benchmarks.fraud_data import roc_auc

HIDDEN = (8, 3, 8)


def _standardized(rng: np.random.Generator, rows: int, features: int = 6) -> np.ndarray:
    X = rng.normal(size=(rows, features)) * rng.uniform(0.5, 3, features) + rng.uniform(-5, 5, features)
    return (X - X.mean(axis=0)) / X.std(axis=0)


def _sklearn_steps(X: np.ndarray, start: _Network, epochs: int, batch_size: int) -> MLPRegressor:
    """scikit-learn's MLPRegressor from `start`'s weights, rows in order, one epoch per partial_fit."""
    net = MLPRegressor(hidden_layer_sizes=HIDDEN, activation="tanh", batch_size=batch_size, shuffle=False, max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        net.fit(X, X)  # allocates everything; its weights are replaced below
    net.coefs_ = [c.copy() for c in start.coefs]
    net.intercepts_ = [b.copy() for b in start.intercepts]
    del net._optimizer  # a fresh Adam (t = 0) on the replaced weights
    for _ in range(epochs):
        net.partial_fit(X, X)
    return net


@pytest.mark.parametrize(("epochs", "batch_size"), [(1, 64), (4, 64), (3, 20)])
def test_steps_equal_scikit_learns_from_the_same_weights(epochs, batch_size):
    """Full batches, and batches of 20 over 64 rows (the last one short), in order (shuffle off)."""
    X = _standardized(np.random.default_rng(0), 64)
    settings = AutoencoderSettings(hidden=HIDDEN, batch_size=batch_size, shuffle=False, max_iter=epochs)
    run = fit_autoencoder_run(X, settings=settings, seed=5)
    reference = _sklearn_steps(X, _Network([6, *HIDDEN, 6], np.random.default_rng(5)), epochs, batch_size)
    for ours, theirs in zip(
        run.scorer.coefs + run.scorer.intercepts, reference.coefs_ + reference.intercepts_, strict=True
    ):
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)
    assert run.loss_curve[-1] == pytest.approx(reference.loss_curve_[-1], abs=1e-12)
    assert run.epochs == epochs and not run.converged


def test_gradients_are_scikit_learns_the_derivative_of_the_summed_output_loss():
    """scikit-learn's output delta is prediction - target, not divided by the outputs: the gradient of
    0.5 * sum over outputs of the batch-mean squared error + 0.5 * alpha * ||W||^2 / batch."""
    rng = np.random.default_rng(1)
    X = _standardized(rng, 20, features=4)
    network = _Network([4, 3, 4], rng)
    network.step(X, alpha=0.01)
    analytic = network.grads.copy()

    def summed_loss() -> float:
        hidden = np.tanh(X @ network.coefs[0] + network.intercepts[0])
        out = hidden @ network.coefs[1] + network.intercepts[1]
        weights = sum(float((w**2).sum()) for w in network.coefs)
        return 0.5 * float(((out - X) ** 2).mean(axis=0).sum()) + 0.5 * 0.01 * weights / len(X)

    numeric = np.empty_like(analytic)
    for i in range(len(network.params)):
        saved = network.params[i]
        network.params[i] = saved + 1e-6
        up = summed_loss()
        network.params[i] = saved - 1e-6
        numeric[i] = (up - summed_loss()) / 2e-6
        network.params[i] = saved
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


def test_training_stops_after_n_iter_no_change_epochs_without_a_tol_improvement_as_scikit_learn():
    X = _standardized(np.random.default_rng(2), 300)
    settings = AutoencoderSettings(tol=10.0, n_iter_no_change=4)  # no epoch improves by 10
    run = fit_autoencoder_run(X, settings=settings, seed=0)
    net = MLPRegressor(hidden_layer_sizes=HIDDEN, activation="tanh", tol=10.0, n_iter_no_change=4, random_state=0)
    net.fit(X, X)
    assert run.converged and run.epochs == net.n_iter_ == 6


def test_reconstruction_errors_rank_outliers_as_well_as_scikit_learns_network():
    """Rows on a 3-dimensional plane in 6 dimensions; outliers leave the plane within the normal ranges."""
    ours, theirs = [], []
    for seed in range(3):
        rng = np.random.default_rng(seed)
        X = rng.normal(size=(1500, 3)) @ rng.normal(size=(3, 6)) + rng.normal(0, 0.05, size=(1500, 6))
        y = np.zeros(len(X), dtype=int)
        y[:30] = 1
        X[:30] = rng.normal(size=(30, 6)) * X.std(axis=0)
        X = (X - X.mean(axis=0)) / X.std(axis=0)
        ours.append(roc_auc(y, fit_autoencoder(X, seed=seed).reconstruction_error(X)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            net = MLPRegressor(hidden_layer_sizes=HIDDEN, activation="tanh", max_iter=300, random_state=seed)
            net.fit(X, X)
        theirs.append(roc_auc(y, AutoencoderScorer.from_sklearn(net).reconstruction_error(X)))
    assert np.mean(theirs) > 0.8  # a set on which a network that learned nothing would show
    assert abs(np.mean(ours) - np.mean(theirs)) <= 0.02, (ours, theirs)


def test_subsampling_trains_on_max_rows_chosen_by_the_seed():
    X = _standardized(np.random.default_rng(3), 500)
    settings = AutoencoderSettings(max_iter=3)
    a, b = (fit_autoencoder_run(X, settings=settings, seed=4, max_rows=100) for _ in range(2))
    other = fit_autoencoder_run(X, settings=settings, seed=5, max_rows=100)
    assert a.rows == 100 and a.loss_curve == b.loss_curve
    assert all(np.array_equal(p, q) for p, q in zip(a.scorer.coefs, b.scorer.coefs, strict=True))
    assert a.loss_curve != other.loss_curve


def test_missing_values_and_tiny_inputs_are_refused():
    X = np.ones((10, 3))
    X[2, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fit_autoencoder(X)
    with pytest.raises(ValueError, match="2 rows"):
        fit_autoencoder(np.ones((1, 3)))


def test_a_fitted_network_round_trips_through_an_artifact(tmp_path):
    X = _standardized(np.random.default_rng(6), 200, features=4)
    network = fit_autoencoder(X, settings=AutoencoderSettings(max_iter=5), seed=1)
    artifact = ModelArtifact(
        feature_names=("a", "b", "c", "d"),
        scaler_mean=np.zeros(4),
        scaler_scale=np.ones(4),
        forest=fit_isolation_forest(X, trees=3),
        autoencoder=network,
    )
    artifact.save(tmp_path / "model")
    loaded = ModelArtifact.load(tmp_path / "model").autoencoder
    assert loaded is not None and (loaded.activation, loaded.output_activation) == ("tanh", "identity")
    np.testing.assert_array_equal(loaded.reconstruction_error(X), network.reconstruction_error(X))
