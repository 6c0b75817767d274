"""The local API Gateway's routing and the scheduler's rate expressions."""

from __future__ import annotations

import pytest

from infra.local.api_gateway import Route, _compile, routes_from_template
from infra.local.scheduler import parse_rate
from tests.conftest import TEMPLATE


def test_routes_come_from_the_templates_api_events_with_their_key_and_authorizer_rules():
    routes = {
        (r.method, r.path): (r.function, r.api_key_required, r.authorizer) for r in routes_from_template(TEMPLATE)
    }
    assert routes.pop(("POST", "/transactions")) == ("IngestFunction", True, None)
    for shop_route in (
        ("POST", "/transactions/{transaction_id}/label"),
        ("PUT", "/products/{sku}"),
        ("POST", "/products"),
    ):
        assert routes.pop(shop_route) == ("ApiFunction", True, None)
    for open_route in (("GET", "/"), ("GET", "/health"), ("GET", "/openapi.json"), ("POST", "/auth/login")):
        assert routes.pop(open_route) == ("ApiFunction", False, None)
    assert ("PATCH", "/alerts/{alert_id}") in routes and ("GET", "/stats/minutes") in routes
    assert set(routes.values()) == {("ApiFunction", False, "ShopwatchUsers")}


def test_a_literal_path_wins_over_a_parameter_as_in_api_gateway():
    routes = routes_from_template(TEMPLATE)
    found = next(r for r in routes if r.method == "GET" and r.match("/customers/c1/anomalies") is not None)
    assert found.path == "/customers/{customer_id}/anomalies"
    assert next(r for r in routes if r.method == "GET" and r.match("/") is not None).path == "/"


def test_path_parameters_and_greedy_proxies_match_like_api_gateway():
    alert = Route("GET", "/alerts/{id}", "ApiFunction", True, _compile("/alerts/{id}"))
    assert alert.match("/alerts/al_1") == {"id": "al_1"}
    assert alert.match("/alerts/al_1/notes") is None
    proxy = Route("GET", "/{proxy+}", "ApiFunction", False, _compile("/{proxy+}"))
    assert proxy.match("/a/b/c") == {"proxy": "a/b/c"}


@pytest.mark.parametrize(
    ("sent", "decoded"),
    [("Zo%C3%AB%20Doe", "Zoë Doe"), ("a%20b", "a b"), ("x%2Fy", "x/y"), ("guest%231", "guest#1"), ("a+b", "a+b")],
)
def test_path_parameters_are_decoded_as_api_gateway_hands_them_to_lambda(sent, decoded):
    customer = Route("GET", "/customers/{id}/anomalies", "ApiFunction", True, _compile("/customers/{id}/anomalies"))
    assert customer.match(f"/customers/{sent}/anomalies") == {"id": decoded}


@pytest.mark.parametrize(
    ("expression", "seconds"),
    [("rate(1 minute)", 60), ("rate(5 minutes)", 300), ("rate(1 hour)", 3600), ("rate(2 days)", 172800)],
)
def test_rate_expressions(expression, seconds):
    assert parse_rate(expression) == seconds


def test_cron_expressions_are_refused_plainly():
    with pytest.raises(ValueError, match="rate"):
        parse_rate("cron(0 12 * * ? *)")
