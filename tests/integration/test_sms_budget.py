"""The SMS budget on moto: at most one SMS per period per recipient through the template's own SMS filter,
the alerts held back meanwhile by e-mail only and summarised in the next SMS, and no retry sending twice."""

from __future__ import annotations

import copy
import sys
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from infra.local.resources import subscription_filter_policies
from shopwatch.domain.alert import open_alert
from shopwatch.domain.clock import utcnow
from shopwatch.domain.severity import Severity
from shopwatch.storage.sms_budget import SmsBudget
from tests.builders import T0, tx
from tests.conftest import TEMPLATE
from tests.integration.test_notify_handler import finding, record

PERIOD = 3600


@pytest.fixture
def inboxes(stack):
    policies = subscription_filter_policies(TEMPLATE)
    return {
        "email": stack.subscribe_queue("email-inbox", policies["AlertEmailSubscription"]["filter_policy"]),
        "sms": stack.subscribe_queue("sms-inbox", policies["AlertSmsSubscription"]["filter_policy"]),
    }


@pytest.fixture
def notify(stack):
    return stack.handler("NotifyFunction", SMS_PERIOD_SECONDS=str(PERIOD), SMS_RECIPIENT="+15555550100")


@pytest.fixture
def clock(notify):
    """The notify service's clock, moved by the test."""
    service = sys.modules["shopwatch_fn_notify_app"].service
    now = {"at": utcnow()}
    service.clock = lambda: now["at"]
    return now


@pytest.fixture
def sms_texts(stack, notify, inboxes, monkeypatch):
    """The SMS texts the SMS subscription received: its inbox (the template's filter) gives which messages,
    the published structure gives each one's SMS body."""
    topic = sys.modules["shopwatch_fn_notify_app"].service.topic
    published: dict[str, str] = {}
    real_publish = topic.publish

    def publish(message):
        message_id = real_publish(message)
        published[message_id] = message.sms
        return message_id

    monkeypatch.setattr(topic, "publish", publish)
    return lambda: [published[m["MessageId"]] for m in stack.drain(inboxes["sms"])]


def critical(customer: str, detector: str = "velocity"):
    said = replace(finding(Severity.CRITICAL, detector), description=f"customer {customer} made 6 transactions")
    return open_alert(said, Severity.CRITICAL, Decimal("95"), tx("t1", customer), 3600, T0)


def test_one_sms_per_period_and_every_alert_by_email(stack, notify, clock, inboxes, sms_texts):
    alerts = [critical("c1"), critical("c2"), critical("c3", "price")]
    notify({"Records": [record(a, sequence=n) for n, a in enumerate(alerts, start=1)]})
    assert len(stack.drain(inboxes["email"])) == 3
    (sms,) = sms_texts()
    assert "customer c1" in sms


def test_the_next_sms_after_the_period_summarises_what_was_held_back(stack, notify, clock, inboxes, sms_texts):
    alerts = [critical("c1"), critical("c2"), critical("c3", "price"), critical("c4", "geo")]
    notify({"Records": [record(a, sequence=n) for n, a in enumerate(alerts, start=1)]})
    sms_texts()
    clock["at"] += timedelta(seconds=PERIOD + 1)
    notify({"Records": [record(critical("c5"), sequence=5)]})
    (sms,) = sms_texts()
    assert "customer c5" in sms and sms.endswith(" (+3 held: 1 geo, 1 price, 1 velocity)")
    assert len(sms) <= 140
    clock["at"] += timedelta(seconds=PERIOD + 1)
    notify({"Records": [record(critical("c6"), sequence=6)]})
    (sms,) = sms_texts()
    assert "held" not in sms  # the summary was told once


def test_a_retried_held_record_is_held_once(stack, notify, clock, inboxes, sms_texts):
    first, held = record(critical("c1"), sequence=1), record(critical("c2"), sequence=2)
    notify({"Records": [first, held]})
    budget = SmsBudget(stack.table("StateTable"))
    # the held record redelivered (its mark failed, say): adding to the held set changes nothing
    entry = f"velocity#{critical('c2').alert_id}#{Severity.CRITICAL.rank}"
    event_key = f"{critical('c2').alert_id}#{Severity.CRITICAL.rank}"
    assert not budget.take_turn("+15555550100", entry, event_key, clock["at"], timedelta(seconds=PERIOD)).granted
    clock["at"] += timedelta(seconds=PERIOD + 1)
    notify({"Records": [record(critical("c3"), sequence=3)]})
    messages = sms_texts()
    assert len(messages) == 2 and messages[1].endswith(" (+1 held: 1 velocity)")


def test_a_failed_publish_is_retried_as_the_same_sms_with_the_same_summary(
    stack, notify, clock, inboxes, sms_texts, monkeypatch
):
    notify({"Records": [record(critical("c1"), sequence=1), record(critical("c2"), sequence=2)]})
    sms_texts()
    clock["at"] += timedelta(seconds=PERIOD + 1)
    topic = sys.modules["shopwatch_fn_notify_app"].service.topic
    real_publish = topic.publish
    monkeypatch.setattr(topic, "publish", lambda message: (_ for _ in ()).throw(RuntimeError("SNS unavailable")))
    event = {"Records": [record(critical("c3"), sequence=3), record(critical("c4"), sequence=4)]}
    with pytest.raises(BatchProcessingError):  # every record failed: the batch fails whole
        notify(copy.deepcopy(event))
    monkeypatch.setattr(topic, "publish", real_publish)
    assert notify(copy.deepcopy(event)) == {"batchItemFailures": []}
    assert notify(copy.deepcopy(event)) == {"batchItemFailures": []}
    (sms,) = sms_texts()
    assert "customer c3" in sms and sms.endswith(" (+1 held: 1 velocity)")
    assert len(stack.drain(inboxes["email"])) == 4  # c1, c2, then c3 and c4 once each


def test_two_events_racing_for_one_period_cannot_both_send(stack, clock, monkeypatch):
    """The second reads the budget before the first writes it: its conditional write is refused, it reads
    again and finds the period taken."""
    from shopwatch.storage import sms_budget

    budget, period = SmsBudget(stack.table("StateTable")), timedelta(seconds=PERIOD)
    dynamodb = sms_budget.client("dynamodb")
    real_get = dynamodb.get_item
    before_the_first = real_get(TableName=stack.table("StateTable"), Key=budget._key("r"), ConsistentRead=True)
    assert budget.take_turn("r", "velocity#a#4", "a#4", clock["at"], period).granted
    reads = []

    def first_read_stale(**kwargs):
        reads.append(kwargs)
        return before_the_first if len(reads) == 1 else real_get(**kwargs)

    monkeypatch.setattr(dynamodb, "get_item", first_read_stale)
    turn = budget.take_turn("r", "price#b#4", "b#4", clock["at"], period)
    assert not turn.granted and len(reads) == 2
