"""IngestFunction on moto, with the template's own TransactionsTable: accepted, duplicate, and every bad input
getting a clear 4xx that stores nothing and (so) triggers no detection."""

from __future__ import annotations

import base64
import copy
import json

import pytest

from tests.conftest import load_event

NOW_ISH = "2025-09-16T16:31:05Z"


@pytest.fixture
def ingest(stack):
    return stack.handler("IngestFunction")


def post(
    ingest, body, *, raw: str | bytes | None = None, content_type: str | None = "application/json", base64_body=False
):
    event = copy.deepcopy(load_event("ingest_post_transactions.json"))
    text = raw if raw is not None else json.dumps(body)
    if base64_body:
        event["body"] = base64.b64encode(text if isinstance(text, bytes) else text.encode()).decode()
        event["isBase64Encoded"] = True
    else:
        event["body"] = text
    for headers in (event["headers"], event["multiValueHeaders"]):
        headers.pop("Content-Type", None)
        if content_type is not None:
            headers["Content-Type"] = content_type if headers is event["headers"] else [content_type]
    response = ingest(event)
    return response["statusCode"], json.loads(response["body"])


def txn(tid: str = "t-1", **fields):
    return {"transaction_id": tid, "customer_id": "c-1", "amount": "12.50", "timestamp": NOW_ISH} | fields


def without_decisions(body: dict) -> dict:
    """The body less its checkout decisions (tests/rules/test_checkout_decisions.py checks those), after checking
    that every accepted and duplicate transaction has one."""
    decided = [d["transaction_id"] for d in body.pop("decisions", [])]
    assert decided == body["accepted"] + body["duplicates"]
    return body


def stored(stack) -> list[dict]:
    return stack.scan("TransactionsTable")


def stream_records(stack) -> list[dict]:
    return stack.cursor("TransactionsTable").read_new()


def test_the_sample_event_is_accepted_and_stored_with_exact_money(stack, ingest):
    response = ingest(load_event("ingest_post_transactions.json"))
    assert response["statusCode"] == 202
    assert without_decisions(json.loads(response["body"])) == {"accepted": ["921"], "duplicates": [], "rejected": []}
    (item,) = stored(stack)
    assert str(item["amount"]) == "500.00"
    assert str(item["items"][0]["unit_price"]) == "500.00"
    assert item["timestamp"] == "2025-09-16T16:31:05.000000Z"
    assert item["currency"] == "INR" and item["country"] == "IN"


def test_a_batch_reports_each_transaction_on_its_own(stack, ingest):
    response = ingest(load_event("ingest_post_batch.json"))
    body = json.loads(response["body"])
    assert response["statusCode"] == 202
    assert body["accepted"] == ["922", "923"]
    assert body["rejected"][0]["index"] == 2
    assert {e["field"] for e in body["rejected"][0]["errors"]} == {"transaction_id", "amount"}
    assert sorted(i["transaction_id"] for i in stored(stack)) == ["922", "923"]


def test_a_resend_is_a_duplicate_and_changes_nothing(stack, ingest):
    assert post(ingest, txn())[0] == 202
    before = stored(stack)
    first_records = stream_records(stack)
    status, body = post(ingest, txn(amount="99.99"))
    assert (status, without_decisions(body)) == (202, {"accepted": [], "duplicates": ["t-1"], "rejected": []})
    assert stored(stack) == before
    assert len(first_records) == 1
    assert len(stack.cursor("TransactionsTable").read_new()) == 1  # still only the first INSERT


def test_a_batch_accepts_500_transactions(stack, ingest):
    status, body = post(ingest, {"transactions": [txn(f"t-{i}") for i in range(500)]})
    assert status == 202
    assert len(body["accepted"]) == 500
    assert len(stored(stack)) == 500


def test_base64_encoded_bodies_are_read(stack, ingest):
    assert post(ingest, None, raw=json.dumps(txn()), base64_body=True)[0] == 202


