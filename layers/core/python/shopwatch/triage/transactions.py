"""One transaction as an analyst needs it (the stored transaction, the checkout's decision, what each detector
concluded and how its risk score splits between them, its alerts, its entities, its label), and labels reported
later (chargebacks). Typed views: the API maps them to its response models in one place.

A label of fraud on a transaction that alerts cover is also their feedback, when no analyst gave any: the
chargeback confirms them. A label on a transaction no alert covers is what the confusion matrix counts as a
miss (fraud) or a correct silence (legitimate).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from shopwatch.config import DetectionSettings
from shopwatch.detectors.breakdown import Contribution, risk_breakdown
from shopwatch.detectors.entities import account_age_seconds, entity_keys
from shopwatch.detectors.findings import Finding
from shopwatch.detectors.history import NO_CUSTOMER, DetectionInput
from shopwatch.detectors.model import ModelScore
from shopwatch.detectors.signals import risk_signals
from shopwatch.domain.alert import Alert, alert_id_for
from shopwatch.domain.clock import floor_window, parse_iso, to_iso
from shopwatch.domain.transaction import TRANSACTION_ID_PATTERN, Transaction
from shopwatch.domain.triage import FeedbackLabel, give_feedback
from shopwatch.errors import NotFound
from shopwatch.ingest.decisions import CheckoutDecision
from shopwatch.storage.labels import LabelRepository
from shopwatch.storage.state import StateRepository
from shopwatch.storage.transactions import CHECKOUT_ATTRIBUTE, TransactionRepository
from shopwatch.triage.service import TriageService

_TRANSACTION_ID = re.compile(TRANSACTION_ID_PATTERN)
LINKED_KINDS = ("customer", "email", "device", "ip", "card")  # the entities with a page of their own (no network)


@dataclass(frozen=True)
class EntityRef:
    kind: str
    value: str  # as the entity is keyed: an e-mail normalised, a card its fingerprint or "<bin>/<customer>"


@dataclass(frozen=True)
class Detection:
    """What DetectFunction concluded, from its marker (empty before it ran, or after the marker expired)."""

    processed: bool
    risk_score: Decimal
    models: tuple[ModelScore, ...]
    findings: tuple[Finding, ...]
    alert_ids: tuple[str, ...]
    rules: tuple[tuple[str, int, str], ...]  # (rule_id, version, mode)
    breakdown: tuple[Contribution, ...]  # the risk score's parts; they add up to it


@dataclass(frozen=True)
class Label:
    """Fraud (or legitimacy) reported on a transaction later, as LabelRepository keeps it."""

    transaction_id: str
    label: FeedbackLabel
    source: str
    by: str
    at: datetime
    customer_id: str
    transaction_time: datetime
    alert_ids: tuple[str, ...]  # the alerts that covered it when it was labelled
    models: tuple[ModelScore, ...]  # the models' scores then (they outlive the 7-day marker here)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Label:
        return cls(
            transaction_id=record["transaction_id"],
            label=FeedbackLabel(record["label"]),
            source=record["source"],
            by=record["by"],
            at=parse_iso(record["at"]),
            customer_id=record["customer_id"],
            transaction_time=parse_iso(record["transaction_time"]),
            alert_ids=tuple(record.get("alert_ids", ())),
            models=tuple(ModelScore.from_dict(m) for m in record.get("models", ())),
        )

    def record(self) -> dict[str, Any]:
        """What LabelRepository stores (the transaction id is its key)."""
        return {
            "label": self.label.value,
            "source": self.source,
            "by": self.by,
            "at": to_iso(self.at),
            "customer_id": self.customer_id,
            "transaction_time": to_iso(self.transaction_time),
            "alert_ids": list(self.alert_ids),
            "models": [s.to_dict() for s in self.models],
        }


@dataclass(frozen=True)
class Labelled:
    label: Label
    alerted: bool  # false: fraud no alert caught (a false negative)
    feedback_given_to: tuple[str, ...]  # alerts without an analyst's feedback that now carry this label


@dataclass(frozen=True)
class TransactionView:
    transaction: Transaction
    checkout: CheckoutDecision | None  # the decision ingest answered (none before decisions existed)
    detection: Detection
    label: Label | None
    alerts: tuple[Alert, ...]  # the alerts its findings went to, that still exist
    entities: tuple[EntityRef, ...]
    account_age_seconds: float | None  # at the time of the transaction


class TransactionLookup:
    def __init__(
        self,
        transactions: TransactionRepository,
        state: StateRepository,
        labels: LabelRepository,
        triage: TriageService,
        settings: DetectionSettings,
    ) -> None:
        """`settings`: DetectFunction's (alert window, detector weights), to find the alerts and to split the
        risk score as the scorer built it."""
        self.transactions = transactions
        self.state = state
        self.labels = labels
        self.triage = triage
        self.settings = settings
        self.alert_window_seconds = settings.alert_group_window_seconds

    def _transaction(self, transaction_id: str) -> Transaction:
        return Transaction.from_item(self._item(transaction_id))

    def _item(self, transaction_id: str) -> dict[str, Any]:
        found = self.transactions.get_item(transaction_id) if _TRANSACTION_ID.fullmatch(transaction_id) else None
        if found is None:
            raise NotFound(f"no transaction {transaction_id}", {"transaction_id": transaction_id})
        return found

    def _alerts(self, tx: Transaction, detectors: set[str]) -> dict[str, Alert]:
        """The alerts a transaction's findings went to: their ids follow from detector, customer and window."""
        start = floor_window(tx.timestamp, self.alert_window_seconds)
        wanted = [alert_id_for(d, tx.customer_id, start) for d in sorted(detectors)]
        return self.triage.alerts.get_many(wanted)

    def _alert_ids(self, tx: Transaction, detectors: set[str]) -> list[str]:
        return sorted(self._alerts(tx, detectors))

    def get(self, transaction_id: str) -> TransactionView:
        item = self._item(transaction_id)
        tx = Transaction.from_item(item)
        markers = self.state.get_detection(transaction_id)
        findings = tuple(f for m in markers for f in m.findings)
        risk = max((m.risk_score for m in markers), default=Decimal(0))
        alerts = self._alerts(tx, {f.detector for f in findings})
        stored = self.labels.get(transaction_id)
        checkout = item.get(CHECKOUT_ATTRIBUTE)
        detection = Detection(
            processed=bool(markers),
            risk_score=risk,
            models=tuple(s for m in markers for s in m.models),
            findings=findings,
            alert_ids=tuple(sorted(alerts)),
            rules=tuple(rule for m in markers for rule in m.rules),
            breakdown=tuple(risk_breakdown(risk, findings, self.settings, self._known_signals(tx))),
        )
        return TransactionView(
            transaction=tx,
            checkout=None if checkout is None else CheckoutDecision.from_item(transaction_id, checkout),
            detection=detection,
            label=None if stored is None else Label.from_record(stored),
            alerts=tuple(alerts[a] for a in sorted(alerts)),
            entities=tuple(EntityRef(kind, key.value) for kind, key in entity_keys(tx).items() if kind in LINKED_KINDS),
            account_age_seconds=account_age_seconds(tx),
        )

    def _known_signals(self, tx: Transaction) -> dict[str, Decimal]:
        """The weak signals that follow from the transaction alone (the account's age): the others read the
        state as it stood then, which the marker does not keep (they are the breakdown's "other")."""
        return risk_signals(DetectionInput(tx, NO_CUSTOMER, {}, {}, ()), self.settings, None)

    def label(self, transaction_id: str, label: FeedbackLabel, source: str, by: str, now: datetime) -> Labelled:
        tx = self._transaction(transaction_id)
        markers = self.state.get_detection(transaction_id)
        findings = [f for m in markers for f in m.findings]
        alert_ids = self._alert_ids(tx, {f.detector for f in findings})
        given = Label(
            transaction_id=transaction_id,
            label=label,
            source=source,
            by=by,
            at=now,
            customer_id=tx.customer_id,
            transaction_time=tx.timestamp,
            alert_ids=tuple(alert_ids),
            # the models' scores outlive the marker (7 days) on the label: what GET /analytics/models compares
            models=tuple(s for m in markers for s in m.models),
        )
        self.labels.put(transaction_id, given.record())
        actor = f"{by} ({source})"
        confirmed = []
        for alert_id in alert_ids:  # one read-modify-write each; an analyst's feedback is never overwritten
            after = self.triage.change(
                alert_id, lambda a: a if a.feedback is not None else give_feedback(a, label, actor, now)
            )
            if after.feedback == {"label": label.value, "by": actor, "at": to_iso(now)}:
                confirmed.append(alert_id)
        return Labelled(given, bool(alert_ids), tuple(confirmed))
