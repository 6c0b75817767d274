"""The alert contract (DESIGN §3) and how findings open and grow alerts.

An alert groups what one detector found about one subject (usually a customer) within one window, so a bot
burst is one alert with an occurrences count, not a hundred. Its id is derived from detector + subject +
window, so reprocessing a record can never open a second alert for the same thing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from shopwatch.detectors.findings import DETECTOR_LABELS, Finding, Reason
from shopwatch.domain.clock import floor_window, parse_iso, to_iso
from shopwatch.domain.severity import Severity
from shopwatch.domain.transaction import Transaction

MAX_LISTED_TRANSACTIONS = 100  # the count stays exact in `occurrences`; the list keeps the first ones
SYSTEM_ACTOR = "shopwatch"


class AlertStatus(StrEnum):
    OPEN = "open"
    INVESTIGATING = "investigating"
    CONFIRMED_FRAUD = "confirmed_fraud"
    FALSE_POSITIVE = "false_positive"
    RESOLVED = "resolved"


ALLOWED_TRANSITIONS: dict[AlertStatus, frozenset[AlertStatus]] = {
    AlertStatus.OPEN: frozenset(
        {AlertStatus.INVESTIGATING, AlertStatus.CONFIRMED_FRAUD, AlertStatus.FALSE_POSITIVE, AlertStatus.RESOLVED}
    ),
    AlertStatus.INVESTIGATING: frozenset(
        {AlertStatus.CONFIRMED_FRAUD, AlertStatus.FALSE_POSITIVE, AlertStatus.RESOLVED}
    ),
    AlertStatus.CONFIRMED_FRAUD: frozenset({AlertStatus.RESOLVED}),
    AlertStatus.FALSE_POSITIVE: frozenset({AlertStatus.RESOLVED}),
    AlertStatus.RESOLVED: frozenset({AlertStatus.INVESTIGATING}),
}
# Closed cases that come back when their subject gets worse: an escalation reopens them (see `grow`). A case
# confirmed as fraud stays confirmed: the verdict still holds, and the escalation is notified anyway.
REOPENED_BY_ESCALATION = frozenset({AlertStatus.RESOLVED, AlertStatus.FALSE_POSITIVE})


def describe_lifecycle() -> str:
    """The lifecycle in a sentence, from the very tables that enforce it (PATCH /alerts/{id} documents it)."""
    moves = "; ".join(
        f"{status.value} → {', '.join(sorted(s.value for s in allowed))}"
        for status, allowed in ALLOWED_TRANSITIONS.items()
    )
    reopened = " or ".join(sorted(s.value for s in REOPENED_BY_ESCALATION))
    return (
        f"Analysts move an alert {moves}. An escalation (a new occurrence raising the severity) of a {reopened} "
        f'alert reopens it: status open, history "reopened by escalation" with the new severity.'
    )


def alert_id_for(detector: str, subject: str, window_start: datetime) -> str:
    digest = hashlib.sha256(f"{detector}|{subject}|{to_iso(window_start)}".encode()).hexdigest()
    return f"al_{digest[:24]}"


def risk_order(risk_score: Decimal, created_at: datetime) -> str:
    """The queue's sort key (GSI by-risk): highest risk first, then the longest waiting. DynamoDB sorts a
    string key ascending, so the risk is stored as its distance from 100 in hundredths, zero-padded
    ("01550" for 84.5), followed by the creation time; every alert item carries it, so the index is complete."""
    hundredths = int((Decimal(100) - min(max(risk_score, Decimal(0)), Decimal(100))) * 100)
    return f"{hundredths:05d}#{to_iso(created_at)}"


def summary_for(finding: Finding, severity: Severity) -> str:
    return f"{finding.description}: {severity.value} {DETECTOR_LABELS.get(finding.detector, finding.detector)}"


@dataclass(frozen=True)
class Alert:
    alert_id: str
    detector: str
    severity: Severity
    risk_score: Decimal
    subject: str
    window_start: datetime
    window_end: datetime
    reasons: tuple[Reason, ...]
    summary: str
    created_at: datetime
    updated_at: datetime
    transaction_ids: tuple[str, ...] = ()
    customer_id: str | None = None
    customer_name: str | None = None
    narrative: str | None = None
    status: AlertStatus = AlertStatus.OPEN
    occurrences: int = 1
    notes: tuple[dict[str, Any], ...] = ()
    history: tuple[dict[str, Any], ...] = ()
    model_version: str | None = None
    last_change: str = "created"
    version: int = 1
    assignee: str | None = None
    feedback: dict[str, Any] | None = None
    triaged_at: datetime | None = None
    case_id: str | None = None  # the case it was put in when opened (see shopwatch.cases): an alert keeps it
    amount: Decimal | None = None  # the money of its transactions (one currency); None when not known
    currency: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "alert_id": self.alert_id,
            "detector": self.detector,
            "severity": self.severity.value,
            "severity_rank": self.severity.rank,
            "risk_score": self.risk_score,
            "subject": self.subject,
            "window_start": to_iso(self.window_start),
            "window_end": to_iso(self.window_end),
            "reasons": [r.to_dict() for r in self.reasons],
            "summary": self.summary,
            "created_at": to_iso(self.created_at),
            "updated_at": to_iso(self.updated_at),
            "transaction_ids": list(self.transaction_ids),
            "status": self.status.value,
            "occurrences": self.occurrences,
            "notes": list(self.notes),
            "history": list(self.history),
            "last_change": self.last_change,
            "version": self.version,
            "risk_order": risk_order(self.risk_score, self.created_at),
        }
        for name in (
            "customer_id", "customer_name", "narrative", "model_version", "assignee", "feedback", "case_id", "amount",
            "currency",
        ):  # fmt: skip
            value = getattr(self, name)
            if value is not None:
                item[name] = value
        if self.triaged_at is not None:
            item["triaged_at"] = to_iso(self.triaged_at)
        return item | self.extra

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Alert:
        known = {
            "alert_id", "detector", "severity", "severity_rank", "risk_score", "subject", "window_start", "window_end",
            "reasons", "summary", "created_at", "updated_at", "transaction_ids", "customer_id", "customer_name",
            "narrative", "status", "occurrences", "notes", "history", "model_version", "last_change", "version",
            "assignee", "feedback", "triaged_at", "case_id", "risk_order", "amount", "currency",
        }  # fmt: skip
        return cls(
            alert_id=item["alert_id"],
            detector=item["detector"],
            severity=Severity.parse(item["severity"]),
            risk_score=Decimal(item["risk_score"]),
            subject=item["subject"],
            window_start=parse_iso(item["window_start"]),
            window_end=parse_iso(item["window_end"]),
            reasons=tuple(Reason.from_dict(r) for r in item.get("reasons", [])),
            summary=item["summary"],
            created_at=parse_iso(item["created_at"]),
            updated_at=parse_iso(item["updated_at"]),
            transaction_ids=tuple(item.get("transaction_ids", [])),
            customer_id=item.get("customer_id"),
            customer_name=item.get("customer_name"),
            narrative=item.get("narrative"),
            status=AlertStatus(item.get("status", "open")),
            occurrences=int(item.get("occurrences", 1)),
            notes=tuple(item.get("notes", [])),
            history=tuple(item.get("history", [])),
            model_version=item.get("model_version"),
            last_change=item.get("last_change", "created"),
            version=int(item.get("version", 1)),
            assignee=item.get("assignee"),
            feedback=item.get("feedback"),
            triaged_at=parse_iso(item["triaged_at"]) if "triaged_at" in item else None,
            case_id=item.get("case_id"),
            amount=Decimal(item["amount"]) if "amount" in item else None,
            currency=item.get("currency"),
            extra={k: v for k, v in item.items() if k not in known},
        )


def open_alert(
    finding: Finding, severity: Severity, risk: Decimal, tx: Transaction, window_seconds: int, now: datetime
) -> Alert:
    start = floor_window(tx.timestamp, window_seconds)
    return Alert(
        alert_id=alert_id_for(finding.detector, tx.customer_id, start),
        detector=finding.detector,
        severity=severity,
        risk_score=risk,
        subject=tx.customer_id,
        window_start=start,
        window_end=start + timedelta(seconds=window_seconds),
        reasons=finding.reasons,
        summary=summary_for(finding, severity),
        created_at=now,
        updated_at=now,
        transaction_ids=(tx.transaction_id,),
        customer_id=tx.customer_id,
        customer_name=tx.customer_name,
        history=({"at": to_iso(now), "by": SYSTEM_ACTOR, "action": "created", "severity": severity.value},),
        model_version=finding.model_version,
        amount=tx.amount,
        currency=tx.currency,
    )


def add_occurrence(
    alert: Alert, finding: Finding, severity: Severity, risk: Decimal, tx: Transaction, now: datetime
) -> Alert:
    """Count one more transaction in the alert; a higher severity escalates it and takes over its summary. Its
    amount adds up (the queue shows what is at stake); a second currency makes the sum unknown."""
    grown = grow(alert, finding, severity, risk, now, tx.transaction_id, tx.customer_name)
    same_money = alert.amount is not None and alert.currency == tx.currency
    return replace(grown, amount=alert.amount + tx.amount if alert.amount is not None and same_money else None)


def open_window_alert(
    finding: Finding, severity: Severity, subject: str, window_start: datetime, window_end: datetime, now: datetime
) -> Alert:
    """An alert about the shop's traffic in a window (a minute, hour or day), not about one customer."""
    return Alert(
        alert_id=alert_id_for(finding.detector, subject, window_start),
        detector=finding.detector,
        severity=severity,
        risk_score=finding.strength * 100,
        subject=subject,
        window_start=window_start,
        window_end=window_end,
        reasons=finding.reasons,
        summary=summary_for(finding, severity),
        created_at=now,
        updated_at=now,
        history=({"at": to_iso(now), "by": SYSTEM_ACTOR, "action": "created", "severity": severity.value},),
    )


