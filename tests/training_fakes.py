"""A training run's result without training: the model layer's default artifact under a new version, with
metadata shaped as the pipeline records it. Tests put `fake_training(...)` in place of TrainFunction's
`train_from_tables` (the handler module's own name, so the real pipeline is replaced the same way)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shopwatch_model import ModelArtifact

from tests.model_artifacts import artifact

METADATA = {  # the keys shopwatch.training.pipeline records
    "period": {"from": "2025-06-18T00:00:00.000000Z", "to": "2025-09-16T00:00:00.000000Z", "days": 90},
    "rows": 1500,
    "labels": {"fraud": 25, "legitimate": 310, "unlabelled_too_recent": 12},
    "features": ["amount", "items"],
    "learning": {"adopted": True, "holdout": {"rows": 67, "fraud": 6, "learned_roc_auc": 0.84}},
}


@dataclass(frozen=True)
class FakeResult:
    artifact: ModelArtifact
    metadata: dict[str, Any]
    history: Any = None  # no replay: the drift check has nothing to judge


@dataclass
class FakeTraining:
    versions: list[str]
    calls: list[dict[str, Any]] = field(default_factory=list)

    def __call__(
        self, *, transactions_table: str, state_table: str, alerts_table: str, options: Any, now: datetime
    ) -> FakeResult:
        self.calls.append(
            {"transactions_table": transactions_table, "state_table": state_table, "alerts_table": alerts_table}
        )
        return FakeResult(artifact(self.versions[len(self.calls) - 1]), METADATA)
