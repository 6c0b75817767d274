"""POST /transactions as an OpenAPI operation, from the ingest contract's own pydantic models.

IngestFunction owns the route, ApiFunction serves /openapi.json: this lets the one document describe every
route of the API without a second copy of the transaction rules.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shopwatch.config import IngestSettings
from shopwatch.domain.transaction import TransactionIn

REF = "#/components/schemas/{model}"


class TransactionBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")  # extract_items: a batch has no other keys

    # more than 500 is refused whole with the contract's 413 (too large), not a 400
    transactions: list[TransactionIn] = Field(
        min_length=1, max_length=IngestSettings.max_batch, description="more is a 413"
    )


class Rejected(BaseModel):
    model_config = ConfigDict(extra="forbid")

    index: int
    transaction_id: str | None = None
    errors: list[dict[str, Any]]


class CheckoutReason(BaseModel):
    """A rule (kind "rule": id, version, name) or a list (kind "list": name, mode) that decided."""

    model_config = ConfigDict(extra="allow")

    kind: Literal["rule", "list"]
    message: str


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    transaction_id: str
    decision: Literal["allow", "review", "block"]
    reasons: list[CheckoutReason]
    risk_score: float = Field(
        ge=0, le=100, description="from what ingest knows: fields, lists, rules, stored aggregates"
    )


class IngestResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    accepted: list[str]
    duplicates: list[str]
    rejected: list[Rejected]
    decisions: list[Decision] = Field(
        default_factory=list,
        description="one per accepted and duplicate transaction (a duplicate's is the one stored the first time)",
    )


def hoist_components(node: Any, schemas: dict[str, Any]) -> Any:
    """Schemas marked `x-component` (the long country and currency enums) published once under
    components/schemas and referred to wherever they appear."""
    if isinstance(node, list):
        return [hoist_components(item, schemas) for item in node]
    if not isinstance(node, dict):
        return node
    name = node.get("x-component")
    if name is not None:
        schemas[name] = {key: value for key, value in node.items() if key != "x-component"}
        return {"$ref": REF.format(model=name)}
    return {key: hoist_components(value, schemas) for key, value in node.items()}


def _schema(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, Any]:
    found = hoist_components(model.model_json_schema(ref_template=REF), schemas)
    schemas.update(found.pop("$defs", {}))
    schemas[model.__name__] = found
    return {"$ref": REF.format(model=model.__name__)}


# The contract's one conditional rule, for readers and generators of the schema (the model checks it in
# TransactionIn._amount_rule): a transaction states its amount, or its items from which the amount is derived.
AMOUNT_OR_ITEMS = [
    {"required": ["amount"], "properties": {"amount": {"not": {"type": "null"}}}},
    {"required": ["items"], "properties": {"items": {"type": "array"}}},
]


def add_post_transactions(document: dict[str, Any]) -> dict[str, Any]:
    """The document with POST /transactions added (its models under components/schemas)."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    error = {"$ref": REF.format(model="Error")}  # the DESIGN's error shape, added by shopwatch_api.docs.finish_document
    body = {"anyOf": [_schema(TransactionIn, schemas), _schema(TransactionBatchIn, schemas)]}
    schemas["TransactionIn"]["anyOf"] = AMOUNT_OR_ITEMS
    operation = {
        "summary": "Send one transaction or a batch of up to 500 (IngestFunction)",
        "operationId": "post_transactions",
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": body}},
        },
        "responses": {
            "202": {
                "description": "each transaction accepted, a duplicate of one accepted before, or rejected",
                "content": {"application/json": {"schema": _schema(IngestResult, schemas)}},
            },
            "400": {"description": "nothing acceptable", "content": {"application/json": {"schema": error}}},
            "413": {
                "description": "over the size limits (more than 500 transactions, or a body over 5 MB)",
                "content": {"application/json": {"schema": error}},
            },
            "415": {"description": "not application/json", "content": {"application/json": {"schema": error}}},
        },
    }
    document.setdefault("paths", {}).setdefault("/transactions", {})["post"] = operation
    return document
