"""Rules and lists as data in StateTable: every rule change an immutable version, every list entry an item.

Layout:
    RULES / RULE#<rule_id>                   the head: the current version (its JSON), its number, its mode
                                             (so the published read filters on it), when the rule was created
    RULEVERSION#<rule_id> / V#<version:08d>  one per version, written once (attribute_not_exists): the rule as
                                             it was, and the diff against the version before
    LISTS / LIST#<name>                      the head: kind, mode, description, who changed it last and when,
                                             and `revision`, moved by one per change
    LISTITEM#<name> / <value>                one per entry: reason, who added it and when, its expiry (an RFC 3339
                                             `expiry`, and `expires_at` in epoch seconds for DynamoDB's TTL)

Why a guarded head (as the model registry's pointers): a change reads the head, then writes it on the condition
that the version (a rule) or revision (a list) is still what it read, in one TransactWriteItems with the version
item it adds or the entries it changes. Two admins saving at once both read n; one write wins, the other is
refused whole (a Conflict, 409) and changes nothing.

TTL only hints: DynamoDB deletes expired items within a few days, not at the second. Every read of entries
filters on `expiry` against the caller's clock, so an expired entry never blocks anyone.

A list change of more than 99 entries cannot be one transaction (100 actions at most): the head and the first 99
go together, guarded; the rest follow in transactions of 100 without the guard. A failure between them leaves
those entries unwritten, and the caller sees the error and may repeat the request (every entry write is a plain
put or delete: repeating it changes nothing more).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shopwatch.domain.clock import epoch_seconds, parse_iso, to_iso
from shopwatch.errors import Conflict
from shopwatch.rules.changes import FieldChange
from shopwatch.rules.definitions import (
    MAX_LIST_ITEMS,
    MAX_LISTS,
    MAX_RULES,
    ListItem,
    ListKind,
    ListMode,
    Rule,
    RuleList,
    RuleMode,
)
from shopwatch.storage.aws import client, with_retries
from shopwatch.storage.items import from_attributes, to_attributes
from shopwatch.storage.unit_of_work import MAX_ACTIONS, TransactionRefused, UnitOfWork

RULES_PARTITION = "RULES"
LISTS_PARTITION = "LISTS"


@dataclass(frozen=True)
class StoredRule:
    """A rule's current version and when its first version was made."""

    rule: Rule
    first_created_at: datetime


@dataclass(frozen=True)
class RuleVersion:
    rule: Rule
    diff: tuple[FieldChange, ...]


@dataclass(frozen=True)
class ListHead:
    """A list without its entries; `revision` 0: never written."""

    name: str
    kind: ListKind
    mode: ListMode
    description: str
    updated_by: str
    updated_at: datetime
    revision: int = 0


@dataclass(frozen=True)
class Published:
    """What the rule engine runs: active and shadow rules, and every list with its unexpired entries.
    `truncated` names what went past a limit (MAX_RULES, MAX_LISTS, MAX_LIST_ITEMS) and was left out, for the
    caller to log: the services refuse to go past them, so it is only ever true after a race."""

    rules: tuple[Rule, ...]
    lists: tuple[RuleList, ...]
    truncated: tuple[str, ...] = ()


