"""GET /transactions/{id} as an analyst opens it (breakdown, alerts, entities) and GET /entities/{kind}/{value}
on moto, with state made by the real pipeline: a ring of three accounts sharing one device."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from urllib.parse import quote

import pytest

from shopwatch.domain.clock import to_iso, utcnow
from tests.conftest import Stack
from tests.integration.api_requests import ApiClient

HOSTILE_DEVICE = '<img src=x onerror="alert(1)">ring-phone'


@pytest.fixture
def api(stack: Stack) -> ApiClient:
    return ApiClient(stack.handler("ApiFunction"))


def ring_purchases() -> list[dict]:
    """Three young accounts on one device, each with its own card and e-mail, one IP between two of them."""
    start = utcnow() - timedelta(minutes=20)
    return [
        {
            "transaction_id": f"ring-{n}",
            "customer_id": f"acct-{n}",
            "customer_name": f"Ring Member {n}",
            "timestamp": to_iso(start + timedelta(minutes=n)),
            "account_created_at": to_iso(start - timedelta(hours=2)),
            "currency": "USD",
            "country": "GB",
            "billing_country": "GB",
            "shipping_country": "NL",
            "email": f"Member{n}@Example.com",
            "ip": "198.51.100.7" if n < 2 else "198.51.100.9",
            "device_id": HOSTILE_DEVICE,
            "card_bin": "411111",
            "card_fingerprint": f"fp-{n}",
            "payment_method": "card",
            "channel": "web",
            "user_agent": "Mozilla/5.0 (X11; Linux x86_64)",
            "items": [{"sku": "GIFT-100", "name": "Gift card", "quantity": 2, "unit_price": "100.00"}],
        }
        for n in range(3)
    ]


@pytest.fixture
def ring(stack: Stack) -> None:
    pipeline = stack.pipeline(MODEL_ARTIFACT="off")
    assert pipeline.post({"transactions": ring_purchases()})["status"] == 202
    pipeline.drain()


def test_a_transaction_shows_its_breakdown_alerts_and_entities(api, ring):
    status, body = api("GET", "/transactions/ring-2")
    assert status == 200
    detection = body["detection"]
    assert detection["processed"] is True and detection["risk_score"] > 0
    parts = detection["breakdown"]
    assert parts and sum(Decimal(str(p["points"])) for p in parts) == Decimal(str(detection["risk_score"]))
    assert {p["name"] for p in parts if p["kind"] == "finding"} <= {s["detector"] for s in detection["scores"]}
    assert [a["alert_id"] for a in body["alerts"]] == detection["alert_ids"]
    assert {(e["kind"], e["value"]) for e in body["entities"]} == {
        ("customer", "acct-2"),
        ("email", "member2@example.com"),
        ("device", HOSTILE_DEVICE),
        ("ip", "198.51.100.9"),
        ("card", "fp-2"),
    }
    assert body["account_age_seconds"] == 2 * 3600 + 2 * 60


def test_a_device_shared_by_a_ring_names_its_accounts_and_draws_them(api, ring):
    status, body = api("GET", f"/entities/device/{quote(HOSTILE_DEVICE, safe='')}")
    assert status == 200
    assert body["value"] == HOSTILE_DEVICE and body["transactions"] == 3
    assert body["linked"] == [{"kind": "customer", "values": ["acct-0", "acct-1", "acct-2"], "at_least": False}]
    nodes = [(n["kind"], n["value"]) for n in body["graph"]["nodes"]]
    assert nodes[0] == ("device", HOSTILE_DEVICE)
    assert {("customer", f"acct-{n}") for n in range(3)} <= set(nodes)
    assert ("ip", "198.51.100.7") in nodes and ("card", "fp-0") in nodes  # what the ring's accounts use besides
    device_edges = {tuple(e) for e in body["graph"]["edges"] if 0 in e}
    assert len(device_edges) == 3 and body["graph"]["omitted"] == 0
    assert [t["transaction_id"] for t in body["recent_transactions"]] == ["ring-2", "ring-1", "ring-0"]
    assert body["list_targets"] == [{"list_kind": "device", "value": HOSTILE_DEVICE}]
    assert {a["alert_id"] for a in body["alerts"]} >= set(
        api("GET", "/transactions/ring-2")[1]["detection"]["alert_ids"]
    )


def test_an_account_links_to_its_device_card_ip_and_email(api, ring):
    status, body = api("GET", "/entities/customer/acct-1")
    assert status == 200
    linked = {g["kind"]: g["values"] for g in body["linked"]}
    assert linked == {
        "email": ["member1@example.com"],
        "device": [HOSTILE_DEVICE],
        "ip": ["198.51.100.7"],
        "card": ["fp-1"],
    }
    assert [t["transaction_id"] for t in body["recent_transactions"]] == ["ring-1"]
    nodes = {(n["kind"], n["value"]) for n in body["graph"]["nodes"]}
    assert ("customer", "acct-0") in nodes and ("customer", "acct-2") in nodes  # through the shared device


def test_an_email_is_found_in_any_case_and_an_ip_by_its_accounts(api, ring):
    status, body = api("GET", "/entities/email/MEMBER0%40example.COM")
    assert status == 200 and body["value"] == "member0@example.com"
    ip = api("GET", "/entities/ip/198.51.100.7")[1]
    assert ip["linked"][0]["values"] == ["acct-0", "acct-1"]
    assert [t["transaction_id"] for t in ip["recent_transactions"]] == ["ring-1", "ring-0"]


def test_a_card_without_fingerprint_is_keyed_by_bin_and_account(stack, api):
    pipeline = stack.pipeline(MODEL_ARTIFACT="off")
    tx = {"transaction_id": "bin-1", "customer_id": "c/9", "amount": "5.00", "card_bin": "52000000"}
    assert pipeline.post(tx)["status"] == 202
    pipeline.drain()
    status, body = api("GET", "/entities/card/" + quote("52000000/c/9", safe=""))
    assert status == 200 and body["value"] == "52000000/c/9"
    assert body["list_targets"] == [{"list_kind": "card_bin", "value": "52000000"}]
    assert [t["transaction_id"] for t in body["recent_transactions"]] == ["bin-1"]


def test_an_unknown_entity_is_a_404_and_a_bad_kind_or_value_a_400(api, ring):
    status, body = api("GET", "/entities/device/never-seen")
    assert status == 404 and body["error"]["code"] == "not_found"
    status, body = api("GET", "/entities/network/198.51.100.0")
    assert status == 400 and body["error"]["code"] == "validation_failed"
    assert api("GET", "/entities/device/a%0Ab")[0] == 400
    assert api("GET", "/entities/email/" + "a" * 300)[0] == 400


def test_an_entity_needs_a_signed_in_person(stack, api, ring):
    assert ApiClient(stack.handler("ApiFunction"), None)("GET", "/entities/customer/acct-1")[0] in (401, 403)