@pytest.mark.parametrize(
    ("case", "kwargs", "status", "code", "message"),
    [
        ("not JSON", {"raw": "{'transaction_id': 1"}, 400, "invalid_body", "not valid JSON"),
        ("empty body", {"raw": ""}, 400, "invalid_body", "body is empty"),
        ("JSON but not an object", {"raw": "[1, 2]"}, 400, "invalid_body", "must be a transaction object"),
        (
            "NaN amount",
            {"raw": '{"transaction_id": "a", "customer_id": "b", "amount": NaN}'},
            400,
            "invalid_body",
            "NaN",
        ),
        (
            "Infinity amount",
            {"raw": '{"transaction_id": "a", "customer_id": "b", "amount": Infinity}'},
            400,
            "invalid_body",
            "Infinity",
        ),
        (
            "duplicate keys",
            {"raw": '{"transaction_id": "a", "transaction_id": "b", "customer_id": "c", "amount": 1}'},
            400,
            "invalid_body",
            "duplicate key",
        ),
        (
            "invalid UTF-8",
            {"raw": b'{"transaction_id": "\xff\xfe", "customer_id": "c", "amount": 1}', "base64_body": True},
            400,
            "invalid_body",
            "not valid UTF-8",
        ),
        ("deeply nested JSON", {"raw": "[" * 100_000 + "]" * 100_000}, 400, "invalid_body", "nested too deeply"),
        (
            "a number with 5000 digits",
            {"raw": '{"transaction_id": "a", "customer_id": "b", "amount": ' + "9" * 5000 + "}"},
            400,
            "invalid_body",
            "not acceptable JSON",
        ),
        (
            "wrong content type",
            {"raw": "transaction_id=1", "content_type": "application/x-www-form-urlencoded"},
            415,
            "unsupported_media_type",
            "application/json",
        ),
        ("empty batch", {"raw": '{"transactions": []}'}, 400, "invalid_body", "is empty"),
        ("batch with extra keys", {"raw": '{"transactions": [], "shop": "x"}'}, 400, "invalid_body", "no other keys"),
        (
            "501 transactions",
            {"raw": json.dumps({"transactions": [txn(f"t{i}") for i in range(501)]})},
            413,
            "payload_too_large",
            "at most 500",
        ),
        ("a 6 MB body", {"raw": json.dumps(txn(metadata={"x": "y" * 6_000_000}))}, 413, "payload_too_large", "limit"),
    ],
)
def test_a_bad_body_gets_a_clear_error_and_stores_nothing(stack, ingest, case, kwargs, status, code, message):
    got_status, body = post(ingest, None, **kwargs)
    assert (got_status, body["error"]["code"]) == (status, code), case
    assert message in body["error"]["message"]
    assert stored(stack) == []
    assert stream_records(stack) == []


@pytest.mark.parametrize(
    ("case", "transaction", "field", "message"),
    [
        ("wrong types", txn(customer_id=42, amount=[1]), "customer_id", "valid string"),
        (
            "negative price",
            txn(amount=None, items=[{"sku": "A", "quantity": 1, "unit_price": -5}]) | {"amount": "1.00"},
            "items.0.unit_price",
            "greater than or equal to 0",
        ),
        (
            "zero quantity",
            txn(items=[{"sku": "A", "quantity": 0, "unit_price": 5}]),
            "items.0.quantity",
            "must not be 0",
        ),
        ("future timestamp", txn(timestamp="2999-01-01T00:00:00Z"), "timestamp", "future"),
        ("unknown field", txn(coupon="FREE"), "coupon", "unknown field"),
        (
            "501 items",
            txn(items=[{"sku": f"S{i}", "quantity": 1, "unit_price": 1} for i in range(501)]),
            "items",
            "at most 500",
        ),
        ("10 KB strings", txn(customer_name="x" * 10_240, device_id="d" * 10_240), "customer_name", "at most 256"),
        (
            "amount contradicting items",
            txn(amount="1.00", items=[{"sku": "A", "quantity": 2, "unit_price": "5.00"}]),
            "(transaction)",
            "contradicts",
        ),
        ("bad currency", txn(currency="ABC"), "currency", "ISO 4217"),
        ("script in the id", txn("<script>alert(1)</script>"), "transaction_id", "pattern"),
    ],
)
def test_an_invalid_transaction_is_rejected_with_field_errors_and_nothing_is_stored(
    stack, ingest, case, transaction, field, message
):
    status, body = post(ingest, transaction)
    assert status == 400, case
    assert body["error"]["code"] == "validation_failed"
    (rejected,) = body["error"]["details"]["rejected"]
    errors = {e["field"]: e["message"] for e in rejected["errors"]}
    assert message in errors[field]
    assert stored(stack) == []
    assert stream_records(stack) == []