def _pages(
    table: str, pk: str, prefix: str = "", filtered: dict[str, Any] | None = None, **extra: Any
) -> Iterator[dict[str, Any]]:
    """The responses of a Query over one partition (with a sort key prefix, and a filter: FilterExpression and
    its ExpressionAttributeValues/Names), page by page."""
    values = {":pk": {"S": pk}} | ({":prefix": {"S": prefix}} if prefix else {})
    kwargs: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "pk = :pk" + (" AND begins_with(sk, :prefix)" if prefix else ""),
        "ConsistentRead": True,
    } | extra
    if filtered:
        kwargs |= filtered
        values |= filtered.get("ExpressionAttributeValues", {})
    kwargs["ExpressionAttributeValues"] = values
    while True:
        response = with_retries(lambda: client("dynamodb").query(**kwargs))
        yield response
        if "LastEvaluatedKey" not in response:
            return
        kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _query(table: str, pk: str, prefix: str = "", filtered: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
    """Every item of one partition (with a sort key prefix and a filter), page by page."""
    for response in _pages(table, pk, prefix, filtered):
        yield from (from_attributes(item) for item in response.get("Items", []))


def _get(table: str, pk: str, sk: str) -> dict[str, Any] | None:
    response = client("dynamodb").get_item(TableName=table, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True)
    return from_attributes(response["Item"]) if "Item" in response else None


# --- rules -----------------------------------------------------------------------------------------------------
def _version_key(version: int) -> str:
    return f"V#{version:08d}"


class RuleRepository:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def get(self, rule_id: str) -> StoredRule | None:
        item = _get(self.table_name, RULES_PARTITION, f"RULE#{rule_id}")
        return _stored_rule(item) if item else None

    def all(self) -> list[StoredRule]:
        """Every rule's current version (disabled ones too), by rule id."""
        return [_stored_rule(item) for item in _query(self.table_name, RULES_PARTITION, "RULE#")]

    def published(self) -> list[Rule]:
        """The current versions whose mode is active or shadow, by rule id."""
        items = _query(
            self.table_name,
            RULES_PARTITION,
            "RULE#",
            {
                "FilterExpression": "#mode IN (:active, :shadow)",
                "ExpressionAttributeNames": {"#mode": "mode"},
                "ExpressionAttributeValues": {":active": {"S": RuleMode.ACTIVE}, ":shadow": {"S": RuleMode.SHADOW}},
            },
        )
        return [_stored_rule(item).rule for item in items]

    def versions(self, rule_id: str) -> list[RuleVersion]:
        """Every version of a rule, oldest first."""
        return [_rule_version(item) for item in _query(self.table_name, f"RULEVERSION#{rule_id}", "V#")]

    def version(self, rule_id: str, version: int) -> RuleVersion | None:
        item = _get(self.table_name, f"RULEVERSION#{rule_id}", _version_key(version))
        return _rule_version(item) if item else None

    def save(self, rule: Rule, diff: Sequence[FieldChange], previous: StoredRule | None) -> StoredRule:
        """Write `rule` as the next version after `previous` (None: the rule is new, and its version is 1).
        A Conflict when another change got there first, or when a new rule's id is taken."""
        expected = previous.rule.version if previous else 0
        if rule.version != expected + 1:
            raise ValueError(f"version {rule.version} does not follow version {expected}")
        stored = StoredRule(rule, previous.first_created_at if previous else rule.saved_at)
        head = {
            "pk": RULES_PARTITION,
            "sk": f"RULE#{rule.rule_id}",
            "rule_id": rule.rule_id,
            "version": rule.version,
            "mode": rule.mode.value,
            "rule": json.dumps(rule.to_json(), sort_keys=True),
            "first_created_at": to_iso(stored.first_created_at),
        }
        condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
        if previous is not None:
            condition = {
                "ConditionExpression": "version = :expected",
                "ExpressionAttributeValues": {":expected": {"N": str(expected)}},
            }
        version_item = {
            "pk": f"RULEVERSION#{rule.rule_id}",
            "sk": _version_key(rule.version),
            "rule": head["rule"],
            "diff": json.dumps([change.to_json() for change in diff], sort_keys=True),
        }
        unit = UnitOfWork()
        unit.add(
            ("head", rule.rule_id), {"Put": {"TableName": self.table_name, "Item": to_attributes(head), **condition}}
        )
        unit.add(
            ("version", rule.version),
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": to_attributes(version_item),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
        )
        try:
            unit.commit()
        except TransactionRefused as refused:
            if previous is None and refused.refused_of("head"):
                raise Conflict(f"a rule {rule.rule_id} exists already", {"rule_id": rule.rule_id}) from refused
            if refused.refused_of("head") or refused.refused_of("version"):
                raise Conflict(
                    f"rule {rule.rule_id} changed meanwhile (another save): look again and retry",
                    {"rule_id": rule.rule_id, "version": expected},
                ) from refused
            raise
        return stored


def _stored_rule(item: dict[str, Any]) -> StoredRule:
    return StoredRule(Rule.from_json(json.loads(item["rule"])), parse_iso(item["first_created_at"]))


def _rule_version(item: dict[str, Any]) -> RuleVersion:
    diff = tuple(FieldChange.from_json(change) for change in json.loads(item["diff"]))
    return RuleVersion(Rule.from_json(json.loads(item["rule"])), diff)


# --- lists -----------------------------------------------------------------------------------------------------
def _items_pk(name: str) -> str:
    return f"LISTITEM#{name}"


class ListRepository:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def head(self, name: str) -> ListHead | None:
        item = _get(self.table_name, LISTS_PARTITION, f"LIST#{name}")
        return _list_head(item) if item else None

    def heads(self) -> list[ListHead]:
        """Every list, by name."""
        return [_list_head(item) for item in _query(self.table_name, LISTS_PARTITION, "LIST#")]

    def items(self, name: str, now: datetime, limit: int | None = None) -> list[ListItem]:
        """The list's unexpired entries, by value (at most `limit`)."""
        found: list[ListItem] = []
        for item in _query(self.table_name, _items_pk(name), filtered=_unexpired(now)):
            entry = _list_item(item)
            if entry.active(now):  # as the filter: a second check costs nothing
                found.append(entry)
                if limit is not None and len(found) >= limit:
                    break
        return found

    def count(self, name: str, now: datetime) -> int:
        """How many unexpired entries the list has (a counting Query: entries are not sent back)."""
        pages = _pages(self.table_name, _items_pk(name), filtered=_unexpired(now), Select="COUNT")
        return sum(response["Count"] for response in pages)

    def entry(self, name: str, value: str) -> ListItem | None:
        item = _get(self.table_name, _items_pk(name), value)
        return _list_item(item) if item else None

    def save(
        self,
        head: ListHead,
        previous: ListHead | None,
        puts: Sequence[ListItem] = (),
        deletes: Sequence[str] = (),
    ) -> ListHead:
        """Write the head as the next revision after `previous` (None: a new list), with entries put and deleted.
        A Conflict when another change got there first (nothing written)."""
        expected = previous.revision if previous else 0
        saved = ListHead(
            head.name, head.kind, head.mode, head.description, head.updated_by, head.updated_at, expected + 1
        )
        item = {
            "pk": LISTS_PARTITION,
            "sk": f"LIST#{head.name}",
            "name": head.name,
            "kind": head.kind.value,
            "mode": head.mode.value,
            "description": head.description,
            "updated_by": head.updated_by,
            "updated_at": to_iso(head.updated_at),
            "revision": saved.revision,
        }
        condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
        if previous is not None:
            condition = {
                "ConditionExpression": "revision = :expected",
                "ExpressionAttributeValues": {":expected": {"N": str(expected)}},
            }
        actions = [self._put_entry(head.name, entry) for entry in puts]
        actions += [self._delete_entry(head.name, value) for value in deletes]
        unit = UnitOfWork().add(
            ("head", head.name), {"Put": {"TableName": self.table_name, "Item": to_attributes(item), **condition}}
        )
        first, rest = actions[: MAX_ACTIONS - 1], actions[MAX_ACTIONS - 1 :]
        for index, action in enumerate(first):
            unit.add(("entry", index), action)
        try:
            unit.commit()
        except TransactionRefused as refused:
            if refused.refused_of("head"):
                if previous is None:
                    raise Conflict(f"a list {head.name} exists already", {"name": head.name}) from refused
                raise Conflict(
                    f"list {head.name} changed meanwhile (another change): look again and retry",
                    {"name": head.name, "revision": expected},
                ) from refused
            raise
        for start in range(0, len(rest), MAX_ACTIONS):
            chunk = UnitOfWork()
            for index, action in enumerate(rest[start : start + MAX_ACTIONS]):
                chunk.add(("entry", start + index), action)
            chunk.commit()
        return saved

    def _put_entry(self, name: str, entry: ListItem) -> dict[str, Any]:
        item: dict[str, Any] = {
            "pk": _items_pk(name),
            "sk": entry.value,
            "reason": entry.reason,
            "added_by": entry.added_by,
            "added_at": to_iso(entry.saved_at),
        }
        if entry.expires_at is not None:
            item["expiry"] = to_iso(entry.expires_at)
            item["expires_at"] = epoch_seconds(entry.expires_at) + 1  # TTL: never before the exact expiry
        return {"Put": {"TableName": self.table_name, "Item": to_attributes(item)}}

    def _delete_entry(self, name: str, value: str) -> dict[str, Any]:
        return {"Delete": {"TableName": self.table_name, "Key": {"pk": {"S": _items_pk(name)}, "sk": {"S": value}}}}


def _unexpired(now: datetime) -> dict[str, Any]:
    """A Query's filter for entries without expiry or expiring after `now` (`expiry` is written in one fixed
    RFC 3339 form, so string order is time order)."""
    return {
        "FilterExpression": "attribute_not_exists(expiry) OR expiry > :now",
        "ExpressionAttributeValues": {":now": {"S": to_iso(now)}},
    }


def _list_head(item: dict[str, Any]) -> ListHead:
    return ListHead(
        name=item["name"],
        kind=ListKind(item["kind"]),
        mode=ListMode(item["mode"]),
        description=item.get("description", ""),
        updated_by=item["updated_by"],
        updated_at=parse_iso(item["updated_at"]),
        revision=int(item["revision"]),
    )


def _list_item(item: dict[str, Any]) -> ListItem:
    return ListItem(
        value=item["sk"],
        reason=item["reason"],
        added_by=item["added_by"],
        added_at=parse_iso(item["added_at"]),
        expires_at=parse_iso(item["expiry"]) if "expiry" in item else None,
    )


# --- what the engine runs --------------------------------------------------------------------------------------
class PublishedReader:
    """The engine cache's one read: active and shadow rules and every list's unexpired entries, within the
    limits (one Query for the rules, one for the list heads, one per list)."""

    def __init__(self, table_name: str) -> None:
        self.rules = RuleRepository(table_name)
        self.lists = ListRepository(table_name)

    def load_published(self, now: datetime) -> Published:
        truncated: list[str] = []
        rules = self.rules.published()
        if len(rules) > MAX_RULES:
            truncated.append(f"rules: {len(rules)} active or shadow, over {MAX_RULES}; the first by id kept")
            rules = rules[:MAX_RULES]
        heads = self.lists.heads()
        if len(heads) > MAX_LISTS:
            truncated.append(f"lists: {len(heads)}, over {MAX_LISTS}; the first by name kept")
            heads = heads[:MAX_LISTS]
        lists = []
        for head in heads:
            entries = self.lists.items(head.name, now, limit=MAX_LIST_ITEMS + 1)
            if len(entries) > MAX_LIST_ITEMS:
                truncated.append(f"list {head.name}: over {MAX_LIST_ITEMS} entries; the first by value kept")
                entries = entries[:MAX_LIST_ITEMS]
            lists.append(as_rule_list(head, entries))
        return Published(tuple(rules), tuple(lists), tuple(truncated))


def as_rule_list(head: ListHead, entries: Sequence[ListItem]) -> RuleList:
    return RuleList(
        name=head.name,
        kind=head.kind,
        mode=head.mode,
        description=head.description,
        items=tuple(entries),
        updated_by=head.updated_by,
        updated_at=head.updated_at,
    )
