"""The checkout's answer in POST /transactions' 202: a decision for every accepted (and resent) transaction, from
the shop's lists and active decision rules and the stored entity aggregates; stored with the transaction, the
same on a resend, shown in its view. IngestFunction and ApiFunction on moto, rules written through the API."""

import json

import pytest

from tests.conftest import load_event
from tests.integration.api_requests import ADMIN, ApiClient

NOW_ISH = "2025-09-16T16:31:05Z"


@pytest.fixture
def functions(stack):
    return stack.handler("IngestFunction", RULES_REFRESH_SECONDS="5"), ApiClient(stack.handler("ApiFunction"), ADMIN)


def post(ingest, *transactions):
    event = load_event("ingest_post_transactions.json")
    event["body"] = json.dumps({"transactions": list(transactions)})
    response = ingest(event)
    return response["statusCode"], json.loads(response["body"])


def txn(tid, **fields):
    return {"transaction_id": tid, "customer_id": "c-1", "amount": "12.50", "timestamp": NOW_ISH} | fields


def created(api, method, path, body):
    status, answer = api(method, path, body)
    assert status in (200, 201), answer
    return answer


def decisions(body):
    return {d["transaction_id"]: d for d in body["decisions"]}


def test_without_rules_every_accepted_transaction_is_allowed_with_a_risk_score(functions):
    ingest, _ = functions
    status, body = post(ingest, txn("a"), txn("b", customer_id="c-2"))
    assert status == 202
    assert {t: (d["decision"], d["reasons"]) for t, d in decisions(body).items()} == {
        "a": ("allow", []),
        "b": ("allow", []),
    }
    assert all(0 <= d["risk_score"] <= 100 for d in body["decisions"])


def test_a_blocked_device_is_answered_block_with_the_list_that_decided(functions):
    ingest, api = functions
    created(
        api,
        "PUT",
        "/lists/stolen",
        {"kind": "device", "mode": "block", "items": [{"value": "dev-9", "reason": "takeover"}]},
    )
    _, body = post(ingest, txn("a", device_id="dev-9"), txn("b", device_id="dev-1"))
    answer = decisions(body)
    assert answer["a"]["decision"] == "block"
    assert answer["a"]["risk_score"] == 100
    assert answer["a"]["reasons"][0]["name"] == "stolen"
    assert answer["b"]["decision"] == "allow"


def test_an_active_decision_rule_reviews_and_a_shadow_one_does_not(functions):
    ingest, api = functions
    rule = {
        "name": "Big first order",
        "expression": "tx.amount > 500.0 && account.first_purchase",
        "decision": "review",
        "score": 25,
    }
    created(api, "POST", "/rules", rule | {"rule_id": "big", "mode": "active"})
    created(api, "POST", "/rules", rule | {"rule_id": "big-shadow", "mode": "shadow", "decision": "block"})
    _, body = post(ingest, txn("a", amount="900.00"), txn("b", customer_id="c-2", amount="90.00"))
    answer = decisions(body)
    assert answer["a"]["decision"] == "review"
    assert [r["id"] for r in answer["a"]["reasons"]] == ["big"]
    assert answer["b"]["decision"] == "allow"
    assert answer["a"]["risk_score"] >= 25


def test_a_resend_gets_the_decision_stored_the_first_time_even_after_the_list_changed(functions, stack):
    ingest, api = functions
    created(
        api,
        "PUT",
        "/lists/stolen",
        {"kind": "device", "mode": "block", "items": [{"value": "dev-9", "reason": "takeover"}]},
    )
    _, first = post(ingest, txn("a", device_id="dev-9"))
    assert api("DELETE", "/lists/stolen/items/dev-9")[0] == 200
    status, again = post(ingest, txn("a", device_id="dev-9"))
    assert (status, again["duplicates"]) == (202, ["a"])
    assert again["decisions"] == first["decisions"]
    (item,) = stack.scan("TransactionsTable")
    assert item["checkout"]["decision"] == "block"


def test_the_decision_is_shown_in_the_transactions_view(functions):
    ingest, api = functions
    created(
        api,
        "PUT",
        "/lists/stolen",
        {"kind": "device", "mode": "block", "items": [{"value": "dev-9", "reason": "takeover"}]},
    )
    post(ingest, txn("a", device_id="dev-9"))
    status, view = api("GET", "/transactions/a")
    assert status == 200
    assert view["checkout"]["decision"] == "block"
    assert view["checkout"]["reasons"][0]["kind"] == "list"


def test_a_rejected_transaction_gets_no_decision(functions):
    ingest, _ = functions
    _, body = post(ingest, txn("a"), txn("b", amount="-1"))
    assert [d["transaction_id"] for d in body["decisions"]] == ["a"]
    assert body["rejected"][0]["transaction_id"] == "b"
