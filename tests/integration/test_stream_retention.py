"""Stream retention on the local stack: records older than the retention are trimmed as DynamoDB Streams trims
them, reading a trimmed position fails as AWS fails it, iterators expire after 15 minutes, a reader sees
exactly what stock moto would show for the records kept, and the local poller copes with all of it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends

from infra.local import moto_item_lock, stream_retention
from infra.local.stream_poller import StreamPoller, StreamSource
from infra.local.stream_retention import ITERATOR_LIFETIME, RETENTION_CAP
from tests.clocks import ManualClock
from tests.integration.moto_conversation import create_streamed_table

RETENTION = 3600.0


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1_800_000_000.0)


@pytest.fixture
def aws(clock: ManualClock) -> Iterator[tuple[Any, Any, str]]:
    with mock_aws():
        moto_item_lock.install()
        stream_retention.install(RETENTION, clock)
        try:
            dynamodb = boto3.client("dynamodb", region_name="us-east-1")
            arn = create_streamed_table(dynamodb, "t")
            yield dynamodb, boto3.client("dynamodbstreams", region_name="us-east-1"), arn
        finally:
            stream_retention.uninstall()
            moto_item_lock.uninstall()


def _backends() -> tuple[Any, Any]:
    return (
        dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"],
        stream_retention.streams_backend(DEFAULT_ACCOUNT_ID, "us-east-1"),
    )


def _put(dynamodb: Any, *keys: str) -> None:
    for key in keys:
        dynamodb.put_item(TableName="t", Item={"pk": {"S": key}})


def _iterator(streams: Any, arn: str, kind: str, seq: str | None = None) -> str:
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    position = {"SequenceNumber": seq} if seq else {}
    return streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType=kind, **position)["ShardIterator"]


def _read_all(streams: Any, iterator: str) -> list[dict[str, Any]]:
    records = []
    while True:
        response = streams.get_records(ShardIterator=iterator)
        if not response["Records"]:
            return records
        records += response["Records"]
        iterator = response["NextShardIterator"]


def _code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return error.value.response["Error"]["Code"]


def test_records_older_than_the_retention_are_trimmed_and_numbers_do_not_move(aws, clock):
    dynamodb, streams, arn = aws
    _put(dynamodb, "old-1", "old-2", "old-3")
    clock.now += RETENTION - 1
    _put(dynamodb, "new-1", "new-2")
    before = _read_all(streams, _iterator(streams, arn, "TRIM_HORIZON"))
    clock.now += 2  # the first three are now older than the retention, the last two not

    assert stream_retention.trim(*_backends())[0] == 3

    after = _read_all(streams, _iterator(streams, arn, "TRIM_HORIZON"))
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in after] == ["new-1", "new-2"]
    assert after == before[3:]  # the same records, same sequence numbers and event ids
    _put(dynamodb, "new-3")
    latest = _read_all(
        streams, _iterator(streams, arn, "AFTER_SEQUENCE_NUMBER", after[-1]["dynamodb"]["SequenceNumber"])
    )
    assert [int(r["dynamodb"]["SequenceNumber"]) for r in latest] == [int(before[-1]["dynamodb"]["SequenceNumber"]) + 1]


def test_a_position_before_the_trim_point_is_refused_as_aws_refuses_it(aws, clock):
    dynamodb, streams, arn = aws
    _put(dynamodb, "a", "b", "c")
    first, second, third = _read_all(streams, _iterator(streams, arn, "TRIM_HORIZON"))
    clock.now += 60
    _put(dynamodb, "d")
    clock.now += RETENTION - 70
    held = _iterator(streams, arn, "TRIM_HORIZON")  # at a, 10 s before a is trimmed; used after
    clock.now += 20  # a, b, c are past the retention; d is not; the iterator is 20 s old
    stream_retention.trim(*_backends())

    with pytest.raises(ClientError) as refused:
        streams.get_records(ShardIterator=held)
    assert _code(refused) == "TrimmedDataAccessException"
    with pytest.raises(ClientError) as refused:
        _iterator(streams, arn, "AT_SEQUENCE_NUMBER", third["dynamodb"]["SequenceNumber"])
    assert _code(refused) == "TrimmedDataAccessException"
    with pytest.raises(ClientError) as refused:
        _iterator(streams, arn, "AFTER_SEQUENCE_NUMBER", first["dynamodb"]["SequenceNumber"])
    assert _code(refused) == "TrimmedDataAccessException"
    # just after the last trimmed record nothing was lost: allowed, and it reads d
    rest = _read_all(streams, _iterator(streams, arn, "AFTER_SEQUENCE_NUMBER", third["dynamodb"]["SequenceNumber"]))
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in rest] == ["d"]
    assert second["dynamodb"]["Keys"]["pk"]["S"] == "b"


def test_latest_starts_after_the_last_record_even_after_a_trim(aws, clock):
    dynamodb, streams, arn = aws
    _put(dynamodb, "a", "b")
    clock.now += RETENTION + 1
    stream_retention.trim(*_backends())
    latest = _iterator(streams, arn, "LATEST")
    assert streams.get_records(ShardIterator=latest)["Records"] == []
    _put(dynamodb, "c")
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in _read_all(streams, latest)] == ["c"]


def test_iterators_expire_after_15_minutes_and_are_then_forgotten(aws, clock):
    dynamodb, streams, arn = aws
    _put(dynamodb, "a")
    iterator = _iterator(streams, arn, "TRIM_HORIZON")
    clock.now += ITERATOR_LIFETIME + 1
    with pytest.raises(ClientError) as expired:
        streams.get_records(ShardIterator=iterator)
    assert _code(expired) == "ExpiredIteratorException"
    kept = len(_backends()[1].shard_iterators)
    fresh = _iterator(streams, arn, "TRIM_HORIZON")
    assert stream_retention.trim(*_backends())[1] == kept  # every older iterator dropped, the fresh one kept
    assert len(streams.get_records(ShardIterator=fresh)["Records"]) == 1


def test_an_empty_read_hands_back_its_iterator_renewed_instead_of_minting_one(aws, clock):
    dynamodb, streams, arn = aws
    iterator = _iterator(streams, arn, "LATEST")
    count = len(_backends()[1].shard_iterators)
    for _ in range(50):
        clock.now += 60  # 50 minutes of idle polling: the renewed iterator never expires
        iterator = streams.get_records(ShardIterator=iterator)["NextShardIterator"]
    assert len(_backends()[1].shard_iterators) == count
    _put(dynamodb, "a")
    response = streams.get_records(ShardIterator=iterator)
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in response["Records"]] == ["a"]
    assert response["NextShardIterator"] != iterator


def test_install_refuses_a_retention_beyond_dynamodbs_24_hours():
    with pytest.raises(ValueError, match="24 h"):
        stream_retention.install(RETENTION_CAP + 1)
    with pytest.raises(ValueError, match="more than 0"):
        stream_retention.install(0)


def _conversation(dynamodb: Any) -> None:
    """Writes of every kind on a NEW_AND_OLD_IMAGES table with a range key."""
    dynamodb.create_table(
        TableName="eq",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )  # fmt: skip
    item = {"pk": {"S": "p"}, "sk": {"S": "s"}, "n": {"N": "1.50"}, "m": {"M": {"l": {"L": [{"S": "x"}]}}},
            "ss": {"SS": ["a", "b"]}, "b": {"B": b"\x00\x01"}, "t": {"BOOL": True}, "z": {"NULL": True}}  # fmt: skip
    dynamodb.put_item(TableName="eq", Item=item)
    dynamodb.update_item(
        TableName="eq",
        Key={"pk": {"S": "p"}, "sk": {"S": "s"}},
        UpdateExpression="SET n = :n REMOVE t",
        ExpressionAttributeValues={":n": {"N": "2"}},
    )
    dynamodb.put_item(TableName="eq", Item={"pk": {"S": "q"}, "sk": {"S": "s"}, "u": {"S": "ü€"}})
    dynamodb.delete_item(TableName="eq", Key={"pk": {"S": "p"}, "sk": {"S": "s"}})


def _records_of_conversation(installed: bool) -> list[dict[str, Any]]:
    with mock_aws():
        if installed:
            stream_retention.install(RETENTION, ManualClock(1_800_000_000.0))
        try:
            dynamodb = boto3.client("dynamodb", region_name="us-east-1")
            streams = boto3.client("dynamodbstreams", region_name="us-east-1")
            _conversation(dynamodb)
            arn = dynamodb.describe_table(TableName="eq")["Table"]["LatestStreamArn"]
            records = _read_all(streams, _iterator(streams, arn, "TRIM_HORIZON"))
            latest = streams.get_records(ShardIterator=_iterator(streams, arn, "LATEST"))["Records"]
            assert latest == []
        finally:
            stream_retention.uninstall()
    for record in records:
        record.pop("eventID")  # random in both
        record["dynamodb"].pop("ApproximateCreationDateTime")  # the wall clock of the write
    return records


def test_records_read_are_those_stock_moto_returns():
    """Equivalence with stock moto: kept compressed and numbered by records ever written, a record reads back
    exactly as moto's own (images of every type, sizes, numbers, event names)."""
    stock = _records_of_conversation(installed=False)
    patched = _records_of_conversation(installed=True)
    # moto measures SizeBytes on the record's JSON with its creation time in it, whose text length varies
    sizes = [
        (a["dynamodb"].pop("SizeBytes"), b["dynamodb"].pop("SizeBytes")) for a, b in zip(stock, patched, strict=True)
    ]
    assert all(a > 0 and abs(a - b) <= 8 for a, b in sizes), sizes
    assert [r["eventName"] for r in stock] == ["INSERT", "MODIFY", "INSERT", "REMOVE"]
    assert patched == stock


