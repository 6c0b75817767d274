"""The whole per-transaction pipeline in one process: ingest handler → records read through the DynamoDB
Streams API → detect handler → alerts stream → notify handler → SNS, asserted through SQS queues subscribed
with the template's own filter policies."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest

from infra.local.resources import subscription_filter_policies
from shopwatch.detectors.history import CatalogEntry
from shopwatch.domain.clock import to_iso, utcnow
from shopwatch.storage.state import StateRepository
from tests.conftest import TEMPLATE


@pytest.fixture
def queues(stack):
    policies = subscription_filter_policies(TEMPLATE)
    return {
        "email": stack.subscribe_queue("email-inbox", policies["AlertEmailSubscription"]["filter_policy"]),
        "sms": stack.subscribe_queue("sms-inbox", policies["AlertSmsSubscription"]["filter_policy"]),
    }


@pytest.fixture
def pipeline(stack):
    StateRepository(stack.table("StateTable")).put_catalog_entry(
        CatalogEntry("LAPTOP", Decimal("50000.00"), "INR", "Laptop")
    )
    return stack.pipeline()


def minutes_ago(n: float) -> str:
    return to_iso(utcnow() - timedelta(minutes=n))


def purchase(tid: str, customer: str, price: str, *, at: str, country: str = "IN") -> dict:
    return {
        "transaction_id": tid,
        "customer_id": customer,
        "customer_name": "Alice Johnson",
        "timestamp": at,
        "currency": "INR",
        "country": country,
        "items": [{"sku": "LAPTOP", "name": "Laptop", "quantity": 1, "unit_price": price}],
    }


def test_the_template_filters_email_from_medium_and_sms_on_critical():
    policies = subscription_filter_policies(TEMPLATE)
    assert policies["AlertEmailSubscription"]["filter_policy"] == {"severity": ["medium", "high", "critical"]}
    assert policies["AlertSmsSubscription"]["filter_policy"] == {"severity": ["critical"], "sms": ["send"]}


def test_a_critical_price_anomaly_reaches_email_and_sms(stack, pipeline, queues):
    assert pipeline.post(purchase("921", "1", "500.00", at=minutes_ago(1)))["status"] == 202
    pipeline.drain()

    (alert,) = stack.scan("AlertsTable")
    assert alert["severity"] == "critical" and alert["detector"] == "price"
    (email,) = stack.drain(queues["email"])
    (sms,) = stack.drain(queues["sms"])
    for delivered in (email, sms):
        assert delivered["MessageAttributes"]["severity"]["Value"] == "critical"
        assert delivered["MessageAttributes"]["detector"]["Value"] == "price"
    assert email["Subject"] == "[Shopwatch] CRITICAL price anomaly - Alice Johnson (1)"
    assert json.loads(email["Message"])["summary"] == (
        "Transaction 921: Alice Johnson (1) bought Laptop for 500.00 INR, 99.0% below its catalog price of "
        "50,000.00 INR: critical price anomaly"
    )


def test_a_medium_alert_reaches_email_only(stack, pipeline, queues):
    home = [purchase(f"h{i}", "7", "50000.00", at=minutes_ago(50 - i)) for i in range(3)]
    assert pipeline.post({"transactions": home})["body"]["accepted"] == ["h0", "h1", "h2"]
    pipeline.drain()
    pipeline.post(purchase("abroad", "7", "50000.00", at=minutes_ago(1), country="Brazil"))
    pipeline.drain()

    (alert,) = stack.scan("AlertsTable")
    assert (alert["detector"], alert["severity"]) == ("geo", "medium")
    (email,) = stack.drain(queues["email"])
    assert email["MessageAttributes"]["severity"]["Value"] == "medium"
    assert stack.drain(queues["sms"]) == []


def test_a_normal_transaction_raises_no_alert_and_sends_nothing(stack, pipeline, queues):
    pipeline.post(purchase("ok", "1", "49999.00", at=minutes_ago(1)))
    pipeline.drain()
    assert stack.scan("AlertsTable") == []
    assert stack.drain(queues["email"]) == []


def test_a_bot_burst_is_one_alert_and_one_message(stack, pipeline, queues):
    burst = [
        {
            "transaction_id": f"bot-{i}",
            "customer_id": "17",
            "customer_name": "Quentin Fox",
            "amount": "9.99",
            "timestamp": minutes_ago(2 - i / 60),
        }
        for i in range(8)
    ]
    for start in range(0, 8, 2):  # arrives over several requests and stream batches
        pipeline.post({"transactions": burst[start : start + 2]})
        pipeline.drain()
    (alert,) = stack.scan("AlertsTable")
    assert (alert["detector"], alert["occurrences"]) == ("velocity", 4)
    assert len(stack.drain(queues["email"])) == 1


def test_a_resend_triggers_nothing_downstream(stack, pipeline, queues):
    pipeline.post(purchase("921", "1", "500.00", at=minutes_ago(1)))
    pipeline.drain()
    stack.drain(queues["email"])
    state_before, alerts_before = stack.scan("StateTable"), stack.scan("AlertsTable")

    assert pipeline.post(purchase("921", "1", "500.00", at=minutes_ago(1)))["body"]["duplicates"] == ["921"]
    pipeline.drain()
    assert stack.scan("StateTable") == state_before
    assert stack.scan("AlertsTable") == alerts_before
    assert stack.drain(queues["email"]) == []
