"""A faster TransactWriteItems for the local stack's in-process moto.

moto 5 implements TransactWriteItems by deep-copying every table the transaction touches, for rollback. That
is O(table size) per call: after ten thousand transactions the local stack would crawl. This version keeps
the same semantics with item-level work: it checks every condition (and the one-action-per-item rule) first,
against the current items, and writes only when all pass; the items it is about to change are snapshotted
and restored if a write itself fails. A lock serialises transactions against each other, as DynamoDB's
isolation does; it is moto_item_lock's lock, so single-item writes wait for transactions too. Installed by
the local stack only; the tests of the handlers run on stock moto (with the item lock).
"""

from __future__ import annotations

import copy
import functools
import re
import threading
from decimal import Decimal
from typing import Any

import botocore.useragent
from moto.dynamodb import responses as dynamodb_responses
from moto.dynamodb.comparisons import ConditionExpressionParser, get_filter_expression
from moto.dynamodb.exceptions import (
    ItemSizeTooLarge,
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
from moto.dynamodb.models.table import Table
from moto.dynamodb.models.utilities import bytesize
from moto.dynamodb.parsing.expressions import UpdateExpressionParser

from infra.local.moto_item_lock import WRITE_LOCK as _LOCK

_SIMPLE_UPDATE = re.compile(
    r"^(?:ADD (?P<add>(?:#?\w+ :\w+)(?:, #?\w+ :\w+)*))?\s*(?:SET (?P<set>(?:#?\w+ = :\w+)(?:, #?\w+ = :\w+)*))?"
    r"\s*(?:REMOVE (?P<remove>#?\w+(?:, #?\w+)*))?$"
)


def _simple_update(backend: DynamoDBBackend, op: dict[str, Any], key: dict[str, Any]) -> bool:
    """Apply `ADD #n :v, ... SET n = :v, ... REMOVE #n, ...` to an item of a table without a stream, directly.

    moto validates every update expression through a general AST pipeline (about 14 ms a call); the
    repositories' counter updates all have this one simple shape. Anything else, or any table with a
    stream, returns False and goes through moto's own update_item.
    """
    table = backend.get_table(op["TableName"])
    match = _SIMPLE_UPDATE.match(op["UpdateExpression"].strip())
    if table.stream_shard is not None or match is None or not (match.group("add") or match.group("set")):
        return False
    names, values = op.get("ExpressionAttributeNames") or {}, op.get("ExpressionAttributeValues") or {}
    current = backend.get_item(op["TableName"], key)
    # to_json builds a new top-level dict; only its top-level entries are replaced below, never mutated
    attributes = current.to_json()["Attributes"] if current else dict(key)
    for clause in filter(None, (match.group("add") or "").split(", ")):
        name, value = clause.split(" ")
        name, value = names.get(name, name), values[value]
        existing = attributes.get(name)
        if "N" in value:
            total = Decimal(existing["N"]) + Decimal(value["N"]) if existing else Decimal(value["N"])
            attributes[name] = {"N": str(total)}
        elif "SS" in value or "NS" in value:
            kind = "SS" if "SS" in value else "NS"
            attributes[name] = {kind: sorted(set(existing[kind] if existing else []) | set(value[kind]))}
        else:
            return False
    for clause in filter(None, (match.group("set") or "").split(", ")):
        name, value = clause.split(" = ")
        attributes[names.get(name, name)] = values[value]
    for name in filter(None, (match.group("remove") or "").split(", ")):
        attributes.pop(names.get(name, name), None)
    table.put_item(attributes)
    return True


_ORIGINAL = DynamoDBBackend.transact_write_items


def _key_of(backend: DynamoDBBackend, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != "Put":
        return op["Key"]
    table = backend.get_table(op["TableName"])
    key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = op["Item"][table.range_key_attr]
    return key


def _transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    with _LOCK:
        seen: set[tuple[str, str]] = set()
        planned: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
        errors: list[tuple[str | None, str | None, dict[str, Any] | None]] = []
        for item in transact_items:
            if len(item) > 1:
                raise TransactWriteSingleOpException
            op_type, op = next(iter(item.items()))
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                raise MockValidationException("Unsupported transaction operation")
            key = _key_of(self, op_type, op)
            identity = (str(op["TableName"]), str(dict(sorted(key.items()))))
            if identity in seen:
                raise MultipleTransactionsException()
            seen.add(identity)
            current = self.get_item(op["TableName"], key)
            condition = op.get("ConditionExpression")
            if condition is not None:
                check = get_filter_expression(
                    condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
                )
                if not check.expr(current):
                    errors.append(("ConditionalCheckFailed", "The conditional request failed", None))
                    continue
            errors.append((None, None, None))
            planned.append((op_type, op, key))
        if any(code is not None for code, _, _ in errors):
            raise TransactionCanceledException(errors)

        snapshots = [
            (op["TableName"], key, copy.deepcopy(self.get_item(op["TableName"], key))) for _, op, key in planned
        ]
        try:
            for op_type, op, key in planned:
                names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
                if op_type == "Put":
                    self.put_item(
                        op["TableName"],
                        op["Item"],
                        expression_attribute_names=names,
                        expression_attribute_values=values,
                    )
                elif op_type == "Delete":
                    self.delete_item(op["TableName"], key)
                elif op_type == "Update" and not _simple_update(self, op, key):
                    self.update_item(
                        op["TableName"],
                        key,
                        update_expression=op["UpdateExpression"],
                        expression_attribute_names=names,
                        expression_attribute_values=values,
                    )
        except Exception:
            for table_name, key, previous in snapshots:
                if previous is None:
                    self.delete_item(table_name, key)
                else:
                    self.put_item(table_name, previous.to_json()["Attributes"])
            raise


class _ValidationParser:
    """moto's request handler parses every UpdateExpression of a transaction only to check which
    #placeholders it uses (about a third of a detection's CPU). The parse depends on the expression text
    alone and the handler only reads the tree, so the trees are cached by text; the backend still parses
    its own copy when it applies an update."""

    make = staticmethod(functools.lru_cache(maxsize=4096)(UpdateExpressionParser.make))


def _item_init(self: Item, hash_key: DynamoType, range_key: DynamoType | None, attrs: dict[str, Any]) -> None:
    """moto's Item fills a LimitedSizeDict one attribute at a time, and each insert re-measures the whole item
    against the 400 KB limit: O(attributes²) per item written, a third of a PutItem's CPU for our 20-attribute
    items. Inserting distinct keys only grows the item, so measuring once at the end refuses exactly the same
    items; later single-attribute updates still go through LimitedSizeDict's own check."""
    self.hash_key = hash_key
    self.range_key = range_key
    converted = {key: DynamoType(value) for key, value in attrs.items()}
    if sum(bytesize(key) + value.size() for key, value in converted.items()) > 405000:
        raise ItemSizeTooLarge
    self.attrs = LimitedSizeDict(converted)  # dict.update underneath: no per-key re-measuring


_ORIGINAL_CONDITION_PARSE = ConditionExpressionParser.parse
_CONDITIONS: dict[tuple[str, tuple[tuple[str, str], ...]], tuple[Any, list[str]]] = {}


def _condition_parse(self: ConditionExpressionParser) -> Any:
    """moto lexes and parses a ConditionExpression twice per write (to validate the request, then to check
    it), and the repositories' guards are a handful of fixed texts. A condition with no :values compiles to
    the same tree every time, and the tree's nodes are never changed after they are built (evaluation only
    reads them), so such trees are kept by (text, #names). Conditions with values parse as before."""
    if self.expression_attribute_values or not self.condition_expression:
        return _ORIGINAL_CONDITION_PARSE(self)
    key = (self.condition_expression, tuple(sorted((self.expression_attribute_names or {}).items())))
    cached = _CONDITIONS.get(key)
    if cached is None:
        tree = _ORIGINAL_CONDITION_PARSE(self)  # a bad expression raises here and is never cached
        if len(_CONDITIONS) < 4096:
            _CONDITIONS[key] = (tree, list(self.expr_attr_names_found))
        return tree
    tree, names_found = cached
    self.expr_attr_names_found.extend(names_found)
    return tree


_ORIGINAL_ITEM_INIT = Item.__init__
# botocore rebuilds the user-agent header for every request, sanitizing each component with a regex; the
# result depends on the component text alone.
_ORIGINAL_SANITIZE = botocore.useragent.sanitize_user_agent_string_component
_CACHED_SANITIZE = functools.lru_cache(maxsize=1024)(_ORIGINAL_SANITIZE)


# moto answers a Query on a table's own key by sorting every item of the table and keeping the partition's:
# O(table size) per query. StateTable holds a marker per transaction, so each of DetectFunction's velocity
# queries grew with everything ever ingested. The hint below makes `all_items`, for the duration of that one
# query in that one thread, return the asked partition only (sorted as moto would sort it).
_QUERY_HINT = threading.local()
_ORIGINAL_QUERY = Table.query
_ORIGINAL_ALL_ITEMS = Table.all_items


def _all_items(self: Table) -> list[Item]:
    if getattr(_QUERY_HINT, "table", None) is self:
        partition = self.items.get(_QUERY_HINT.hash_key, {})
        return sorted(partition.values(), key=lambda item: item.range_key)  # type: ignore[union-attr]
    return _ORIGINAL_ALL_ITEMS(self)


def _query(self: Table, hash_key: DynamoType | None, *args: Any, **kwargs: Any) -> Any:
    index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
    if index_name or hash_key is None or not self.range_key_attr:
        return _ORIGINAL_QUERY(self, hash_key, *args, **kwargs)
    _QUERY_HINT.table, _QUERY_HINT.hash_key = self, hash_key
    try:
        return _ORIGINAL_QUERY(self, hash_key, *args, **kwargs)
    finally:
        _QUERY_HINT.table = None


def install() -> None:
    """Swap in the item-level TransactWriteItems, the cached validation parse, the cached value-free
    conditions, the one-pass item size check and the cached user-agent sanitizing (idempotent)."""
    DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]
    dynamodb_responses.UpdateExpressionParser = _ValidationParser  # type: ignore[misc]
    ConditionExpressionParser.parse = _condition_parse  # type: ignore[method-assign]
    Item.__init__ = _item_init  # type: ignore[method-assign]
    botocore.useragent.sanitize_user_agent_string_component = _CACHED_SANITIZE
    Table.query = _query  # type: ignore[method-assign]
    Table.all_items = _all_items  # type: ignore[method-assign]


def uninstall() -> None:
    DynamoDBBackend.transact_write_items = _ORIGINAL  # type: ignore[method-assign]
    dynamodb_responses.UpdateExpressionParser = UpdateExpressionParser  # type: ignore[misc]
    ConditionExpressionParser.parse = _ORIGINAL_CONDITION_PARSE  # type: ignore[method-assign]
    Item.__init__ = _ORIGINAL_ITEM_INIT  # type: ignore[method-assign]
    botocore.useragent.sanitize_user_agent_string_component = _ORIGINAL_SANITIZE
    Table.query = _ORIGINAL_QUERY  # type: ignore[method-assign]
    Table.all_items = _ORIGINAL_ALL_ITEMS  # type: ignore[method-assign]


__all__ = ["install", "uninstall"]
