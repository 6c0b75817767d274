"""NotifyFunction on moto: new and escalated alerts become SNS messages with filterable attributes, at most one
per customer + detector per quiet period, and never the same one twice when a batch is retried."""

from __future__ import annotations

import copy
import json
import sys
from datetime import timedelta
from decimal import Decimal

import pytest

from infra.local.stream_events import parse_filters, passes_filters
from shopwatch.detectors.findings import Finding, Reason
from shopwatch.domain.alert import add_occurrence, open_alert
from shopwatch.domain.severity import Severity
from shopwatch.storage.items import to_attributes
from tests.builders import T0, seconds, tx
from tests.conftest import TEMPLATE, load_event


@pytest.fixture
def inbox(stack):
    return stack.subscribe_queue("everything", None)


@pytest.fixture
def notify(stack):
    return stack.handler("NotifyFunction")


def finding(severity: Severity, detector: str = "velocity") -> Finding:
    return Finding(
        detector,
        severity,
        (Reason("rapid_transactions", "6 transactions within 60 seconds", "6", "5"),),
        "Bob made 6 transactions",
    )


def record(new, old=None, sequence: int = 1) -> dict:
    data = {
        "ApproximateCreationDateTime": 1758040266,
        "Keys": {"alert_id": {"S": new.alert_id}},
        "NewImage": to_attributes(new.to_item()),
        "SequenceNumber": str(sequence),
        "SizeBytes": 100,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if old is not None:
        data["OldImage"] = to_attributes(old.to_item())
    return {
        "eventID": f"ev{sequence}",
        "eventName": "MODIFY" if old is not None else "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": data,
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/x/stream/2025",
    }


def new_alert(customer: str = "c1", severity: Severity = Severity.HIGH, at=T0):
    return open_alert(finding(severity), severity, Decimal("70"), tx("t1", customer, at=at), 3600, T0)


def test_the_sample_insert_event_publishes_one_message(stack, notify, inbox):
    assert notify(load_event("notify_stream_insert.json")) == {"batchItemFailures": []}
    (message,) = stack.drain(inbox)
    assert message["MessageAttributes"]["severity"]["Value"] == "high"
    assert json.loads(message["Message"])["detector"] == "price"


def test_the_sample_escalation_publishes_an_escalated_message(stack, notify, inbox):
    assert notify(load_event("notify_stream_modify_escalated.json")) == {"batchItemFailures": []}
    (message,) = stack.drain(inbox)
    assert message["Subject"].startswith("[Shopwatch] Escalated: CRITICAL price anomaly")
    assert json.loads(message["Message"])["escalated"] is True


def test_a_retried_batch_sends_nothing_twice(stack, notify, inbox):
    event = load_event("notify_stream_insert.json")
    notify(copy.deepcopy(event))
    notify(copy.deepcopy(event))
    assert len(stack.drain(inbox)) == 1


def test_alerts_below_the_minimum_severity_are_stored_but_not_sent(stack, notify, inbox):
    assert notify({"Records": [record(new_alert(severity=Severity.LOW))]}) == {"batchItemFailures": []}
    assert stack.drain(inbox) == []


def test_a_new_occurrence_without_escalation_sends_nothing(stack, notify, inbox):
    first = new_alert()
    second = add_occurrence(first, finding(Severity.HIGH), Severity.HIGH, Decimal("70"), tx("t2"), T0)
    notify({"Records": [record(first, sequence=1), record(second, first, sequence=2)]})
    assert len(stack.drain(inbox)) == 1


def test_one_message_per_customer_and_detector_per_quiet_period(stack, notify, inbox):
    earlier = new_alert(at=T0)
    later = open_alert(
        finding(Severity.HIGH),
        Severity.HIGH,
        Decimal("70"),
        tx("t9", "c1", at=T0 + seconds(3600)),
        3600,
        T0 + seconds(3600),
    )
    other_customer = new_alert(customer="c2")
    assert earlier.alert_id != later.alert_id
    notify({"Records": [record(earlier, sequence=1), record(later, sequence=2), record(other_customer, sequence=3)]})
    delivered = [json.loads(m["Message"])["alert_id"] for m in stack.drain(inbox)]
    assert delivered == [earlier.alert_id, other_customer.alert_id]


def test_an_escalation_gets_through_the_quiet_period(stack, notify, inbox):
    first = new_alert()
    escalated = add_occurrence(first, finding(Severity.CRITICAL), Severity.CRITICAL, Decimal("95"), tx("t2"), T0)
    notify({"Records": [record(first, sequence=1), record(escalated, first, sequence=2)]})
    assert [m["MessageAttributes"]["severity"]["Value"] for m in stack.drain(inbox)] == ["high", "critical"]


def test_a_failed_publish_is_retried_and_then_sent_exactly_once(stack, notify, inbox, monkeypatch):
    topic = sys.modules["shopwatch_fn_notify_app"].service.topic
    real_publish = topic.publish

    def unavailable_for_c1(message):
        if "(c1)" in message.email or "customer c1" in message.email:
            raise RuntimeError("SNS unavailable")
        return real_publish(message)

    monkeypatch.setattr(topic, "publish", unavailable_for_c1)
    event = {"Records": [record(new_alert("c1"), sequence=1), record(new_alert("c2"), sequence=2)]}
    assert notify(copy.deepcopy(event)) == {"batchItemFailures": [{"itemIdentifier": "1"}]}
    assert len(stack.drain(inbox)) == 1  # c2's went out

    monkeypatch.setattr(topic, "publish", real_publish)
    assert notify(copy.deepcopy(event)) == {"batchItemFailures": []}  # Lambda redelivers from record 1
    assert notify(copy.deepcopy(event)) == {"batchItemFailures": []}
    assert [json.loads(m["Message"])["customer_id"] for m in stack.drain(inbox)] == ["c1"]


def test_a_batch_whose_every_record_fails_is_a_function_error_so_lambda_retries_it(stack, notify, monkeypatch):
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    topic = sys.modules["shopwatch_fn_notify_app"].service.topic
    monkeypatch.setattr(topic, "publish", lambda message: (_ for _ in ()).throw(RuntimeError("SNS unavailable")))
    with pytest.raises(BatchProcessingError):
        notify({"Records": [record(new_alert(), sequence=1)]})


def test_the_event_source_filter_passes_inserts_and_escalations_only():
    source = TEMPLATE["Resources"]["NotifyFunction"]["Properties"]["Events"]["AlertsStream"]["Properties"]
    patterns = parse_filters(source["FilterCriteria"])
    first = new_alert()
    more = add_occurrence(first, finding(Severity.HIGH), Severity.HIGH, Decimal("70"), tx("t2"), T0)
    escalated = add_occurrence(
        more, finding(Severity.CRITICAL), Severity.CRITICAL, Decimal("95"), tx("t3"), T0 + timedelta(seconds=1)
    )
    assert passes_filters(record(first), patterns)
    assert not passes_filters(record(more, first), patterns)
    assert passes_filters(record(escalated, more), patterns)
    assert passes_filters(load_event("notify_stream_modify_escalated.json")["Records"][0], patterns)
