"""A training run's result without training: the model layer's default artifact under a new version, with
metadata shaped as the pipeline records it. Tests put `fake_training(...)` in place of TrainFunction's
`train_from_tables` (the handler module's own name, so the real pipeline is replaced the same way)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shopwatch_model import ModelArtifact

from tests.model_artifacts import artifact

METADATA = {
    "data_period": {"since": "2025-06-18T00:00:00Z", "until": "2025-09-16T00:00:00Z"},
    "rows": 1500,
    "label_counts": {"fraud": 25, "legitimate": 310},
    "features": ["amount", "items"],
    "holdout_metrics": {"roc_auc": 0.84},
}


@dataclass(frozen=True)
class FakeResult:
    artifact: ModelArtifact
    metadata: dict[str, Any]


@dataclass
class FakeTraining:
    versions: list[str]
    calls: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, *, transactions_table: str, state_table: str, options: Any, now: datetime) -> FakeResult:
        self.calls.append({"transactions_table": transactions_table, "state_table": state_table, "now": now})
        return FakeResult(artifact(self.versions[len(self.calls) - 1]), METADATA)
