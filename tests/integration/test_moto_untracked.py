"""moto_untracked: moto stops remembering every DynamoDB/Streams/SNS/SQS object it ever built, and answers
exactly as before."""

from __future__ import annotations

import gc
import weakref
from typing import Any

import boto3
from moto import mock_aws
from moto.dynamodb.models.dynamo_type import Item
from moto.dynamodb.models.table import StreamRecord
from moto.dynamodbstreams.models import ShardIterator

from infra.local import moto_untracked
from tests.integration.moto_conversation import create_streamed_table


def _traffic() -> tuple[list[Any], Any]:
    """Puts, overwrites, updates, a delete and stream reads; every answer, and a weak reference to one Item
    that the table no longer holds (its key was overwritten)."""
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    streams = boto3.client("dynamodbstreams", region_name="us-east-1")
    arn = create_streamed_table(dynamodb, "t")
    answers: list[Any] = []
    dynamodb.put_item(TableName="t", Item={"pk": {"S": "k"}, "v": {"N": "0"}})
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    replaced = weakref.ref(dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].get_table("t").items[
        next(iter(dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].get_table("t").items))
    ])  # fmt: skip
    for i in range(1, 200):
        dynamodb.put_item(TableName="t", Item={"pk": {"S": "k"}, "v": {"N": str(i)}})
    dynamodb.update_item(
        TableName="t", Key={"pk": {"S": "k"}}, UpdateExpression="ADD v :one", ExpressionAttributeValues={":one": {"N": "1"}}
    )  # fmt: skip
    answers.append(dynamodb.get_item(TableName="t", Key={"pk": {"S": "k"}})["Item"])
    dynamodb.delete_item(TableName="t", Key={"pk": {"S": "k"}})
    answers.append(dynamodb.scan(TableName="t")["Items"])
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    records = streams.get_records(ShardIterator=iterator)["Records"]
    answers.append([(r["eventName"], r["dynamodb"]["SequenceNumber"], r["dynamodb"].get("NewImage")) for r in records])
    return answers, replaced


def test_no_history_is_kept_and_answers_are_moto_s_own():
    with mock_aws():
        stock, stock_replaced = _traffic()
        gc.collect()
        assert stock_replaced() is not None  # stock moto keeps the overwritten Item alive in its tracking list
        assert len(Item.instances_tracked) >= 200
    with mock_aws():
        moto_untracked.install()
        try:
            assert moto_untracked.installed()
            untracked, replaced = _traffic()
            gc.collect()
            assert replaced() is None  # overwritten, so gone
            assert list(Item.instances_tracked) == []
            assert list(StreamRecord.instances_tracked) == []
            assert list(ShardIterator.instances_tracked) == []
        finally:
            moto_untracked.uninstall()
    assert untracked == stock
    assert untracked[0] == {"pk": {"S": "k"}, "v": {"N": "200"}}
    assert [name for name, _, _ in untracked[2]].count("INSERT") == 1


def test_uninstall_tracks_again_and_install_is_idempotent():
    moto_untracked.install()
    moto_untracked.install()
    assert moto_untracked.installed()
    moto_untracked.uninstall()
    assert not moto_untracked.installed()
    assert type(Item.instances_tracked) is list
