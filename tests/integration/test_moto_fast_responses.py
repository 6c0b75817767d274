"""The local stack's plain-JSON responses for moto's hot DynamoDB calls parse, through botocore, to exactly
what moto's own serializer gives (binary values, numbers, sets, maps, stream timestamps included)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.local import moto_fast_responses

ITEM = {
    "pk": {"S": "a"},
    "sk": {"N": "1"},
    "n": {"N": "12.50"},
    "b": {"B": b"\x00\xffbinary"},
    "ss": {"SS": ["x", "y"]},
    "ns": {"NS": ["1", "2.5"]},
    "bs": {"BS": [b"\x01", b"\x02"]},
    "m": {"M": {"h": {"M": {"1": {"N": "3"}}}, "l": {"L": [{"S": "v"}, {"NULL": True}, {"BOOL": False}]}}},
}


def _conversation() -> list[tuple[str, Any]]:
    """Every fast-path call with realistic arguments; returns (operation, parsed response) pairs."""
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    streams = boto3.client("dynamodbstreams", region_name="us-east-1")
    arn = dynamodb.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]["LatestStreamArn"]
    key = {"pk": {"S": "a"}, "sk": {"N": "1"}}
    calls: list[tuple[str, Callable[[], Any]]] = [
        ("PutItem", lambda: dynamodb.put_item(TableName="t", Item=ITEM, ReturnConsumedCapacity="TOTAL")),
        ("PutItem", lambda: dynamodb.put_item(TableName="t", Item=ITEM | {"n": {"N": "7"}}, ReturnValues="ALL_OLD")),
        ("GetItem", lambda: dynamodb.get_item(TableName="t", Key=key, ConsistentRead=True)),
        ("GetItem", lambda: dynamodb.get_item(TableName="t", Key={"pk": {"S": "none"}, "sk": {"N": "0"}})),
        ("UpdateItem", lambda: dynamodb.update_item(
            TableName="t", Key=key, UpdateExpression="ADD n :one SET q = :q",
            ExpressionAttributeValues={":one": {"N": "1"}, ":q": {"S": "z"}}, ReturnValues="ALL_NEW")),
        ("BatchWriteItem", lambda: dynamodb.batch_write_item(RequestItems={"t": [
            {"PutRequest": {"Item": {"pk": {"S": "a"}, "sk": {"N": str(i)}, "v": {"N": str(i)}}}} for i in range(2, 6)]})),
        ("BatchGetItem", lambda: dynamodb.batch_get_item(RequestItems={"t": {"Keys": [
            {"pk": {"S": "a"}, "sk": {"N": str(i)}} for i in range(1, 6)]}})),
        ("Query", lambda: dynamodb.query(
            TableName="t", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "a"}}, Limit=3)),
        ("Scan", lambda: dynamodb.scan(TableName="t")),
        ("TransactWriteItems", lambda: dynamodb.transact_write_items(TransactItems=[
            {"Put": {"TableName": "t", "Item": {"pk": {"S": "b"}, "sk": {"N": "1"}}, "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Update": {"TableName": "t", "Key": key, "UpdateExpression": "ADD n :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        ])),
        ("TransactGetItems", lambda: dynamodb.transact_get_items(TransactItems=[{"Get": {"TableName": "t", "Key": key}}])),
        ("DeleteItem", lambda: dynamodb.delete_item(TableName="t", Key=key, ReturnValues="ALL_OLD")),
    ]  # fmt: skip
    responses = [(name, call()) for name, call in calls]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    responses.append(("GetShardIterator", iterator))
    responses.append(("GetRecords", streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=100)))
    return responses


# What differs between any two identical runs: request ids, random iterator and event ids, record times, and
# moto's record size estimate (off by a byte from run to run).
_VOLATILE = {
    "ResponseMetadata",
    "eventID",
    "ShardIterator",
    "NextShardIterator",
    "ApproximateCreationDateTime",
    "SizeBytes",
}


def _comparable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items() if k not in _VOLATILE}
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    return value


def _run(fast: bool, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    with mock_aws():
        if fast:
            moto_fast_responses.install()
        try:
            return _conversation()
        finally:
            moto_fast_responses.uninstall()


def test_fast_responses_parse_exactly_as_moto_serializes_them(monkeypatch):
    stock = _run(False, monkeypatch)
    fast = _run(True, monkeypatch)
    assert [name for name, _ in fast] == [name for name, _ in stock]
    for (name, expected), (_, actual) in zip(stock, fast, strict=True):
        assert _comparable(actual) == _comparable(expected), name
    records = dict(fast)["GetRecords"]["Records"]
    assert records[0]["dynamodb"]["NewImage"]["b"]["B"] == b"\x00\xffbinary"
    fast_time = records[0]["dynamodb"]["ApproximateCreationDateTime"]
    stock_time = dict(stock)["GetRecords"]["Records"][0]["dynamodb"]["ApproximateCreationDateTime"]
    assert fast_time.tzinfo is not None and stock_time.tzinfo is not None
    assert abs((fast_time - stock_time).total_seconds()) < 60


def test_the_fast_path_is_taken_and_removed(monkeypatch):
    from moto.dynamodb.responses import DynamoHandler

    moto_fast_responses.install()
    assert "serialized" in vars(DynamoHandler)
    moto_fast_responses.uninstall()
    assert "serialized" not in vars(DynamoHandler)
