"""What a shop has told Shopwatch about its transactions: the labels a model learns the shop's fraud from.

Two sources, one answer per transaction:
- labels reported on a transaction (`POST /transactions/{id}/label`: chargebacks, complaints, analysts);
- an analyst's feedback on an alert (`POST /alerts/{id}/feedback`), for each transaction the alert lists.
A label on the transaction wins over alert feedback: it names that transaction, where an alert may group
several of a customer's. Unlabelled transactions are not "legitimate" by themselves: training treats them as
legitimate only once they are old enough for a chargeback to have come (`TrainingOptions.label_maturity_days`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

FRAUD = "fraud"
LEGITIMATE = "legitimate"


def merged_labels(transaction_labels: Iterable[Mapping[str, Any]], alerts: Iterable[Any]) -> dict[str, str]:
    """transaction id -> "fraud" | "legitimate"; `alerts` are domain Alerts (feedback, transaction_ids)."""
    out: dict[str, str] = {}
    for alert in alerts:
        feedback = alert.feedback or {}
        label = feedback.get("label")
        if label in (FRAUD, LEGITIMATE):
            for transaction_id in alert.transaction_ids:
                # fraud wins within feedback: one confirmed fraud on a grouped alert is enough to learn from
                if out.get(transaction_id) != FRAUD:
                    out[transaction_id] = label
    for record in transaction_labels:
        label = record.get("label")
        if label in (FRAUD, LEGITIMATE):
            out[str(record["transaction_id"])] = label
    return out
