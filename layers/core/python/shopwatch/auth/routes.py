"""Which routes take which caller, as (method, resource path) pairs: what the template's Auth says to API Gateway,
written once for the code (the handler's checks, /openapi.json's security). tests/template holds the two in step.

Every route not named here is a person's route: API Gateway's Cognito authorizer guards it.
"""

from __future__ import annotations

OPEN_ROUTES = frozenset({("get", "/"), ("get", "/health"), ("get", "/openapi.json"), ("post", "/auth/login")})
SHOP_ROUTES = frozenset(
    {
        ("post", "/transactions"),
        ("post", "/transactions/{transaction_id}/label"),
        ("put", "/products/{sku}"),
        ("post", "/products"),
    }
)
