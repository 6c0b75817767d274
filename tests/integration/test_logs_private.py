"""Logs never carry personal data: a pipeline run with e-mails, IP addresses, names and card-like numbers in the
transactions (accepted and rejected ones, alerting and not), and every line every function logged is searched
for them."""

from __future__ import annotations

import logging
import re
from decimal import Decimal

import pytest
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from shopwatch.detectors.history import CatalogEntry
from shopwatch.storage.state import StateRepository
from tests.conftest import Stack
from tests.integration.api_requests import ApiClient

EMAIL = "alice.private@example.com"
IP = "203.0.113.77"
NAME = "Alice Privatename"
CARD = "4111 1111 1111 1111"
CARD_GROUPED = re.compile(r"\b(?:\d{4}[ -]){3}\d{1,7}\b")  # 4111 1111 1111 1111, 4111-1111-...
CARD_RUN = re.compile(r"(?<!\d)\d{15,16}(?!\d)")  # 4111111111111111 (checked with Luhn below)
EMAIL_LIKE = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


def luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def card_like(text: str) -> list[str]:
    return CARD_GROUPED.findall(text) + [run for run in CARD_RUN.findall(text) if luhn(run)]


def private_batch() -> dict:
    base = {
        "customer_id": "cust-77",
        "customer_name": NAME,
        "email": EMAIL,
        "ip": IP,
        "device_id": "dev-77",
        "payment_method": "card",
        "metadata": {"note": f"paid with {CARD}"},
        "currency": "USD",
    }
    return {
        "transactions": [
            base | {"transaction_id": "p1", "items": [{"sku": "CAM", "quantity": 1, "unit_price": "999.00"}]},
            base | {"transaction_id": "p2", "items": [{"sku": "CAM", "quantity": 1, "unit_price": "9.99"}]},  # alert
            base | {"transaction_id": "p3", "email": "not an e-mail " + EMAIL, "amount": "5.00"},  # rejected
        ]
    }


@pytest.fixture
def logged(stack: Stack, caplog, capsys) -> str:
    caplog.set_level(logging.DEBUG, logger="shopwatch")  # the functions' logger, at its most talkative
    StateRepository(stack.table("StateTable")).put_catalog_entry(
        CatalogEntry("CAM", Decimal("999.00"), "USD", "Camera")
    )
    pipeline = stack.pipeline(MODEL_ARTIFACT="off", POWERTOOLS_LOG_LEVEL="DEBUG")
    answer = pipeline.post(private_batch())
    assert answer["status"] == 202 and answer["body"]["accepted"] == ["p1", "p2"]
    pipeline.drain()
    api = ApiClient(stack.handler("ApiFunction", POWERTOOLS_LOG_LEVEL="DEBUG"))
    alert_id = api("GET", "/alerts")[1]["alerts"][0]["alert_id"]
    assert api("POST", f"/alerts/{alert_id}/notes", {"text": "called"})[0] == 201
    assert api("PATCH", f"/alerts/{alert_id}", {"status": "closed"})[0] == 400
    # what a function writes to CloudWatch: its own logger at any level, anything else at WARNING and above
    # (botocore's DEBUG request dumps stay off in Lambda, as here)
    formatter = LambdaPowertoolsFormatter()  # the JSON line CloudWatch gets, with every extra field
    lines = [
        formatter.format(r) for r in caplog.records if r.name.startswith("shopwatch") or r.levelno >= logging.WARNING
    ]
    return "\n".join(lines) + "\n" + capsys.readouterr().out


def test_logs_hold_no_email_ip_name_or_card_number(logged):
    assert '"message":"anomalous transaction"' in logged and '"decision":"sent"' in logged  # the run did log
    assert EMAIL not in logged and EMAIL_LIKE.search(logged) is None
    assert IP not in logged
    assert NAME not in logged and "Privatename" not in logged
    assert CARD not in logged and card_like(logged) == []


def test_the_card_check_would_see_a_card_number():
    assert card_like(f"paid with {CARD}") and card_like("x 4111111111111111 y") and not card_like("1795368610734")