def grow(
    alert: Alert,
    finding: Finding,
    severity: Severity,
    risk: Decimal,
    now: datetime,
    transaction_id: str | None = None,
    customer_name: str | None = None,
) -> Alert:
    """One more occurrence (a transaction, or another abnormal minute); a higher severity escalates, and an
    escalation reopens a resolved or dismissed alert (back on the open queue, so what got worse is looked at)."""
    escalated = severity > alert.severity
    listed = alert.transaction_ids
    if transaction_id is not None and len(listed) < MAX_LISTED_TRANSACTIONS:
        listed = (*listed, transaction_id)
    changes: dict[str, Any] = {
        "occurrences": alert.occurrences + 1,
        "transaction_ids": listed,
        "risk_score": max(alert.risk_score, risk),
        "updated_at": now,
        "version": alert.version + 1,
        "last_change": "escalated" if escalated else "occurrence",
        "customer_name": alert.customer_name or customer_name,
        "model_version": finding.model_version or alert.model_version,
    }
    if severity >= alert.severity:
        changes |= {
            "reasons": finding.reasons,
            "summary": summary_for(finding, max(severity, alert.severity, key=lambda s: s.rank)),
        }
    if escalated:
        entries = [
            {
                "at": to_iso(now),
                "by": SYSTEM_ACTOR,
                "action": "escalated",
                "from": alert.severity.value,
                "to": severity.value,
            }
        ]
        if alert.status in REOPENED_BY_ESCALATION:
            entries.append(
                {
                    "at": to_iso(now),
                    "by": SYSTEM_ACTOR,
                    "action": "reopened by escalation",
                    "from": alert.status.value,
                    "to": AlertStatus.OPEN.value,
                    "severity": severity.value,
                }
            )
            changes["status"] = AlertStatus.OPEN
        changes |= {"severity": severity, "history": (*alert.history, *entries)}
    return replace(alert, **changes)
