"""The local stack's direct path into moto's handlers gives botocore's callers exactly what the stubber's
HTTP imitation gives: results, modeled errors (condition failures with the old item, cancelled
transactions with their reasons), missing tables and validation errors."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import boto3
import botocore.handlers
import pytest
from moto import mock_aws

from infra.local import moto_direct_calls
from tests.integration.moto_conversation import comparable, conversation


def _run(direct: bool) -> tuple[list[tuple[str, Any]], int]:
    with mock_aws():
        if direct:
            moto_direct_calls.install()
        before = moto_direct_calls.calls_served.total()
        try:
            return conversation(), moto_direct_calls.calls_served.total() - before
        finally:
            moto_direct_calls.uninstall()


def test_direct_calls_answer_exactly_as_the_stubber_does():
    stock, none_served = _run(direct=False)
    direct, served = _run(direct=True)
    assert none_served == 0
    # every call (the recorded ones and the unrecorded two CreateTable, two DescribeStream, a GetShardIterator
    # and a PutItem) but the two puts of an item with binary attributes, which moto's shape parser decodes
    assert served == len(direct) + 6 - 2
    assert [name for name, _ in direct] == [name for name, _ in stock]
    for (name, expected), (_, actual) in zip(stock, direct, strict=True):
        assert comparable(actual) == comparable(expected), name
    for (_, expected), (_, actual) in zip(stock, direct, strict=True):
        for before, after in zip(expected.get("Records", []), actual.get("Records", []), strict=True):
            stamp, stock_stamp = (
                after["dynamodb"]["ApproximateCreationDateTime"],
                before["dynamodb"]["ApproximateCreationDateTime"],
            )
            assert type(stamp) is type(stock_stamp) and stamp.tzinfo == stock_stamp.tzinfo
    errors = [response["Error"]["Code"] for _, response in direct if "Error" in response]
    assert errors == [
        "ConditionalCheckFailedException",
        "TransactionCanceledException",
        "ResourceNotFoundException",
        "ValidationException",
        "ValidationException",
    ]
    cancelled = next(r for _, r in direct if r.get("Error", {}).get("Code") == "TransactionCanceledException")
    assert [reason["Code"] for reason in cancelled["CancellationReasons"]] == ["None", "ConditionalCheckFailed"]
    failed_put = next(r for _, r in direct if r.get("Error", {}).get("Code") == "ConditionalCheckFailedException")
    assert failed_put["Item"]["pk"] == {"S": "b"}


def test_calls_to_an_explicit_endpoint_are_left_to_http():
    with mock_aws():
        moto_direct_calls.install()
        try:
            client = boto3.Session(region_name="us-east-1").client("dynamodb")
            model = client.meta.service_model.operation_model("ListTables")
            params = {"url": "http://127.0.0.1:5000/", "body": b"{}", "headers": {}}
            assert moto_direct_calls._direct_call(model, params, {"client_region": "us-east-1"}) is None
            params["url"] = "https://dynamodb.us-east-1.amazonaws.com/"
            http, parsed = moto_direct_calls._direct_call(model, params, {"client_region": "us-east-1"})
            assert http.status_code == 200 and parsed["TableNames"] == []
        finally:
            moto_direct_calls.uninstall()
        assert moto_direct_calls._direct_call(model, params, {"client_region": "us-east-1"}) is None


def test_calls_skip_botocores_pipeline_only_while_nothing_else_listens_to_them():
    """With botocore's stock handlers only, a call goes straight to moto (every recorded call of the
    conversation, with the same answers as above); a handler of anyone else's on its events (the fault
    injector's, a test's) keeps botocore's whole pipeline, so that handler runs."""
    heard: list[str] = []

    def listen(model: Any, **_: Any) -> None:
        heard.append(model.name)

    served: dict[bool, int] = {}
    for listening in (False, True):
        with mock_aws():
            moto_direct_calls.install()
            if listening:
                for event in ("before-call.dynamodb", "before-call.dynamodb-streams"):
                    botocore.handlers.BUILTIN_HANDLERS.insert(0, (event, listen))
            try:
                before = moto_direct_calls.direct_api_calls["served"]
                conversation()
                served[listening] = moto_direct_calls.direct_api_calls["served"] - before
            finally:
                if listening:
                    for event in ("before-call.dynamodb", "before-call.dynamodb-streams"):
                        botocore.handlers.BUILTIN_HANDLERS.remove((event, listen))
                moto_direct_calls.uninstall()
    straight, listened = served[False], served[True]
    assert straight > 20  # the conversation's DynamoDB and Streams calls but the binary ones
    assert listened == 0 and {"PutItem", "TransactWriteItems", "GetRecords"} <= set(heard)


def test_the_request_copy_is_what_a_json_round_trip_gives_and_shares_nothing():
    import json
    import random

    from infra.local.moto_direct_calls import json_copy

    rng = random.Random(7)

    def tree(depth: int):
        pick = rng.randrange(7 if depth else 4)
        leaves = ["s", 'é€\n"', 0, -12, 10**30, True, False, None, 1.5]
        if pick < 4:
            return rng.choice(leaves)
        if pick < 5:
            return [tree(depth - 1) for _ in range(rng.randrange(4))]
        return {f"k{i}": tree(depth - 1) for i in range(rng.randrange(4))}

    for _ in range(300):
        value = {"TransactItems": [tree(4) for _ in range(3)], "S": {"N": "1"}}
        copied = json_copy(value)
        assert copied == json.loads(json.dumps(value))
        for original, mine in ((value, copied), (value["S"], copied["S"])):
            assert original is not mine


@pytest.mark.parametrize(
    "value",
    [
        {"Item": {"a": {"B": b"x"}}},
        {"Item": {"a": {"BS": ["eA=="]}}},
        {"n": Decimal("1")},
        {"b": b"x"},
        {1: "non-string key"},
        {"f": float("nan")},
        {"t": (1, 2)},
    ],
)
def test_values_json_would_not_carry_as_they_are_are_refused_by_the_copy(value):
    """The caller then takes botocore's own path (a binary value is base64-encoded there)."""
    from infra.local.moto_direct_calls import json_copy

    with pytest.raises(TypeError):
        json_copy(value)
