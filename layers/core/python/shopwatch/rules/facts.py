"""What a rule sees about one transaction, built the same way at ingest, in DetectFunction and in a backtest, so
a rule means the same thing in all three (no skew between the backtest and production).

Entity aggregates are read the way the entity detectors read them (EntityView): "as of just before the
transaction, with it counted in". At ingest they are the stored aggregates, which lag the stream path by the
seconds it takes to process the transactions before this one; DetectFunction evaluates the same rules again on
exact aggregates, so what ingest could not see still alerts and scores.

Building is lazy per variable and, for the account and the entities, per field (`rules.reads`): an engine whose
rules never read `entities` does not pay for them, and one that reads `entities.device.accounts_1h` pays for
that field alone.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from shopwatch.detectors.entities import CUSTOMER_LINKED_KINDS, EntityView, account_age_seconds, card_value
from shopwatch.detectors.findings import Finding
from shopwatch.domain.input_rules import normalized_email
from shopwatch.domain.transaction import OPTIONAL_TEXT, Transaction
from shopwatch.rules.reads import Reads
from shopwatch.rules.variables import ENTITY_KINDS, FINDING_DETECTORS, message_class

DEFAULT_FAILED_STATUSES = frozenset({"failed", "denied"})
_APPROVED = "approved"
_STRING_FIELDS = ("transaction_id", "customer_id", "status", "currency", *OPTIONAL_TEXT)


@dataclass
class RuleFacts:
    tx: Transaction
    views: Mapping[str, EntityView] | None = None
    findings: Mapping[str, float] = field(default_factory=dict)
    model_score: float | None = None
    risk_score: float | None = None
    failed_statuses: frozenset[str] = DEFAULT_FAILED_STATUSES
    _built: dict[tuple[str, frozenset[str] | None], Any] = field(default_factory=dict, repr=False)

    def data(self, reads: Reads) -> dict[str, Any]:
        """The CEL variables `reads` names, with the fields it names (the rest are empty messages, which cost
        nothing to make). Built once per variable and fields: ingest and a backtest may ask twice."""
        data = {}
        for name, builder in _BUILDERS.items():
            if name not in reads.variables:
                data[name] = _EMPTY[name]()
                continue
            fields = reads.fields_of(name)
            if (name, fields) not in self._built:
                self._built[(name, fields)] = builder(self, fields)
            data[name] = self._built[(name, fields)]
        return data


def facts_for(
    tx: Transaction,
    views: Mapping[str, EntityView] | None = None,
    findings: Sequence[Finding] = (),
    model_score: float | None = None,
    risk_score: float | None = None,
    failed_statuses: frozenset[str] = DEFAULT_FAILED_STATUSES,
) -> RuleFacts:
    scores = {f.detector: float(f.strength) for f in findings if f.detector in FINDING_DETECTORS}
    return RuleFacts(tx, views, scores, model_score, risk_score, failed_statuses)


def model_anomaly(score: float, outlier_below: float) -> float:
    """The forest's score against its outlier threshold as 0-1, 0.5 at the threshold (as the risk signal reads it)."""
    return 1 / (1 + math.exp(-(outlier_below - score) * 20))


def _transaction(facts: RuleFacts, fields: frozenset[str] | None) -> Any:
    tx = facts.tx
    message = message_class("Transaction")()
    for name in _STRING_FIELDS:
        value = getattr(tx, name)
        if value is not None:
            setattr(message, name, value)
    message.amount = float(tx.amount)
    message.timestamp.FromDatetime(tx.timestamp)
    if tx.account_created_at is not None:
        message.account_created_at.FromDatetime(tx.account_created_at)
    for item in tx.items:
        added = message.items.add(sku=item.sku, quantity=item.quantity, unit_price=float(item.unit_price))
        if item.name is not None:
            added.name = item.name
    return message


def _account(facts: RuleFacts, fields: frozenset[str] | None) -> Any:
    tx = facts.tx
    message = message_class("Account")()
    age = account_age_seconds(tx)
    if age is not None:
        message.age_seconds = age
    view = (facts.views or {}).get("customer")
    history = view.history if view is not None else None
    message.first_purchase = history is None or history.transactions == 0
    message.transactions = (history.transactions if history is not None else 0) + 1
    if view is not None:
        email = normalized_email(tx.email) if tx.email else None
        own = {"email": email, "device": tx.device_id, "ip": tx.ip, "card": card_value(tx)}
        for kind in CUSTOMER_LINKED_KINDS:  # as the entity keys hold them, this transaction's included
            name = f"{kind}s_30d"
            if fields is not None and name not in fields:
                continue
            linked = view.history.linked(kind, "30d", tx.timestamp)
            mine = own[kind]
            setattr(message, name, len(linked | {mine}) if mine else len(linked))
    return message


def _entity(view: EntityView, facts: RuleFacts, fields: frozenset[str] | None) -> Any:
    """The entity's aggregates; of its windowed ones (each a walk over its buckets or link sets) only `fields`."""
    tx = facts.tx
    history = view.history
    message = message_class("Entity")()

    def wanted(name: str) -> bool:
        return fields is None or name in fields

    message.transactions = history.transactions + 1
    for window in ("1m", "1h", "24h", "30d"):
        if wanted(f"transactions_{window}"):
            setattr(message, f"transactions_{window}", view.transactions(window))
    mine = tx.amount if tx.status == _APPROVED else Decimal(0)
    for window in ("1h", "24h"):
        if wanted(f"failed_{window}"):
            setattr(message, f"failed_{window}", view.failures(window, facts.failed_statuses))
        if wanted(f"new_account_transactions_{window}"):
            setattr(message, f"new_account_transactions_{window}", view.new_account_transactions(window))
    for window in ("1h", "24h", "30d"):
        if wanted(f"amount_{window}"):
            setattr(message, f"amount_{window}", float(history.total("a", window, tx.timestamp) + mine))
    if view.key.kind != "customer":
        for window in ("1h", "30d", "1y"):
            if wanted(f"accounts_{window}"):
                setattr(message, f"accounts_{window}", len(view.accounts(window)))
    if history.first_seen is not None:
        message.first_seen.FromDatetime(history.first_seen)
        message.age_seconds = max(0.0, (tx.timestamp - history.first_seen).total_seconds())
    return message


def _entities(facts: RuleFacts, fields: frozenset[str] | None) -> Any:
    message = message_class("Entities")()
    for kind in ENTITY_KINDS:
        view = (facts.views or {}).get(kind)
        if view is not None:
            getattr(message, kind).CopyFrom(_entity(view, facts, fields))
    return message


def _findings(facts: RuleFacts, fields: frozenset[str] | None) -> Any:
    return message_class("Findings")(**facts.findings)


def _scores(facts: RuleFacts, fields: frozenset[str] | None) -> Any:
    message = message_class("Scores")()
    if facts.model_score is not None:
        message.model = facts.model_score
    if facts.risk_score is not None:
        message.risk = float(facts.risk_score)
    return message


_BUILDERS = {
    "tx": _transaction,
    "account": _account,
    "entities": _entities,
    "findings": _findings,
    "scores": _scores,
}
_EMPTY = {
    "tx": lambda: message_class("Transaction")(),
    "account": lambda: message_class("Account")(),
    "entities": lambda: message_class("Entities")(),
    "findings": lambda: message_class("Findings")(),
    "scores": lambda: message_class("Scores")(),
}
