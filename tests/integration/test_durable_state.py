"""durable_state on moto: what a commit writes comes back exactly (items, stream records with their sequence
numbers, trim point, stream label, checkpoints, SNS publishes, SQS messages, the user pool with its ids), from the
journal alone (as after SIGKILL) or from a snapshot plus the journal after it; a torn last commit is dropped."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID

from infra.local import moto_patches, stream_retention
from infra.local.durable_state import Backends, DurableState, decode_value, encode_value
from infra.local.journal import frame
from infra.local.resources import create_resources

REGION = "us-east-1"


@pytest.fixture(autouse=True)
def aws_env(monkeypatch):
    for name, value in {"AWS_DEFAULT_REGION": REGION, "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


class Moto:
    """A fresh moto with the template's resources, as the local stack starts one."""

    def __enter__(self) -> Moto:
        self.mock = mock_aws()
        self.mock.start()
        moto_patches.install()
        self.session = boto3.Session(region_name=REGION)
        self.resources = create_resources(self.session)
        self.backends = Backends.of(DEFAULT_ACCOUNT_ID, REGION)
        return self

    def __exit__(self, *exc: object) -> None:
        moto_patches.uninstall()
        self.mock.stop()

    def table(self, logical: str) -> str:
        return self.resources.tables[logical]


