"""Catalog writes by the two kinds of caller, through the local gateway's auth (as API Gateway applies it) to the
real ApiFunction: the shop's systems with the API key on /products, a signed-in admin with a token on
/admin/products, and each change recorded under the caller API Gateway authenticated.

Why two routes: a REST API method takes the API key or the Cognito authorizer, never "either", and a Lambda
authorizer that took both would move token verification and the usage plan's key into our code."""

from __future__ import annotations

import json
import time

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from infra.local.api_gateway import ApiGateway, routes_from_template
from infra.local.cognito_authorizer import CognitoAuthorizer
from shopwatch.storage.catalog import CatalogRepository
from tests.conftest import TEMPLATE

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_pool"
SIGNING_KEY = RSAKey.generate_key(2048, parameters={"kid": "pool-key"})
API_KEY = "shop-key"  # pragma: allowlist secret


def token(user: str, *groups: str) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": "client-1", "token_use": "id", "cognito:username": user, "sub": f"s-{user}",
              "cognito:groups": list(groups), "iat": now, "auth_time": now, "exp": now + 3600}  # fmt: skip
    return jwt.encode({"alg": "RS256", "kid": "pool-key"}, claims, SIGNING_KEY)


class Function:
    def __init__(self, handler) -> None:
        self.handler = handler

    def invoke(self, event):
        return self.handler(event)


@pytest.fixture
def call(stack):
    keys = KeySet([RSAKey.import_key(SIGNING_KEY.as_dict(private=False))])
    gateway = ApiGateway(
        routes_from_template(TEMPLATE),
        {"ApiFunction": Function(stack.handler("ApiFunction"))},
        API_KEY,
        authorizers={"ShopwatchUsers": CognitoAuthorizer(ISSUER, ["client-1"], lambda: keys)},
    )

    def send(method: str, path: str, body: dict, *, key: str | None = None, bearer: str | None = None):
        headers = {"content-type": ["application/json"]}
        if key is not None:
            headers["x-api-key"] = [key]
        if bearer is not None:
            headers["authorization"] = [f"Bearer {bearer}"]
        status, _, raw = gateway.handle(method, path, headers, json.dumps(body).encode(), "203.0.113.9")
        return status, json.loads(raw)

    return send


def test_an_admin_writes_the_catalog_with_a_token_and_is_recorded_as_the_one_who_did(call, stack):
    status, body = call(
        "PUT", "/admin/products/LAMP", {"price": "40.00", "name": "Lamp"}, bearer=token("ada", "admins")
    )
    assert status == 200 and body["changed_by"] == "ada" and body["price"] == "40.00"
    status, body = call(
        "POST", "/admin/products", {"products": [{"sku": "VASE", "price": 9}]}, bearer=token("ada", "admins")
    )
    assert (status, body) == (200, {"stored": 1})
    record = CatalogRepository(stack.table("StateTable")).get("VASE")
    assert record is not None and record.changed_by == "ada" and record.changed_at is not None


def test_the_shop_keeps_writing_the_catalog_with_its_key_and_is_recorded_as_the_shop(call, stack):
    status, body = call("PUT", "/products/LAMP", {"price": "41.00"}, key=API_KEY)
    assert status == 200 and body["changed_by"] == "shop"
    assert call("POST", "/products", {"products": [{"sku": "VASE", "price": 9}]}, key=API_KEY)[0] == 200
    assert CatalogRepository(stack.table("StateTable")).get("VASE").changed_by == "shop"


def test_an_analyst_may_not_write_the_catalog(call, stack):
    analyst = token("maria", "analysts")
    status, body = call("PUT", "/admin/products/LAMP", {"price": "1.00"}, bearer=analyst)
    assert status == 403 and body["error"]["code"] == "forbidden" and "admins" in body["error"]["message"]
    assert call("POST", "/admin/products", {"products": [{"sku": "LAMP", "price": 1}]}, bearer=analyst)[0] == 403
    assert CatalogRepository(stack.table("StateTable")).get("LAMP") is None


def test_each_route_takes_only_its_own_credential(call, stack):
    admin = token("ada", "admins")
    # the key on the admin route: the Cognito authorizer finds no token (401), the function never runs
    assert call("PUT", "/admin/products/LAMP", {"price": "1.00"}, key=API_KEY) == (401, {"message": "Unauthorized"})
    # a token on the shop's route: API Gateway wants the key there and answers as it does without one (403)
    assert call("PUT", "/products/LAMP", {"price": "1.00"}, bearer=admin) == (403, {"message": "Forbidden"})
    assert call("POST", "/products", {"products": [{"sku": "LAMP", "price": 1}]}, bearer=admin)[0] == 403
    assert CatalogRepository(stack.table("StateTable")).get("LAMP") is None


def test_the_handler_refuses_the_key_on_an_admin_route_even_if_the_gateway_let_it_through(stack):
    """The second lock: an event with only the shop's key on /admin/ (a misconfigured gateway) is a 401."""
    from tests.integration.api_requests import api_event

    event = api_event("PUT", "/admin/products/LAMP", {"price": "1.00"}, user=None)
    event["requestContext"]["identity"]["apiKeyId"] = "key-id"  # pragma: allowlist secret
    response = stack.handler("ApiFunction")(event)
    assert response["statusCode"] == 401
