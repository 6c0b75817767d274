"""NotifyFunction's narratives with the real `openai` client against a local server speaking the chat
completions API: a narrative when the model answers, the template (and the alert, on time) whenever it does
not, with the key read from SSM through Powertools parameters, and nothing but the alert's facts in the prompt."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

from infra.local.outbox import topic_notifications
from shopwatch.narrative.facts import FACT_FIELDS
from shopwatch.storage.alerts import AlertRepository
from shopwatch.storage.items import to_attributes
from tests.builders import stored_alert
from tests.conftest import Stack
from tests.integration.fake_openai import FakeOpenAI

KEY_NAME = "/shopwatch/openai-api-key"
MARKERS = ("Zed Secretname", "cust-SECRET-7", "tx-SECRET-1", "note-SECRET", "zed@example.com")


@pytest.fixture
def model() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def key(stack: Stack) -> str:
    stack.session.client("ssm").put_parameter(Name=KEY_NAME, Value="sk-test-123", Type="SecureString")
    return KEY_NAME


def notifier(stack: Stack, model: FakeOpenAI, **env: str):
    settings = {
        "OPENAI_API_KEY_PARAMETER": KEY_NAME,
        "OPENAI_BASE_URL": model.url,
        "NARRATIVE_MIN_SEVERITY": "high",
        "NARRATIVE_TIMEOUT_SECONDS": "2",
    }
    return stack.handler("NotifyFunction", **(settings | env))


def alert_event(stack: Stack, severity: str = "critical", customer: str = "cust-SECRET-7") -> tuple[dict, str]:
    """A stored alert full of things the model must not see, as its INSERT stream record."""
    alert = stored_alert(customer, severity=severity, transaction_id="tx-SECRET-1")
    alert = replace(
        alert,
        customer_name="Zed Secretname",
        notes=({"at": "2025-09-16T16:00:00Z", "by": "zed@example.com", "text": "note-SECRET"},),
    )
    assert AlertRepository(stack.table("AlertsTable")).save(alert)
    record = {
        "eventID": "1",
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "Keys": {"alert_id": {"S": alert.alert_id}},
            "NewImage": to_attributes(alert.to_item()),
            "SequenceNumber": "1",
            "SizeBytes": 100,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/x/stream/2025",
    }
    return {"Records": [record]}, alert.alert_id


def sent(stack: Stack, inbox: str) -> list[dict]:
    return [json.loads(m["Message"]) for m in stack.drain(inbox)]


@pytest.fixture
def inbox(stack: Stack) -> str:
    return stack.subscribe_queue("everything", None)


def warnings(caplog) -> list[dict]:
    return [
        {"message": r.getMessage(), "cause": getattr(r, "cause", None)}
        for r in caplog.records
        if r.levelname == "WARNING" and r.name == "shopwatch"
    ]


def test_the_models_narrative_is_sent_and_stored_on_the_alert(stack, model, key, inbox):
    event, alert_id = alert_event(stack)
    assert notifier(stack, model)(event) == {"batchItemFailures": []}
    (message,) = sent(stack, inbox)
    assert message["narrative"] == model.text
    stored = AlertRepository(stack.table("AlertsTable")).get(alert_id)
    assert stored.narrative == model.text and stored.version == 2 and stored.extra["narrative_model"] == "gpt-4o-mini"
    (request,) = model.requests
    assert request["path"] == "/v1/chat/completions" and request["auth"] == "Bearer sk-test-123"
    assert request["body"]["model"] == "gpt-4o-mini" and request["body"]["max_completion_tokens"] == 160


def test_the_e_mail_carries_the_narrative(stack, model, key):
    """The e-mail body SNS delivers (the `email` key of the per-protocol message), not just the JSON default."""
    event, _ = alert_event(stack)
    notifier(stack, model)(event)
    (published,) = topic_notifications(stack.resources.topics["AlertsTopic"])
    email = json.loads(published[1])["email"]
    assert model.text in email and "Why:" in email


@pytest.mark.parametrize(
    ("mode", "attempts", "cause"),
    [
        ("429", 2, "HTTP 429"),
        ("500", 2, "HTTP 500"),
        ("malformed", 2, "malformed output"),
        ("no_choices", 2, "malformed output"),
        ("empty", 2, "empty output"),
    ],
)
def test_a_failing_model_falls_back_to_the_template_and_says_why(
    stack, model, key, inbox, caplog, mode, attempts, cause
):
    model.mode = mode
    event, alert_id = alert_event(stack)
    assert notifier(stack, model)(event) == {"batchItemFailures": []}
    (message,) = sent(stack, inbox)
    assert message.get("narrative") is None and message["summary"]
    assert AlertRepository(stack.table("AlertsTable")).get(alert_id).narrative is None
    assert len(model.requests) == attempts  # one try, one retry
    (warning,) = warnings(caplog)
    assert warning["message"] == "narrative fell back to the template" and cause in warning["cause"]


def test_a_slow_model_never_holds_the_alert_beyond_the_timeout(stack, model, key, inbox, caplog):
    model.mode, model.delay = "slow", 30.0
    event, _ = alert_event(stack)
    handler = notifier(stack, model, NARRATIVE_TIMEOUT_SECONDS="1")
    started = time.monotonic()
    assert handler(event) == {"batchItemFailures": []}
    waited = time.monotonic() - started
    (message,) = sent(stack, inbox)
    assert message.get("narrative") is None
    assert waited < 10, f"the publish waited {waited:.1f} s for a model that answers after 30 s (timeout 1 s)"
    assert "timeout" in warnings(caplog)[0]["cause"]


def test_a_missing_key_falls_back_without_calling_the_model(stack, model, inbox, caplog):
    event, _ = alert_event(stack)  # the parameter is named but was never created
    assert notifier(stack, model)(event) == {"batchItemFailures": []}
    assert len(sent(stack, inbox)) == 1 and model.requests == []
    assert warnings(caplog)[0]["cause"].startswith("missing key")


def test_without_a_configured_key_the_template_is_used_quietly(stack, model, inbox, caplog):
    event, _ = alert_event(stack)
    notifier(stack, model, OPENAI_API_KEY_PARAMETER="")(event)
    assert sent(stack, inbox)[0].get("narrative") is None and model.requests == [] and warnings(caplog) == []


def test_alerts_below_the_narrative_severity_do_not_call_the_model(stack, model, key, inbox):
    event, _ = alert_event(stack, severity="medium")
    notifier(stack, model)(event)
    assert len(sent(stack, inbox)) == 1 and model.requests == []


def test_the_daily_limit_caps_model_calls(stack, model, key, inbox, caplog):
    handler = notifier(stack, model, NARRATIVE_DAILY_LIMIT="1")
    first, _ = alert_event(stack, customer="c-1")
    second, _ = alert_event(stack, customer="c-2")
    handler(first)
    handler(second)
    narratives = [m.get("narrative") for m in sent(stack, inbox)]
    assert sorted(narratives, key=str) == sorted([model.text, None], key=str) and len(model.requests) == 1
    assert "daily limit of 1" in warnings(caplog)[0]["cause"]


def test_only_the_alerts_facts_reach_the_prompt(stack, model, key):
    event, _ = alert_event(stack)
    notifier(stack, model)(event)
    (request,) = model.requests
    prompt = json.dumps(request["body"]["messages"])
    assert not [m for m in MARKERS if m in prompt], prompt
    facts = json.loads(request["body"]["messages"][1]["content"])
    assert set(facts) <= set(FACT_FIELDS) and facts["severity"] == "critical" and facts["reasons"]


def test_the_customer_name_reaches_the_prompt_only_when_configured(stack, model, key):
    event, _ = alert_event(stack)
    notifier(stack, model, NARRATIVE_INCLUDE_CUSTOMER_NAME="true")(event)
    prompt = json.dumps(model.requests[0]["body"]["messages"])
    assert "Zed Secretname" in prompt
    assert not [m for m in ("tx-SECRET-1", "note-SECRET", "zed@example.com") if m in prompt]


def test_the_key_can_come_from_secrets_manager_as_json(stack, model, inbox):
    arn = stack.session.client("secretsmanager").create_secret(
        Name="shopwatch/openai", SecretString=json.dumps({"api_key": "sk-from-secret"})
    )["ARN"]
    event, _ = alert_event(stack)
    notifier(stack, model, OPENAI_API_KEY_PARAMETER="", OPENAI_API_KEY_SECRET=arn)(event)
    assert sent(stack, inbox)[0]["narrative"] == model.text
    assert model.requests[0]["auth"] == "Bearer sk-from-secret"


def test_a_stored_narrative_survives_the_next_occurrence(stack, model, key):
    """DetectFunction growing the alert after the narrative was written re-reads it instead of erasing it."""
    event, alert_id = alert_event(stack)
    alerts = AlertRepository(stack.table("AlertsTable"))
    before = alerts.get(alert_id)
    notifier(stack, model)(event)
    assert not alerts.save(replace(before, occurrences=2, version=before.version + 1)), "a stale write must fail"
    current = alerts.get(alert_id)
    assert alerts.save(replace(current, occurrences=2, version=current.version + 1))
    assert alerts.get(alert_id).narrative == model.text
