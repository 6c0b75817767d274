"""ApiFunction's catalog routes, /health, /openapi.json and the dashboard page, on moto."""

from __future__ import annotations

import json

import pytest

from shopwatch.auth.routes import OPEN_ROUTES, SHOP_ROUTES
from shopwatch.storage.state import StateRepository
from tests.conftest import TEMPLATE, Stack
from tests.integration.api_requests import ApiClient, api_event


@pytest.fixture
def api(stack: Stack) -> ApiClient:
    return ApiClient(stack.handler("ApiFunction"))


def test_a_product_is_stored_with_an_exact_price_and_read_back(api, stack):
    status, body = api("PUT", "/products/MUG-1", {"price": 12.35, "name": "Mug"})
    changed_at = body.pop("changed_at")
    assert status == 200 and body == {
        "sku": "MUG-1",
        "price": "12.35",
        "currency": "USD",
        "name": "Mug",
        "changed_by": "shop",
    }
    body["changed_at"] = changed_at
    assert api("GET", "/products/MUG-1") == (200, body)
    assert str(StateRepository(stack.table("StateTable")).get_catalog(["MUG-1"])["MUG-1"].price) == "12.35"
    assert api("PUT", "/products/MUG-1", {"price": "13.00", "currency": "eur"})[1]["currency"] == "EUR"


@pytest.mark.parametrize(
    "body",
    [
        {"price": 0},
        {"price": -1},
        {"price": 1.23456},
        {"price": "ten"},
        {"price": 1e13},
        {"price": 5, "currency": "XXXX"},
        {"price": 5, "colour": "red"},
        {},
        {"price": True},
    ],
)
def test_a_bad_product_is_a_400_and_stores_nothing(api, stack, body):
    status, answer = api("PUT", "/products/MUG-2", body)
    assert status == 400 and answer["error"]["code"] == "validation_failed", answer
    assert StateRepository(stack.table("StateTable")).get_catalog(["MUG-2"]) == {}


@pytest.mark.parametrize("sku", ["../../x", "..", "a/./b"])
def test_a_product_whose_sku_a_url_cannot_address_is_refused_in_bulk_loads(api, stack, sku):
    status, body = api("POST", "/products", {"products": [{"sku": sku, "price": "2.00"}]})
    assert status == 400 and "path segments" in body["error"]["details"][0]["message"]
    assert StateRepository(stack.table("StateTable")).get_catalog([sku]) == {}


def test_a_product_name_with_a_line_break_is_refused(api, stack):
    status, _ = api("PUT", "/products/MUG-3", {"price": "2.00", "name": "Mug\r\nBcc: x@evil.example"})
    assert status == 400
    assert StateRepository(stack.table("StateTable")).get_catalog(["MUG-3"]) == {}


def test_an_unknown_product_is_a_404(api):
    status, body = api("GET", "/products/NOPE")
    assert status == 404 and body["error"]["code"] == "not_found"


def test_a_bulk_load_stores_every_row_or_none(api, stack):
    rows = [{"sku": f"S{i}", "price": f"{i + 1}.50"} for i in range(60)]
    assert api("POST", "/products", {"products": rows}) == (200, {"stored": 60})
    assert len(StateRepository(stack.table("StateTable")).get_catalog([f"S{i}" for i in range(60)])) == 60
    bad = [{"sku": "T1", "price": "2.00"}, {"sku": "T2", "price": "0"}, {"sku": "T3", "price": "1.001"}]
    status, body = api("POST", "/products", {"products": bad})
    assert status == 400 and [d["field"] for d in body["error"]["details"]] == ["products.1.price"]
    assert StateRepository(stack.table("StateTable")).get_catalog(["T1", "T2", "T3"]) == {}
    twice = [{"sku": "T1", "price": "2.00"}, {"sku": "T1", "price": "3.00"}]
    assert api("POST", "/products", {"products": twice}) == (200, {"stored": 1})  # the last row, as a CSV load
    assert str(StateRepository(stack.table("StateTable")).get_catalog(["T1"])["T1"].price) == "3.00"
    for body in ({"products": []}, {"products": rows * 9}, {"items": rows}):
        assert api("POST", "/products", body)[0] == 400


@pytest.mark.parametrize(
    "raw",
    [b"{", b'{"price": NaN}', b'{"price": 1, "price": 2}', b"[" * 5000 + b"]" * 5000, b"\xff\xfe", b'"text"'],
)
def test_bodies_that_are_not_acceptable_json_are_400s(api, raw):
    status, body = api("PUT", "/products/MUG-3", raw)
    assert status == 400 and body["error"]["code"] in ("validation_failed", "invalid_body"), body


def test_a_body_of_another_media_type_is_a_415(stack):
    event = api_event("PUT", "/products/MUG-4", b"price=3", content_type="text/plain")
    response = stack.handler("ApiFunction")(event)
    assert response["statusCode"] == 415 and "application/json" in response["body"]


