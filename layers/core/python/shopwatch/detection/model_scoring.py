"""The trained model behind the model detector: an artifact of the model layer, scored a batch at a time.

Only DetectFunction (which has ModelLayer, hence numpy) and the offline tools import this module; the rest
of the core layer never needs numpy. The artifact is loaded once per container (module scope in the
handler); `MODEL_ARTIFACT` names it: "default" (the model the layer ships), a directory, or "off".
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from shopwatch_model import DEFAULT_ARTIFACT, ModelArtifact

from shopwatch.detectors.features import FEATURE_NAMES
from shopwatch.detectors.model import TOP_FEATURES, ModelVerdict

OFF = "off"
DEFAULT = "default"


class ArtifactModel:
    """`TransactionModel` over a `ModelArtifact`: forest scores and autoencoder errors for all rows in one
    vectorized call; feature contributions (a second walk) only for the rows the forest calls outliers."""

    def __init__(self, artifact: ModelArtifact) -> None:
        if artifact.feature_names != FEATURE_NAMES:
            raise ValueError(
                f"model {artifact.info.get('version')} was trained on features {list(artifact.feature_names)}, "
                f"this code computes {list(FEATURE_NAMES)}: retrain it (make train)"
            )
        missing = {"autoencoder_error"} - set(artifact.thresholds)
        if missing or artifact.autoencoder is None or not artifact.feature_bounds:
            raise ValueError(
                f"model {artifact.info.get('version')} lacks its autoencoder, thresholds or training ranges: "
                "retrain it (make train)"
            )
        self.artifact = artifact
        self.version = str(artifact.info.get("version", "unversioned"))
        self.currencies = frozenset(artifact.info.get("currencies", ()))
        if not self.currencies:
            raise ValueError(f"model {self.version} does not say which currencies it learned amounts in")

    def verdicts(self, rows: Sequence[Sequence[float]]) -> list[ModelVerdict]:
        if not rows:
            return []
        artifact, forest = self.artifact, self.artifact.forest
        X = np.asarray(rows, dtype=np.float64)
        scores = forest.score_samples(X)
        errors = None
        if artifact.autoencoder is not None:
            errors = artifact.autoencoder.reconstruction_error(artifact.standardize(X))
        outliers = np.flatnonzero(scores < forest.offset)
        leading: dict[int, tuple[tuple[str, float], ...]] = {}
        if len(outliers):
            for row, shares in zip(outliers, forest.feature_contributions(X[outliers]), strict=True):
                order = np.argsort(shares)[::-1][:TOP_FEATURES]
                leading[int(row)] = tuple((FEATURE_NAMES[j], float(shares[j])) for j in order if shares[j] > 0)
        thresholds = artifact.thresholds
        return [
            ModelVerdict(
                version=self.version,
                score=float(scores[i]),
                outlier_below=forest.offset,
                reconstruction_error=None if errors is None else float(errors[i]),
                reconstruction_above=thresholds.get("autoencoder_error"),
                contributions=leading.get(i, ()),
                medians=artifact.feature_medians,
                bounds=artifact.feature_bounds,
            )
            for i in range(len(rows))
        ]


def load_model(location: str) -> ArtifactModel | None:
    """The model `location` names ("default", a directory or "off"); a named model that cannot be loaded is
    an error, never a silent fallback to no model."""
    if location.strip().lower() == OFF:
        return None
    directory = DEFAULT_ARTIFACT if location.strip().lower() in ("", DEFAULT) else Path(location)
    return ArtifactModel(ModelArtifact.load(directory))
