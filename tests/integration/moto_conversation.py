"""One conversation with moto's DynamoDB and DynamoDB Streams: every call the repositories and the stream poller
make, with their error cases. The local stack's moto speed-ups are each checked to leave its answers unchanged."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

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


def create_streamed_table(dynamodb: Any, name: str) -> str:
    """A table keyed by a string `pk` with a NEW_IMAGE stream; returns the stream's ARN."""
    return dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )["TableDescription"]["LatestStreamArn"]


def conversation() -> list[tuple[str, Any]]:
    """Every hot call with realistic arguments, and the errors the repositories handle; returns (operation,
    parsed response or error response) pairs. Clients come from a new session, so handlers installed into
    botocore's built-ins apply."""
    session = boto3.Session(region_name="us-east-1")
    dynamodb = session.client("dynamodb")
    streams = session.client("dynamodbstreams")
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
    failing: list[tuple[str, Callable[[], Any]]] = [
        ("PutItem", lambda: dynamodb.put_item(TableName="t", Item={"pk": {"S": "b"}, "sk": {"N": "1"}},
                                              ConditionExpression="attribute_not_exists(pk)",
                                              ReturnValuesOnConditionCheckFailure="ALL_OLD")),
        ("TransactWriteItems", lambda: dynamodb.transact_write_items(TransactItems=[
            {"Put": {"TableName": "t", "Item": {"pk": {"S": "c"}, "sk": {"N": "1"}}}},
            {"Put": {"TableName": "t", "Item": {"pk": {"S": "b"}, "sk": {"N": "1"}}, "ConditionExpression": "attribute_not_exists(pk)"}},
        ])),
        ("GetItem", lambda: dynamodb.get_item(TableName="missing", Key=key)),
        ("Query", lambda: dynamodb.query(TableName="t", KeyConditionExpression="pk = :p")),
        ("UpdateItem", lambda: dynamodb.update_item(TableName="t", Key=key, UpdateExpression="SET")),
    ]  # fmt: skip
    responses = [(name, call()) for name, call in calls]
    for name, call in failing:
        with pytest.raises(ClientError) as raised:
            call()
        responses.append((name, raised.value.response))
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    responses.append(("GetShardIterator", iterator))
    responses.append(("GetRecords", streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=100)))
    # a stream of items without binary values (the transactions table's kind)
    plain = create_streamed_table(dynamodb, "plain")
    dynamodb.put_item(TableName="plain", Item={"pk": {"S": "p"}, "amount": {"N": "9.99"}, "tags": {"SS": ["a"]}})
    shard = streams.describe_stream(StreamArn=plain)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=plain, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    responses.append(("GetRecords", streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=100)))
    return responses


# What differs between any two identical runs: request ids, random iterator and event ids, record times, and
# moto's record size estimate (off by a byte from run to run).
VOLATILE = {
    "ResponseMetadata",
    "eventID",
    "ShardIterator",
    "NextShardIterator",
    "ApproximateCreationDateTime",
    "SizeBytes",
}


def comparable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: comparable(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [comparable(v) for v in value]
    return value
