"""The JSON an API client sees of an alert (DESIGN §3), without storage-only fields (version, rank, subject)."""

from __future__ import annotations

from typing import Any

from shopwatch.domain.alert import Alert
from shopwatch.domain.clock import to_iso


def alert_json(alert: Alert) -> dict[str, Any]:
    return {
        "alert_id": alert.alert_id,
        "detector": alert.detector,
        "severity": alert.severity.value,
        "risk_score": float(alert.risk_score),
        "status": alert.status.value,
        "summary": alert.summary,
        "narrative": alert.narrative,
        "customer_id": alert.customer_id,
        "customer_name": alert.customer_name,
        "subject": alert.subject,
        "transaction_ids": list(alert.transaction_ids),
        "window": {"start": to_iso(alert.window_start), "end": to_iso(alert.window_end)},
        "reasons": [r.to_dict() for r in alert.reasons],
        "occurrences": alert.occurrences,
        "assignee": alert.assignee,
        "feedback": alert.feedback,
        "notes": list(alert.notes),
        "history": list(alert.history),
        "model_version": alert.model_version,
        "created_at": to_iso(alert.created_at),
        "updated_at": to_iso(alert.updated_at),
        "triaged_at": to_iso(alert.triaged_at) if alert.triaged_at else None,
        "amount": alert.amount,
        "currency": alert.currency,
    }