# --- the local poller ---------------------------------------------------------------------------------------
class Collecting:
    """A LocalFunction stand-in: records what it is given."""

    def __init__(self) -> None:
        self.keys: list[str] = []

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        self.keys += [r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"]]
        return {}


def _poller(streams: Any, arn: str, function: Collecting) -> StreamPoller:
    source = StreamSource(function="F", event_name="S", stream_arn=arn, batch_size=100)
    return StreamPoller(source, function, streams, None, threading.Event())  # type: ignore[arg-type]


def test_the_poller_resumes_at_the_oldest_record_kept_when_its_position_was_trimmed(aws, clock):
    dynamodb, streams, arn = aws
    function = Collecting()
    poller = _poller(streams, arn, function)
    _put(dynamodb, "a")
    poller.poll_once()
    assert function.keys == ["a"]
    _put(dynamodb, "b", "c")  # written while the poller is stalled ...
    clock.now += RETENTION / 2
    _put(dynamodb, "d")
    clock.now += RETENTION / 2 + 1  # ... until b and c are trimmed; d is kept
    stream_retention.trim(*_backends())

    poller.poll_once()  # the held iterator points at b: trimmed
    poller.poll_once()
    assert function.keys == ["a", "d"]  # b and c are lost, as on AWS; nothing is delivered twice
    assert poller.stats.trimmed_resumes == 1


def test_a_poller_restarted_after_its_checkpoint_was_trimmed_starts_at_the_oldest_record_kept(aws, clock):
    dynamodb, streams, arn = aws
    first = _poller(streams, arn, Collecting())
    _put(dynamodb, "a", "b")
    first.poll_once()
    clock.now += RETENTION + 1
    _put(dynamodb, "c")
    stream_retention.trim(*_backends())
    function = Collecting()
    source = first.source
    restarted = StreamPoller(source, function, streams, None, threading.Event(), resume_after=first.checkpoints)  # type: ignore[arg-type]
    restarted.poll_once()
    assert function.keys == ["c"]
    # b was the checkpoint itself: the position after it is c, nothing was lost, no resume was needed
    assert restarted.stats.trimmed_resumes == 0


def test_the_poller_renews_an_expired_iterator_after_what_it_read(aws, clock):
    dynamodb, streams, arn = aws
    function = Collecting()
    poller = _poller(streams, arn, function)
    _put(dynamodb, "a")
    poller.poll_once()
    clock.now += ITERATOR_LIFETIME + 1  # idle (no polls) past the iterator's 15 minutes
    _put(dynamodb, "b")
    poller.poll_once()  # expired: a new iterator after "a"
    poller.poll_once()
    assert function.keys == ["a", "b"]
    assert poller.stats.trimmed_resumes == 0


def test_one_housekeeping_pass_sweeps_ttl_and_trims_streams(aws, clock):
    from infra.local.housekeeping import Housekeeping

    dynamodb, streams, arn = aws
    dynamodb.update_time_to_live(TableName="t", TimeToLiveSpecification={"AttributeName": "ttl", "Enabled": True})
    dynamodb.put_item(TableName="t", Item={"pk": {"S": "gone"}, "ttl": {"N": str(int(clock.now) + 10)}})
    dynamodb.put_item(TableName="t", Item={"pk": {"S": "kept"}, "ttl": {"N": str(int(clock.now) + RETENTION * 2)}})
    clock.now += RETENTION + 1
    housekeeping = Housekeeping(*_backends(), threading.Event())
    housekeeping.sweeper.clock = clock
    housekeeping.run_once()
    assert [i["pk"]["S"] for i in dynamodb.scan(TableName="t")["Items"]] == ["kept"]
    assert housekeeping.trimmed == 2  # both INSERTs were older than the retention
    (remove,) = _read_all(streams, _iterator(streams, arn, "TRIM_HORIZON"))  # the TTL deletion, just written
    assert remove["eventName"] == "REMOVE" and remove["userIdentity"]["PrincipalId"] == "dynamodb.amazonaws.com"
