"""The local stack's item-level plain UpdateItem ends every item and answers every call exactly as moto's own
update_item does: counters, set members, SET and REMOVE, conditions that hold or fail, a new item, and the
shapes it leaves to moto. The detect suite's entity writes take this path on the local stack."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from infra.local import moto_plain_updates, moto_speedups


def update(table: str, pk: str, expression: str, values: dict[str, Any], names=None, condition=None, **extra):
    request = {"TableName": table, "Key": {"pk": {"S": pk}, "sk": {"S": "AGG"}}, "UpdateExpression": expression,
               "ExpressionAttributeValues": values, **extra}  # fmt: skip
    if names:
        request["ExpressionAttributeNames"] = names
    if condition:
        request["ConditionExpression"] = condition
    return request


def guarded(table: str, pk: str, token: str, bucket: str = "T1", remove: str | None = None):
    names = {"#t": bucket, "#c": "ch5"} | ({"#r": remove} if remove else {})
    return update(
        table,
        pk,
        "ADD #t :t, #c :one, Lah5 :who SET expires_at = :e" + (" REMOVE #r" if remove else ""),
        {":t": {"SS": [token]}, ":token": {"S": token}, ":one": {"N": "1"}, ":who": {"SS": [pk + token]},
         ":e": {"N": "99"}},
        names,
        condition="NOT contains(#t, :token)",
    )  # fmt: skip


CALLS = [
    lambda t: guarded(t, "a", "tok1"),
    lambda t: guarded(t, "a", "tok2"),
    lambda t: guarded(t, "a", "tok1"),  # applied before: refused
    lambda t: guarded(t, "a", "tok3", bucket="T2", remove="T1"),
    lambda t: guarded(t, "b", "tok1"),
    lambda t: update(t, "b", "ADD n :x SET s = :s", {":x": {"N": "2.50"}, ":s": {"S": "v"}}),
    lambda t: update(t, "b", "SET n = n + :x", {":x": {"N": "1"}}),  # not the simple shape: moto's own path
    lambda t: update(t, "b", "ADD n :x", {":x": {"N": "1"}, ":unused": {"N": "1"}}),  # moto's validation error
    lambda t: update(t, "c", "ADD n :x", {":x": {"N": "1"}}, condition="attribute_exists(pk)"),  # refused
    lambda t: update(t, "b", "ADD n :x", {":x": {"N": "1"}}, ReturnValues="ALL_NEW"),
    lambda t: update(t, "b", "ADD s :x", {":x": {"N": "1"}}),  # s is a string: moto's path, its error
    lambda t: update(t, "b", "SET sk = :s", {":s": {"S": "z"}}),  # a key attribute: moto's path, its error
    lambda t: update(t, "d", "ADD big :b", {":b": {"SS": ["x" * 200_000]}}),
    lambda t: update(t, "d", "ADD big :b", {":b": {"SS": ["y" * 200_000]}}),  # 400 KB and a little: accepted
]


def outcomes(stack, table: str) -> list[Any]:
    answers: list[Any] = []
    for call in CALLS:
        try:
            response = stack.dynamodb.update_item(**call(table))
            answers.append(response.get("Attributes"))
        except ClientError as exc:
            answers.append(exc.response["Error"]["Code"])
    return answers


def table_like_state(stack, name: str) -> str:
    """A table with StateTable's key schema and no stream."""
    stack.dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def items(stack, name: str) -> list[dict]:
    from shopwatch.storage.items import from_attributes

    return sorted((from_attributes(i) for i in stack.dynamodb.scan(TableName=name)["Items"]), key=lambda i: i["pk"])


@pytest.mark.parametrize("with_speedups", [False, True])
def test_plain_updates_end_as_motos_own(stack, with_speedups):
    if with_speedups:
        moto_speedups.install()
    try:
        plain = outcomes(stack, table_like_state(stack, "moto-own"))
        expected_items = items(stack, "moto-own")
        before = moto_plain_updates.served["plain"]
        moto_plain_updates.install()
        try:
            fast = outcomes(stack, table_like_state(stack, "item-level"))
        finally:
            moto_plain_updates.uninstall()
    finally:
        if with_speedups:
            moto_speedups.uninstall()
    assert moto_plain_updates.served["plain"] - before == 7  # the simple shapes applied; the rest went to moto
    assert fast == plain
    assert plain[2] == "ConditionalCheckFailedException" and plain[8] == "ConditionalCheckFailedException"
    assert plain[7] == plain[10] == plain[11] == "ValidationException"
    assert plain[12] is None and plain[13] is None
    assert items(stack, "item-level") == expected_items


def test_an_update_past_the_item_size_limit_is_refused_and_changes_nothing(stack):
    """DynamoDB refuses an update that would take an item past 400 KB. moto's own update_item adds set members
    in place without measuring (it accepts this one); the item-level path measures the changed attributes
    against moto's own limit for whole items (405,000 bytes), as the put of the rebuilt item used to."""
    table = table_like_state(stack, "size-limit")
    moto_speedups.install()
    moto_plain_updates.install()
    try:
        for member in ("x", "y"):
            stack.dynamodb.update_item(**update(table, "d", "ADD big :b", {":b": {"SS": [member * 200_000]}}))
        with pytest.raises(ClientError) as refused:
            stack.dynamodb.update_item(**update(table, "d", "ADD big :b", {":b": {"SS": ["z" * 5_000]}}))
        stack.dynamodb.update_item(**update(table, "d", "ADD n :x", {":x": {"N": "1"}}))
    finally:
        moto_plain_updates.uninstall()
        moto_speedups.uninstall()
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    (item,) = items(stack, table)
    assert sorted(len(m) for m in item["big"]) == [200_000, 200_000] and item["n"] == 1
