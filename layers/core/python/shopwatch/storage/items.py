"""Conversion between Python values and DynamoDB's typed attribute values (Decimal in, Decimal out)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import DYNAMODB_CONTEXT, TypeDeserializer, TypeSerializer

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_attributes(item: dict[str, Any]) -> dict[str, Any]:
    return {key: to_attribute(value) for key, value in item.items()}


def to_attribute(value: Any) -> dict[str, Any]:
    """boto3's TypeSerializer, with strings and numbers (most of what we write: ~40 values a transaction) taken
    first instead of after its chain of type tests; a number goes through DynamoDB's decimal context as there
    (38 digits; an inexact one raises)."""
    kind = type(value)
    if kind is str:
        return {"S": value}
    if kind is Decimal or kind is int:
        number = str(DYNAMODB_CONTEXT.create_decimal(value))
        if number in ("Infinity", "NaN", "-Infinity", "sNaN", "-NaN", "-sNaN"):
            return _serializer.serialize(value)  # boto3 raises its TypeError
        return {"N": number}
    return _serializer.serialize(value)


def from_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    return {key: from_attribute(value) for key, value in attributes.items()}


def from_attribute(attribute: dict[str, Any]) -> Any:
    """boto3's TypeDeserializer with what our items hold (strings, numbers, maps, lists, booleans) taken by one
    type test each instead of its getattr per value: a stored transaction is ~40 values, and a backtest or a
    training run decodes 100,000 of them. Numbers go through DynamoDB's decimal context as there; sets, binary
    and anything unknown (or malformed) go to boto3, which decodes them or raises its TypeError."""
    if len(attribute) == 1:
        kind, value = next(iter(attribute.items()))
        if kind == "S":
            return value
        if kind == "N":
            return DYNAMODB_CONTEXT.create_decimal(value)
        if kind == "M":
            return {key: from_attribute(member) for key, member in value.items()}
        if kind == "L":
            return [from_attribute(member) for member in value]
        if kind == "BOOL":
            return value
        if kind == "NULL":
            return None
    return _deserializer.deserialize(attribute)


def add_counters_action(table_name: str, key: dict[str, Any], adds: dict[str, Any], expires_at: int) -> dict[str, Any]:
    """An Update that ADDs each counter (atomic and commutative, so order never matters) and sets the TTL."""
    return {
        "Update": {
            "TableName": table_name,
            "Key": key,
            "UpdateExpression": "ADD "
            + ", ".join(f"#a{i} :a{i}" for i in range(len(adds)))
            + " SET expires_at = :expires",
            "ExpressionAttributeNames": {f"#a{i}": name for i, name in enumerate(adds)},
            "ExpressionAttributeValues": {f":a{i}": to_attribute(v) for i, v in enumerate(adds.values())}
            | {":expires": to_attribute(expires_at)},
        }
    }
