"""The autoencoder's forward pass with numpy: scikit-learn's `MLPRegressor.predict`, without scikit-learn.

Seed 001 flags a transaction whose standardized features the bottleneck network cannot reconstruct: the
reconstruction error above a percentile of the training errors (the 98th by default).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


def _logistic(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "identity": lambda x: x,
    "relu": lambda x: np.maximum(x, 0),
    "tanh": np.tanh,
    "logistic": _logistic,
}


@dataclass(frozen=True)
class AutoencoderScorer:
    coefs: tuple[np.ndarray, ...]
    intercepts: tuple[np.ndarray, ...]
    activation: str
    output_activation: str = "identity"

    @classmethod
    def from_sklearn(cls, regressor: Any) -> AutoencoderScorer:
        """Read a fitted `sklearn.neural_network.MLPRegressor`'s weights (never imports sklearn)."""
        if regressor.activation not in ACTIVATIONS or regressor.out_activation_ not in ACTIVATIONS:
            raise ValueError(f"unsupported activation {regressor.activation!r}/{regressor.out_activation_!r}")
        return cls(
            coefs=tuple(np.asarray(c, dtype=np.float64) for c in regressor.coefs_),
            intercepts=tuple(np.asarray(b, dtype=np.float64) for b in regressor.intercepts_),
            activation=regressor.activation,
            output_activation=regressor.out_activation_,
        )

    def predict(self, X: np.ndarray) -> np.ndarray:
        """As `MLPRegressor.predict`: hidden layers with the activation, the output layer with its own."""
        activation = np.asarray(X, dtype=np.float64)
        last = len(self.coefs) - 1
        for i, (weights, bias) in enumerate(zip(self.coefs, self.intercepts, strict=True)):
            activation = activation @ weights + bias
            activation = ACTIVATIONS[self.activation if i != last else self.output_activation](activation)
        return activation.ravel() if activation.shape[1] == 1 else activation

    def reconstruction_error(self, X: np.ndarray) -> np.ndarray:
        """Mean squared error per row between the (standardized) input and its reconstruction."""
        X = np.asarray(X, dtype=np.float64)
        return ((self.predict(X).reshape(X.shape) - X) ** 2).mean(axis=1)

    def arrays(self) -> dict[str, np.ndarray]:
        out = {f"coef_{i}": c for i, c in enumerate(self.coefs)}
        return out | {f"intercept_{i}": b for i, b in enumerate(self.intercepts)}

    def meta(self) -> dict[str, Any]:
        return {"layers": len(self.coefs), "activation": self.activation, "output_activation": self.output_activation}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> AutoencoderScorer:
        n = int(meta["layers"])
        return cls(
            coefs=tuple(np.asarray(arrays[f"coef_{i}"]) for i in range(n)),
            intercepts=tuple(np.asarray(arrays[f"intercept_{i}"]) for i in range(n)),
            activation=meta["activation"],
            output_activation=meta["output_activation"],
        )
