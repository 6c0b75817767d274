"""ApiFunction's customer routes on moto, over transactions that went through the real pipeline: the list
(most recently active first, paged), one customer's profile with alerts and transactions, and seed 001's
per-metric anomaly view with chart data and drill-down rows."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest

from shopwatch.domain.clock import to_iso, utcnow
from tests.conftest import Stack
from tests.integration.api_requests import ApiClient


def purchase(tid: str, customer: str, minutes_ago: int, amount: str, country: str = "GB", quantity: int = 1) -> dict:
    return {
        "transaction_id": tid,
        "customer_id": customer,
        "customer_name": f"Customer {customer}",
        "timestamp": to_iso(utcnow() - timedelta(minutes=minutes_ago)),
        "amount": amount,
        "country": country,
        "items": [{"sku": "MUG", "quantity": quantity, "unit_price": amount}] if quantity == 1 else None,
    }


@pytest.fixture
def shop(stack: Stack) -> ApiClient:
    """Three customers; `dana` buys 20 mugs at about 10.00 from GB, then one for 900.00 from Brazil."""
    pipeline = stack.pipeline(MODEL_ARTIFACT="off")
    history = [purchase(f"d{i}", "dana", 200 - i * 5, f"{10 + i % 3}.00") for i in range(20)]
    odd = purchase("d-odd", "dana", 1, "900.00", country="BR")
    others = [purchase("a1", "ari", 30, "15.00"), purchase("b1", "bo", 10, "12.00")]
    body = {"transactions": [{k: v for k, v in t.items() if v is not None} for t in [*history, *others, odd]]}
    assert pipeline.post(body)["status"] == 202
    pipeline.drain()
    return ApiClient(stack.handler("ApiFunction"))


def test_customers_are_listed_most_recently_active_first_in_pages(shop):
    status, page = shop("GET", "/customers", limit="2")
    assert status == 200 and [c["customer_id"] for c in page["customers"]] == ["dana", "bo"]
    rest = shop("GET", "/customers", limit="2", next_token=page["next_token"])[1]
    assert [c["customer_id"] for c in rest["customers"]] == ["ari"] and rest["next_token"] is None
    dana = page["customers"][0]
    assert dana["transactions"] == 21 and dana["countries"] == ["BR", "GB"] and dana["customer_name"] == "Customer dana"
    for query in ({"limit": "0"}, {"limit": "500"}, {"next_token": "eyJ2IjoxfQ"}):
        assert shop("GET", "/customers", **query)[0] == 400


def test_a_customer_shows_profile_recent_alerts_and_transactions(shop):
    status, body = shop("GET", "/customers/dana")
    assert status == 200
    assert body["profile"]["transactions"] == 21 and body["profile"]["failed"] == 0
    assert body["recent_transactions"][0]["transaction_id"] == "d-odd" and len(body["recent_transactions"]) == 20
    assert {a["detector"] for a in body["recent_alerts"]} >= {"geo"}
    assert all(a["customer_id"] == "dana" for a in body["recent_alerts"])
    assert shop("GET", "/customers/nobody")[0] == 404


def test_the_amount_view_flags_the_odd_purchase_with_chart_data_and_rows(shop):
    status, view = shop("GET", "/customers/dana/anomalies", metric="amount")
    assert status == 200 and view["metric"] == "amount"
    chart = view["chart_data"]
    assert len(chart["value"]) == len(chart["timestamp"]) == len(view["drill_down"]) == 21
    assert chart["transaction_id"][-1] == "d-odd" and chart["value"][-1] == "900.00"
    assert [r["transaction_id"] for r in view["anomaly_list"]] == ["d-odd"]
    assert view["anomaly_list"][0]["z_score"] > 3 and view["baseline"]["transactions"] == 21


def test_the_country_view_flags_the_purchase_from_an_unusual_country(shop):
    view = shop("GET", "/customers/dana/anomalies", metric="country")[1]
    assert [r["transaction_id"] for r in view["anomaly_list"]] == ["d-odd"]
    assert view["anomaly_list"][0]["alert_ids"], "the geo alert covers it"


def test_the_frequency_and_quantity_views_answer_for_every_row(shop):
    for metric in ("frequency", "quantity"):
        view = shop("GET", "/customers/dana/anomalies", metric=metric)[1]
        assert len(view["drill_down"]) == 21 and all(r["metric_value"].isdigit() for r in view["drill_down"])


def test_an_unknown_metric_or_customer_is_refused(shop):
    assert shop("GET", "/customers/dana/anomalies", metric="astrology")[0] == 400
    assert shop("GET", "/customers/nobody/anomalies", metric="amount")[0] == 404


@pytest.mark.parametrize("customer", ["Zoë Doe", "a b", "x/y", "guest#1", "plus+sign"])
def test_every_customer_id_ingest_accepts_is_readable_through_its_encoded_path(stack: Stack, customer):
    pipeline = stack.pipeline(MODEL_ARTIFACT="off")
    assert pipeline.post(purchase("odd-id-1", customer, 5, "12.00"))["body"]["accepted"] == ["odd-id-1"]
    pipeline.drain()
    api = ApiClient(stack.handler("ApiFunction"))
    segment = quote(customer, safe="")  # what the dashboard's encodeURIComponent sends
    status, detail = api("GET", f"/customers/{segment}")
    assert status == 200 and detail["profile"]["customer_id"] == customer
    status, view = api("GET", f"/customers/{segment}/anomalies", metric="amount")
    assert status == 200 and view["customer_id"] == customer and len(view["drill_down"]) == 1
    status, found = api("GET", "/transactions/odd-id-1")
    assert status == 200 and found["transaction"]["customer_id"] == customer
