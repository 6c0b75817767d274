"""AggregateFunction on moto: minute, hour and day buckets hold exact counts, and redelivery, retries after a
partial failure, a replay of the whole stream and late records never count a transaction twice."""

from __future__ import annotations

import copy
import json
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from botocore.exceptions import ClientError

from infra.local.stream_events import lambda_event
from shopwatch.domain.buckets import Grain
from shopwatch.domain.clock import to_iso
from shopwatch.storage.buckets import BucketRepository
from shopwatch.storage.unit_of_work import write_atomically
from tests.conftest import Stack, load_event

START = datetime(2026, 3, 31, 23, 50, tzinfo=UTC)  # the run crosses an hour, a day and a month
STATUSES = ("approved", "approved", "approved", "failed", "denied", "reversed", "pending")


def traffic(n: int = 240, minutes: int = 20) -> list[dict]:
    """`n` transactions spread over `minutes`, every status, two currencies."""
    return [
        {
            "transaction_id": f"t{i:04d}",
            "customer_id": f"c{i % 37}",
            "timestamp": to_iso(START + timedelta(seconds=i * minutes * 60 / n)),
            "status": STATUSES[i % len(STATUSES)],
            "amount": f"{(i % 50) + 1}.25",
            "currency": "EUR" if i % 5 == 0 else "USD",
        }
        for i in range(n)
    ]


def expected_minutes(transactions: list[dict]) -> dict[str, dict]:
    """The minute buckets computed straight from the input, independently of the code under test."""
    found: dict[str, dict] = {}
    for t in transactions:
        minute = t["timestamp"][:16] + ":00Z"
        entry = found.setdefault(minute, {"transactions": 0, "statuses": Counter(), "revenue": Counter()})
        entry["transactions"] += 1
        entry["statuses"][t["status"]] += 1
        if t["status"] == "approved":
            entry["revenue"][t["currency"]] += Decimal(t["amount"])
    return found


def stored(stack: Stack, grain: Grain, since: datetime, until: datetime) -> dict[str, dict]:
    buckets = BucketRepository(stack.table("StateTable")).get_range(grain, since, until)
    return {
        b.start.strftime("%Y-%m-%dT%H:%M:%SZ"): {
            "transactions": b.transactions,
            "statuses": Counter({s: n for s, n in b.statuses.items() if n}),
            "revenue": Counter({c: a for c, a in b.revenue.items() if a}),
        }
        for b in buckets
    }


def bucket_items(stack: Stack) -> list[dict]:
    items = [i for i in stack.scan("StateTable") if i["pk"].startswith("AGG#")]
    return sorted(items, key=lambda i: (i["pk"], i["sk"]))


def ingest(stack: Stack, transactions: list[dict]) -> dict:
    cursor = stack.cursor("TransactionsTable")
    for start in range(0, len(transactions), 500):
        event = load_event("ingest_post_transactions.json")
        event["body"] = json.dumps({"transactions": transactions[start : start + 500]})
        response = stack.handler("IngestFunction")(event)
        assert json.loads(response["body"])["rejected"] == []
    return stack.stream_event(cursor, "AggregateFunction")


def test_a_batch_is_counted_per_minute_hour_and_day_with_revenue_of_approved_sales_per_currency(stack):
    transactions = traffic()
    event = ingest(stack, transactions)
    assert stack.handler("AggregateFunction")(event) == {"batchItemFailures": []}

    assert stored(stack, Grain.MINUTE, START, START + timedelta(minutes=30)) == expected_minutes(transactions)
    hours = stored(stack, Grain.HOUR, START, START + timedelta(hours=1))
    assert {h: v["transactions"] for h, v in hours.items()} == {
        "2026-03-31T23:00:00Z": 120,
        "2026-04-01T00:00:00Z": 120,
    }
    days = stored(stack, Grain.DAY, START, START + timedelta(days=1))
    assert sum(d["transactions"] for d in days.values()) == 240
    assert sum((d["revenue"]["USD"] for d in days.values()), Decimal(0)) == sum(
        Decimal(t["amount"]) for t in transactions if t["status"] == "approved" and t["currency"] == "USD"
    )
    assert all(isinstance(v, Decimal) for d in days.values() for v in d["revenue"].values())


