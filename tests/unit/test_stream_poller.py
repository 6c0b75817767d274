"""The local event source mapping's delivery rules, with a scripted function (no AWS involved)."""

from __future__ import annotations

import threading
from typing import Any

from infra.local.functions import LocalFunction
from infra.local.scheduler import Schedule, Scheduler
from infra.local.stream_poller import StreamPoller, StreamSource


def records(n: int) -> list[dict[str, Any]]:
    return [
        {
            "eventID": str(i),
            "eventName": "INSERT",
            "dynamodb": {"SequenceNumber": str(100 + i), "ApproximateCreationDateTime": 2_000_000_000},
        }
        for i in range(n)
    ]


class Sent:
    def __init__(self) -> None:
        self.messages: list[str] = []

    def send_message(self, QueueUrl: str, MessageBody: str) -> None:
        self.messages.append(MessageBody)


def poller(handler, **source: Any) -> tuple[StreamPoller, Sent]:
    sent = Sent()
    spec = {
        "function": "F",
        "event_name": "E",
        "stream_arn": "arn",
        "report_item_failures": True,
        "max_retries": 2,
        "on_failure_queue_url": "q",
    } | source
    function = LocalFunction("F", handler, 30, 128, {}, {})
    return StreamPoller(StreamSource(**spec), function, None, sent, threading.Event(), retry_base_seconds=0.0), sent


def test_a_function_error_bisects_the_batch_until_the_bad_record_is_alone():
    seen: list[list[str]] = []

    def handler(event, context):
        ids = [r["eventID"] for r in event["Records"]]
        seen.append(ids)
        if "5" in ids:
            raise RuntimeError("boom")
        return {"batchItemFailures": []}

    subject, sent = poller(handler, bisect=True)
    subject._deliver("shard", records(8))
    assert ["5"] in seen
    assert seen[:3] == [["0", "1", "2", "3", "4", "5", "6", "7"], ["0", "1", "2", "3"], ["4", "5", "6", "7"]]
    assert seen.count(["5"]) == 3  # once, then the two retries
    assert len(sent.messages) == 1 and '"batchSize": 1' in sent.messages[0]
    assert subject.stats.delivered == 7


def test_without_bisection_the_whole_batch_is_retried_then_dead_lettered():
    calls = []

    def handler(event, context):
        calls.append(len(event["Records"]))
        raise RuntimeError("always")

    subject, sent = poller(handler, bisect=False)
    subject._deliver("shard", records(3))
    assert calls == [3, 3, 3]
    assert '"condition": "RetryAttemptsExhausted"' in sent.messages[0]


def test_records_older_than_the_maximum_age_are_dead_lettered_unprocessed():
    called = []
    subject, sent = poller(lambda event, context: called.append(event) or {"batchItemFailures": []}, max_record_age=60)
    old = records(2)
    for r in old:
        r["dynamodb"]["ApproximateCreationDateTime"] = 1_000_000_000
    subject._deliver("shard", old)
    assert called == []
    assert '"condition": "RecordAgeExceeded"' in sent.messages[0]


def test_a_malformed_failure_report_counts_as_a_function_error():
    calls = []

    def handler(event, context):
        calls.append(len(event["Records"]))
        return {"batchItemFailures": [{"itemIdentifier": ""}]}

    subject, sent = poller(handler, max_retries=0)
    subject._deliver("shard", records(1))
    assert calls == [1] and len(sent.messages) == 1


def test_the_scheduler_fires_each_schedule_once_per_period_and_records_failures():
    events = []

    def tick(event, context):
        events.append(event)
        if len(events) == 2:
            raise RuntimeError("window failed")

    function = LocalFunction("W", tick, 30, 128, {}, {})
    scheduler = Scheduler([Schedule("W", "Tick", "rate(1 minute)", 60)], {"W": function}, threading.Event())
    scheduler.advance(0, 59)
    assert events == []
    scheduler.advance(59, 60)
    scheduler.advance(60, 181)  # two more boundaries: 120 and 180
    assert len(events) == 3
    assert events[0]["detail-type"] == "Scheduled Event" and events[0]["source"] == "aws.events"
    assert [f[0] for f in scheduler.failed] == ["W"]
