"""The autoencoder trained with numpy alone: scikit-learn's `MLPRegressor(hidden_layer_sizes=(8, 3, 8),
activation="tanh").fit(X, X)` with its defaults (Adam, learning rate 1e-3, L2 alpha 1e-4, batches of 200,
shuffled every epoch, stopped after 10 epochs without a tol=1e-4 improvement of the training loss).

Why: TrainFunction (issue 17) retrains a shop's models inside a Lambda whose layer holds numpy but not
scikit-learn. The result is the `AutoencoderScorer` that `from_sklearn` builds, so DetectFunction uses it
unchanged.

What scikit-learn does, and so this does: Glorot-uniform weights and biases (bound sqrt(6 / (fan_in +
fan_out))); loss 0.5 * mean squared error + 0.5 * alpha * ||W||^2 / batch; gradients as its `_backprop`
takes them (output delta = prediction - target, not divided by the outputs; weight gradients (a^T delta +
alpha W) / batch); Adam with bias-corrected step size lr * sqrt(1 - beta2^t) / (1 - beta1^t). Parameters
live in one flat vector so an Adam step is a few whole-vector operations rather than one per array: the
per-batch Python overhead, not arithmetic, is what a network this small costs.

The random draws come from numpy's Generator, not scikit-learn's RandomState, so a seed gives other weights
than scikit-learn's; the model-parity benchmark compares what the errors detect, not weights.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from shopwatch_model.autoencoder import AutoencoderScorer


@dataclass(frozen=True)
class AutoencoderSettings:
    hidden: tuple[int, ...] = (8, 3, 8)
    alpha: float = 1e-4
    learning_rate: float = 1e-3
    batch_size: int = 200
    shuffle: bool = True  # rows in a new random order every epoch
    max_iter: int = 300  # epochs, as infra/training/train.py's TrainingOptions.max_iter
    tol: float = 1e-4
    n_iter_no_change: int = 10
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-8


@dataclass(frozen=True)
class AutoencoderFit:
    scorer: AutoencoderScorer
    epochs: int
    converged: bool  # stopped by the no-improvement rule, not by max_iter
    loss_curve: tuple[float, ...]
    rows: int  # rows trained on (after subsampling)


class _Network:
    """Weights and biases as views into one flat parameter vector, and gradients likewise."""

    def __init__(self, sizes: list[int], rng: np.random.Generator) -> None:
        layers = list(itertools.pairwise(sizes))
        total = sum(fan_in * fan_out + fan_out for fan_in, fan_out in layers)
        self.params, self.grads = np.empty(total), np.empty(total)
        self.coefs: list[np.ndarray] = []
        self.intercepts: list[np.ndarray] = []
        self.coef_grads: list[np.ndarray] = []
        self.intercept_grads: list[np.ndarray] = []
        at = 0
        for fan_in, fan_out in layers:  # scikit-learn's order: each layer's weights, then its biases
            bound = math.sqrt(6.0 / (fan_in + fan_out))
            for store, grad_store, shape in (
                (self.coefs, self.coef_grads, (fan_in, fan_out)),
                (self.intercepts, self.intercept_grads, (fan_out,)),
            ):
                size = math.prod(shape)
                view = self.params[at : at + size].reshape(shape)
                view[...] = rng.uniform(-bound, bound, shape)
                store.append(view)
                grad_store.append(self.grads[at : at + size].reshape(shape))
                at += size

    def step(self, X: np.ndarray, alpha: float) -> float:
        """Forward and backward on one batch (target = input): fills `grads`, returns the batch loss."""
        n = X.shape[0]
        last = len(self.coefs) - 1
        activations = [X]
        for i, (weights, bias) in enumerate(zip(self.coefs, self.intercepts, strict=True)):
            z = activations[-1] @ weights + bias
            activations.append(z if i == last else np.tanh(z))
        delta = activations[-1] - X
        loss = 0.5 * float(np.mean(delta**2)) + 0.5 * alpha * sum(float(np.dot(w.ravel(), w.ravel())) for w in self.coefs) / n  # fmt: skip
        for i in range(last, -1, -1):
            np.matmul(activations[i].T, delta, out=self.coef_grads[i])
            self.coef_grads[i] += alpha * self.coefs[i]
            self.coef_grads[i] /= n
            np.mean(delta, axis=0, out=self.intercept_grads[i])
            if i:
                delta = (delta @ self.coefs[i].T) * (1.0 - activations[i] ** 2)
        return loss


def fit_autoencoder_run(
    X: np.ndarray, *, settings: AutoencoderSettings = AutoencoderSettings(), seed: int = 0, max_rows: int | None = None
) -> AutoencoderFit:
    """Train on (standardized) X reconstructing itself; `max_rows` subsamples rows without replacement first
    (seeded), for a bounded training time. Returns the scorer with how the training went."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 2 or X.shape[1] < 1:
        raise ValueError(f"expected rows x features with 2 rows at least, got shape {X.shape}")
    if not np.isfinite(X).all():
        raise ValueError("X holds NaN or infinite values; standardize and impute before training")
    if max_rows is not None and max_rows < 2:
        raise ValueError(f"max_rows must be at least 2, got {max_rows}")
    rng = np.random.default_rng(seed)
    if max_rows is not None and X.shape[0] > max_rows:
        X = X[np.sort(rng.choice(X.shape[0], size=max_rows, replace=False))]
    s = settings
    n = X.shape[0]
    batch = min(s.batch_size, n)
    network = _Network([X.shape[1], *s.hidden, X.shape[1]], rng)
    m, v = np.zeros_like(network.params), np.zeros_like(network.params)
    t, best, stale, curve, converged = 0, math.inf, 0, [], False
    order = np.arange(n)
    for _ in range(s.max_iter):
        if s.shuffle:
            rng.shuffle(order)
        shuffled = X[order]
        accumulated = 0.0
        for start in range(0, n, batch):
            rows = shuffled[start : start + batch]
            accumulated += network.step(rows, s.alpha) * len(rows)
            t += 1
            g = network.grads
            m *= s.beta_1
            m += (1 - s.beta_1) * g
            v *= s.beta_2
            v += (1 - s.beta_2) * g * g
            rate = s.learning_rate * math.sqrt(1 - s.beta_2**t) / (1 - s.beta_1**t)
            network.params -= rate * m / (np.sqrt(v) + s.epsilon)
        curve.append(accumulated / n)
        stale = stale + 1 if curve[-1] > best - s.tol else 0
        best = min(best, curve[-1])
        if stale > s.n_iter_no_change:
            converged = True
            break
    scorer = AutoencoderScorer(
        coefs=tuple(c.copy() for c in network.coefs),
        intercepts=tuple(b.copy() for b in network.intercepts),
        activation="tanh",
        output_activation="identity",
    )
    return AutoencoderFit(scorer, len(curve), converged, tuple(curve), n)


def fit_autoencoder(
    X: np.ndarray, *, settings: AutoencoderSettings = AutoencoderSettings(), seed: int = 0, max_rows: int | None = None
) -> AutoencoderScorer:
    """The trained `AutoencoderScorer` (see `fit_autoencoder_run` for how the training went)."""
    return fit_autoencoder_run(X, settings=settings, seed=seed, max_rows=max_rows).scorer
