"""The scores a rule reads (`scores.model`, `scores.risk`) as DetectFunction had them for a transaction.

They come from the transaction's detection marker, where DetectFunction keeps the risk score and the champion's
forest score: the model that served then, with its learned combination, not the one serving now. A rule reads
the model as its anomaly 0-1 (`rules.facts.model_anomaly`: 0.5 at the forest's outlier threshold), so the
threshold of the version that scored is read from the model registry (its training metadata), or from the model
layer's own artifact for the version it ships. A version neither knows (its record expired) gives no model
score, as a transaction no model judged.
"""

from __future__ import annotations

from collections.abc import Callable

from shopwatch.detection.model_scoring import ArtifactModel
from shopwatch.rules.facts import model_anomaly
from shopwatch.storage.models import ModelRegistry
from shopwatch.storage.state import Marker


class MarkerScores:
    def __init__(self, registry: ModelRegistry, layer_model: Callable[[], ArtifactModel | None]) -> None:
        self.registry = registry
        self.layer_model = layer_model
        self._thresholds: dict[str, float | None] = {}

    def __call__(self, marker: Marker | None) -> tuple[float | None, float | None]:
        """(the model's anomaly 0-1, the risk score 0-100); (None, None) before DetectFunction processed it."""
        if marker is None:
            return None, None
        champion = next((m for m in marker.models if m.role == "champion"), None)
        threshold = None if champion is None else self.threshold(champion.version)
        anomaly = None if champion is None or threshold is None else model_anomaly(champion.score, threshold)
        return anomaly, float(marker.risk_score)

    def threshold(self, version: str) -> float | None:
        """The forest's outlier threshold (scikit-learn's offset_) of `version`, read once per version."""
        if version not in self._thresholds:
            record = self.registry.get(version)
            offset = (record.metadata.get("forest") or {}).get("offset") if record is not None else None
            if offset is None:
                layer = self.layer_model()
                if layer is not None and layer.version == version:
                    offset = layer.artifact.forest.offset
            self._thresholds[version] = None if offset is None else float(offset)
        return self._thresholds[version]
