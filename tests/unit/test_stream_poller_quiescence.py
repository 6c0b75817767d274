"""The local stack is idle only when no consumer holds or delivers a record: the fault suite's accounting reads
the tables right after `wait_until_idle`, and a batch still being written then showed a transaction's
bucket counts without its marker (lost 1, duplicated 1). Scripted streams and functions, no AWS."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from infra.local.functions import LocalFunction
from infra.local.stack import LocalStack
from infra.local.stream_poller import StreamPoller, StreamSource


class Stream:
    """One shard; get_records hands out whatever was appended since the last call."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self._read = 0
        self._lock = threading.Lock()

    def append(self, n: int, first: int = 100) -> None:
        with self._lock:
            start = len(self.records)
            self.records += [
                {
                    "eventID": str(start + i),
                    "eventName": "INSERT",
                    "dynamodb": {
                        "SequenceNumber": str(first + start + i),
                        "ApproximateCreationDateTime": 2_000_000_000,
                    },
                }
                for i in range(n)
            ]

    def describe_stream(self, StreamArn: str) -> dict[str, Any]:
        return {"StreamDescription": {"Shards": [{"ShardId": "s1"}]}}

    def get_shard_iterator(self, **_: Any) -> dict[str, Any]:
        return {"ShardIterator": "it"}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        with self._lock:
            new, self._read = self.records[self._read :], len(self.records)
        return {"Records": new, "NextShardIterator": "it"}


class Outbox:
    def collect(self) -> None:
        pass


@pytest.fixture
def stop() -> Any:
    event = threading.Event()
    yield event
    event.set()


def start_poller(name: str, stream: Stream, handler: Any, stop: threading.Event, interval: float) -> StreamPoller:
    source = StreamSource(function=name, event_name="E", stream_arn=f"arn:{name}", report_item_failures=True)
    function = LocalFunction(name, handler, 30, 128, {}, {})
    poller = StreamPoller(source, function, stream, None, stop, poll_interval=interval)
    poller.start()
    assert poller.idle.wait(10), "the poller never finished an empty poll"
    return poller


def stack_of(*pollers: StreamPoller) -> LocalStack:
    stack = LocalStack(port=0)  # never started: only its wait_until_idle, over these pollers
    stack.pollers, stack.outbox = list(pollers), Outbox()
    return stack


def test_a_batch_still_being_delivered_keeps_the_stack_from_being_idle(stop):
    entered, release, finished = threading.Event(), threading.Event(), threading.Event()

    def slow(event: dict, context: Any) -> dict:
        entered.set()
        release.wait(30)
        finished.set()
        return {"batchItemFailures": []}

    stream = Stream()
    poller = start_poller("Aggregate", stream, slow, stop, interval=0.01)
    stack = stack_of(poller)
    stream.append(3)
    assert entered.wait(10)

    assert not stack.wait_until_idle(timeout=1.0, settle=0.1), "idle while a batch was still being written"
    release.set()
    assert stack.wait_until_idle(timeout=10, settle=0.1)
    assert finished.is_set() and poller.stats.delivered == 3


def test_records_one_function_writes_for_another_are_waited_for(stop):
    """Detect writes alerts, Notify reads them: the first poller finishing is not the end."""
    downstream, delivered = Stream(), threading.Event()

    def writes_downstream(event: dict, context: Any) -> dict:
        downstream.append(len(event["Records"]), first=500)
        return {"batchItemFailures": []}

    def reads(event: dict, context: Any) -> dict:
        delivered.set()
        return {"batchItemFailures": []}

    upstream = Stream()
    first = start_poller("Detect", upstream, writes_downstream, stop, interval=0.01)
    second = start_poller("Notify", downstream, reads, stop, interval=1.0)  # it looks again only in a second
    stack = stack_of(first, second)
    upstream.append(2)

    assert stack.wait_until_idle(timeout=20, settle=0.1)
    assert delivered.is_set(), "idle before the second consumer had read what the first one wrote"
    assert second.stats.delivered == 2
