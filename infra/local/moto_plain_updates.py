"""Plain (non-transactional) UpdateItem calls of the repositories' counter shape, applied at item level.

Why: DetectFunction writes most entity aggregates as plain conditional UpdateItems after its transaction (half
the write units on AWS). moto's own update_item parses and validates the expression twice, builds the
condition parser twice and deep-copies the item: about 1.7 ms of CPU a call against 0.2 ms for the same update
inside a transaction (moto_speedups' item-level path), and the local stack runs every handler in one process.

Same semantics for the calls it takes: `ADD #n :v, ... SET n = :v, ... REMOVE #n, ...` with ReturnValues NONE
on a table without a stream; the condition, if any, is judged by moto's own evaluator against the current item
(ConditionalCheckFailed as moto raises it); the update is moto_speedups' simple path, under the write lock
moto_item_lock gives every write. Every #name and :value must be used (else moto's path answers with its
validation error). Anything else goes through moto unchanged. Installed by the local stack only; the tests of
the handlers run on stock moto, and tests/integration/test_moto_plain_updates.py compares both paths.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import ConditionalCheckFailed
from moto.dynamodb.responses import DynamoHandler, DynamoResult

from infra.local.moto_item_lock import WRITE_LOCK
from infra.local.moto_speedups import _simple_update, simple_clauses

_ORIGINAL = DynamoHandler.update_item
_PLACEHOLDER = re.compile(r"[#:]\w+")
_TAKEN = {"TableName", "Key", "UpdateExpression", "ConditionExpression", "ExpressionAttributeNames",
          "ExpressionAttributeValues", "ReturnValues", "ReturnConsumedCapacity"}  # fmt: skip
served = {"plain": 0}  # calls this path applied (for tests)


@functools.lru_cache(maxsize=4096)
def _placeholders(expression: str, condition: str | None) -> frozenset[str]:
    """The #names and :values an update's texts use (by text: the repositories send a few hundred)."""
    return frozenset(_PLACEHOLDER.findall(expression + " " + (condition or "")))


def _update_item(self: DynamoHandler) -> Any:
    body = self.body
    expression = body.get("UpdateExpression")
    if (
        not isinstance(body, dict)
        or set(body) - _TAKEN
        or body.get("ReturnValues", "NONE") != "NONE"
        or not isinstance(expression, str)
        or simple_clauses(expression) is None
    ):
        return _ORIGINAL(self)
    names = body.get("ExpressionAttributeNames") or {}
    values = body.get("ExpressionAttributeValues") or {}
    condition = body.get("ConditionExpression")
    if _placeholders(expression, condition) != set(names) | set(values):
        return _ORIGINAL(self)
    backend = self.dynamodb_backend
    table = backend.get_table(body["TableName"])
    if table.stream_shard is not None or set(body["Key"]) != {table.hash_key_attr, table.range_key_attr} - {None}:
        return _ORIGINAL(self)
    op = {"TableName": body["TableName"], "UpdateExpression": expression, "ExpressionAttributeNames": names,
          "ExpressionAttributeValues": values}  # fmt: skip
    with WRITE_LOCK:
        current = backend.get_item(body["TableName"], body["Key"])
        if condition is not None and not get_filter_expression(condition, names, values).expr(current):
            raise ConditionalCheckFailed
        if not _simple_update(backend, op, body["Key"], current):
            return _ORIGINAL(self)  # a shape the simple path does not apply (it wrote nothing)
    served["plain"] += 1
    return DynamoResult({"ConsumedCapacity": {"TableName": body["TableName"], "CapacityUnits": 0.5}})


def install() -> None:
    """Serve simple plain updates at item level (idempotent)."""
    DynamoHandler.update_item = _update_item  # type: ignore[method-assign]


def uninstall() -> None:
    DynamoHandler.update_item = _ORIGINAL  # type: ignore[method-assign]


__all__ = ["install", "served", "uninstall"]