def test_health_answers_without_a_key(stack):
    event = api_event("GET", "/health")
    event["headers"].pop("x-api-key")
    response = stack.handler("ApiFunction")(event)
    assert response["statusCode"] == 200 and json.loads(response["body"]) == {"status": "ok"}


def test_the_page_is_one_self_contained_document_with_a_strict_policy(stack):
    response = stack.handler("ApiFunction")(api_event("GET", "/"))
    headers = {k.lower(): v[0] for k, v in response["multiValueHeaders"].items()}
    assert response["statusCode"] == 200 and headers["content-type"].startswith("text/html")
    html = response["body"]
    assert "/*SCRIPT*/" not in html and "/*STYLE*/" not in html and "<script>" in html
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "") and "https://" not in html
    policy = headers["content-security-policy"]
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy and "'unsafe-inline'" not in policy


def _documented(document: dict) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in document["paths"].items() for method in item}


def test_openapi_documents_exactly_the_templates_routes(api):
    status, document = api("GET", "/openapi.json")
    assert status == 200 and document["openapi"].startswith("3.")
    routed = set()
    for resource in TEMPLATE["Resources"].values():
        for event in resource.get("Properties", {}).get("Events", {}).values():
            if event["Type"] == "Api":
                routed.add((event["Properties"]["Method"].upper(), event["Properties"]["Path"]))
    assert _documented(document) == routed
    post = document["paths"]["/transactions"]["post"]
    assert "TransactionIn" in document["components"]["schemas"] and "202" in post["responses"]


def test_every_success_is_documented_with_a_model_of_its_fields(api):
    """Each 2xx JSON answer names a component schema that lists its fields (not a bare object), so clients
    and schemathesis check what we send. The document itself and the HTML page are the exceptions."""
    document = api("GET", "/openapi.json")[1]
    schemas = document["components"]["schemas"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if path in ("/", "/openapi.json"):
                continue
            successes = {code: r for code, r in operation["responses"].items() if code.startswith("2")}
            assert successes, (method, path)
            for code, response in successes.items():
                schema = response["content"]["application/json"]["schema"]
                name = schema["$ref"].rsplit("/", 1)[-1]
                assert schemas[name]["properties"], (method, path, code)
                assert schemas[name].get("additionalProperties") is False, (method, path, name)
    assert not any(
        code == "500" for item in document["paths"].values() for o in item.values() for code in o["responses"]
    )
    assert schemas["TransactionOut"]["properties"]["amount"]["type"] == "string"  # money is never a float


def test_a_response_off_its_model_is_our_500_not_the_clients_400(api, stack, monkeypatch, caplog):
    assert api("PUT", "/products/MUG-1", {"price": 1})[0] == 200
    module = __import__("sys").modules["shopwatch_fn_api_app"]
    product_out = module.catalog_routes.ProductOut  # the route maps the service's record with it: make it go wrong
    monkeypatch.setattr(product_out, "from_record", lambda record: {"sku": "MUG-1", "price": "1.00", "currency": "USD"})
    status, body = api("GET", "/products/MUG-1")
    assert (status, body) == (500, {"error": {"code": "internal_error", "message": "internal error"}})
    assert "response does not match its model" in caplog.text


def test_the_document_names_the_key_on_the_shops_routes_and_a_sign_in_on_the_peoples(api):
    document = api("GET", "/openapi.json")[1]
    security = {
        (method, path): [name for requirement in operation.get("security", []) for name in requirement]
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }
    assert {route for route, names in security.items() if names == ["apiKey"]} == SHOP_ROUTES
    assert {route for route, names in security.items() if not names} == OPEN_ROUTES
    assert {names[0] for route, names in security.items() if route not in SHOP_ROUTES | OPEN_ROUTES} == {"signedIn"}
    assert document["components"]["securitySchemes"]["signedIn"] | {"description": None} == {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": None
    }  # fmt: skip


@pytest.mark.parametrize(("origin", "allowed"), [("https://shop.example", True), ("https://evil.example", False)])
def test_cors_headers_answer_the_configured_origin_only(stack, origin, allowed):
    handler = stack.handler("ApiFunction", CORS_ALLOW_ORIGIN="https://shop.example")
    response = handler(api_event("GET", "/health", origin=origin))
    headers = {k.lower(): v[0] for k, v in (response.get("multiValueHeaders") or {}).items()}
    headers |= {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    assert (headers.get("access-control-allow-origin") == origin) is allowed


def test_the_cors_origin_is_a_parameter_and_the_preflight_needs_no_key():
    api = TEMPLATE["Resources"]["ShopwatchApi"]["Properties"]
    assert api["Cors"]["AllowOrigin"] == {"Fn::Sub": "'${CorsAllowOrigin}'"}
    assert api["Auth"]["AddApiKeyRequiredToCorsPreflight"] is False
    assert TEMPLATE["Parameters"]["CorsAllowOrigin"]["Default"].endswith(".invalid")  # no real site by default
