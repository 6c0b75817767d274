"""Conversion between Python values and DynamoDB's typed attribute values (Decimal in, Decimal out)."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_attributes(item: dict[str, Any]) -> dict[str, Any]:
    return {key: _serializer.serialize(value) for key, value in item.items()}


def to_attribute(value: Any) -> dict[str, Any]:
    return _serializer.serialize(value)


def from_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    return {key: _deserializer.deserialize(value) for key, value in attributes.items()}
