"""A faster TransactWriteItems (and Query) for the local stack's in-process moto.

moto 5 implements TransactWriteItems by deep-copying every table the transaction touches, for rollback. That
is O(table size) per call: after ten thousand transactions the local stack would crawl. This version keeps
the same semantics with item-level work: it checks every condition (and the one-action-per-item rule) first,
against the current items, and writes only when all pass; the items it is about to change are snapshotted
and restored if a write itself fails. A lock serialises transactions against each other, as DynamoDB's
isolation does; it is moto_item_lock's lock, so single-item writes wait for transactions too. Installed by
the local stack only; the tests of the handlers run on stock moto (with the item lock).
"""

from __future__ import annotations

import bisect
import copy
import functools
import re
import threading
from decimal import Decimal
from typing import Any

import botocore.useragent
from moto.dynamodb import responses as dynamodb_responses
from moto.dynamodb.comparisons import AttributeValue, ConditionExpressionParser, get_filter_expression
from moto.dynamodb.exceptions import (
    HashKeyTooLong,
    ItemSizeTooLarge,
    MockValidationException,
    MultipleTransactionsException,
    RangeKeyTooLong,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.limits import HASH_KEY_MAX_LENGTH, RANGE_KEY_MAX_LENGTH
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
from moto.dynamodb.models.table import RESULT_SIZE_LIMIT, Table
from moto.dynamodb.models.utilities import bytesize
from moto.dynamodb.parsing.expressions import UpdateExpressionParser

from infra.local import moto_dirty_items
from infra.local.moto_item_lock import WRITE_LOCK as _LOCK

_SIMPLE_UPDATE = re.compile(
    r"^(?:ADD (?P<add>(?:#?\w+ :\w+)(?:, #?\w+ :\w+)*))?\s*(?:SET (?P<set>(?:#?\w+ = :\w+)(?:, #?\w+ = :\w+)*))?"
    r"\s*(?:REMOVE (?P<remove>#?\w+(?:, #?\w+)*))?$"
)


_UNREAD = object()  # _simple_update's caller did not read the stored item
Clause = tuple[str, str]


@functools.lru_cache(maxsize=4096)
def simple_clauses(expression: str) -> tuple[tuple[Clause, ...], tuple[Clause, ...], tuple[str, ...]] | None:
    """The (ADD, SET, REMOVE) clauses of an update expression of the simple shape, as (#name or name,
    :value) pairs and names, or None for any other shape (or one with neither ADD nor SET). Kept by text:
    the repositories send a few hundred distinct texts, each thousands of times."""
    match = _SIMPLE_UPDATE.match(expression.strip())
    if match is None or not (match.group("add") or match.group("set")):
        return None
    adds = tuple(tuple(c.split(" ")) for c in filter(None, (match.group("add") or "").split(", ")))
    sets = tuple(tuple(c.split(" = ")) for c in filter(None, (match.group("set") or "").split(", ")))
    removes = tuple(filter(None, (match.group("remove") or "").split(", ")))
    return adds, sets, removes  # type: ignore[return-value]


def _value_size(value: DynamoType) -> int:
    """DynamoType.size, without its chain of type tests for strings and numbers, and without building a
    DynamoType per member of a string or number set."""
    kind = value.type
    if kind == "S" and type(value.value) is str:
        return len(value.value.encode("utf-8"))
    if kind == "N":
        return len(str(value.value))
    if value.type == "SS":  # the sum of the members' UTF-8 lengths, measured in one go
        return len("".join(value.value).encode("utf-8"))
    if value.type == "NS":
        return len("".join(map(str, value.value)))
    return value.size()


def _item_size(item: Item) -> int:
    """Item.size(), kept on the item: an update measures only the attributes it changes."""
    size = item.__dict__.get("_shopwatch_size")
    if size is None:
        size = sum(bytesize(k) + _value_size(v) for k, v in item.attrs.items())
        item._shopwatch_size = size  # type: ignore[attr-defined]
    return size


def _simple_update(
    backend: DynamoDBBackend, op: dict[str, Any], key: dict[str, Any], stored: Item | object | None = _UNREAD
) -> bool:
    """Apply `ADD #n :v, ... SET n = :v, ... REMOVE #n, ...` to an item of a table without a stream, directly.

    moto validates every update expression through a general AST pipeline (about 14 ms a call); the
    repositories' counter updates all have this one simple shape. Anything else, or any table with a
    stream, returns False and goes through moto's own update_item (having written nothing).

    An existing item is replaced by a new Item that shares its unchanged attribute values: only the changed
    attributes are converted, validated (moto's number and type rules) and measured against the 400 KB limit
    (the item's size is kept on it). Rebuilding the whole item from JSON cost O(item) per update, and an
    entity's item (time buckets, capped link sets, tokens) is updated by every transaction that names it.
    The stored Item is never changed in place, so a reference taken before (a transaction's rollback
    snapshot) keeps the old state. `stored` is the stored item when the caller has just read it under the
    write lock (the plain path reads it for its condition), else it is read here.
    """
    table = backend.get_table(op["TableName"])
    clauses = simple_clauses(op["UpdateExpression"])
    if table.stream_shard is not None or clauses is None:
        return False
    adds, sets, removes = clauses
    names, values = op.get("ExpressionAttributeNames") or {}, op.get("ExpressionAttributeValues") or {}
    current: Item | None = backend.get_item(op["TableName"], key) if stored is _UNREAD else stored  # type: ignore[assignment]
    existing: dict[str, Any] = current.attrs if current else {}
    changed: dict[str, dict[str, Any] | None] = {}  # attribute -> its new JSON value, None to remove
    for name, value in adds:
        name, value = names.get(name, name), values[value]
        before = changed[name] if name in changed else _json_of(existing.get(name))
        if "N" in value:
            if before is not None and "N" not in before:
                return False  # a type mismatch: moto's own path answers with its error
            total = Decimal(before["N"]) + Decimal(value["N"]) if before else Decimal(value["N"])
            changed[name] = {"N": str(total)}
        elif "SS" in value or "NS" in value:
            kind = "SS" if "SS" in value else "NS"
            if before is not None and kind not in before:
                return False
            changed[name] = {kind: sorted(set(before[kind] if before else []) | set(value[kind]))}
        else:
            return False
    for name, value in sets:
        changed[names.get(name, name)] = values[value]
    for name in removes:
        changed[names.get(name, name)] = None
    if current is None:
        _store(table, key, dict(key) | {k: v for k, v in changed.items() if v is not None})
        return True
    if set(changed) & set(key):
        return False  # a key attribute cannot be updated: moto's path answers with its error
    table._validate_item_types({k: v for k, v in changed.items() if v is not None})
    attrs = dict(current.attrs)
    size = _item_size(current)
    for name, value in changed.items():
        old = attrs.pop(name, None)
        if old is not None:
            size -= bytesize(name) + _value_size(old)
        if value is not None:
            attrs[name] = DynamoType(value)
            size += bytesize(name) + _value_size(attrs[name])
    if size > 405000:
        raise ItemSizeTooLarge
    item = Item.__new__(Item)
    item.hash_key, item.range_key = current.hash_key, current.range_key
    item.attrs = LimitedSizeDict(attrs)  # dict.update underneath: measured above, once
    item._shopwatch_size = size  # type: ignore[attr-defined]
    if current.range_key is not None:
        table.items[current.hash_key][current.range_key] = item
    else:
        table.items[current.hash_key] = item  # type: ignore[assignment]
    moto_dirty_items.note(table.name, item.hash_key, item.range_key)  # stored without Table.put_item: journal it
    return True


def _store(table: Table, key: dict[str, Any], attributes: dict[str, Any]) -> None:
    """Table.put_item for a table without a stream, when the condition (if any) was already judged: an update's
    new item, or a transaction's Put (the transaction checks every condition before it writes). The same
    checks in the same order (the key's types, the attributes' types, the key sizes, the 400 KB limit in
    Item), without a second read of the item or an empty condition; a key of the wrong type goes through
    put_item itself, which raises moto's error."""
    hash_value = DynamoType(key[table.hash_key_attr])
    range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr is not None else None
    if hash_value.type != table.hash_key_type or (range_value is not None and range_value.type != table.range_key_type):
        table.put_item(attributes)
        return
    table._validate_item_types(attributes)
    table._validate_key_sizes(attributes)
    item = Item(hash_value, range_value, attributes)
    if range_value is not None:
        table.items[hash_value][range_value] = item
    else:
        table.items[hash_value] = item  # type: ignore[assignment]
    moto_dirty_items.note(table.name, item.hash_key, item.range_key)  # stored without Table.put_item: journal it


def _json_of(value: DynamoType | None) -> dict[str, Any] | None:
    return None if value is None else value.to_json()


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
        planned: list[tuple[str, dict[str, Any], dict[str, Any], Item | None]] = []
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
            planned.append((op_type, op, key, current))
        if any(code is not None for code, _, _ in errors):
            raise TransactionCanceledException(errors)

        # Puts, deletes and the simple updates replace a stored Item and never change one in place, so the
        # Item itself is the snapshot; moto's own update path changes it in place and gets a deep copy first.
        # Each item is named once and the lock is held: what the checks read is what every write finds.
        snapshots = [(op["TableName"], key, current) for _, op, key, current in planned]
        try:
            for index, (op_type, op, key, current) in enumerate(planned):
                names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
                table = self.get_table(op["TableName"])
                if op_type == "Put" and table.stream_shard is None:
                    _store(table, key, op["Item"])
                elif op_type == "Put":
                    self.put_item(
                        op["TableName"],
                        op["Item"],
                        expression_attribute_names=names,
                        expression_attribute_values=values,
                    )
                elif op_type == "Delete":
                    self.delete_item(op["TableName"], key)
                elif op_type == "Update" and not _simple_update(self, op, key, current):
                    table_name, _, previous = snapshots[index]
                    snapshots[index] = (table_name, key, copy.deepcopy(previous))
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


class _ParsedUpdate:
    """A cached UpdateExpression tree, with what the handler asks of it (the clauses of a type) kept too."""

    __slots__ = ("_found", "tree")

    def __init__(self, tree: Any) -> None:
        self.tree = tree
        self._found: dict[tuple[type, ...], Any] = {}

    def find_clauses(self, types: list[type]) -> Any:
        key = tuple(types)
        if key not in self._found:
            self._found[key] = self.tree.find_clauses(types)
        return self._found[key]


class _ValidationParser:
    """moto's request handler parses every UpdateExpression of a transaction only to check which
    #placeholders it uses (about a third of a detection's CPU), walking the tree for its #name clauses. Both
    depend on the expression text alone and the handler only reads them, so they are cached by text; the
    backend still parses its own copy when it applies an update."""

    make = staticmethod(
        functools.lru_cache(maxsize=4096)(lambda expression: _ParsedUpdate(UpdateExpressionParser.make(expression)))
    )


def _item_init(self: Item, hash_key: DynamoType, range_key: DynamoType | None, attrs: dict[str, Any]) -> None:
    """moto's Item fills a LimitedSizeDict one attribute at a time, and each insert re-measures the whole item
    against the 400 KB limit: O(attributes²) per item written, a third of a PutItem's CPU for our 20-attribute
    items. Inserting distinct keys only grows the item, so measuring once at the end refuses exactly the same
    items; later single-attribute updates still go through LimitedSizeDict's own check."""
    self.hash_key = hash_key
    self.range_key = range_key
    converted = {key: DynamoType(value) for key, value in attrs.items()}
    size = sum(bytesize(key) + _value_size(value) for key, value in converted.items())
    if size > 405000:
        raise ItemSizeTooLarge
    self.attrs = LimitedSizeDict(converted)  # dict.update underneath: no per-key re-measuring
    self._shopwatch_size = size  # type: ignore[attr-defined]  # the next simple update measures only its changes


_ORIGINAL_CONDITION_PARSE = ConditionExpressionParser.parse
_CONDITIONS: dict[tuple[str, tuple[tuple[str, str], ...]], tuple[Any, list[str], list[str]]] = {}
_VALUE = ConditionExpressionParser.Kind.EXPRESSION_ATTRIBUTE_VALUE


def _condition_tree(parser: ConditionExpressionParser) -> Any:
    """moto's ConditionExpressionParser.parse up to the syntax tree, before it becomes an evaluable condition
    (the same steps in the same order, moto 5.2.5)."""
    nodes = parser._lex_condition_expression()
    nodes = parser._parse_paths(nodes)
    nodes = parser._apply_functions(nodes)
    nodes = parser._apply_comparator(nodes)
    nodes = parser._apply_in(nodes)
    nodes = parser._apply_between(nodes)
    nodes = parser._apply_parens_and_booleans(nodes)
    node = nodes[0]
    parser._assert_no_redundant_parentheses(node)
    return node


_ORIGINAL_MAKE_OPERAND = ConditionExpressionParser._make_operand


def _make_operand(self: ConditionExpressionParser, node: Any) -> Any:
    """moto's _make_operand; for a tree taken from the cache, a :value leaf is this request's value, looked up
    as moto's lexer looks it up (a missing one raises KeyError)."""
    if node.kind == _VALUE and self.__dict__.get("_shopwatch_cached_tree"):
        return AttributeValue(self._lookup_expression_attribute_value(node.text))
    return _ORIGINAL_MAKE_OPERAND(self, node)


def _condition_parse(self: ConditionExpressionParser) -> Any:
    """moto lexes and parses a ConditionExpression twice per write (to validate the request, then to check
    it), and the repositories' guards are a handful of fixed texts whose :values change with every call
    (an entity's token guard, `NOT contains(#tok, :token)`, is parsed on every plain entity write). The syntax
    tree depends on the text and the #names alone: moto reads a :value only when it turns the tree into a
    condition (`_make_operand`), after every syntax check. So trees are kept by (text, #names), and moto makes
    each call's condition from the kept tree with this call's values in its leaves (_make_operand)."""
    if not self.condition_expression:
        return _ORIGINAL_CONDITION_PARSE(self)
    key = (self.condition_expression, tuple(sorted((self.expression_attribute_names or {}).items())))
    cached = _CONDITIONS.get(key)
    if cached is None:
        tree = _condition_tree(self)  # a bad expression, name or value raises here and is never cached
        names_found, values_found = self._find_literals(tree), self._find_expr_attr_values(tree)
        if len(_CONDITIONS) < 4096:
            _CONDITIONS[key] = (tree, names_found, values_found)
    else:
        tree, names_found, values_found = cached
        self._shopwatch_cached_tree = True  # type: ignore[attr-defined]
    self.expr_attr_names_found.extend(names_found)
    self.expr_attr_values_found.extend(values_found)
    return self._make_op_condition(tree)


_ORIGINAL_ITEM_INIT = Item.__init__
_ORIGINAL_ITEM_SIZE = Item.size
_ORIGINAL_DYNAMO_TYPE_INIT = DynamoType.__init__
_ORIGINAL_DYNAMO_TYPE_HASH = DynamoType.__hash__
_ORIGINAL_CAST_VALUE = DynamoType.cast_value


def _cast_value(self: DynamoType) -> Any:
    """moto's cast_value, with a string set cast as the set of its strings and a number set as the set of its
    Decimals directly: moto built a DynamoType per member to cast it, on every `contains(...)` condition that
    reads a set (an entity's token guard reads its token set on every write). A string is itself, answered
    before moto's chain of type tests: an index Query compares each item's key string with it."""
    if self.type == "S":
        return self.value
    if self.type == "SS":
        return set(self.value)
    if self.type == "NS":
        return {Decimal(v) for v in self.value}
    return _ORIGINAL_CAST_VALUE.fget(self)


def _dynamo_type_hash(self: DynamoType) -> int:
    """hash((type, cast_value)) as moto's, where a string's cast_value is the string itself: every lookup of
    an item by its string key hashes one, and cast_value's chain of type tests was most of it."""
    if self.type == "S":
        return hash(("S", self.value))
    return _ORIGINAL_DYNAMO_TYPE_HASH(self)


def _dynamo_type_init(self: DynamoType, type_as_dict: DynamoType | dict[str, Any]) -> None:
    """DynamoType.__init__ with its first (type, value) pair read without building two lists: moto makes one
    DynamoType per attribute of every item it stores or reads, a tenth of a detection's CPU."""
    if type(type_as_dict) is DynamoType:
        self.type, self.value = type_as_dict.type, type_as_dict.value
    else:
        for self.type, self.value in type_as_dict.items():  # the first pair, as moto's list(...)[0]
            break
        else:
            raise IndexError("list index out of range")  # what moto's list(...)[0] raises for {}
    if self.type == "L":
        self.value = [DynamoType(val) for val in self.value]
    elif self.type == "M":
        self.value = {k: DynamoType(v) for k, v in self.value.items()}


_ORIGINAL_VALIDATE_TYPES = Table._validate_item_types
_PLAIN_NAMES = frozenset({"S", "N", "NULL"})  # attribute names moto's recursive check treats as type tags


def _validate_item_types(self: Table, item_attrs: dict[str, Any], attr: str | None = None) -> None:
    """Table._validate_item_types (moto 5.2.5) for the common case in one flat pass: a top-level string
    attribute needs no check and a number attribute only moto's number check; every other attribute (sets,
    maps, lists, booleans, and any attribute named like a type tag) goes through moto's recursive check, one
    at a time in the item's order, so the same first error is raised. moto recursed into every attribute's
    {type: value} dict, two calls per attribute on every item written."""
    if attr is not None:
        return _ORIGINAL_VALIDATE_TYPES(self, item_attrs, attr)
    for name, value in item_attrs.items():
        if type(value) is dict and len(value) == 1 and name not in _PLAIN_NAMES:
            kind, inner = next(iter(value.items()))
            if kind == "S" and type(inner) is str:
                continue
            if kind == "N" and type(inner) is str:
                self._validate_number_type(inner)
                continue
        _ORIGINAL_VALIDATE_TYPES(self, {name: value})


_ORIGINAL_KEY_SIZES = Table._validate_key_sizes


def _key_sizes(self: Table, item_attrs: dict[str, Any]) -> None:
    """Table._validate_key_sizes measures each key attribute (the table's and its indexes') by building a
    DynamoType for it, on every put: a string or number key is measured as DynamoType.size measures it,
    without building one; other types as before."""
    for names, limit, error in (
        (self.hash_key_names, HASH_KEY_MAX_LENGTH, HashKeyTooLong),
        (self.range_key_names, RANGE_KEY_MAX_LENGTH, RangeKeyTooLong),
    ):
        for name in names:
            value = item_attrs.get(name)
            if not value:
                continue
            if type(value) is dict and len(value) == 1 and "S" in value and type(value["S"]) is str:
                size = bytesize(value["S"])
            elif type(value) is dict and len(value) == 1 and "N" in value and type(value["N"]) is str:
                size = len(value["N"])
            else:
                size = DynamoType(value).size()
            if size > limit:
                raise error


# botocore rebuilds the user-agent header for every request, sanitizing each component with a regex; the
# result depends on the component text alone.
_ORIGINAL_SANITIZE = botocore.useragent.sanitize_user_agent_string_component
_CACHED_SANITIZE = functools.lru_cache(maxsize=1024)(_ORIGINAL_SANITIZE)


# moto answers a Query on a table's own key by sorting every item of the table and keeping the partition's:
# O(table size) per query. StateTable holds a marker per transaction, so each of DetectFunction's velocity
# queries grew with everything ever ingested. The hint below makes `all_items`, for the duration of that one
# query in that one thread, return the asked partition only (sorted as moto would sort it).
#
# A Query on an index is worse: moto sorts the whole table by key (a DynamoType comparison, cast per call, at
# every step), tests each item's index key with the same costly comparison, then sorts the matches. The queue
# (`GET /alerts?order=risk` reads AlertsTable's by-risk partition of open alerts) took seconds at ten thousand
# alerts. For an index Query whose partition values are strings, the hint makes `all_items` return the items
# whose raw values match (exactly the items moto's test keeps: a string equals a string by its text), and
# `sorted_items` sorts by the raw string and number values, which order as moto's casts order them. Anything
# else (binary or number partition values, binary sort keys) takes moto's own path.
_QUERY_HINT = threading.local()
_ORIGINAL_QUERY = Table.query
_ORIGINAL_ALL_ITEMS = Table.all_items
_ORIGINAL_SORTED_ITEMS = Table.sorted_items


def _all_items(self: Table) -> list[Item]:
    if getattr(_QUERY_HINT, "table", None) is self:
        conditions = _QUERY_HINT.index_conditions
        if conditions is None:
            partition = self.items.get(_QUERY_HINT.hash_key, {})
            return sorted(partition.values(), key=lambda item: item.range_key)  # type: ignore[union-attr]
        cached = _cached_partition(self)
        if cached is not None:
            _QUERY_HINT.presorted = True
            # a new list: moto reverses its matches in place for a backward query
            return _page_prefix(_from_start_key(*cached))
        return [item for item in _every_item(self) if _matches(item, conditions)]
    return _ORIGINAL_ALL_ITEMS(self)


# An index partition, sorted, kept on its table until any item anywhere changes (moto_dirty_items' generation):
# the queue asks for the same partition page after page, and each ask sorted the whole partition again.
_CACHE_ATTRIBUTE = "_shopwatch_sorted_partitions"


def _cache_key() -> tuple[Any, ...]:
    return (_QUERY_HINT.index_name, _QUERY_HINT.index_conditions, _QUERY_HINT.range_equalities)


def _cached_partition(table: Table) -> tuple[list[Item], list[tuple[Any, ...]], list[str]] | None:
    if _QUERY_HINT.generation is None:
        return None
    hit = table.__dict__.get(_CACHE_ATTRIBUTE, {}).get(_cache_key())
    return hit[1:] if hit is not None and hit[0] == _QUERY_HINT.generation else None


def _remember_partition(table: Table, items: list[Item], keys: list[tuple[Any, ...]], names: list[str]) -> None:
    if _QUERY_HINT.generation is not None:
        kept = table.__dict__.setdefault(_CACHE_ATTRIBUTE, {})
        if len(kept) >= 64:  # a bound: a few index partitions are asked for again and again, not hundreds
            kept.clear()
        kept[_cache_key()] = (_QUERY_HINT.generation, list(items), keys, names)


def _from_start_key(items: list[Item], keys: list[tuple[Any, ...]], names: list[str]) -> list[Item]:
    """The cached partition from a page's ExclusiveStartKey on: moto would walk (and test) every item before it.
    What moto skips is what sorts at or before the key in the query's direction (`_item_comes_before_dct`):
    forward, the items up to and including it; backward, those from it on. Without a usable key, all of them."""
    start = _QUERY_HINT.exclusive_start_key
    if not start:
        return list(items)
    key = []
    for name in names:
        value = start.get(name)
        if not isinstance(value, dict) or len(value) != 1 or not ({"S", "N"} & value.keys()):
            return list(items)
        key.append(value["S"] if "S" in value else Decimal(value["N"]))
    try:
        if _QUERY_HINT.forward:
            return items[bisect.bisect_right(keys, tuple(key)) :]
        return items[: bisect.bisect_left(keys, tuple(key))]
    except TypeError:  # a key of another type than the items' (moto compares them its own way)
        return list(items)


def _page_prefix(items: list[Item]) -> list[Item]:
    """As much of the partition (from the start key on, ascending) as moto's page loop will look at: it stops at
    the first item it meets with `Limit` results taken or the 1 MB read, counting the items within the key
    condition's range. The same count here, with moto's own range test, so that its loop over the rest, and
    its pass over every candidate before that, are not run for items that cannot be on this page."""
    limit, comparison, objects = _QUERY_HINT.limit, _QUERY_HINT.range_comparison, _QUERY_HINT.range_objects
    ranges = _QUERY_HINT.range_conditions
    if limit is None or _QUERY_HINT.filter_kwargs or (comparison and not ranges):
        return items
    attribute = ranges[-1][0] if ranges else None
    order = items if _QUERY_HINT.forward else items[::-1]
    taken, size = 0, 0
    for position, item in enumerate(order):
        item_size = item.size()
        if taken == limit or size + item_size > RESULT_SIZE_LIMIT:
            seen = order[: position + 1]
            return seen if _QUERY_HINT.forward else seen[::-1]
        in_range = not comparison or (
            attribute and item.attrs.get(attribute) and item.attrs[attribute].compare(comparison, objects)
        )
        if in_range:
            taken, size = taken + 1, size + item_size
    return items


def _every_item(table: Table) -> Any:
    if table.range_key_attr:
        for partition in table.items.values():
            yield from partition.values()
    else:
        yield from table.items.values()


def _matches(item: Item, conditions: tuple[tuple[str, str], ...]) -> bool:
    for name, text in conditions:
        value = item.attrs.get(name)
        if value is None or value.type != "S" or value.value != text:
            return False
    return True


_QUERY_PARAMETERS = frozenset(
    {"range_comparison", "range_objs", "limit", "exclusive_start_key", "scan_index_forward", "projection_expressions",
     "index_name", "consistent_read", "filter_expression", "hash_key_conditions", "range_key_conditions"}
)  # fmt: skip  # Table.query's named parameters; any other keyword is a legacy QueryFilter (filter_kwargs)


def _query(self: Table, hash_key: DynamoType | None, *args: Any, **kwargs: Any) -> Any:
    index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
    if index_name:
        conditions = kwargs.get("hash_key_conditions") or []
        if not conditions or any(value.type != "S" for _, value in conditions):
            return _ORIGINAL_QUERY(self, hash_key, *args, **kwargs)
        _QUERY_HINT.index_conditions = tuple((name, value.value) for name, value in conditions)
        _QUERY_HINT.index_name = index_name
        ranges = kwargs.get("range_key_conditions") or []
        _QUERY_HINT.range_equalities = tuple((name, repr(values[0].to_json())) for name, _, values in ranges[:-1])
        # read before the items are: a change after this number was taken makes whatever is built now stale
        _QUERY_HINT.generation = moto_dirty_items.generation()
        _QUERY_HINT.exclusive_start_key = kwargs.get("exclusive_start_key", args[3] if len(args) > 3 else None)
        _QUERY_HINT.forward = kwargs.get("scan_index_forward", args[4] if len(args) > 4 else True) is not False
        _QUERY_HINT.limit = kwargs.get("limit", args[2] if len(args) > 2 else None)
        _QUERY_HINT.range_comparison = kwargs.get("range_comparison", args[0] if args else None)
        _QUERY_HINT.range_objects = kwargs.get("range_objs", args[1] if len(args) > 1 else [])
        _QUERY_HINT.range_conditions = ranges
        _QUERY_HINT.filter_kwargs = {k: v for k, v in kwargs.items() if k not in _QUERY_PARAMETERS}
    elif hash_key is None or not self.range_key_attr:
        return _ORIGINAL_QUERY(self, hash_key, *args, **kwargs)
    else:
        _QUERY_HINT.index_conditions = None
    _QUERY_HINT.table, _QUERY_HINT.hash_key, _QUERY_HINT.presorted = self, hash_key, False
    try:
        return _ORIGINAL_QUERY(self, hash_key, *args, **kwargs)
    finally:
        _QUERY_HINT.table = None


class _Unsortable(Exception):
    """A sort attribute that is neither a string nor a number: moto's own comparison decides."""


def _raw_sort_key(value: DynamoType) -> Any:
    if value.type == "S":
        return value.value
    if value.type == "N":
        return Decimal(value.value)
    raise _Unsortable


def _sorted_items(
    self: Table, hash_key_attrs: list[str], range_key_attrs: list[str | None], items: list[Item]
) -> list[Item]:
    """moto's sort of a query's matches, by raw values instead of DynamoType comparisons (see above); an index
    partition served from the cache is in this order already (moto's filter of it keeps every item, in order)."""
    hinted = getattr(_QUERY_HINT, "table", None) is self and _QUERY_HINT.index_conditions is not None
    if hinted and _QUERY_HINT.presorted:
        return items
    names = self._generate_attr_to_sort_by(hash_key_attrs, range_key_attrs)

    def key(item: Item) -> tuple[Any, ...]:
        attrs = item.attrs
        return tuple([v.value if (v := attrs[name]).type == "S" else _raw_sort_key(v) for name in names])

    try:
        keys = [key(item) for item in items]
    except _Unsortable:
        return _ORIGINAL_SORTED_ITEMS(self, hash_key_attrs, range_key_attrs, items)  # type: ignore[no-any-return]
    order = sorted(range(len(items)), key=keys.__getitem__)
    items[:] = [items[i] for i in order]
    if hinted:  # the whole partition, also on a later page (moto skips to the start key after this sort)
        _remember_partition(self, items, [keys[i] for i in order], names)
    return items


_ORIGINAL_COMES_BEFORE = Table._item_comes_before_dct


def _item_comes_before_dct(
    self: Table,
    item: Item,
    dct: dict[str, Any],
    hash_key_attrs: list[str],
    range_key_attrs: list[str | None],
    scan_index_forward: bool,
) -> bool:
    """moto's test of an item against a page's ExclusiveStartKey, run on every item before it (so a deep page
    costs its depth), by raw string and number values; anything else is moto's own comparison."""
    for name in self._generate_attr_to_sort_by(hash_key_attrs, range_key_attrs):
        mine = item.attrs.get(name)
        if mine is None:
            continue
        theirs = dct.get(name)
        if not isinstance(theirs, dict) or len(theirs) != 1 or mine.type not in ("S", "N") or mine.type not in theirs:
            return _ORIGINAL_COMES_BEFORE(self, item, dct, hash_key_attrs, range_key_attrs, scan_index_forward)  # type: ignore[no-any-return]
        if mine.type == "S":
            a, b = mine.value, theirs["S"]
        else:
            a, b = Decimal(mine.value), Decimal(theirs["N"])
        if a != b:
            return bool((a < b) == scan_index_forward)
    return True


_ORIGINAL_BACKEND_UPDATE: Any = None


def _forget_size_after_update(update_item: Any) -> Any:
    """moto's own update path changes a stored Item in place: the size kept on it is dropped afterwards."""

    @functools.wraps(update_item)
    def update(self: DynamoDBBackend, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return update_item(self, table_name, key, *args, **kwargs)
        finally:
            item = self.get_item(table_name, key)
            if item is not None:
                item.__dict__.pop("_shopwatch_size", None)

    update.__shopwatch_forgets_size__ = True  # type: ignore[attr-defined]
    return update


def install() -> None:
    """Swap in the item-level TransactWriteItems, the cached validation parse, the cached value-free
    conditions, the one-pass item size check and the cached user-agent sanitizing (idempotent)."""
    global _ORIGINAL_BACKEND_UPDATE
    DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]
    if not getattr(DynamoDBBackend.update_item, "__shopwatch_forgets_size__", False):
        _ORIGINAL_BACKEND_UPDATE = DynamoDBBackend.update_item
        DynamoDBBackend.update_item = _forget_size_after_update(DynamoDBBackend.update_item)  # type: ignore[method-assign]
    dynamodb_responses.UpdateExpressionParser = _ValidationParser  # type: ignore[misc]
    ConditionExpressionParser.parse = _condition_parse  # type: ignore[method-assign]
    ConditionExpressionParser._make_operand = _make_operand  # type: ignore[method-assign]
    Item.__init__ = _item_init  # type: ignore[method-assign]
    Item.size = _item_size  # type: ignore[method-assign]  # BatchGetItem, Query and Scan measure each item they return
    DynamoType.__init__ = _dynamo_type_init  # type: ignore[method-assign]
    DynamoType.__hash__ = _dynamo_type_hash  # type: ignore[method-assign]
    DynamoType.cast_value = property(_cast_value)  # type: ignore[method-assign, assignment]
    Table._validate_key_sizes = _key_sizes  # type: ignore[method-assign]
    Table._validate_item_types = _validate_item_types  # type: ignore[method-assign]
    botocore.useragent.sanitize_user_agent_string_component = _CACHED_SANITIZE
    Table.query = _query  # type: ignore[method-assign]
    Table.all_items = _all_items  # type: ignore[method-assign]
    Table.sorted_items = _sorted_items  # type: ignore[method-assign]
    Table._item_comes_before_dct = _item_comes_before_dct  # type: ignore[method-assign]


def uninstall() -> None:
    DynamoDBBackend.transact_write_items = _ORIGINAL  # type: ignore[method-assign]
    if _ORIGINAL_BACKEND_UPDATE is not None:
        DynamoDBBackend.update_item = _ORIGINAL_BACKEND_UPDATE  # type: ignore[method-assign]
    dynamodb_responses.UpdateExpressionParser = UpdateExpressionParser  # type: ignore[misc]
    ConditionExpressionParser.parse = _ORIGINAL_CONDITION_PARSE  # type: ignore[method-assign]
    ConditionExpressionParser._make_operand = _ORIGINAL_MAKE_OPERAND  # type: ignore[method-assign]
    Item.__init__ = _ORIGINAL_ITEM_INIT  # type: ignore[method-assign]
    Item.size = _ORIGINAL_ITEM_SIZE  # type: ignore[method-assign]
    DynamoType.__init__ = _ORIGINAL_DYNAMO_TYPE_INIT  # type: ignore[method-assign]
    DynamoType.__hash__ = _ORIGINAL_DYNAMO_TYPE_HASH  # type: ignore[method-assign]
    DynamoType.cast_value = _ORIGINAL_CAST_VALUE  # type: ignore[method-assign]
    Table._validate_key_sizes = _ORIGINAL_KEY_SIZES  # type: ignore[method-assign]
    Table._validate_item_types = _ORIGINAL_VALIDATE_TYPES  # type: ignore[method-assign]
    botocore.useragent.sanitize_user_agent_string_component = _ORIGINAL_SANITIZE
    Table.query = _ORIGINAL_QUERY  # type: ignore[method-assign]
    Table.all_items = _ORIGINAL_ALL_ITEMS  # type: ignore[method-assign]
    Table.sorted_items = _ORIGINAL_SORTED_ITEMS  # type: ignore[method-assign]
    Table._item_comes_before_dct = _ORIGINAL_COMES_BEFORE  # type: ignore[method-assign]


__all__ = ["install", "uninstall"]
