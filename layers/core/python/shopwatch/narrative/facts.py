"""What the language model may see of an alert: its facts, nothing else.

An allow-list, not a deny-list: detector, severity, risk score, how often and when, and the reasons with their
values and baselines. The customer's name (and the summary, which names the customer) only when the operator
enables it; never e-mail, IP, transaction or customer ids, notes or history.
"""

from __future__ import annotations

from typing import Any

from shopwatch.detectors.findings import DETECTOR_LABELS
from shopwatch.domain.alert import Alert
from shopwatch.domain.clock import to_iso

FACT_FIELDS = (
    "detector",
    "kind",
    "severity",
    "risk_score",
    "occurrences",
    "window_start",
    "window_end",
    "reasons",
)
NAMED_FIELDS = ("customer_name", "summary")  # only with include_customer_name


def alert_facts(alert: Alert, include_customer_name: bool = False) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "detector": alert.detector,
        "kind": DETECTOR_LABELS.get(alert.detector, alert.detector),
        "severity": alert.severity.value,
        "risk_score": str(alert.risk_score),
        "occurrences": alert.occurrences,
        "window_start": to_iso(alert.window_start),
        "window_end": to_iso(alert.window_end),
        "reasons": [
            {k: v for k, v in (("message", r.message), ("value", r.value), ("expected", r.expected)) if v is not None}
            for r in alert.reasons
        ],
    }
    if include_customer_name:
        facts["summary"] = alert.summary
        if alert.customer_name:
            facts["customer_name"] = alert.customer_name
    return facts
