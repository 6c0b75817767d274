"""to_attribute takes strings and numbers first and answers exactly as boto3's TypeSerializer, errors included."""

from __future__ import annotations

from decimal import Decimal

import pytest
from boto3.dynamodb.types import TypeSerializer

from shopwatch.storage.items import to_attribute, to_attributes

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
