"""How DetectFunction puts a transaction's alerts into cases, inside the transaction's unit of work.

Exactly once: the case is written in the same DynamoDB transaction as the marker that guards the record, over
the version it was read at. A replayed record finds its marker and writes nothing; a case changed meanwhile
(an analyst, another container) refuses the write, and the detection re-reads it and plans again.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from shopwatch.cases.model import (
    Anchor,
    Case,
    case_id_for,
    choose_anchor,
    grow_case,
    shared_entities,
)
from shopwatch.detectors.entities import EntityHistory, EntityKey
from shopwatch.domain.alert import Alert
from shopwatch.domain.clock import floor_window
from shopwatch.domain.transaction import Transaction
from shopwatch.storage.cases import CaseRepository

DEFAULT_CASE_WINDOW_SECONDS = 7 * 86400


def case_window_seconds() -> int:
    """CASE_WINDOW_SECONDS (template parameter CaseWindowSeconds): how long one anchor's alerts make one case."""
    seconds = int(os.environ.get("CASE_WINDOW_SECONDS", DEFAULT_CASE_WINDOW_SECONDS))
    if seconds <= 0:
        raise ValueError(f"CASE_WINDOW_SECONDS must be positive, got {seconds}")
    return seconds


@dataclass(frozen=True)
class TransactionCases:
    """What one transaction brings to cases: its anchor, the anchor's case, the shared entities it carries."""

    transaction_id: str
    customer_id: str
    anchor: Anchor
    window_start: datetime
    case_id: str
    entities: tuple[str, ...]


class CaseWriter:
    def __init__(self, repository: CaseRepository, window_seconds: int) -> None:
        self.repository = repository
        self.window_seconds = window_seconds

    def plan(self, tx: Transaction, entities: Mapping[EntityKey, EntityHistory]) -> TransactionCases:
        anchor = choose_anchor(tx, entities)
        start = floor_window(tx.timestamp, self.window_seconds)
        return TransactionCases(
            tx.transaction_id,
            tx.customer_id,
            anchor,
            start,
            case_id_for(anchor.kind, anchor.value, start),
            tuple(shared_entities(tx, entities)),
        )

    def read(self, case_ids: list[str]) -> dict[str, Case | None]:
        found: dict[str, Case | None] = {c: None for c in case_ids}
        found.update(self.repository.get_many(case_ids))
        return found

    def group(
        self, plan: TransactionCases, alerts: list[Alert], known: Mapping[str, Case | None], now: datetime
    ) -> tuple[list[Alert], list[Case]]:
        """Each alert with its case id, and each case it touches grown by it (from `known`, as read)."""
        grown: dict[str, Case] = {}
        placed: list[Alert] = []
        for alert in alerts:
            new_alert = alert.version == 1
            if new_alert:
                alert = replace(alert, case_id=plan.case_id)
            if alert.case_id is None:  # an alert opened before cases existed keeps none
                placed.append(alert)
                continue
            case_id = alert.case_id
            current = grown.get(case_id, known.get(case_id))
            if case_id == plan.case_id:
                anchor, window_start = plan.anchor, plan.window_start
            else:  # a grown alert's own case (its anchor's accounts are not this transaction's business)
                anchor = Anchor("customer", plan.customer_id, frozenset({plan.customer_id}))
                window_start = current.window_start if current is not None else plan.window_start
            grown[case_id] = grow_case(
                current, case_id, anchor, window_start, alert, new_alert, case_id not in grown, list(plan.entities), now
            )
            placed.append(alert)
        return placed, [self._once(case, known.get(case.case_id)) for case in grown.values()]

    @staticmethod
    def _once(case: Case, read: Case | None) -> Case:
        """One write per case per transaction: its version moves once over the one read."""
        return replace(case, version=(read.version if read is not None else 0) + 1)

    def save_action(self, case: Case) -> dict[str, Any]:
        return self.repository.save_action(case)

    def fold(self, plan: TransactionCases, cases: list[Case], before: Mapping[str, Case | None]) -> None:
        """After the write: the customer cases of accounts the ring case names for the first time are folded
        into it (each an idempotent conditional update; an account without a case costs a refused update)."""
        if plan.anchor.kind == "customer":
            return
        ring = next((c for c in cases if c.case_id == plan.case_id), None)
        if ring is None:
            return
        previous = before.get(ring.case_id)
        known = set(previous.customer_ids) if previous is not None else set()
        for account in ring.customer_ids:
            if account not in known:
                self.repository.fold(case_id_for("customer", account, ring.window_start), ring.case_id)