def test_duplicate_ids_within_a_batch_keep_only_the_first(stack, ingest):
    status, body = post(ingest, {"transactions": [txn("same", amount="1.00"), txn("same", amount="2.00")]})
    assert status == 202
    assert body["accepted"] == ["same"]
    assert body["rejected"][0]["index"] == 1
    assert "repeats the transaction_id of index 0" in body["rejected"][0]["errors"][0]["message"]
    (item,) = stored(stack)
    assert str(item["amount"]) == "1.00"


def test_a_batch_of_only_invalid_transactions_is_a_400_listing_each(stack, ingest):
    status, body = post(ingest, {"transactions": [txn("a", amount="-1"), {"nope": True}, "text"]})
    assert status == 400
    assert [r["index"] for r in body["error"]["details"]["rejected"]] == [0, 1, 2]
    assert stored(stack) == []


def test_a_resent_batch_reports_duplicates_not_errors(stack, ingest):
    batch = {"transactions": [txn("a"), txn("b")]}
    post(ingest, batch)
    status, body = post(ingest, batch)
    assert (status, without_decisions(body)) == (202, {"accepted": [], "duplicates": ["a", "b"], "rejected": []})


def test_errors_never_leak_a_stack_trace(stack, ingest, monkeypatch):
    module_service = __import__("sys").modules["shopwatch_fn_ingest_app"].service

    def explode(*_args, **_kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(module_service.repository, "add_all_if_new", explode)
    status, body = post(ingest, txn())
    assert status == 500
    assert body == {"error": {"code": "internal_error", "message": "internal error"}}


def test_throttled_storage_is_a_retryable_503(stack, ingest, monkeypatch):
    from botocore.exceptions import ClientError

    module_service = __import__("sys").modules["shopwatch_fn_ingest_app"].service

    def throttle(*_args, **_kwargs):
        raise ClientError(
            {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}, "PutItem"
        )

    monkeypatch.setattr(module_service.repository, "add_all_if_new", throttle)
    event = copy.deepcopy(load_event("ingest_post_transactions.json"))
    response = ingest(event)
    assert response["statusCode"] == 503
    assert response["multiValueHeaders"]["Retry-After"] == ["1"]


@pytest.fixture
def throttled_puts():
    """Answer PutItem for the chosen transaction ids with throttling, `times` times each (None: always), as
    DynamoDB does once the SDK's own retries are spent."""
    from botocore.awsrequest import AWSResponse

    from shopwatch.storage.aws import client

    plan: dict[str, int | None] = {}
    calls: dict[str, int] = {}

    def before_call(model, params, **_):
        tid = json.loads(params["body"])["Item"]["transaction_id"]["S"]  # params: the serialized request
        if tid not in plan:
            return None
        calls[tid] = calls.get(tid, 0) + 1
        if plan[tid] is not None and calls[tid] > plan[tid]:
            return None
        error = {"Code": "ProvisionedThroughputExceededException", "Message": "throttled (test)"}
        return AWSResponse("https://test.invalid/", 400, {}, None), {
            "Error": error,
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }

    events = client("dynamodb").meta.events
    events.register_first("before-call.dynamodb.PutItem", before_call, unique_id="test-throttled-puts")
    yield plan, calls
    events.unregister("before-call.dynamodb.PutItem", unique_id="test-throttled-puts")


def test_a_briefly_throttled_put_is_retried_and_the_batch_accepted(stack, ingest, throttled_puts):
    plan, calls = throttled_puts
    plan["b"] = 2
    status, body = post(ingest, {"transactions": [txn("a"), txn("b", customer_id="c-2"), txn("c")]})
    assert (status, sorted(body["accepted"])) == (202, ["a", "b", "c"])
    assert calls["b"] == 3
    assert sorted(item["transaction_id"] for item in stored(stack)) == ["a", "b", "c"]


def test_a_put_throttled_beyond_its_retries_is_a_503_and_the_resend_completes_the_batch(stack, ingest, throttled_puts):
    plan, calls = throttled_puts
    plan["b"] = None
    batch = {"transactions": [txn("a"), txn("b", customer_id="c-2")]}
    status, body = post(ingest, batch)
    assert status == 503 and body["error"]["code"] == "service_unavailable"
    assert calls["b"] == 4
    assert [item["transaction_id"] for item in stored(stack)] == ["a"]  # stored, though not confirmed to the shop
    del plan["b"]
    status, body = post(ingest, batch)
    assert (status, without_decisions(body)) == (202, {"accepted": ["b"], "duplicates": ["a"], "rejected": []})


def test_metrics_count_accepted_duplicate_and_rejected_even_when_all_are_rejected(stack, ingest, capsys):
    post(ingest, {"transactions": [txn("a", amount="-1"), txn("b", amount="-2")]})
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert emf[-1]["TransactionsRejected"] == [2.0]
    assert emf[-1]["TransactionsAccepted"] == [0.0]


def test_each_customers_transactions_reach_the_stream_in_the_order_posted(stack, ingest):
    """Customers are written in parallel, but one customer's history must precede the purchase that follows
    it in the same request, or detection would judge the purchase against a history without it."""
    cursor = stack.cursor("TransactionsTable")
    for round_ in range(3):  # the pool's threads are warm after the first request
        body = {"transactions": [txn(f"r{round_}-{i:02d}", customer_id=f"c-{i % 6}") for i in range(60)]}
        status, result = post(ingest, body)
        assert status == 202 and len(result["accepted"]) == 60
        records = cursor.read_new()
        order = [int(r["dynamodb"]["Keys"]["transaction_id"]["S"].split("-")[1]) for r in records]
        assert sorted(order) == list(range(60))
        for customer in range(6):
            mine = [i for i in order if i % 6 == customer]
            assert mine == sorted(mine), f"c-{customer}: {mine}"


def test_a_card_number_in_a_card_field_is_a_400_stored_nowhere_and_never_echoed(stack, ingest, capsys):
    status, body = post(ingest, txn(card_fingerprint="4111 1111 1111 1111", card_bin="411111"))
    assert status == 400
    assert body["error"]["details"]["rejected"][0]["errors"][0]["field"] == "card_fingerprint"
    assert stored(stack) == []
    assert "4111 1111" not in json.dumps(body) and "4111 1111" not in capsys.readouterr().out


def test_the_fraud_signals_are_stored_as_sent(stack, ingest):
    signals = {
        "account_created_at": "2025-09-16T16:30:00Z",
        "user_agent": "Mozilla/5.0",
        "card_bin": "41111111",
        "card_fingerprint": "fp_1",
        "billing_country": "DE",
        "shipping_country": "France",
    }
    assert post(ingest, txn(**signals))[0] == 202
    (item,) = stored(stack)
    assert item["account_created_at"] == "2025-09-16T16:30:00.000000Z"
    assert (item["card_bin"], item["card_fingerprint"], item["shipping_country"]) == ("41111111", "fp_1", "FR")
