"""One transaction as an analyst needs it (the stored transaction, what each detector concluded, its label),
and labels reported later (chargebacks).

A label of fraud on a transaction that alerts cover is also their feedback, when no analyst gave any: the
chargeback confirms them. A label on a transaction no alert covers is what the confusion matrix counts as a
miss (fraud) or a correct silence (legitimate).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from shopwatch.domain.alert import alert_id_for
from shopwatch.domain.clock import floor_window, to_iso
from shopwatch.domain.transaction import TRANSACTION_ID_PATTERN, Transaction
from shopwatch.domain.triage import FeedbackLabel, give_feedback
from shopwatch.errors import NotFound
from shopwatch.storage.labels import LabelRepository
from shopwatch.storage.state import StateRepository
from shopwatch.storage.transactions import CHECKOUT_ATTRIBUTE, TransactionRepository
from shopwatch.triage.service import TriageService

_TRANSACTION_ID = re.compile(TRANSACTION_ID_PATTERN)


class TransactionLookup:
    def __init__(
        self,
        transactions: TransactionRepository,
        state: StateRepository,
        labels: LabelRepository,
        triage: TriageService,
        alert_window_seconds: int,
    ) -> None:
        self.transactions = transactions
        self.state = state
        self.labels = labels
        self.triage = triage
        self.alert_window_seconds = alert_window_seconds

    def _transaction(self, transaction_id: str) -> Transaction:
        return Transaction.from_item(self._item(transaction_id))

    def _item(self, transaction_id: str) -> dict[str, Any]:
        found = self.transactions.get_item(transaction_id) if _TRANSACTION_ID.fullmatch(transaction_id) else None
        if found is None:
            raise NotFound(f"no transaction {transaction_id}", {"transaction_id": transaction_id})
        return found

    def _alert_ids(self, tx: Transaction, detectors: set[str]) -> list[str]:
        """The alerts a transaction's findings went to: their ids follow from detector, customer and window."""
        start = floor_window(tx.timestamp, self.alert_window_seconds)
        wanted = [alert_id_for(d, tx.customer_id, start) for d in sorted(detectors)]
        return sorted(self.triage.alerts.get_many(wanted))

    def get(self, transaction_id: str) -> dict[str, Any]:
        item = self._item(transaction_id)
        tx = Transaction.from_item(item)
        markers = self.state.get_detection(transaction_id)
        findings = [f for m in markers for f in m.findings]
        detection = {
            "processed": bool(markers),
            "risk_score": float(max((m.risk_score for m in markers), default=0)),
            "models": [s.to_dict() for m in markers for s in m.models],
            "scores": [
                {
                    "detector": f.detector,
                    "severity": f.severity.value,
                    "score": float(f.strength),
                    "description": f.description,
                    "reasons": [r.to_dict() for r in f.reasons],
                }
                for f in findings
            ],
            "alert_ids": self._alert_ids(tx, {f.detector for f in findings}),
            "rules": [
                {"rule_id": rule_id, "version": version, "mode": mode}
                for m in markers
                for rule_id, version, mode in m.rules
            ],
        }
        checkout = item.get(CHECKOUT_ATTRIBUTE)
        return {
            "transaction": tx.to_item(),
            "checkout": None if checkout is None else {**checkout, "risk_score": float(checkout["risk_score"])},
            "detection": detection,
            "label": self.labels.get(transaction_id),
        }

    def label(self, transaction_id: str, label: FeedbackLabel, source: str, by: str, now: datetime) -> dict[str, Any]:
        tx = self._transaction(transaction_id)
        markers = self.state.get_detection(transaction_id)
        findings = [f for m in markers for f in m.findings]
        alert_ids = self._alert_ids(tx, {f.detector for f in findings})
        record = {
            "label": label.value,
            "source": source,
            "by": by,
            "at": to_iso(now),
            "customer_id": tx.customer_id,
            "transaction_time": to_iso(tx.timestamp),
            "alert_ids": alert_ids,
            # the models' scores outlive the marker (7 days) on the label: what GET /analytics/models compares
            "models": [s.to_dict() for m in markers for s in m.models],
        }
        self.labels.put(transaction_id, record)
        actor = f"{by} ({source})"
        confirmed = []
        for alert_id in alert_ids:  # one read-modify-write each; an analyst's feedback is never overwritten
            after = self.triage.change(
                alert_id, lambda a: a if a.feedback is not None else give_feedback(a, label, actor, now)
            )
            if after.feedback == {"label": label.value, "by": actor, "at": to_iso(now)}:
                confirmed.append(alert_id)
        return {"transaction_id": transaction_id, **record, "alerted": bool(alert_ids), "feedback_given_to": confirmed}
