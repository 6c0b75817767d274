"""A case: the alerts that belong together (one customer's, or a ring's: accounts linked by a shared device,
card, e-mail or IP), worked as one, with one status, one assignee and one history.

Why an anchor: a case has to be found again, by every DetectFunction container and every retry of a stream
record, without a lookup that could race. So its id is derived, like an alert's, from what it is about: the
anchor entity (the shared entity that links the most accounts, else the customer) and the case window the
alert falls in. A replayed record derives the same id; the detection's unit of work counts it once.

A ring seen from its first account cannot be known as a ring yet (one account on the device): that account's
first alerts open its customer case. When the ring case later names the account, the customer case is folded
into it (`folded_into`): the ring case lists and settles the folded case's alerts, and the list hides it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from shopwatch.detectors.entities import LINK_CAP, NO_HISTORY, EntityHistory, EntityKey, entity_keys
from shopwatch.domain.alert import ALLOWED_TRANSITIONS, REOPENED_BY_ESCALATION, Alert, AlertStatus
from shopwatch.domain.clock import floor_window, parse_iso, to_iso
from shopwatch.domain.severity import Severity
from shopwatch.domain.transaction import Transaction
from shopwatch.errors import Conflict

ANCHOR_KINDS = ("device", "card", "email", "ip")  # the tie order: the stronger evidence of one person first
RING_MIN_ACCOUNTS = 2
LINK_WINDOW = "30d"  # the entity detectors' window for shared identities
MAX_ENTITIES = 20
MAX_HISTORY = 500  # a case item stays far below DynamoDB's 400 KB
MAX_NOTES = 200
CLOSED_STATUSES = frozenset({AlertStatus.CONFIRMED_FRAUD, AlertStatus.FALSE_POSITIVE, AlertStatus.RESOLVED})
SYSTEM_ACTOR = "shopwatch"


@dataclass(frozen=True)
class Anchor:
    kind: str  # customer, device, card, email or ip
    value: str
    accounts: frozenset[str]  # the accounts it links in the link window (this transaction's included)


def choose_anchor(tx: Transaction, entities: Mapping[EntityKey, EntityHistory]) -> Anchor:
    """The shared entity of `tx` linking the most accounts (at least two, this one counted), ties by
    ANCHOR_KINDS order; else the customer. `entities`: the histories as they stood before `tx`."""
    keys = entity_keys(tx)
    best: Anchor | None = None
    for kind in ANCHOR_KINDS:
        key = keys.get(kind)
        if key is None:
            continue
        accounts = entities.get(key, NO_HISTORY).linked("customer", LINK_WINDOW, tx.timestamp) | {tx.customer_id}
        if len(accounts) >= RING_MIN_ACCOUNTS and (best is None or len(accounts) > len(best.accounts)):
            best = Anchor(kind, key.value, accounts)
    return best or Anchor("customer", tx.customer_id, frozenset({tx.customer_id}))


def case_id_for(kind: str, value: str, window_start: datetime) -> str:
    digest = hashlib.sha256(f"{kind}|{value}|{to_iso(window_start)}".encode()).hexdigest()
    return f"cs_{digest[:24]}"


def customer_case_id(customer_id: str, moment: datetime, window_seconds: int) -> str:
    return case_id_for("customer", customer_id, floor_window(moment, window_seconds))


def shared_entities(tx: Transaction, entities: Mapping[EntityKey, EntityHistory]) -> list[str]:
    """`kind:value` of the transaction's entities that another account used too (what the case page links)."""
    found = []
    for kind, key in entity_keys(tx).items():
        if kind in ANCHOR_KINDS:
            linked = entities.get(key, NO_HISTORY).linked("customer", LINK_WINDOW, tx.timestamp) - {tx.customer_id}
            if linked:
                found.append(f"{kind}:{key.value}")
    return found


@dataclass(frozen=True)
class Case:
    case_id: str
    anchor_kind: str
    anchor_value: str
    window_start: datetime
    created_at: datetime
    updated_at: datetime
    first_alert_at: datetime
    last_alert_at: datetime
    severity: Severity
    risk_score: Decimal
    customer_ids: tuple[str, ...] = ()
    entities: tuple[str, ...] = ()
    alert_count: int = 0
    transaction_count: int = 0
    status: AlertStatus = AlertStatus.OPEN
    assignee: str | None = None
    history: tuple[dict[str, Any], ...] = ()
    notes: tuple[dict[str, Any], ...] = ()
    first_action_at: datetime | None = None
    closed_at: datetime | None = None
    folded_into: str | None = None
    version: int = 1

    @property
    def closed(self) -> bool:
        return self.status in CLOSED_STATUSES

    def to_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "case_id": self.case_id,
            "anchor_kind": self.anchor_kind,
            "anchor_value": self.anchor_value,
            "window_start": to_iso(self.window_start),
            "created_at": to_iso(self.created_at),
            "updated_at": to_iso(self.updated_at),
            "first_alert_at": to_iso(self.first_alert_at),
            "last_alert_at": to_iso(self.last_alert_at),
            "severity": self.severity.value,
            "severity_rank": self.severity.rank,
            "risk_score": self.risk_score,
            "customer_ids": list(self.customer_ids),
            "entities": list(self.entities),
            "alert_count": self.alert_count,
            "transaction_count": self.transaction_count,
            "status": self.status.value,
            "history": list(self.history),
            "notes": list(self.notes),
            "version": self.version,
        }
        if self.assignee is not None:
            item["assignee"] = self.assignee
        if self.folded_into is not None:
            item["folded_into"] = self.folded_into
        for name in ("first_action_at", "closed_at"):
            value = getattr(self, name)
            if value is not None:
                item[name] = to_iso(value)
        return item

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Case:
        def moment(name: str) -> datetime | None:
            return parse_iso(item[name]) if item.get(name) else None

        return cls(
            case_id=item["case_id"],
            anchor_kind=item["anchor_kind"],
            anchor_value=item["anchor_value"],
            window_start=parse_iso(item["window_start"]),
            created_at=parse_iso(item["created_at"]),
            updated_at=parse_iso(item["updated_at"]),
            first_alert_at=parse_iso(item["first_alert_at"]),
            last_alert_at=parse_iso(item["last_alert_at"]),
            severity=Severity.parse(item["severity"]),
            risk_score=Decimal(item["risk_score"]),
            customer_ids=tuple(item.get("customer_ids", [])),
            entities=tuple(item.get("entities", [])),
            alert_count=int(item.get("alert_count", 0)),
            transaction_count=int(item.get("transaction_count", 0)),
            status=AlertStatus(item.get("status", "open")),
            assignee=item.get("assignee"),
            history=tuple(item.get("history", [])),
            notes=tuple(item.get("notes", [])),
            first_action_at=moment("first_action_at"),
            closed_at=moment("closed_at"),
            folded_into=item.get("folded_into"),
            version=int(item.get("version", 1)),
        )