def test_the_sample_event_counts_its_transaction_in_its_own_minute(stack):
    event = load_event("aggregate_stream_insert.json")
    assert stack.handler("AggregateFunction")(event) == {"batchItemFailures": []}
    moment = datetime(2025, 9, 16, 16, 31, tzinfo=UTC)
    (minute,) = BucketRepository(stack.table("StateTable")).get_range(Grain.MINUTE, moment, moment)
    assert (minute.transactions, minute.count("approved"), minute.revenue_in("INR")) == (1, 1, Decimal("500.00"))


def test_redelivering_a_batch_changes_nothing(stack):
    event = ingest(stack, traffic())
    handler = stack.handler("AggregateFunction")
    handler(copy.deepcopy(event))
    once = bucket_items(stack)
    assert handler(copy.deepcopy(event)) == {"batchItemFailures": []}
    assert bucket_items(stack) == once


def test_replaying_the_whole_stream_from_trim_horizon_changes_nothing(stack):
    transactions = traffic()
    handler = stack.handler("AggregateFunction")
    handler(ingest(stack, transactions))
    once = bucket_items(stack)
    replay = stack.stream_event(stack.cursor("TransactionsTable"), "AggregateFunction")  # a new reader: all again
    assert len(replay["Records"]) == len(transactions)
    for start in range(0, len(transactions), 100):  # in the event source's batch size
        assert handler({"Records": replay["Records"][start : start + 100]}) == {"batchItemFailures": []}
    assert bucket_items(stack) == once


def test_a_batch_retried_after_a_failed_write_counts_every_transaction_once(stack, monkeypatch):
    transactions = traffic(300, minutes=90)  # more buckets and markers than one write holds: several chunks
    event = ingest(stack, transactions)
    handler = stack.handler("AggregateFunction")
    writes = []

    def second_write_fails(actions, **kwargs):
        writes.append(len(actions))
        if len(writes) == 2:
            raise RuntimeError("injected DynamoDB failure")
        write_atomically(actions, **kwargs)

    monkeypatch.setattr(sys.modules["shopwatch.storage.unit_of_work"], "write_atomically", second_write_fails)
    response = handler(copy.deepcopy(event))
    assert len(response["batchItemFailures"]) == len(event["Records"])  # retried from the first record
    assert 1 <= sum(b["transactions"] for b in stored(stack, Grain.DAY, START, START).values()) < 300

    monkeypatch.setattr(sys.modules["shopwatch.storage.unit_of_work"], "write_atomically", write_atomically)
    assert handler(copy.deepcopy(event)) == {"batchItemFailures": []}
    assert stored(stack, Grain.MINUTE, START, START + timedelta(hours=2)) == expected_minutes(transactions)
    assert max(writes) <= 100


def test_a_write_throttled_past_the_sdk_retries_is_tried_again_before_the_batch_fails(stack, monkeypatch):
    """Throttling that outlasted the SDK's retries: the handler tries the batch again itself (a failed batch
    would cost the shard one of its MaximumRetryAttempts); what the throttled try wrote is not counted twice.
    A throttle on every try fails the batch whole, as before."""
    transactions = traffic(300, minutes=90)
    event = ingest(stack, transactions)
    handler = stack.handler("AggregateFunction")
    module = sys.modules["shopwatch_fn_aggregate_app"]
    monkeypatch.setattr(sys.modules["shopwatch.storage.aws"].time, "sleep", lambda seconds: None)
    writes = []

    def throttled(every_time: bool):
        def write(actions, **kwargs):
            writes.append(len(actions))
            if every_time or len(writes) == 2:  # the second chunk: the first is written already
                raise ClientError(
                    {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "throttled"}},
                    "TransactWriteItems",
                )
            write_atomically(actions, **kwargs)

        return write

    monkeypatch.setattr(sys.modules["shopwatch.storage.unit_of_work"], "write_atomically", throttled(False))
    assert handler(copy.deepcopy(event)) == {"batchItemFailures": []}
    assert stored(stack, Grain.MINUTE, START, START + timedelta(hours=2)) == expected_minutes(transactions)

    writes.clear()
    fresh = [{**t, "transaction_id": f"new-{t['transaction_id']}"} for t in traffic(20, minutes=2)]
    again = ingest(stack, fresh)  # new records (counted ones would write nothing)
    monkeypatch.setattr(sys.modules["shopwatch.storage.unit_of_work"], "write_atomically", throttled(True))
    response = handler(copy.deepcopy(again))
    assert len(response["batchItemFailures"]) == len(again["Records"])
    assert len(writes) == module.BATCH_ATTEMPTS


