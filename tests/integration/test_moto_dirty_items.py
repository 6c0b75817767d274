"""moto_dirty_items against stock moto: every path that changes an item notes its key (and nothing else), the
answers and the stored items are exactly stock moto's, and the key is noted while the write holds WRITE_LOCK."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from infra.local import moto_dirty_items, moto_item_lock, moto_patches
from infra.local.moto_dirty_items import DIRTY
from infra.local.moto_item_lock import WRITE_LOCK

TABLE = "dirty-items"


def make_table(client):
    client.create_table(
        TableName=TABLE, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )  # fmt: skip


def key(pk: str, sk: str) -> dict:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def workload(client) -> list:
    """Every kind of write, and refused ones; the answers, for comparing with stock moto."""
    answers = [client.put_item(TableName=TABLE, Item=key("a", "1") | {"n": {"N": "1"}})]
    answers.append(client.update_item(TableName=TABLE, Key=key("a", "1"), UpdateExpression="ADD n :one",
                                      ExpressionAttributeValues={":one": {"N": "1"}}, ReturnValues="ALL_NEW"))  # fmt: skip
    answers.append(client.update_item(TableName=TABLE, Key=key("b", "1"), UpdateExpression="SET v = :v",
                                      ExpressionAttributeValues={":v": {"S": "new"}}, ReturnValues="ALL_NEW"))  # fmt: skip
    answers.append(client.batch_write_item(RequestItems={TABLE: [
        {"PutRequest": {"Item": key("c", "1")}}, {"PutRequest": {"Item": key("c", "2")}},
    ]}))  # fmt: skip
    answers.append(client.delete_item(TableName=TABLE, Key=key("c", "2"), ReturnValues="ALL_OLD"))
    answers.append(client.transact_write_items(TransactItems=[
        {"Put": {"TableName": TABLE, "Item": key("d", "1")}},
        {"Update": {"TableName": TABLE, "Key": key("a", "1"), "UpdateExpression": "SET m = :m",
                    "ExpressionAttributeValues": {":m": {"M": {"x": {"L": [{"S": "y"}]}}}}}},
        {"Delete": {"TableName": TABLE, "Key": key("c", "1")}},
    ]))  # fmt: skip
    refusals = [
        lambda: client.put_item(TableName=TABLE, Item=key("a", "1"), ConditionExpression="attribute_not_exists(pk)"),
        lambda: client.update_item(TableName=TABLE, Key=key("e", "1"), UpdateExpression="SET v = :v",
                                   ConditionExpression="attribute_exists(pk)", ExpressionAttributeValues={":v": {"S": "x"}}),
        lambda: client.transact_write_items(TransactItems=[
            {"Put": {"TableName": TABLE, "Item": key("f", "1")}},
            {"ConditionCheck": {"TableName": TABLE, "Key": key("zz", "1"), "ConditionExpression": "attribute_exists(pk)"}},
        ]),
    ]  # fmt: skip
    for refused in refusals:
        with pytest.raises(ClientError) as caught:
            refused()
        answers.append(caught.value.response["Error"]["Code"])
    for answer in answers:
        if isinstance(answer, dict):
            answer.pop("ResponseMetadata", None)
    return answers


def stored(client) -> list:
    return sorted(client.scan(TableName=TABLE)["Items"], key=lambda i: (i["pk"]["S"], i["sk"]["S"]))


def run(patched: bool):
    with mock_aws():
        if patched:
            moto_patches.install("moto_dirty_items", "moto_item_lock")
        try:
            client = boto3.client("dynamodb", region_name="us-east-1")
            make_table(client)
            DIRTY.start()
            answers = workload(client)
            noted = {(t, h.value, r.value) for t, h, r in DIRTY.take()}
            return answers, stored(client), noted
        finally:
            DIRTY.stop()
            if patched:
                moto_patches.uninstall("moto_item_lock", "moto_dirty_items")


def test_every_changed_key_is_noted_and_moto_answers_as_stock_moto():
    stock_answers, stock_items, stock_noted = run(patched=False)
    answers, items, noted = run(patched=True)
    assert stock_noted == set()  # stock moto notes nothing: the recording is the patch's
    assert answers == stock_answers and items == stock_items
    changed = {(TABLE, pk, "1") for pk in "abcd"} | {(TABLE, "c", "2")}
    assert changed <= noted
    # a refused write may be noted too (stock moto's transaction writes, then rolls back): harmless, as the
    # journal reads what is stored under a noted key, and nothing is
    present = {(TABLE, i["pk"]["S"], i["sk"]["S"]) for i in items}
    assert not (noted - changed) & present


def test_keys_are_noted_under_the_write_lock_and_nothing_while_not_recording(monkeypatch):
    with mock_aws():
        moto_patches.install("moto_dirty_items", "moto_item_lock")
        try:
            client = boto3.client("dynamodb", region_name="us-east-1")
            make_table(client)
            client.put_item(TableName=TABLE, Item=key("before", "1"))
            assert DIRTY.take() == set()  # not recording yet
            held = []
            original = DirtyKeysNote = DIRTY.note

            def note(*args):
                held.append(WRITE_LOCK._is_owned())
                DirtyKeysNote(*args)

            monkeypatch.setattr(DIRTY, "note", note)
            DIRTY.start()
            client.put_item(TableName=TABLE, Item=key("x", "1"))
            client.update_item(TableName=TABLE, Key=key("x", "1"), UpdateExpression="SET v = :v",
                               ExpressionAttributeValues={":v": {"S": "1"}})  # fmt: skip
            client.delete_item(TableName=TABLE, Key=key("x", "1"))
            assert held and all(held), held
            monkeypatch.setattr(DIRTY, "note", original)
        finally:
            DIRTY.stop()
            moto_patches.uninstall("moto_item_lock", "moto_dirty_items")


def test_install_is_idempotent_and_uninstall_restores_moto():
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    stock = (Table.put_item, Table.delete_item, DynamoDBBackend.update_item)
    moto_dirty_items.install()
    moto_dirty_items.install()
    assert Table.put_item is moto_dirty_items._put_item
    moto_dirty_items.uninstall()
    assert (Table.put_item, Table.delete_item, DynamoDBBackend.update_item) == stock
    assert moto_item_lock.WRITE_LOCK is WRITE_LOCK


def test_the_local_stacks_item_level_updates_are_noted_too():
    """moto_speedups replaces an existing item of a stream-less table without Table.put_item (a plain update or
    a transaction's Update): the journal must still hear of it."""
    with mock_aws():
        moto_patches.install()
        try:
            client = boto3.client("dynamodb", region_name="us-east-1")
            client.create_table(
                TableName="state-like", BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            )  # fmt: skip
            client.put_item(TableName="state-like", Item=key("p", "1") | {"n": {"N": "1"}})
            client.put_item(TableName="state-like", Item=key("t", "1") | {"n": {"N": "1"}})
            DIRTY.start()
            add = {"UpdateExpression": "ADD n :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}
            client.update_item(TableName="state-like", Key=key("p", "1"), **add)
            client.transact_write_items(
                TransactItems=[{"Update": {"TableName": "state-like", "Key": key("t", "1"), **add}}]
            )
            noted = {(t, h.value, r.value) for t, h, r in DIRTY.take()}
        finally:
            DIRTY.stop()
            moto_patches.uninstall()
    assert noted == {("state-like", "p", "1"), ("state-like", "t", "1")}