def _merged(known: tuple[str, ...], more: list[str] | frozenset[str], cap: int) -> tuple[str, ...]:
    """`known` plus the new members of `more` (sorted, for a replay-stable order), up to `cap`."""
    added = [m for m in sorted(more) if m not in known]
    return (*known, *added[: max(0, cap - len(known))])


def grow_case(
    case: Case | None,
    case_id: str,
    anchor: Anchor,
    window_start: datetime,
    alert: Alert,
    new_alert: bool,
    new_transaction: bool,
    entities: list[str],
    now: datetime,
) -> Case:
    """The case after one alert of a transaction was opened or grown in it (or the case opened by it).

    `new_alert`: the alert was opened by this transaction (the case counts it); `new_transaction`: the first of
    this transaction's alerts in this case (the case counts the transaction once)."""
    if case is None:
        case = Case(
            case_id=case_id,
            anchor_kind=anchor.kind,
            anchor_value=anchor.value,
            window_start=window_start,
            created_at=now,
            updated_at=now,
            first_alert_at=alert.created_at,
            last_alert_at=alert.updated_at,
            severity=alert.severity,
            risk_score=alert.risk_score,
            history=({"at": to_iso(now), "by": SYSTEM_ACTOR, "what": "opened", "alert_id": alert.alert_id},),
            version=0,  # the version it is written over is "none": see CaseRepository.save_action
        )
    accounts = anchor.accounts | ({alert.customer_id} if alert.customer_id else set())
    if new_alert and case.status in REOPENED_BY_ESCALATION:  # new evidence on a dismissed case: back on the queue
        entry = {"at": to_iso(now), "by": SYSTEM_ACTOR, "what": f"reopened by a new alert ({case.status.value})"}
        case = replace(case, status=AlertStatus.OPEN, closed_at=None, history=(*case.history, entry)[-MAX_HISTORY:])
    return replace(
        case,
        customer_ids=_merged(case.customer_ids, accounts, LINK_CAP),
        entities=_merged(case.entities, entities, MAX_ENTITIES),
        alert_count=case.alert_count + (1 if new_alert else 0),
        transaction_count=case.transaction_count + (1 if new_transaction else 0),
        severity=max(case.severity, alert.severity, key=lambda s: s.rank),
        risk_score=max(case.risk_score, alert.risk_score),
        last_alert_at=max(case.last_alert_at, alert.updated_at),
        updated_at=now,
        version=case.version + 1,
    )


def _changed(case: Case, by: str, now: datetime, what: str, **changes: Any) -> Case:
    """The next version, with the history entry; the first analyst's change ends the time to first action."""
    history = (*case.history, {"at": to_iso(now), "by": by, "what": what})[-MAX_HISTORY:]
    first = case.first_action_at or now
    return replace(case, **changes, history=history, updated_at=now, first_action_at=first, version=case.version + 1)


def change_case_status(case: Case, to: AlertStatus, by: str, now: datetime) -> Case:
    allowed = ALLOWED_TRANSITIONS[case.status]
    if to not in allowed:
        raise Conflict(
            f"a case in status {case.status.value} cannot move to {to.value}",
            {"from": case.status.value, "to": to.value, "allowed": sorted(s.value for s in allowed)},
        )
    closed_at = now if to in CLOSED_STATUSES else None
    return _changed(case, by, now, f"status {case.status.value} → {to.value}", status=to, closed_at=closed_at)


def assign_case(case: Case, assignee: str | None, by: str, now: datetime) -> Case:
    return _changed(case, by, now, f"assigned to {assignee}" if assignee else "unassigned", assignee=assignee)


def add_case_note(case: Case, text: str, by: str, now: datetime) -> Case:
    if len(case.notes) >= MAX_NOTES:
        raise Conflict(f"a case holds at most {MAX_NOTES} notes", {"notes": len(case.notes)})
    notes = (*case.notes, {"at": to_iso(now), "by": by, "text": text})
    return _changed(case, by, now, "note", notes=notes)
