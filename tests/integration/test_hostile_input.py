"""Hostile input, generated (hypothesis): anything a client can send to POST /transactions and anything a broken
stream can hand a consumer. The rules: never a 5xx or an unhandled error, a 4xx that says why, and nothing
stored that does not satisfy the contract. Each test prints how many cases it tried."""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from typing import Any

from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shopwatch.domain.transaction import Transaction
from shopwatch.storage.items import from_attributes
from shopwatch.streams import UnidentifiableRecords
from tests.conftest import Stack, load_event

HOSTILE_TEXT = st.sampled_from(
    [
        "'; DROP TABLE transactions; --",
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        "\u202e\u0000\ud7ff",
        "A" * 5000,
        "１２３",
        "NaN",
        "-Infinity",
        "1e999",
        "{{7*7}}",
        "${jndi:ldap://x}",
    ]
)
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=40), HOSTILE_TEXT,
)  # fmt: skip
JSON = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=20,
)  # fmt: skip
FIELDS = ["transaction_id", "customer_id", "timestamp", "status", "amount", "currency", "items", "country",
          "customer_name", "email", "ip", "device_id", "payment_method", "channel", "metadata", "extra"]  # fmt: skip
CASES = 250
tried: dict[str, int] = {}


def base_transaction(index: int) -> dict[str, Any]:
    return {
        "transaction_id": f"h-{index}",
        "customer_id": "c-1",
        "timestamp": "2025-09-16T16:31:05Z",
        "amount": "12.50",
        "currency": "USD",
        "items": [{"sku": "MUG", "quantity": 1, "unit_price": "12.50"}],
    }


@st.composite
def mutated_transactions(draw) -> dict[str, Any]:
    """A valid transaction with some fields replaced by anything, or removed."""
    tx = base_transaction(draw(st.integers(0, 10**9)))
    for field in draw(st.lists(st.sampled_from(FIELDS), max_size=4, unique=True)):
        if draw(st.booleans()):
            tx[field] = draw(JSON)
        else:
            tx.pop(field, None)
    return tx


BODIES = st.one_of(
    JSON.map(lambda v: json.dumps(v).encode()),
    mutated_transactions().map(lambda t: json.dumps(t).encode()),
    st.lists(mutated_transactions(), min_size=1, max_size=5).map(lambda ts: json.dumps({"transactions": ts}).encode()),
    st.binary(max_size=200),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.integers(1, 3000).map(lambda depth: b"[" * depth + b"]" * depth),
    st.sampled_from([b'{"amount": NaN}', b'{"a": 1, "a": 2}', b'{"amount": 1e400}', b"\xff\xfe\xfd", b"{" * 100]),
)


def post(stack: Stack, ingest, raw: bytes) -> tuple[int, dict]:
    event = load_event("ingest_post_transactions.json")
    event["body"] = base64.b64encode(raw).decode()
    event["isBase64Encoded"] = True
    response = ingest(event)
    return response["statusCode"], json.loads(response["body"])


def stored_transactions(stack: Stack) -> list[dict[str, Any]]:
    items, start = [], None
    while True:
        page = stack.dynamodb.scan(
            TableName=stack.table("TransactionsTable"), **({"ExclusiveStartKey": start} if start else {})
        )
        items += [from_attributes(i) for i in page["Items"]]
        start = page.get("LastEvaluatedKey")
        if not start:
            return items


def test_anything_posted_gets_a_clear_answer_and_only_valid_transactions_are_stored(stack):
    ingest = stack.handler("IngestFunction")
    seen = {"n": 0, "accepted": 0, "refused": 0}

    @settings(
        max_examples=CASES, deadline=None, suppress_health_check=list(HealthCheck), database=None, derandomize=True
    )
    @given(BODIES)
    def one(raw: bytes) -> None:
        seen["n"] += 1
        status, body = post(stack, ingest, raw)
        assert status in (202, 400, 413, 415), (status, body)
        if status == 202:
            seen["accepted"] += 1
            assert set(body) == {"accepted", "duplicates", "rejected", "decisions"}
            assert [d["transaction_id"] for d in body["decisions"]] == body["accepted"] + body["duplicates"]
        else:
            seen["refused"] += 1
            assert set(body) == {"error"} and body["error"]["message"], body

    one()
    for item in stored_transactions(stack):  # no garbage: every stored item is a contract-valid transaction
        decided = item.pop("checkout")  # and its checkout decision
        assert Transaction.from_item(item).to_item() == item
        assert decided["decision"] in ("allow", "review", "block")
        assert isinstance(item["amount"], Decimal) and item["amount"] >= 0
    tried["POST /transactions"] = seen["n"]
    print(f"POST /transactions: {seen['n']} generated bodies, {seen['accepted']} answered 202, {seen['refused']} 4xx")
    assert seen["n"] >= CASES * 0.9


RECORD_PARTS = st.fixed_dictionaries(
    {},
    optional={
        "eventName": st.sampled_from(["INSERT", "MODIFY", "REMOVE", "", "BOGUS"]) | JSON,
        "dynamodb": st.one_of(
            JSON,
            st.fixed_dictionaries(
                {},
                optional={
                    "NewImage": JSON | st.just({"transaction_id": {"S": "x"}}),
                    "OldImage": JSON,
                    "Keys": JSON,
                    "SequenceNumber": st.text(max_size=5) | st.integers(),
                },
            ),
        ),
        "eventID": JSON,
    },
)


def truncated(record: dict[str, Any], cut: int) -> dict[str, Any]:
    """A real record whose JSON was cut short and patched back into something parseable."""
    text = json.dumps(record)[:cut]
    try:
        return json.loads(text)
    except ValueError:
        return {"eventName": "INSERT", "dynamodb": {"NewImage": {"raw": {"S": text}}}}


def stress(handler, good: dict[str, Any]) -> int:
    """Feed `handler` batches mixing a real record with broken ones; the number of batches tried."""
    count = {"n": 0, "all_failed": 0}
    broken = st.one_of(RECORD_PARTS, st.integers(10, 400).map(lambda cut: truncated(good, cut)))

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None, derandomize=True)
    @given(st.lists(broken, min_size=1, max_size=4))
    def one(parts: list[dict[str, Any]]) -> None:
        count["n"] += 1
        records = []
        for index, part in enumerate(parts):
            record = json.loads(json.dumps(good)) | (part if isinstance(part, dict) else {})
            if isinstance(record.get("dynamodb"), dict):
                record["dynamodb"]["SequenceNumber"] = str(1000 + index)
            records.append(record)
        try:
            response = handler({"Records": records})
        except (BatchProcessingError, UnidentifiableRecords):
            count["all_failed"] += 1  # every record failed: a function error, as designed (Lambda retries, then
            return  # the dead-letter queue); any other exception fails the test
        failures = {f["itemIdentifier"] for f in response["batchItemFailures"]}
        assert failures <= {str(1000 + i) for i in range(len(records))} | {""}, failures

    one()
    return count["n"]


def test_every_stream_handler_survives_malformed_and_truncated_records(stack):
    sample = {
        "DetectFunction": load_event("detect_stream_insert.json")["Records"][0],
        "AggregateFunction": load_event("aggregate_stream_insert.json")["Records"][0],
        "NotifyFunction": load_event("notify_stream_insert.json")["Records"][0],
    }
    for function, good in sample.items():
        count = stress(stack.handler(function, MODEL_ARTIFACT="off"), good)
        tried[function] = count
        print(f"{function}: {count} generated batches of malformed or truncated records")
    for item in stored_transactions(stack):
        assert Transaction.from_item(item)
