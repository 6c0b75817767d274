"""`shopwatch train`: fit the Isolation Forest and the autoencoder on a data set's features, export the artifact.

Features come from `features_in_time_order`, the same code DetectFunction runs. The forest sees raw features
(trees do not care about scale); the autoencoder sees standardized ones and calls a row anomalous when its
reconstruction error is above the training errors' percentile (seed 001: the 98th). Everything is seeded.
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import numpy as np
from shopwatch_model import AutoencoderScorer, IsolationForestScorer, ModelArtifact
from sklearn.ensemble import IsolationForest
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor

from shopwatch.config import DetectionSettings
from shopwatch.detection.offline import features_in_time_order
from shopwatch.detectors.features import FEATURE_NAMES
from shopwatch.detectors.history import CatalogEntry
from shopwatch.domain.transaction import Transaction


@dataclass(frozen=True)
class TrainingOptions:
    seed: int = 42
    trees: int = 200
    contamination: float = 0.01
    autoencoder_percentile: float = 98.0
    extreme_quantile: float = 0.0001  # the training ranges are its 0.01% and 99.99% quantiles
    hidden: tuple[int, ...] = (8, 3, 8)
    max_iter: int = 300


@dataclass(frozen=True)
class TrainingResult:
    artifact: ModelArtifact
    transactions: list[Transaction]
    features: np.ndarray
    forest_scores: np.ndarray
    reconstruction_errors: np.ndarray


def feature_matrix(
    transactions: list[Transaction], catalog: dict[str, CatalogEntry] | None = None
) -> tuple[list[Transaction], np.ndarray]:
    rows = list(features_in_time_order(transactions, DetectionSettings(), catalog))
    return [tx for tx, _ in rows], np.array([features for _, features in rows], dtype=np.float64)


def data_hash(transactions: list[Transaction]) -> str:
    digest = hashlib.sha256()
    for tx in transactions:
        digest.update(f"{tx.transaction_id}|{tx.timestamp.isoformat()}|{tx.amount}|{tx.status}\n".encode())
    return digest.hexdigest()


def train(
    transactions: list[Transaction], options: TrainingOptions, catalog: dict[str, CatalogEntry] | None = None
) -> TrainingResult:
    """Fit both models; `catalog` is the catalog DetectFunction will know (price features use it first)."""
    if len(transactions) < 50:
        raise ValueError(f"{len(transactions)} transactions are too few to train on (50 at least)")
    ordered, X = feature_matrix(transactions, catalog)
    forest = IsolationForest(
        n_estimators=options.trees, contamination=options.contamination, random_state=options.seed
    ).fit(X)
    mean, scale = X.mean(axis=0), X.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    standardized = (X - mean) / scale
    network = MLPRegressor(
        hidden_layer_sizes=options.hidden, activation="tanh", max_iter=options.max_iter, random_state=options.seed
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a bounded budget is the point, not a fault
        network.fit(standardized, standardized)
    autoencoder = AutoencoderScorer.from_sklearn(network)
    errors = autoencoder.reconstruction_error(standardized)
    created = datetime.now(UTC)
    digest = data_hash(ordered)
    artifact = ModelArtifact(
        feature_names=FEATURE_NAMES,
        scaler_mean=mean,
        scaler_scale=scale,
        forest=IsolationForestScorer.from_sklearn(forest),
        autoencoder=autoencoder,
        thresholds={
            "autoencoder_error": float(np.percentile(errors, options.autoencoder_percentile)),
            "autoencoder_percentile": options.autoencoder_percentile,
            "forest_contamination": options.contamination,
            "extreme_quantile": options.extreme_quantile,
        },
        feature_medians=tuple(float(v) for v in np.median(X, axis=0)),
        feature_bounds=tuple(
            (float(low), float(high))
            for low, high in zip(
                np.quantile(X, options.extreme_quantile, axis=0),
                np.quantile(X, 1 - options.extreme_quantile, axis=0),
                strict=True,
            )
        ),
        info={
            "version": f"{created:%Y%m%dT%H%M%SZ}-{digest[:8]}",
            "created_at": created.isoformat().replace("+00:00", "Z"),
            "training_rows": len(ordered),
            "currencies": sorted({tx.currency for tx in ordered}),
            "data_hash": digest,
            "seed": options.seed,
            "libraries": {name: version(name) for name in ("scikit-learn", "numpy", "pandas")},
        },
    )
    return TrainingResult(artifact, ordered, X, artifact.forest.score_samples(X), errors)


def export(result: TrainingResult, directory: Path) -> Path:
    result.artifact.save(directory)
    return directory
