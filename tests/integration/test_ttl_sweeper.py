"""TTL on the local stack: expired items are deleted as DynamoDB's TTL process deletes them, and only those,
with a REMOVE stream record in DynamoDB's shape that no stream consumer of the template picks up."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends

from infra.local import moto_item_lock, stream_retention
from infra.local.resources import create_resources, create_table_kwargs
from infra.local.stream_events import lambda_record, passes_filters
from infra.local.stream_poller import sources_from_template
from infra.local.stream_reader import StreamCursor
from infra.local.ttl_sweeper import FIVE_YEARS, TtlSweeper
from infra.template import load_template, resources_of_type
from tests.clocks import ManualClock

NOW = 1_800_000_000.0  # the injected clock: 2027-01-15
TEMPLATE = load_template()


@pytest.fixture
def moto() -> Iterator[Any]:
    with mock_aws():
        moto_item_lock.install()
        stream_retention.install(clock=ManualClock(NOW))
        try:
            yield boto3.client("dynamodb", region_name="us-east-1")
        finally:
            stream_retention.uninstall()
            moto_item_lock.uninstall()


def _state_table_with_stream(dynamodb: Any) -> str:
    """The template's StateTable (keys, indexes, TTL spec), given a stream so the deletions can be seen."""
    properties = TEMPLATE["Resources"]["StateTable"]["Properties"]
    kwargs = create_table_kwargs(properties, "state")
    kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    arn = dynamodb.create_table(**kwargs)["TableDescription"]["LatestStreamArn"]
    ttl = properties["TimeToLiveSpecification"]
    dynamodb.update_time_to_live(
        TableName="state", TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True}
    )
    return arn


def _put(dynamodb: Any, pk: str, sk: str, **attributes: dict[str, Any]) -> None:
    dynamodb.put_item(TableName="state", Item={"pk": {"S": pk}, "sk": {"S": sk}, **attributes})


def _keys(dynamodb: Any) -> set[tuple[str, str]]:
    return {(i["pk"]["S"], i["sk"]["S"]) for i in dynamodb.scan(TableName="state")["Items"]}


def _sweeper(clock_at: float) -> TtlSweeper:
    return TtlSweeper(dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"], clock=ManualClock(clock_at))


def test_moto_keeps_the_template_ttl_spec_that_the_sweeper_reads(moto):
    """resources.create_resources gives the StateTable the template's TTL; moto stores it as DescribeTimeToLive
    reports it, which is what the sweeper follows."""
    session = boto3.Session(region_name="us-east-1")
    made = create_resources(session)
    spec = TEMPLATE["Resources"]["StateTable"]["Properties"]["TimeToLiveSpecification"]
    described = moto.describe_time_to_live(TableName=made.tables["StateTable"])["TimeToLiveDescription"]
    assert described == {"TimeToLiveStatus": "ENABLED", "AttributeName": spec["AttributeName"]}
    ttl_tables = [
        logical
        for logical, r in resources_of_type(TEMPLATE, "AWS::DynamoDB::Table").items()
        if r["Properties"].get("TimeToLiveSpecification", {}).get("Enabled")
    ]
    for logical in set(made.tables) - set(ttl_tables):
        assert moto.describe_time_to_live(TableName=made.tables[logical])["TimeToLiveDescription"] == {
            "TimeToLiveStatus": "DISABLED"
        }


def test_only_items_whose_number_ttl_is_past_and_within_five_years_are_deleted(moto):
    _state_table_with_stream(moto)
    n = lambda v: {"N": str(v)}  # noqa: E731
    _put(moto, "A", "expired", expires_at=n(int(NOW) - 10), payload={"S": "x"})
    _put(moto, "A", "fraction", expires_at=n(f"{NOW - 0.5}"))
    _put(moto, "A", "future", expires_at=n(int(NOW) + 10))
    _put(moto, "A", "exactly-now", expires_at=n(int(NOW)))  # not below now: not expired yet
    _put(moto, "B", "string", expires_at={"S": str(int(NOW) - 10)})  # not a Number: ignored
    _put(moto, "B", "list", expires_at={"L": [n(int(NOW) - 10)]})
    _put(moto, "B", "six-years", expires_at=n(int(NOW) - FIVE_YEARS - 86400))  # too old: ignored
    _put(moto, "B", "just-within-five-years", expires_at=n(int(NOW) - FIVE_YEARS + 86400))
    _put(moto, "B", "milliseconds", expires_at=n(int(NOW * 1000) - 10))  # far future as seconds: kept
    _put(moto, "B", "no-ttl")
    _put(moto, "C", "alone", expires_at=n(int(NOW) - 1))

    result = _sweeper(NOW).sweep()

    assert result.deleted == 4
    assert _keys(moto) == {
        ("A", "future"),
        ("A", "exactly-now"),
        ("B", "string"),
        ("B", "list"),
        ("B", "six-years"),
        ("B", "milliseconds"),
        ("B", "no-ttl"),
    }
    table = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].get_table("state")
    assert "C" not in {k.value for k in table.items}  # an emptied partition leaves nothing behind
    assert _sweeper(NOW).sweep().deleted == 0  # a second pass finds nothing more
    assert _sweeper(NOW + 11).sweep().deleted == 2  # time moves on: "future" and "exactly-now" expire