def write_some(moto: Moto, run: str) -> None:
    dynamodb = moto.session.client("dynamodb")
    transactions, state = moto.table("TransactionsTable"), moto.table("StateTable")
    for n in range(5):
        dynamodb.put_item(TableName=transactions, Item={
            "transaction_id": {"S": f"{run}-{n}"}, "customer_id": {"S": "c1"}, "timestamp": {"S": "2026-11-30T08:00:00Z"},
            "amount": {"N": "12.50"}, "raw": {"B": b"\x00\x01"}, "tags": {"SS": ["a", "b"]},
            "items": {"L": [{"M": {"sku": {"S": "A"}, "quantity": {"N": "2"}}}]}, "flag": {"BOOL": True},
            "nothing": {"NULL": True},
        })  # fmt: skip
    dynamodb.update_item(TableName=transactions, Key={"transaction_id": {"S": f"{run}-0"}},
                         UpdateExpression="SET verdict = :v", ExpressionAttributeValues={":v": {"S": "ok"}})  # fmt: skip
    dynamodb.delete_item(TableName=transactions, Key={"transaction_id": {"S": f"{run}-4"}})
    dynamodb.transact_write_items(TransactItems=[
        {"Put": {"TableName": state, "Item": {"pk": {"S": f"TXN#{run}"}, "sk": {"S": "DETECT#0"}}}},
        {"Update": {"TableName": state, "Key": {"pk": {"S": "CUSTOMER#c1"}, "sk": {"S": "PROFILE"}},
                    "UpdateExpression": "ADD purchases :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}},
    ])  # fmt: skip
    sns = moto.session.client("sns")
    sns.publish(TopicArn=moto.resources.topics["AlertsTopic"], Message=f"alert {run}", Subject="alert")
    sqs = moto.session.client("sqs")
    sqs.send_message(QueueUrl=next(iter(moto.resources.queues.values())), MessageBody=f"dead letter {run}")
    cognito = moto.session.client("cognito-idp")
    cognito.admin_create_user(UserPoolId=moto.resources.user_pools["UserPool"], Username=f"user-{run}",
                              MessageAction="SUPPRESS")  # fmt: skip
    s3 = moto.session.client("s3")  # a model artifact: the registry in StateTable names it, it must come back too
    s3.put_object(
        Bucket=moto.resources.buckets["ModelBucket"], Key=f"models/{run}/arrays.npz", Body=b"\x93NUMPY" + run.encode()
    )
    s3.put_object(Bucket=moto.resources.buckets["ModelBucket"], Key="models/latest.json", Body=run.encode())


def everything(moto: Moto, pool_id: str) -> dict[str, Any]:
    """What a restore must give back, read from moto."""
    tables = {}
    for name, table in moto.backends.dynamodb.tables.items():
        items = []
        for stored in table.items.values():
            for item in stored.values() if table.range_key_attr else [stored]:
                items.append(item.to_json()["Attributes"])
        shard = table.stream_shard
        stream = None
        if shard is not None:
            first = stream_retention.first_sequence_number(shard)
            stream = (first, shard.get(first, 10_000), table.latest_stream_label, shard.id)
        tables[name] = (sorted(items, key=repr), stream)
    pool = moto.backends.cognito.user_pools[pool_id]
    return {
        "tables": tables,
        "sns": {arn: list(t.sent_notifications) for arn, t in moto.backends.sns.topics.items()},
        "sqs": {name: [(m.id, m.body) for m in q._messages] for name, q in moto.backends.sqs.queues.items()},
        "users": sorted((u.username, u.status, u.id) for u in pool.users.values()),
        "clients": sorted(pool.clients),
        "buckets": {
            name: {key: fake.value for key, fake in bucket.keys.items()}
            for name, bucket in moto.backends.s3.buckets.items()
        },
    }


def kill(state: DurableState) -> None:
    """As SIGKILL leaves it: no last commit, no snapshot."""
    state._stop.set()
    state._thread.join()
    state.journal.close()


def test_encoding_keeps_every_dynamodb_type_exactly():
    from moto.dynamodb.models.dynamo_type import DynamoType

    value = DynamoType({"M": {"b": {"B": b"\x00"}, "l": {"L": [{"N": "1.50"}, {"NULL": True}]}, "s": {"SS": ["x"]},
                              "bs": {"BS": [b"\x01"]}, "ns": {"NS": ["1", "2"]}, "t": {"BOOL": False}}})  # fmt: skip
    again = decode_value(encode_value(value))
    assert again == value and again.to_json() == value.to_json() and type(again.value["l"].value[0]) is DynamoType


@pytest.mark.parametrize("snapshot", [False, True], ids=["journal only (SIGKILL)", "snapshot and journal"])
def test_a_restart_gives_back_exactly_what_was_committed(tmp_path, snapshot):
    checkpoints = {"DetectFunction:TransactionsStream": {"shardId-1": "1100000000017454423010"}}
    with Moto() as first:
        state = DurableState(tmp_path, first.backends, lambda: checkpoints, interval=3600)
        assert state.restore().empty
        state.start()
        write_some(first, "one")
        state.commit()
        if snapshot:
            state.compact()
        write_some(first, "two")
        stream_retention.trim_shard(first.backends.dynamodb.tables[first.table("TransactionsTable")].stream_shard,
                                    now=1e12)  # every record trimmed: the trim point is kept too  # fmt: skip
        state.commit()
        pool_id = first.resources.user_pools["UserPool"]
        expected = everything(first, pool_id)
        kill(state)

    with Moto() as second:
        assert second.resources.user_pools["UserPool"] != pool_id  # moto made a new pool: the restore puts it back
        restored_state = DurableState(tmp_path, second.backends)
        restored = restored_state.restore()
        assert restored.snapshot is snapshot and not restored.torn_tail
        assert restored.user_pools == {second.resources.user_pools["UserPool"]: pool_id}
        assert restored.checkpoints == checkpoints
        assert everything(second, pool_id) == expected
        assert restored_state.durable_notifications == {arn: len(n) for arn, n in expected["sns"].items()}


def test_a_torn_last_commit_is_dropped_and_the_state_is_the_last_whole_one(tmp_path):
    with Moto() as first:
        state = DurableState(tmp_path, first.backends, interval=3600)
        state.restore()
        state.start()
        write_some(first, "one")
        state.commit()
        pool_id = first.resources.user_pools["UserPool"]
        expected = everything(first, pool_id)
        write_some(first, "two")
        state.commit()
        kill(state)
    segment = sorted(tmp_path.glob("journal-*.log"))[-1]
    data = segment.read_bytes()
    last = len(data) - _last_frame_size(data)
    segment.write_bytes(data[: last + (len(data) - last) // 2])  # the last commit half written

    with Moto() as second:
        restored_state = DurableState(tmp_path, second.backends, interval=3600)
        restored = restored_state.restore()
        assert restored.torn_tail
        assert everything(second, pool_id) == expected
        restored_state.start()  # appends after the cut: a later restart reads on past it
        second.session.client("dynamodb").put_item(
            TableName=second.table("StateTable"), Item={"pk": {"S": "after"}, "sk": {"S": "restart"}}
        )
        restored_state.commit()
        kill(restored_state)
    with Moto() as third:
        DurableState(tmp_path, third.backends).restore()
        assert third.backends.dynamodb.tables[third.table("StateTable")].items.get(decode_value(("S", "after"))), (
            "a commit written after a torn tail was lost"
        )


def _last_frame_size(data: bytes) -> int:
    from infra.local.journal import parse

    return len(frame(parse(data).records[-1]))


def test_a_clean_stop_leaves_one_snapshot_and_an_empty_journal(tmp_path):
    with Moto() as first:
        state = DurableState(tmp_path, first.backends, interval=0.05, compact_bytes=8)
        state.restore()
        state.start()
        write_some(first, "one")
        state.stop(snapshot=True)
    names = sorted(p.name for p in Path(tmp_path).iterdir())
    assert "snapshot.bin" in names and all(n == "snapshot.bin" or n.startswith("journal-") for n in names), names
    assert all(os.path.getsize(tmp_path / n) == 0 for n in names if n.startswith("journal-"))


def test_the_outbox_delivers_only_publishes_on_disk_and_is_rebuilt_from_them_once_each(tmp_path):
    from infra.local.outbox import Outbox, Subscription

    with Moto() as moto:
        topic = moto.resources.topics["AlertsTopic"]
        sns = moto.session.client("sns")
        subscriptions = [Subscription("Mail", "email", "a@shop.example", {}, topic)]
        on_disk = {topic: 0}
        path = tmp_path / "outbox.jsonl"
        outbox = Outbox(subscriptions, path, published_on_disk=lambda arn: on_disk[arn])
        first = sns.publish(TopicArn=topic, Message="one", Subject="s")["MessageId"]
        second = sns.publish(TopicArn=topic, Message="two", Subject="s")["MessageId"]
        assert outbox.collect() == []  # published, not yet committed: not delivered
        on_disk[topic] = 1
        assert [d["message_id"] for d in outbox.collect()] == [first]
        delivered_at = outbox.deliveries[0]["at"]
        with path.open("a") as handle:
            handle.write('{"message_id": "torn')  # a kill in the middle of the next line
        on_disk[topic] = 2
        again = Outbox(subscriptions, path, published_on_disk=lambda arn: on_disk[arn])  # a restart
        lines = [json.loads(line) for line in path.read_text().splitlines()]
        assert [d["message_id"] for d in lines] == [first, second]  # each once, the torn line gone
        assert lines[0]["at"] == delivered_at  # when it was first delivered, not when the file was rebuilt
        assert again.collect() == []
