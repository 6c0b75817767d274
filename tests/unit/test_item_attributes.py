"""to_attribute and from_attribute take our common types first and answer exactly as boto3's TypeSerializer and
TypeDeserializer, errors included."""

from __future__ import annotations

from decimal import Decimal

import pytest
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from shopwatch.storage.items import from_attribute, from_attributes, to_attribute, to_attributes

VALUES = ["", "x", "é✓", 0, 1, -5, 10**37, Decimal("25.00"), Decimal("-0.001"), Decimal("1E+5"), True, False,
          None, {"a", "b"}, {Decimal(1)}, [1, "a"], {"m": Decimal(2)}, b"x"]  # fmt: skip


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_every_value_is_written_as_boto3_writes_it(value):
    assert to_attribute(value) == TypeSerializer().serialize(value)


@pytest.mark.parametrize("value", [Decimal("Infinity"), Decimal("NaN"), 10**40 + 1, 1.5])
def test_what_boto3_refuses_is_refused_the_same_way(value):
    with pytest.raises(Exception) as ours:
        to_attribute(value)
    with pytest.raises(Exception) as theirs:
        TypeSerializer().serialize(value)
    assert type(ours.value) is type(theirs.value)


def test_an_item_is_its_attributes():
    assert to_attributes({"pk": "a", "n": Decimal("2")}) == {"pk": {"S": "a"}, "n": {"N": "2"}}


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_every_attribute_is_read_as_boto3_reads_it(value):
    attribute = TypeSerializer().serialize(value)
    ours, theirs = from_attribute(attribute), TypeDeserializer().deserialize(attribute)
    assert ours == theirs and type(ours) is type(theirs)


def test_a_nested_item_is_read_as_boto3_reads_it():
    attributes = to_attributes(
        {"pk": "TX#1", "items": [{"sku": "A", "q": 3, "p": Decimal("9.99"), "gift": False, "note": None}],
         "tags": {"x", "y"}, "bins": {"12": [Decimal("1.5"), 2]}, "blob": b"\x00"}
    )  # fmt: skip
    assert from_attributes(attributes) == {key: TypeDeserializer().deserialize(v) for key, v in attributes.items()}


@pytest.mark.parametrize("attribute", [{}, {"Q": "1"}, {"N": "1e999"}], ids=repr)
def test_what_boto3_cannot_read_is_refused_the_same_way(attribute):
    with pytest.raises(Exception) as ours:
        from_attribute(attribute)
    with pytest.raises(Exception) as theirs:
        TypeDeserializer().deserialize(attribute)
    assert type(ours.value) is type(theirs.value)
