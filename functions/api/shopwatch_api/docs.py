"""The finishing touches on the OpenAPI document Powertools generates from ApiFunction's routes, in one
place: the responses every client meets but no route signature states.

- A response that does not match its model is a 500 (our bug), left undocumented.
- Validation errors are answered 400 in the DESIGN's error shape, not Powertools' 422, so 422 is replaced.
- 404 where a path names a resource, 409 where a change can be illegal.
- 403 and 429 come from API Gateway itself (missing key, usage plan throttling), 503 when storage is busy.
- Two kinds of caller (shopwatch.auth.routes): the shop's routes take the API key (`x-api-key`); every other
  route but the open ones takes a signed-in person's token (`Authorization: Bearer`), 401 without one.
- A query or path parameter is a string or absent, never null: the `null` branch pydantic gives an optional
  parameter is removed, so that its rules (format, pattern, length) apply to every value a client can send.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.openapi.types import (
    OpenAPIResponse,
    OpenAPIResponseContentModel,
    OpenAPIResponseContentSchema,
)
from pydantic import BaseModel

from shopwatch.auth.routes import OPEN_ROUTES, SHOP_ROUTES
from shopwatch.ingest.openapi import hoist_components

CONFLICTS = {
    ("patch", "/alerts/{alert_id}"),
    ("post", "/alerts/{alert_id}/notes"),
    ("post", "/alerts/{alert_id}/feedback"),
    ("patch", "/cases/{case_id}"),
    ("post", "/cases/{case_id}/notes"),
}
ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "details": {}},
        }
    },
}
# a documented refusal in the DESIGN's error shape, for a route's own `responses`
ERROR_CONTENT: dict[str, OpenAPIResponseContentSchema | OpenAPIResponseContentModel] = {
    "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
}
GATEWAY_SCHEMA = {"type": "object", "properties": {"message": {"type": "string"}}}


def success(model: type[BaseModel], description: str, status: int = 200) -> dict[int, OpenAPIResponse]:
    """The success entry of a route that documents other answers too (Powertools then adds no 200 of its own)."""
    return {status: {"description": description, "content": {"application/json": {"model": model}}}}


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """`{"anyOf": [X, {"type": "null"}], ...rest}` as `X` with the rest; any other schema unchanged."""
    branches = schema.get("anyOf")
    if not branches or {"type": "null"} not in branches or len(branches) != 2:
        return schema
    rest = {key: value for key, value in schema.items() if key != "anyOf"}
    kept: dict[str, Any] = next(b for b in branches if b != {"type": "null"})
    return kept | rest


def finish_document(document: dict[str, Any]) -> dict[str, Any]:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    error = {"$ref": "#/components/schemas/Error"}
    document["components"]["securitySchemes"] = {
        "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key", "description": "the shop's systems"},
        "signedIn": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "a person's Cognito ID token from POST /auth/login",
        },
    }
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            for parameter in operation.get("parameters", []):
                parameter["schema"] = _without_null(parameter["schema"])
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            responses.pop("500", None)  # a response off its model is our bug, not a documented answer
            if (method, path) in SHOP_ROUTES:
                responses["403"] = _json("missing or wrong API key (API Gateway)", GATEWAY_SCHEMA)
                responses["429"] = _json("over the usage plan's rate (API Gateway)", GATEWAY_SCHEMA)
                operation["security"] = [{"apiKey": []}]
            elif (method, path) not in OPEN_ROUTES:
                responses["401"] = _json("not signed in, or the token expired (API Gateway)", GATEWAY_SCHEMA)
                responses["403"] = _json("signed in, but not in a group that may do this", error)
                operation["security"] = [{"signedIn": []}]
            if (method, path) not in OPEN_ROUTES or "requestBody" in operation:
                responses["400"] = _json("invalid parameters or body", error)
                responses["503"] = _json("storage is busy; retry the same request", error)
            # a signed-in request carries a ~1 KB token: a long query reaches API Gateway's limit sooner
            responses["431"] = _json("request line and headers over 10,240 bytes (API Gateway)", error)
            if "requestBody" in operation:
                responses["415"] = _json("the body is not application/json", error)
            if "{" in path:
                responses["404"] = _json("no such resource", error)
            if (method, path) in CONFLICTS:
                responses["409"] = _json("not allowed in the alert's (or case's) current state", error)
    schemas.pop("HTTPValidationError", None)  # only the 422s referred to them
    schemas.pop("ValidationError", None)
    schemas.pop("ResponseValidationError", None)  # only the 500s referred to it
    hoisted: dict[str, Any] = {}
    document = hoist_components(document, hoisted)
    document["components"]["schemas"].update(hoisted)
    return document
