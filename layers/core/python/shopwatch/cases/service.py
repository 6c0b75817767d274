"""The cases analysts work from: the list, one case with its alerts, accounts and shared entities, and the
changes made to it (status, assignee, notes). Settling a case settles its alerts.

Why the alerts are settled one by one through TriageService.change: each alert keeps its own lifecycle and
history (an analyst may have moved one by hand), and the change is a read-modify-write over the alert's
version that DetectFunction may be growing at that moment. An alert that cannot make the move (confirmed fraud
cannot become a false positive) is skipped and reported, never forced. A retried request finds the case
already in its status and settles whatever alerts are still behind: the same outcome, nothing twice.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from shopwatch.cases.metrics import CaseMetrics, case_metrics
from shopwatch.cases.model import (
    CLOSED_STATUSES,
    Case,
    add_case_note,
    assign_case,
    case_id_for,
    change_case_status,
)
from shopwatch.domain.alert import ALLOWED_TRANSITIONS, Alert, AlertStatus
from shopwatch.domain.severity import Severity
from shopwatch.domain.triage import OPEN_STATUSES, FeedbackLabel, change_status, give_feedback
from shopwatch.errors import NotFound, ServiceUnavailable
from shopwatch.pagination import decode_token, encode_token, scope_of
from shopwatch.storage.cases import CaseRepository
from shopwatch.triage.service import TriageService

CASE_ID = re.compile(r"^cs_[0-9a-f]{24}$")
WRITE_ATTEMPTS = 5
ACTIVE = [AlertStatus.OPEN, AlertStatus.INVESTIGATING]
LABELS = {AlertStatus.CONFIRMED_FRAUD: FeedbackLabel.FRAUD, AlertStatus.FALSE_POSITIVE: FeedbackLabel.LEGITIMATE}


@dataclass(frozen=True)
class CaseDetail:
    case: Case
    alerts: list[Alert]


@dataclass(frozen=True)
class Settlement:
    """What settling a case did to its alerts."""

    settled: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)  # {alert_id, status, reason}


class _Skip(Exception):
    pass


class CaseService:
    def __init__(self, cases: CaseRepository, triage: TriageService) -> None:
        self.cases = cases
        self.triage = triage

    def list(
        self,
        statuses: list[AlertStatus] | None,
        min_severity: Severity | None,
        limit: int,
        next_token: str | None,
    ) -> tuple[list[Case], str | None]:
        """Cases of `statuses` (default: open and investigating, the work queue), most recently updated first."""
        wanted = statuses or ACTIVE
        scope = scope_of(statuses=",".join(s.value for s in wanted), min_severity=min_severity)
        cases, cursor = self.cases.page(wanted, min_severity, decode_token(next_token, scope), limit)
        return cases, encode_token(cursor, scope) if cursor else None

    def _case(self, case_id: str) -> Case:
        case = self.cases.get(case_id) if CASE_ID.match(case_id) else None
        if case is None:
            raise NotFound(f"no case {case_id}", {"case_id": case_id})
        return case

    def get(self, case_id: str) -> CaseDetail:
        case = self._case(case_id)
        return CaseDetail(case, self.alerts_of(case))

    def alerts_of(self, case: Case) -> builtins.list[Alert]:  # `list` here is the method above
        """The case's alerts and those of the customer cases folded into it (a ring's first account), oldest first."""
        alerts = self.cases.alerts_of(case.case_id)
        if case.anchor_kind != "customer" and case.customer_ids:
            candidates = [case_id_for("customer", c, case.window_start) for c in case.customer_ids]
            for folded in self.cases.get_many(candidates).values():
                if folded.folded_into == case.case_id:
                    alerts.extend(self.cases.alerts_of(folded.case_id))
        return sorted(alerts, key=lambda a: (a.created_at, a.alert_id))

    def change(
        self, case_id: str, status: AlertStatus | None, assignee: tuple[str | None] | None, by: str, now: datetime
    ) -> tuple[CaseDetail, Settlement]:
        """Move the status and/or (re)assign (`assignee`: a 1-tuple when given, so None can unassign); a closing
        status settles the case's alerts. The same status again changes nothing on the case (a retry)."""

        def apply(case: Case) -> Case:
            changed = case
            if assignee is not None and assignee[0] != case.assignee:
                changed = assign_case(changed, assignee[0], by, now)
            if status is not None and status != case.status:
                changed = change_case_status(changed, status, by, now)
            return changed

        case = self._write(case_id, apply)
        settlement = Settlement()
        if status is not None and status in CLOSED_STATUSES:
            settlement = self._settle(case, status, f"{by} via case {case.case_id}", now)
        return CaseDetail(case, self.alerts_of(case)), settlement

    def note(self, case_id: str, text: str, by: str, now: datetime) -> CaseDetail:
        case = self._write(case_id, lambda c: add_case_note(c, text, by, now))
        return CaseDetail(case, self.alerts_of(case))

    def metrics(self, since: datetime, until: datetime) -> CaseMetrics:
        return case_metrics(self.cases.updated_since(since), since, until)

    def _write(self, case_id: str, apply: Callable[[Case], Case]) -> Case:
        """Apply a change to the newest version of the case (re-read when DetectFunction grew it meanwhile)."""
        for _ in range(WRITE_ATTEMPTS):
            current = self._case(case_id)
            changed = apply(current)
            if changed is current:
                return current
            if self.cases.save(_one_version(changed, current)):
                return _one_version(changed, current)
        raise ServiceUnavailable("the case is changing too fast; retry the same request", {"case_id": case_id})

    def _settle(self, case: Case, to: AlertStatus, actor: str, now: datetime) -> Settlement:
        settlement = Settlement()
        label = LABELS.get(to)

        def apply(alert: Alert) -> Alert:
            if alert.status == to:
                if label is not None and alert.feedback is None:
                    return give_feedback(alert, label, actor, now)  # records the label, moves nothing
                return alert
            if label is not None and alert.feedback is None and alert.status in OPEN_STATUSES:
                return give_feedback(alert, label, actor, now)  # settles it to `to`, labelled
            if to not in ALLOWED_TRANSITIONS[alert.status]:
                raise _Skip(alert.status.value)
            return change_status(alert, to, actor, now)

        for alert in self.alerts_of(case):
            try:
                after = self.triage.change(alert.alert_id, apply)
            except _Skip as skip:
                allowed = sorted(s.value for s in ALLOWED_TRANSITIONS[AlertStatus(str(skip))])
                settlement.skipped.append(
                    {"alert_id": alert.alert_id, "status": str(skip), "reason": f"{skip} can move only to {allowed}"}
                )
                continue
            moved = after.status == to and any(str(h.get("by", "")) == actor for h in after.history)
            (settlement.settled if moved else settlement.unchanged).append(alert.alert_id)
        return settlement


def _one_version(changed: Case, current: Case) -> Case:
    """One request is one write: two changes in it move the version once (it is saved over `current`'s)."""
    return replace(changed, version=current.version + 1)
