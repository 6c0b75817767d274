"""The ingest use case: one transaction or a batch of up to 500, each validated on its own, each stored
once (a resend is a duplicate and triggers nothing downstream)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from shopwatch.config import IngestSettings
from shopwatch.domain.clock import utcnow
from shopwatch.domain.transaction import Transaction, TransactionIn
from shopwatch.errors import InvalidBody, PayloadTooLarge, ValidationFailed
from shopwatch.ingest.body import check_content_type, parse_json
from shopwatch.ingest.decisions import CHECKOUT_ATTRIBUTE, CheckoutDecider, CheckoutDecision
from shopwatch.storage.transactions import TransactionRepository


@dataclass
class IngestResult:
    accepted: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)  # one per accepted and duplicate transaction

    def body(self) -> dict[str, Any]:
        body = {"accepted": self.accepted, "duplicates": self.duplicates, "rejected": self.rejected}
        return body | {"decisions": self.decisions} if self.decisions else body

    def raise_if_all_rejected(self) -> None:
        """400 when nothing was accepted and nothing was a duplicate: the client must fix every item.
        (A resent batch of duplicates is a success: retries must not look like failures.)"""
        if self.rejected and not self.accepted and not self.duplicates:
            many = len(self.rejected) > 1
            raise ValidationFailed(
                "no transaction was accepted" if many else "the transaction was rejected", {"rejected": self.rejected}
            )


def field_errors(error: ValidationError) -> list[dict[str, str]]:
    """Pydantic's errors as {"field": "items.0.quantity", "message": "..."} a client can act on."""
    errors = []
    for e in error.errors(include_url=False, include_input=False):
        location = ".".join(str(p) for p in e["loc"]) or "(transaction)"
        message = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            message = "unknown field; see the transaction contract for the allowed fields"
        errors.append({"field": location, "message": message})
    return errors


def extract_items(document: Any, max_batch: int) -> list[Any]:
    if isinstance(document, dict) and "transactions" in document:
        if set(document) != {"transactions"}:
            raise InvalidBody('a batch is {"transactions": [...]} with no other keys')
        items = document["transactions"]
        if not isinstance(items, list):
            raise InvalidBody('"transactions" must be a list')
        if not items:
            raise InvalidBody('"transactions" is empty')
        if len(items) > max_batch:
            raise PayloadTooLarge(f"a batch holds at most {max_batch} transactions, got {len(items)}")
        return items
    if isinstance(document, dict):
        return [document]
    raise InvalidBody('body must be a transaction object or {"transactions": [...]}')


class IngestService:
    def __init__(
        self,
        repository: TransactionRepository,
        settings: IngestSettings,
        clock: Callable[[], datetime] = utcnow,
        decider: CheckoutDecider | None = None,
    ) -> None:
        self.repository = repository
        self.settings = settings
        self.clock = clock
        self.decider = decider

    def ingest(self, raw_body: bytes, content_type: str | None) -> IngestResult:
        check_content_type(content_type)
        items = extract_items(parse_json(raw_body, self.settings.max_body_bytes), self.settings.max_batch)
        now = self.clock()
        result = IngestResult()
        valid: list[Transaction] = []
        first_index: dict[str, int] = {}
        for index, raw in enumerate(items):
            tid = raw.get("transaction_id") if isinstance(raw, dict) else None
            tid = tid if isinstance(tid, str) else None
            if not isinstance(raw, dict):
                result.rejected.append(
                    {
                        "index": index,
                        "transaction_id": None,
                        "errors": [{"field": "(transaction)", "message": "must be an object"}],
                    }
                )
                continue
            try:
                parsed = TransactionIn.model_validate(
                    raw,
                    context={"now": now, "max_future_seconds": self.settings.max_future_seconds},
                )
            except ValidationError as exc:
                result.rejected.append({"index": index, "transaction_id": tid, "errors": field_errors(exc)})
                continue
            if parsed.transaction_id in first_index:
                result.rejected.append(
                    {
                        "index": index,
                        "transaction_id": parsed.transaction_id,
                        "errors": [
                            {
                                "field": "transaction_id",
                                "message": f"repeats the transaction_id of index {first_index[parsed.transaction_id]} "
                                "in this batch; only the first was considered",
                            }
                        ],
                    }
                )
                continue
            first_index[parsed.transaction_id] = index
            valid.append(
                Transaction.from_input(parsed, received_at=now, default_currency=self.settings.default_currency)
            )

        if self.decider is None:
            for tx, stored in zip(valid, self.repository.add_all_if_new(valid), strict=True):
                (result.accepted if stored else result.duplicates).append(tx.transaction_id)
            return result
        decisions = self.decider.decide(valid)
        extras = {tid: {CHECKOUT_ATTRIBUTE: d.to_item()} for tid, d in decisions.items()}
        for tx, stored in zip(valid, self.repository.add_all_if_new(valid, extras), strict=True):
            (result.accepted if stored else result.duplicates).append(tx.transaction_id)
        # a resend is answered with the decision stored the first time (the lists or rules may have moved since)
        before = self.repository.stored_attribute(result.duplicates, CHECKOUT_ATTRIBUTE)
        for tid in [*result.accepted, *result.duplicates]:
            decision = decisions[tid] if tid not in before else CheckoutDecision.from_item(tid, before[tid])
            result.decisions.append(decision.to_json())
        return result
