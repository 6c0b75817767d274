"""A batch computes each transaction's customer and SKU deltas once (load, the model's plan and process share
them): what it hands back must be that transaction's, computed for those failed statuses."""

from __future__ import annotations

from dataclasses import replace

from shopwatch.detection.service import Derived, derive
from shopwatch.detectors.history import customer_delta, sku_deltas
from tests.builders import item, tx

FAILED = frozenset({"declined"})


def test_each_transaction_gets_its_own_deltas_and_again_the_same():
    memo: Derived = {}
    bought = tx("t1", items=(item("A", 2), item("B", 1, "3.00")))
    declined = replace(bought, status="declined")  # same id, another record
    first = derive(memo, bought, FAILED)
    assert first == (customer_delta(bought, FAILED), sku_deltas(bought)) and len(first[1]) == 2
    assert derive(memo, declined, FAILED) == (customer_delta(declined, FAILED), [])
    assert derive(memo, bought, FAILED)[0] is first[0]  # computed once


def test_an_entry_left_by_another_transaction_or_other_statuses_is_not_reused():
    memo: Derived = {}
    bought = tx("t1", items=(item("A", 2),))
    declined = replace(bought, status="declined")
    memo[id(declined)] = (bought, FAILED, customer_delta(bought, FAILED), sku_deltas(bought))  # as if id reused
    assert derive(memo, declined, FAILED) == (customer_delta(declined, FAILED), [])
    assert derive(memo, declined, frozenset())[0].failed == 0
    assert derive(memo, declined, FAILED)[0].failed == 1
