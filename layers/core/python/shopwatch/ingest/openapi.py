"""POST /transactions as an OpenAPI operation, from the ingest contract's own pydantic models.

IngestFunction owns the route, ApiFunction serves /openapi.json: this lets the one document describe every
route of the API without a second copy of the transaction rules.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shopwatch.domain.transaction import TransactionIn

REF = "#/components/schemas/{model}"


class TransactionBatchIn(BaseModel):
    # no maxItems here: more than 500 is the contract's 413 (too large), not a 400 (malformed)
    transactions: list[TransactionIn] = Field(min_length=1, description="at most 500; more is a 413")


class Rejected(BaseModel):
    model_config = ConfigDict(extra="forbid")

    index: int
    transaction_id: str | None = None
    errors: list[dict[str, Any]]


class IngestResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    accepted: list[str]
    duplicates: list[str]
    rejected: list[Rejected]


def _schema(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, Any]:
    found = model.model_json_schema(ref_template=REF)
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
    error = {"$ref": REF.format(model="Error")}  # the DESIGN's error shape, added by api_docs.finish_document
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
            "413": {"description": "over the size limits", "content": {"application/json": {"schema": error}}},
            "415": {"description": "not application/json", "content": {"application/json": {"schema": error}}},
        },
    }
    document.setdefault("paths", {}).setdefault("/transactions", {})["post"] = operation
    return document
