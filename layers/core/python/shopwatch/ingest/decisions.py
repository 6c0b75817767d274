"""The checkout's answer: for each accepted transaction, `allow`, `review` or `block`, what decided it, and a
risk score from what can be known at ingest.

What ingest knows: the transaction's own fields, the lists, the active rules, and the entity aggregates as
StateTable holds them (read with one BatchGetItem, never written: the stream path owns every write). Those
aggregates lag by the transactions still in the stream, seconds in steady traffic (the stream's batching
window plus DetectFunction's time), more during a backlog; the first of a burst of purchases on one device
is judged without the others. DetectFunction evaluates the same rules on exact aggregates with the detectors'
findings and the model, so what ingest could not see still alerts and scores afterwards.

The risk score here is the entity detectors' and the account-age and linked-account signals' (the detectors
that need the customer's own history or the model run in DetectFunction), plus the active rules' scores;
a blocked entity makes it 100.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from shopwatch.config import DetectionSettings
from shopwatch.detectors import country_mismatch, entity_velocity, new_account, shared_identity
from shopwatch.detectors.entities import keys_of
from shopwatch.detectors.history import CustomerHistory, DetectionInput
from shopwatch.detectors.scoring import assess
from shopwatch.detectors.signals import risk_signals
from shopwatch.domain.transaction import Transaction
from shopwatch.rules.definitions import MAX_SCORE, Decision
from shopwatch.rules.engine import RuleEngine
from shopwatch.rules.facts import facts_for
from shopwatch.storage.state import StateRepository
from shopwatch.storage.transactions import CHECKOUT_ATTRIBUTE

__all__ = ["CHECKOUT_ATTRIBUTE", "CheckoutDecider", "CheckoutDecision"]

INGEST_DETECTORS = (shared_identity.detect, new_account.detect, entity_velocity.detect, country_mismatch.detect)
_PLACES = Decimal("0.1")


@dataclass(frozen=True)
class CheckoutDecision:
    transaction_id: str
    decision: Decision
    reasons: tuple[dict[str, Any], ...]
    risk_score: Decimal

    def to_json(self) -> dict[str, Any]:
        return {
            "transaction_id": self.transaction_id,
            "decision": self.decision.value,
            "reasons": list(self.reasons),
            "risk_score": float(self.risk_score),
        }

    def to_item(self) -> dict[str, Any]:
        """Stored on the transaction (attribute `checkout`): what a resend answers and the transaction view shows."""
        return {"decision": self.decision.value, "reasons": list(self.reasons), "risk_score": self.risk_score}

    @classmethod
    def from_item(cls, transaction_id: str, item: dict[str, Any]) -> CheckoutDecision:
        return cls(
            transaction_id,
            Decision(item["decision"]),
            tuple(item.get("reasons") or ()),
            Decimal(item["risk_score"]),
        )


class CheckoutDecider:
    def __init__(self, state: StateRepository, engine: Callable[[], RuleEngine], settings: DetectionSettings) -> None:
        self.state = state
        self.engine = engine
        self.settings = settings

    def decide(self, transactions: list[Transaction]) -> dict[str, CheckoutDecision]:
        if not transactions:
            return {}
        engine = self.engine()
        _, histories, _ = self.state.get_customers_and_entities([], keys_of(transactions))
        decisions = {}
        for tx in transactions:
            data = DetectionInput(tx, CustomerHistory(), {}, {}, (), histories)
            findings = [f for f in (detect(data, self.settings) for detect in INGEST_DETECTORS) if f is not None]
            base = assess(findings, self.settings, signals=risk_signals(data, self.settings, None)).risk_score
            verdict = engine.evaluate(facts_for(tx, data.views, failed_statuses=self.settings.failed_statuses))
            risk = min(Decimal(MAX_SCORE), base + verdict.score_added).quantize(_PLACES)
            decisions[tx.transaction_id] = CheckoutDecision(tx.transaction_id, verdict.decision, verdict.reasons, risk)
        return decisions
