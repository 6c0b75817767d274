"""DigestFunction on moto: the previous UTC day's alerts by detector and severity, the busiest customers, what
is still open after a day and precision from feedback, in one e-mail through DigestTopic, once per day; the
overview is the model's when it answers and the template's otherwise."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from datetime import date

import pytest

from shopwatch.analytics.service import AnalyticsService
from shopwatch.digest.service import DigestService, digest_message, template_overview
from shopwatch.domain.clock import parse_rfc3339
from shopwatch.storage.alert_topic import AlertTopic
from shopwatch.storage.alerts import AlertRepository
from shopwatch.storage.buckets import BucketRepository
from shopwatch.storage.labels import LabelRepository
from shopwatch.storage.notifications import NotificationLedger
from tests.builders import stored_alert
from tests.conftest import Stack, load_event
from tests.integration.fake_openai import FakeOpenAI

KEY_NAME = "/shopwatch/openai-api-key"


@pytest.fixture
def inbox(stack: Stack) -> str:
    return stack.subscribe_queue("digest", None, topic="DigestTopic")


@pytest.fixture
def day_of_alerts(stack: Stack) -> None:
    """On 2025-09-16 (the sample event's previous day): price ×3 for Ann (one confirmed), velocity ×1 for Bo
    (dismissed); an open geo alert from the 14th; and one alert on the 17th that belongs to the next digest."""
    alerts = AlertRepository(stack.table("AlertsTable"))
    rows = [
        ("ann", 0, "price", "critical", "confirmed_fraud", "fraud"),
        ("ann", 61, "price", "high", "open", None),
        ("ann", 122, "price", "medium", "open", None),
        ("bo", 30, "velocity", "high", "false_positive", "legitimate"),
        ("cy", -2 * 24 * 60, "geo", "medium", "open", None),
        ("dee", 24 * 60, "quantity", "low", "open", None),
    ]
    for customer, minute, detector, severity, status, label in rows:
        alert = stored_alert(customer, minute=minute, detector=detector, severity=severity, status=status)
        feedback = {"label": label, "by": "x", "at": "2025-09-16T18:00:00Z"} if label else None
        assert alerts.save(replace(alert, customer_name=f"{customer.title()} Example", feedback=feedback))


NOW = "2025-09-17T07:00:05Z"  # the schedule fired at 07:00 on the 17th


@pytest.fixture
def digest_handler(stack: Stack, monkeypatch):
    def load(**env: str):
        handler = stack.handler("DigestFunction", **env)
        monkeypatch.setattr(sys.modules["shopwatch_fn_digest_app"], "utcnow", lambda: parse_rfc3339(NOW))
        return handler

    return load


def digest(stack: Stack, inbox: str, alerts: int = 4) -> dict:
    (message,) = stack.drain(inbox)
    assert message["Subject"] == f"[Shopwatch] Daily digest for 2025-09-16: {alerts} alerts"
    return json.loads(message["Message"])


def test_the_sample_event_sends_the_previous_days_digest(stack, inbox, day_of_alerts, digest_handler):
    result = digest_handler()(load_event("digest_scheduled.json"))
    assert result["day"] == "2025-09-16" and result["alerts"] == 4 and result["message_id"]
    body = digest(stack, inbox)
    assert body["kind"] == "digest" and body["alerts_by_detector_and_severity"] == {
        "price": {"critical": 1, "high": 1, "medium": 1}, "velocity": {"high": 1}
    }  # fmt: skip
    assert body["open_for_more_than_a_day"] == 1  # cy's geo alert from the 14th
    assert body["precision_last_30_days"] == {
        "overall": 0.5, "detectors": {"geo": None, "price": 1.0, "velocity": 0.0}  # dee's is after 07:00
    }  # fmt: skip
    assert body["overview"] == (
        "On Tuesday 16 September 2025 Shopwatch raised 4 alerts (1 critical, 2 high, 1 medium); the busiest "
        "detector was price with 3. 1 alert is still open after more than a day. Analysts confirmed 50% of the "
        "alerts they reviewed in the last 30 days."
    )


def test_a_rerun_of_the_same_day_sends_nothing(stack, inbox, day_of_alerts, digest_handler):
    handler = digest_handler()
    first = handler(load_event("digest_scheduled.json"))
    second = handler(load_event("digest_scheduled.json"))
    assert first["message_id"] and second["message_id"] is None
    assert len(stack.drain(inbox)) == 1


def test_the_e_mail_lists_detectors_customers_open_cases_and_precision(stack, day_of_alerts):
    service = DigestService(
        AlertRepository(stack.table("AlertsTable")),
        AnalyticsService(
            AlertRepository(stack.table("AlertsTable")),
            BucketRepository(stack.table("StateTable")),
            LabelRepository(stack.table("StateTable")),
        ),
        NotificationLedger(stack.table("StateTable")),
        AlertTopic(stack.resources.topics["DigestTopic"]),
    )
    composed = service.compose(date(2025, 9, 16), parse_rfc3339(NOW))
    text = digest_message(replace(composed, overview=template_overview(composed)), "https://shop.example/v1").email
    assert "  - price: 3 (1 critical, 1 high, 1 medium)" in text
    assert (
        "  - Ann Example (ann): 3 alerts, highest critical" in text
        and "  - Bo Example (bo): 1 alert, highest high" in text
    )
    assert "Open for more than a day: 1" in text and "cy did something" in text
    assert "  - velocity: 0%" in text and "  - geo: not reviewed yet" in text
    assert text.endswith("Dashboard: https://shop.example/v1/")


def test_the_models_overview_replaces_the_template_and_sees_counts_only(stack, inbox, day_of_alerts, digest_handler):
    stack.session.client("ssm").put_parameter(Name=KEY_NAME, Value="sk-test", Type="SecureString")
    with FakeOpenAI() as model:
        model.text = "A busy day for price anomalies; two cases wait for a decision."
        digest_handler(OPENAI_API_KEY_PARAMETER=KEY_NAME, OPENAI_BASE_URL=model.url)(
            load_event("digest_scheduled.json")
        )
        prompt = json.dumps(model.requests[0]["body"]["messages"])
    assert digest(stack, inbox)["overview"] == model.text
    assert "Ann" not in prompt and "ann" not in prompt and "did something" not in prompt
    assert '\\"alerts\\": 4' in prompt


def test_a_failing_model_leaves_the_template_overview(stack, inbox, day_of_alerts, digest_handler, caplog):
    stack.session.client("ssm").put_parameter(Name=KEY_NAME, Value="sk-test", Type="SecureString")
    with FakeOpenAI() as model:
        model.mode = "500"
        digest_handler(OPENAI_API_KEY_PARAMETER=KEY_NAME, OPENAI_BASE_URL=model.url)(
            load_event("digest_scheduled.json")
        )
    assert digest(stack, inbox)["overview"].startswith("On Tuesday 16 September 2025")
    assert any(str(getattr(r, "cause", "")).startswith("HTTP 500") for r in caplog.records)


def test_a_quiet_day_still_gets_a_digest(stack, inbox, digest_handler):
    digest_handler()(load_event("digest_scheduled.json"))
    body = digest(stack, inbox, alerts=0)
    assert body["alerts"] == 0 and "raised no alerts" in body["overview"]
