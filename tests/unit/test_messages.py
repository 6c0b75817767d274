"""Notification bodies: a full e-mail, one SMS, JSON by default, filterable attributes."""

from __future__ import annotations

import json
from decimal import Decimal

from shopwatch.detectors.findings import Finding, Reason
from shopwatch.domain.alert import add_occurrence, open_alert
from shopwatch.domain.severity import Severity
from shopwatch.domain.text import SMS_GSM7_MAX, SUBJECT_MAX
from shopwatch.notify.messages import build_message
from shopwatch.notify.sms import SmsTurn
from tests.builders import T0, item, tx

PRICE = Finding(
    "price",
    Severity.CRITICAL,
    (
        Reason(
            "price_discount",
            "Laptop sold at 500.00 INR, 99.0% below its catalog price of 50,000.00 INR",
            "500.00",
            "50000.00",
        ),
    ),
    "Transaction 921: Alice Johnson (1) bought Laptop for 500.00 INR, 99.0% below its catalog price of 50,000.00 INR",
)


def alert(**kwargs):
    return open_alert(
        PRICE,
        Severity.CRITICAL,
        Decimal("99.0"),
        tx("921", "1", customer_name="Alice Johnson", items=(item("L", 1, "500.00"),)),
        3600,
        T0,
    )


def test_the_email_tells_the_whole_story():
    message = build_message(alert(), escalated=False, dashboard_url="https://shopwatch.example")
    assert message.subject == "[Shopwatch] CRITICAL price anomaly - Alice Johnson (1)"
    assert message.email.startswith(PRICE.description + ": critical price anomaly.")
    for fact in (
        "Risk score: 99.0/100",
        "Transactions: 921",
        "99.0% below its catalog price",
        "https://shopwatch.example/#/alerts/al_",
    ):
        assert fact in message.email


def test_the_sms_fits_in_140_characters_and_keeps_the_facts_first():
    message = build_message(alert(), escalated=False)
    assert len(message.sms) <= SMS_GSM7_MAX
    assert message.sms.startswith("Shopwatch CRITICAL price anomaly: Transaction 921: Alice Johnson (1) bought Laptop")


def test_long_names_are_clipped_not_overflowed():
    long = open_alert(PRICE, Severity.CRITICAL, Decimal("99"), tx("9", "x" * 120, customer_name="N" * 200), 3600, T0)
    message = build_message(long, escalated=True)
    assert len(message.sms) <= SMS_GSM7_MAX
    assert len(message.subject) <= SUBJECT_MAX
    assert message.subject.startswith("[Shopwatch] Escalated: CRITICAL")


def test_the_default_body_is_json_with_the_alert_facts():
    grown = add_occurrence(alert(), PRICE, Severity.CRITICAL, Decimal("99"), tx("922", "1"), T0)
    body = json.loads(json.loads(build_message(grown, escalated=False).structure())["default"])
    assert body["alert_id"] == grown.alert_id
    assert body["occurrences"] == 2
    assert body["risk_score"] == "99.0"
    assert body["transaction_ids"] == ["921", "922"]


def test_attributes_carry_severity_detector_and_the_sms_budgets_verdict_for_subscription_filters():
    assert build_message(alert(), escalated=False).attributes == {
        "severity": "critical",
        "detector": "price",
        "sms": "none",
    }
    assert build_message(alert(), escalated=False, sms=SmsTurn(True)).attributes["sms"] == "send"
    assert build_message(alert(), escalated=False, sms=SmsTurn(False)).attributes["sms"] == "held"


def test_an_sms_ends_with_what_was_held_back_since_the_last_one_and_stays_short():
    held = ("velocity#a1#4", "velocity#a2#4", "price#a3#4")
    text = build_message(alert(), escalated=False, sms=SmsTurn(True, held)).sms
    assert text.endswith(" (+3 held: 2 velocity, 1 price)")
    assert len(text) <= SMS_GSM7_MAX
    assert build_message(alert(), escalated=False, sms=SmsTurn(True)).sms == build_message(alert(), escalated=False).sms


def test_the_held_summary_is_kept_whole_in_a_ucs2_sms_too():
    from shopwatch.domain.text import SMS_UCS2_MAX, sms_text

    text = sms_text("Shopwatch CRITICAL price anomaly: Zoë 😀 " + "x" * 200, " (+2 held: 2 velocity)")
    assert text.endswith(" (+2 held: 2 velocity)")
    assert len(text.encode("utf-16-le")) // 2 <= SMS_UCS2_MAX
