"""The bodies of the case routes (GET/PATCH /cases, notes) and the case figures of GET /dashboard/metrics, and
the one mapping of a case (shopwatch.cases) to them."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Self

from pydantic import Field

from shopwatch.cases.model import Case
from shopwatch.cases.service import CaseDetail, Settlement
from shopwatch.domain.alert import AlertStatus
from shopwatch.domain.clock import to_iso
from shopwatch_api.models import AlertPatch
from shopwatch_api.responses import AlertOut, Timestamp, _Out


class CaseStatusFilter(StrEnum):
    """A status, or `active` (open and investigating: the work queue), or `all`."""

    ACTIVE = "active"
    ALL = "all"
    OPEN = "open"
    INVESTIGATING = "investigating"
    CONFIRMED_FRAUD = "confirmed_fraud"
    FALSE_POSITIVE = "false_positive"
    RESOLVED = "resolved"

    def statuses(self) -> list[AlertStatus]:
        if self is CaseStatusFilter.ACTIVE:
            return [AlertStatus.OPEN, AlertStatus.INVESTIGATING]
        if self is CaseStatusFilter.ALL:
            return list(AlertStatus)
        return [AlertStatus(self.value)]


class CasePatch(AlertPatch):
    """A case moves along the alerts' lifecycle and is assigned like one: the same body and rules, under a name of
    its own in /openapi.json."""


class EntityRefOut(_Out):
    kind: str = Field(description="customer, device, card, email or ip")
    value: str

    @classmethod
    def from_text(cls, text: str) -> EntityRefOut:
        """A case keeps its shared entities as "kind:value"."""
        kind, _, value = text.partition(":")
        return cls(kind=kind, value=value)


class CaseOut(_Out):
    case_id: str
    anchor: EntityRefOut = Field(description="what groups the alerts: a customer, or an entity several accounts share")
    status: AlertStatus
    severity: str
    risk_score: float = Field(ge=0, le=100)
    assignee: str | None
    accounts: list[str] = Field(description="the accounts of the case (at most 25)")
    entities: list[EntityRefOut] = Field(description="the shared entities seen on its transactions")
    alert_count: int
    transaction_count: int
    first_alert_at: Timestamp
    last_alert_at: Timestamp
    created_at: Timestamp
    updated_at: Timestamp
    first_action_at: Timestamp | None
    closed_at: Timestamp | None
    time_to_first_action_seconds: float | None
    time_to_close_seconds: float | None

    @classmethod
    def from_case(cls, case: Case) -> Self:
        return cls(**_case_fields(case))


class CasePage(_Out):
    cases: list[CaseOut]
    next_token: str | None = Field(description="pass it back, with the same filters, for the next page")

    @classmethod
    def from_page(cls, cases: list[Case], next_token: str | None) -> CasePage:
        return cls(cases=[CaseOut.from_case(c) for c in cases], next_token=next_token)


class CaseDetailOut(CaseOut):
    alerts: list[AlertOut]
    history: list[dict[str, str | None]]
    notes: list[dict[str, str]]

    @classmethod
    def from_detail(cls, detail: CaseDetail) -> CaseDetailOut:
        return cls(**_detail_fields(detail))


class SettlementOut(_Out):
    settled: list[str] = Field(description="alerts the case moved (now or on an earlier try of the same request)")
    unchanged: list[str] = Field(description="alerts already in that status")
    skipped: list[dict[str, str]] = Field(description="alerts that cannot make the move: {alert_id, status, reason}")

    @classmethod
    def from_settlement(cls, settlement: Settlement) -> SettlementOut:
        return cls(settled=settlement.settled, unchanged=settlement.unchanged, skipped=settlement.skipped)


class CaseChanged(CaseDetailOut):
    settlement: SettlementOut

    @classmethod
    def from_change(cls, detail: CaseDetail, settlement: Settlement) -> CaseChanged:
        return cls(**_detail_fields(detail), settlement=SettlementOut.from_settlement(settlement))


def _case_fields(case: Case) -> dict[str, Any]:
    return {
        "case_id": case.case_id,
        "anchor": EntityRefOut(kind=case.anchor_kind, value=case.anchor_value),
        "status": case.status,
        "severity": case.severity.value,
        "risk_score": float(case.risk_score),
        "assignee": case.assignee,
        "accounts": list(case.customer_ids),
        "entities": [EntityRefOut.from_text(e) for e in case.entities],
        "alert_count": case.alert_count,
        "transaction_count": case.transaction_count,
        "first_alert_at": to_iso(case.first_alert_at),
        "last_alert_at": to_iso(case.last_alert_at),
        "created_at": to_iso(case.created_at),
        "updated_at": to_iso(case.updated_at),
        "first_action_at": to_iso(case.first_action_at) if case.first_action_at else None,
        "closed_at": to_iso(case.closed_at) if case.closed_at else None,
        "time_to_first_action_seconds": (case.first_action_at - case.created_at).total_seconds()
        if case.first_action_at
        else None,
        "time_to_close_seconds": (case.closed_at - case.created_at).total_seconds() if case.closed_at else None,
    }


def _detail_fields(detail: CaseDetail) -> dict[str, Any]:
    return _case_fields(detail.case) | {
        "alerts": [AlertOut.from_alert(a) for a in detail.alerts],
        "history": list(detail.case.history),
        "notes": list(detail.case.notes),
    }
