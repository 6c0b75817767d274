"""What an analyst can do to an alert, as pure functions: move its status, assign it, add a note, give
feedback. Each returns the next version of the alert with a history entry saying who did what and when, so
the storage layer only has to write it over the version it came from.

Feedback (fraud / legitimate) is the label our precision is measured with. It also settles an alert still in
open or investigating (fraud → confirmed_fraud, legitimate → false_positive); on an alert already settled it
is recorded without moving the status, so a late chargeback never reopens a closed case.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from shopwatch.domain.alert import ALLOWED_TRANSITIONS, Alert, AlertStatus
from shopwatch.domain.clock import to_iso
from shopwatch.errors import Conflict

MAX_NOTES = 200  # an alert item stays far below DynamoDB's 400 KB with 200 notes of 1,000 characters


class FeedbackLabel(StrEnum):
    FRAUD = "fraud"
    LEGITIMATE = "legitimate"


SETTLED_BY_FEEDBACK = {
    FeedbackLabel.FRAUD: AlertStatus.CONFIRMED_FRAUD,
    FeedbackLabel.LEGITIMATE: AlertStatus.FALSE_POSITIVE,
}
OPEN_STATUSES = frozenset({AlertStatus.OPEN, AlertStatus.INVESTIGATING})


def _changed(alert: Alert, now: datetime, entry: dict[str, Any], **changes: Any) -> Alert:
    return replace(
        alert,
        **changes,
        history=(*alert.history, {"at": to_iso(now), **entry}),
        updated_at=now,
        version=alert.version + 1,
        last_change="triage",
    )


def _status_changes(alert: Alert, to: AlertStatus, now: datetime) -> dict[str, Any]:
    changes: dict[str, Any] = {"status": to}
    if alert.triaged_at is None:
        changes["triaged_at"] = now  # the first move out of `open` ends the time to triage
    return changes


def change_status(alert: Alert, to: AlertStatus, by: str, now: datetime, reason: str | None = None) -> Alert:
    allowed = ALLOWED_TRANSITIONS[alert.status]
    if to not in allowed:
        raise Conflict(
            f"an alert in status {alert.status.value} cannot move to {to.value}",
            {"from": alert.status.value, "to": to.value, "allowed": sorted(s.value for s in allowed)},
        )
    entry = {"by": by, "action": "status", "from": alert.status.value, "to": to.value}
    if reason is not None:  # a bulk change says why (the history is where an auditor looks)
        entry["reason"] = reason
    return _changed(alert, now, entry, **_status_changes(alert, to, now))


def assign(alert: Alert, assignee: str | None, by: str, now: datetime) -> Alert:
    entry = {"by": by, "action": "assigned", "from": alert.assignee, "to": assignee}
    return _changed(alert, now, entry, assignee=assignee)


def add_note(alert: Alert, text: str, by: str, now: datetime) -> Alert:
    if len(alert.notes) >= MAX_NOTES:
        raise Conflict(f"an alert holds at most {MAX_NOTES} notes", {"notes": len(alert.notes)})
    note = {"at": to_iso(now), "by": by, "text": text}
    return _changed(alert, now, {"by": by, "action": "note"}, notes=(*alert.notes, note))


def give_feedback(alert: Alert, label: FeedbackLabel, by: str, now: datetime, comment: str | None = None) -> Alert:
    feedback = {"label": label.value, "by": by, "at": to_iso(now)} | ({"comment": comment} if comment else {})
    changes: dict[str, Any] = {"feedback": feedback}
    entry: dict[str, Any] = {"by": by, "action": "feedback", "label": label.value}
    if alert.status in OPEN_STATUSES:
        settled = SETTLED_BY_FEEDBACK[label]
        changes |= _status_changes(alert, settled, now)
        entry |= {"from": alert.status.value, "to": settled.value}
    return _changed(alert, now, entry, **changes)


def outcome(alert: Alert) -> str:
    """confirmed, dismissed or pending: feedback first, else the status an analyst settled on."""
    if alert.feedback is not None:
        return "confirmed" if alert.feedback.get("label") == FeedbackLabel.FRAUD else "dismissed"
    if alert.status is AlertStatus.CONFIRMED_FRAUD:
        return "confirmed"
    if alert.status is AlertStatus.FALSE_POSITIVE:
        return "dismissed"
    return "pending"
