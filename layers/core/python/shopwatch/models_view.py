"""The model registry as GET /models shows it: every version with the figures an analyst compares them by,
the pointers, and the history of changes. The training run's own metadata is shown whole; `rows`,
`label_counts` and `holdout_metrics` are read from it as shopwatch.training.pipeline records them (`rows`,
`labels`, `learning.holdout`)."""

from __future__ import annotations

from typing import Any

from shopwatch.storage.models import ModelRecord, ModelRegistry, Pointers

HISTORY_SHOWN = 100


def model_json(record: ModelRecord) -> dict[str, Any]:
    metadata = record.metadata
    rows = metadata.get("rows")
    return {
        "version": record.version,
        "status": record.status.value,
        "created_at": record.created_at,
        "trained_by": record.trained_by,
        "rows": int(rows) if isinstance(rows, int | float) else None,
        "label_counts": {str(k): int(v) for k, v in (metadata.get("labels") or {}).items()},
        "holdout_metrics": dict((metadata.get("learning") or {}).get("holdout") or {}),
        "metadata": metadata,
    }


def pointers_json(pointers: Pointers) -> dict[str, Any]:
    return {"champion": pointers.champion, "challenger": pointers.challenger, "previous": list(pointers.previous)}


def registry_json(registry: ModelRegistry) -> dict[str, Any]:
    pointers = registry.pointers()
    return {
        "champion": pointers.champion,
        "challenger": pointers.challenger,
        "models": [model_json(r) for r in registry.versions()],
        "history": [e.__dict__ | {"action": e.action.value} for e in registry.history()[:HISTORY_SHOWN]],
    }
