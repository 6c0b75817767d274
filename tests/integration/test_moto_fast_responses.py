"""The local stack's plain-JSON responses for moto's hot DynamoDB calls parse, through botocore, to exactly
what moto's own serializer gives (binary values, numbers, sets, maps, stream timestamps included)."""

from __future__ import annotations

from typing import Any

import pytest
from moto import mock_aws

from infra.local import moto_fast_responses
from tests.integration.moto_conversation import comparable, conversation


def _run(fast: bool, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    with mock_aws():
        if fast:
            moto_fast_responses.install()
        try:
            return conversation()
        finally:
            moto_fast_responses.uninstall()


def test_fast_responses_parse_exactly_as_moto_serializes_them(monkeypatch):
    stock = _run(False, monkeypatch)
    fast = _run(True, monkeypatch)
    assert [name for name, _ in fast] == [name for name, _ in stock]
    for (name, expected), (_, actual) in zip(stock, fast, strict=True):
        assert comparable(actual) == comparable(expected), name
    records = next(r for name, r in fast if name == "GetRecords")["Records"]
    assert records[0]["dynamodb"]["NewImage"]["b"]["B"] == b"\x00\xffbinary"
    fast_time = records[0]["dynamodb"]["ApproximateCreationDateTime"]
    stock_time = next(r for name, r in stock if name == "GetRecords")["Records"][0]["dynamodb"][
        "ApproximateCreationDateTime"
    ]
    assert fast_time.tzinfo is not None and stock_time.tzinfo is not None
    assert abs((fast_time - stock_time).total_seconds()) < 60


def test_the_fast_path_is_taken_and_removed(monkeypatch):
    from moto.dynamodb.responses import DynamoHandler

    moto_fast_responses.install()
    assert "serialized" in vars(DynamoHandler)
    moto_fast_responses.uninstall()
    assert "serialized" not in vars(DynamoHandler)