def test_a_conflicting_write_is_tried_again(stack, monkeypatch):
    """DynamoDB cancels a transaction that meets another on a hot bucket (TransactionConflict); it applied
    nothing, and the unit of work tries it again: every transaction is counted once."""
    event = ingest(stack, traffic(20, minutes=2))
    handler = stack.handler("AggregateFunction")
    unit_of_work = sys.modules["shopwatch.storage.unit_of_work"]
    real_client, attempts = unit_of_work.client, []

    class Conflicting:
        def __init__(self, dynamodb):
            self.dynamodb = dynamodb

        def transact_write_items(self, TransactItems, ClientRequestToken):
            attempts.append(ClientRequestToken)
            if len(attempts) == 1:
                reasons = [{"Code": "None"}] * (len(TransactItems) - 1) + [{"Code": "TransactionConflict"}]
                raise ClientError(
                    {"Error": {"Code": "TransactionCanceledException", "Message": "conflict"},
                     "CancellationReasons": reasons}, "TransactWriteItems",
                )  # fmt: skip
            return self.dynamodb.transact_write_items(
                TransactItems=TransactItems, ClientRequestToken=ClientRequestToken
            )

    monkeypatch.setattr(unit_of_work, "client", lambda service: Conflicting(real_client(service)))
    monkeypatch.setattr(unit_of_work.time, "sleep", lambda seconds: None)
    assert handler(event) == {"batchItemFailures": []}
    assert len(attempts) == 2 and attempts[0] != attempts[1]  # nothing applied: a new token
    assert sum(b["transactions"] for b in stored(stack, Grain.DAY, START, START).values()) == 20


def test_a_batch_mixing_counted_and_new_records_counts_only_the_new_ones(stack):
    transactions = traffic(60, minutes=3)
    event = ingest(stack, transactions)
    handler = stack.handler("AggregateFunction")
    handler({"Records": event["Records"][:25]})
    assert handler({"Records": copy.deepcopy(event["Records"])}) == {"batchItemFailures": []}
    assert stored(stack, Grain.MINUTE, START, START + timedelta(minutes=5)) == expected_minutes(transactions)


def test_an_unreadable_record_fails_with_the_records_after_it_and_those_before_it_count(stack):
    event = ingest(stack, traffic(10, minutes=1))
    broken = copy.deepcopy(event)
    del broken["Records"][6]["dynamodb"]["NewImage"]["timestamp"]
    response = stack.handler("AggregateFunction")(broken)
    failed = [f["itemIdentifier"] for f in response["batchItemFailures"]]
    assert failed == [r["dynamodb"]["SequenceNumber"] for r in broken["Records"][6:]]
    assert sum(b["transactions"] for b in stored(stack, Grain.DAY, START, START).values()) == 6


def test_a_late_record_updates_its_own_minute(stack):
    handler = stack.handler("AggregateFunction")
    handler(ingest(stack, traffic(20, minutes=2)))
    late = {
        "transaction_id": "late-1",
        "customer_id": "c1",
        "timestamp": to_iso(START + timedelta(seconds=30)),
        "status": "failed",
        "amount": "3.00",
    }
    handler(ingest(stack, [late]))
    (minute,) = BucketRepository(stack.table("StateTable")).get_range(Grain.MINUTE, START, START)
    assert (minute.transactions, minute.count("failed")) == (
        11,
        expected_minutes(traffic(20, 2))[to_iso(START)[:16] + ":00Z"]["statuses"]["failed"] + 1,
    )


def test_other_event_names_are_ignored(stack):
    event = ingest(stack, traffic(3, minutes=1))
    for record in event["Records"]:
        record["eventName"] = "MODIFY"
    assert stack.handler("AggregateFunction")(lambda_event([])) == {"batchItemFailures": []}
    assert stack.handler("AggregateFunction")(event) == {"batchItemFailures": []}
    assert bucket_items(stack) == []


@pytest.mark.parametrize("duplicates", [2, 3])
def test_the_same_record_twice_in_one_batch_counts_once(stack, duplicates):
    event = ingest(stack, traffic(5, minutes=1))
    event["Records"] = [copy.deepcopy(r) for r in event["Records"] for _ in range(duplicates)]
    assert stack.handler("AggregateFunction")(event) == {"batchItemFailures": []}
    assert sum(b["transactions"] for b in stored(stack, Grain.DAY, START, START).values()) == 5
