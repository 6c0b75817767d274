"""moto numbers stream records without a lock; the local stack and the tests serialise its writes so that
records written from many threads (ingest's parallel puts) get distinct, growing sequence numbers."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
from moto import mock_aws

from infra.local import moto_item_lock
from infra.local.stream_reader import StreamCursor, StreamOrderError
from tests.integration.moto_conversation import create_streamed_table


def test_parallel_puts_get_distinct_sequence_numbers_and_each_record_is_read_once():
    with mock_aws():
        moto_item_lock.install()
        try:
            dynamodb = boto3.client("dynamodb", region_name="us-east-1")
            arn = create_streamed_table(dynamodb, "t")
            with ThreadPoolExecutor(16) as pool:
                list(pool.map(lambda i: dynamodb.put_item(TableName="t", Item={"pk": {"S": str(i)}}), range(2000)))
            records = StreamCursor(boto3.client("dynamodbstreams", region_name="us-east-1"), arn).read_new()
        finally:
            moto_item_lock.uninstall()
    numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert len(numbers) == 2000
    assert numbers == sorted(set(numbers))
    assert {r["dynamodb"]["Keys"]["pk"]["S"] for r in records} == {str(i) for i in range(2000)}


def test_install_is_idempotent_and_uninstall_restores_moto():
    from moto.dynamodb.models import DynamoDBBackend

    stock = DynamoDBBackend.put_item
    moto_item_lock.install()
    locked = DynamoDBBackend.put_item
    moto_item_lock.install()
    assert DynamoDBBackend.put_item is locked is not stock
    moto_item_lock.uninstall()
    assert DynamoDBBackend.put_item is stock


class _RepeatingShard:
    """A stream that hands back the same record for every iterator, as duplicate sequence numbers would."""

    def describe_stream(self, StreamArn):
        return {"StreamDescription": {"Shards": [{"ShardId": "s1"}]}}

    def get_shard_iterator(self, **_):
        return {"ShardIterator": "it"}

    def get_records(self, **_):
        return {"Records": [{"dynamodb": {"SequenceNumber": "7"}}], "NextShardIterator": "it"}


def test_a_shard_that_does_not_advance_is_an_error_not_an_endless_read():
    with pytest.raises(StreamOrderError, match="record 7 after 7"):
        StreamCursor(_RepeatingShard(), "arn").read_new()