def test_an_item_updated_to_a_later_expiry_before_the_sweep_is_kept(moto):
    _state_table_with_stream(moto)
    _put(moto, "A", "renewed", expires_at={"N": str(int(NOW) - 10)})
    moto.update_item(
        TableName="state",
        Key={"pk": {"S": "A"}, "sk": {"S": "renewed"}},
        UpdateExpression="SET expires_at = :e",
        ExpressionAttributeValues={":e": {"N": str(int(NOW) + 3600)}},
    )
    assert _sweeper(NOW).sweep().deleted == 0
    assert _keys(moto) == {("A", "renewed")}


def test_a_table_without_ttl_enabled_is_never_swept(moto):
    moto.create_table(
        TableName="plain",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    moto.put_item(TableName="plain", Item={"pk": {"S": "x"}, "expires_at": {"N": str(int(NOW) - 10)}})
    assert _sweeper(NOW).sweep().deleted == 0
    assert len(moto.scan(TableName="plain")["Items"]) == 1


def test_the_deletion_writes_a_remove_record_in_dynamodbs_ttl_shape(moto):
    arn = _state_table_with_stream(moto)
    cursor = StreamCursor(boto3.client("dynamodbstreams", region_name="us-east-1"), arn)
    _put(moto, "A", "expired", expires_at={"N": str(int(NOW) - 10)}, payload={"S": "x"})
    (insert,) = cursor.read_new()
    assert "userIdentity" not in insert  # a person's write carries none

    _sweeper(NOW).sweep()

    (remove,) = cursor.read_new()
    assert remove["eventName"] == "REMOVE"
    assert remove["userIdentity"] == {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}
    assert remove["dynamodb"]["Keys"] == {"pk": {"S": "A"}, "sk": {"S": "expired"}}
    assert remove["dynamodb"]["OldImage"]["payload"] == {"S": "x"}
    assert "NewImage" not in remove["dynamodb"]
    assert int(remove["dynamodb"]["SequenceNumber"]) == int(insert["dynamodb"]["SequenceNumber"]) + 1
    event_record = lambda_record(remove, arn)
    assert event_record["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    assert event_record["eventName"] == "REMOVE"
    assert "userIdentity" not in lambda_record(insert, arn)


def test_no_stream_consumer_of_the_template_receives_a_ttl_removal(moto):
    """Every DynamoDB event source of the template filters on INSERT (or an escalation MODIFY), so the TTL
    process's REMOVE records pass none of them; a consumer without filters would get them, so there must be none."""
    arn = _state_table_with_stream(moto)
    cursor = StreamCursor(boto3.client("dynamodbstreams", region_name="us-east-1"), arn)
    _put(moto, "A", "expired", expires_at={"N": str(int(NOW) - 10)}, last_change={"S": "escalated"})
    moto.update_item(
        TableName="state",
        Key={"pk": {"S": "A"}, "sk": {"S": "expired"}},
        UpdateExpression="SET note = :n",
        ExpressionAttributeValues={":n": {"S": "still escalated"}},
    )
    _sweeper(NOW).sweep()
    insert, modify, remove = (lambda_record(r, arn) for r in cursor.read_new())
    assert (insert["eventName"], modify["eventName"], remove["eventName"]) == ("INSERT", "MODIFY", "REMOVE")
    sources = sources_from_template(TEMPLATE, _resolver(), {})
    assert len(sources) == sum(
        1
        for r in TEMPLATE["Resources"].values()
        for e in r.get("Properties", {}).get("Events", {}).values()
        if r["Type"] == "AWS::Serverless::Function" and e["Type"] == "DynamoDB"
    )
    for source in sources:
        assert source.filters, f"{source.function} has no FilterCriteria: TTL removals would reach it"
        assert passes_filters(insert, list(source.filters)), source.function
        assert not passes_filters(remove, list(source.filters)), source.function


def _resolver() -> Any:
    from infra.local.resources import LocalResources

    made = LocalResources(
        tables={k: k for k in resources_of_type(TEMPLATE, "AWS::DynamoDB::Table")},
        stream_arns={k: f"arn:{k}" for k in resources_of_type(TEMPLATE, "AWS::DynamoDB::Table")},
        queues={k: f"https://queue/{k}" for k in resources_of_type(TEMPLATE, "AWS::SQS::Queue")},
        queue_arns={k: f"arn:sqs:{k}" for k in resources_of_type(TEMPLATE, "AWS::SQS::Queue")},
    )
    return made.resolver(TEMPLATE)


def test_the_sweeper_holds_the_write_lock_per_chunk_so_writes_interleave(moto):
    """A sweep of a large table is done a few hundred partitions at a time; a write waiting on the lock is
    let in between chunks instead of after the whole sweep."""
    _state_table_with_stream(moto)
    for i in range(600):
        _put(moto, f"P{i}", "m", expires_at={"N": str(int(NOW) - 10)})
    holds = []
    original = moto_item_lock.WRITE_LOCK

    class CountingLock:
        def __enter__(self) -> None:
            holds.append(time.monotonic())
            original.acquire()

        def __exit__(self, *exc: object) -> None:
            original.release()

    import infra.local.ttl_sweeper as module

    module.WRITE_LOCK = CountingLock()  # type: ignore[assignment]
    try:
        assert _sweeper(NOW).sweep().deleted == 600
    finally:
        module.WRITE_LOCK = original
    assert len(holds) == 1 + 3  # the partition list, then 600 partitions in chunks of 256
