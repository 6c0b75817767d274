"""Rules and lists as analysts and admins change them: every input checked, every change a new version.

Every refusal happens before anything is written: a bad field is a 400 naming it (ValidationFailed, details
[{field, message}]), an expression the checker refuses a 400 `invalid_expression` with each problem's position,
a limit reached or a change that lost a race a 409. A save that would change nothing writes nothing and answers
the current version: a version is a change, never a repeat.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from shopwatch.domain.input_rules import CONTROL_CLASS, ONE_LINE_TEXT
from shopwatch.domain.severity import Severity
from shopwatch.errors import Conflict, NotFound, ShopwatchError, ValidationFailed
from shopwatch.rules.changes import content, rule_diff
from shopwatch.rules.definitions import (
    MAX_LIST_ITEMS,
    MAX_LISTS,
    MAX_RULES,
    Decision,
    ListItem,
    ListKind,
    ListMode,
    Rule,
    RuleMode,
)
from shopwatch.rules.expressions import ExpressionProblem, check
from shopwatch.rules.list_values import normalise_value
from shopwatch.storage.rules import ListHead, ListRepository, RuleRepository, RuleVersion, StoredRule

ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"  # rule ids and list names: a URL segment and a sort key part
MAX_NAME = 128
MAX_DESCRIPTION = 1000
MAX_EXPRESSION = 2000  # the checker refuses longer ones too; stated here so the schema says it
# text that may span lines: no control character but tab, line feed and carriage return
DESCRIPTION_PATTERN = "^[^" + CONTROL_CLASS.replace(r"\x00-\x1f", r"\x00-\x08\x0b\x0c\x0e-\x1f") + "]*$"
MAX_REASON = 256
MAX_ITEMS_PER_REQUEST = 1000  # an import sends more in several requests
RULE_DECISIONS = (Decision.REVIEW, Decision.BLOCK)  # what a rule may decide; allowing is a list's job
PUBLISHED = (RuleMode.ACTIVE, RuleMode.SHADOW)
_ID = re.compile(ID_PATTERN)
_ONE_LINE = re.compile(ONE_LINE_TEXT)
_DESCRIPTION = re.compile(DESCRIPTION_PATTERN)


class InvalidExpression(ShopwatchError):
    status, code = 400, "invalid_expression"


# --- rules -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RuleDraft:
    """A rule as a person writes it: its content, without id, version, author or time."""

    name: str
    description: str
    expression: str
    mode: RuleMode
    severity: Severity | None = None
    decision: Decision | None = None
    score: int | None = None


@dataclass(frozen=True)
class RuleDetail:
    stored: StoredRule
    versions: tuple[RuleVersion, ...] = ()  # newest first


def slug(name: str) -> str:
    """A rule id from its name: lower case, runs of anything else than letters and digits as one dash."""
    text = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:64].rstrip("-")
    return text or "rule"


def check_draft(draft: RuleDraft) -> None:
    """Every rule of a draft's fields; the expression last, with the checker's positions."""
    errors: list[dict[str, str]] = []
    if not _ONE_LINE.fullmatch(draft.name) or len(draft.name) > MAX_NAME:
        errors.append({"field": "name", "message": f"must be one line of 1 to {MAX_NAME} characters"})
    if len(draft.description) > MAX_DESCRIPTION or not _DESCRIPTION.fullmatch(draft.description):
        errors.append({"field": "description", "message": f"must be text of at most {MAX_DESCRIPTION} characters"})
    if draft.severity is None and draft.decision is None and draft.score is None:
        errors.append({"field": "severity", "message": "give at least one outcome: severity, decision or score"})
    if draft.decision is not None and draft.decision not in RULE_DECISIONS:
        errors.append({"field": "decision", "message": "a rule decides review or block (allow is a list's job)"})
    if len(draft.expression) > MAX_EXPRESSION:
        errors.append({"field": "expression", "message": f"must be at most {MAX_EXPRESSION} characters"})
    if draft.score is not None and not 1 <= draft.score <= 100:
        errors.append({"field": "score", "message": "must be from 1 to 100"})
    if errors:
        raise ValidationFailed("invalid rule", errors)
    problems = check(draft.expression)
    if problems:
        raise InvalidExpression(
            f"the expression is not valid: {problems[0].message}",
            {"problems": [problem.to_json() for problem in problems]},
        )


class RuleService:
    def __init__(self, rules: RuleRepository) -> None:
        self.rules = rules

    def validate(self, expression: str) -> list[ExpressionProblem]:
        """The editor's inline check: the checker's problems (none: the expression may be saved)."""
        return check(expression)

    def list(self) -> list[StoredRule]:
        return self.rules.all()

    def get(self, rule_id: str) -> RuleDetail:
        stored = self._stored(rule_id)
        return RuleDetail(stored, tuple(reversed(self.rules.versions(rule_id))))

    def create(self, draft: RuleDraft, rule_id: str | None, by: str, now: datetime) -> StoredRule:
        """A new rule at version 1; its id is `rule_id` or made from its name. A taken id is a 409."""
        check_draft(draft)
        chosen = rule_id if rule_id is not None else slug(draft.name)
        if not _ID.fullmatch(chosen):
            raise ValidationFailed("invalid rule", [{"field": "rule_id", "message": f"must match {ID_PATTERN}"}])
        if draft.mode in PUBLISHED:
            self._room_for_one_more()
        rule = _rule(chosen, 1, draft, by, now)
        return self.rules.save(rule, rule_diff(None, rule), None)

    def update(
        self, rule_id: str, draft: RuleDraft, by: str, now: datetime, expected_version: int | None = None
    ) -> StoredRule:
        """A new version with the draft's content."""
        check_draft(draft)
        return self._next(self._current(rule_id, expected_version), draft, by, now)

    def set_mode(
        self, rule_id: str, mode: RuleMode, by: str, now: datetime, expected_version: int | None = None
    ) -> StoredRule:
        """Publish (active), shadow or disable: a new version with only the mode changed."""
        current = self._current(rule_id, expected_version)
        return self._next(current, replace(_draft(current.rule), mode=mode), by, now)

    def rollback(
        self, rule_id: str, version: int, by: str, now: datetime, expected_version: int | None = None
    ) -> StoredRule:
        """A new version whose content is that of `version` (its mode included); the history keeps both."""
        current = self._current(rule_id, expected_version)
        old = self.rules.version(rule_id, version)
        if old is None:
            raise NotFound(f"rule {rule_id} has no version {version}", {"rule_id": rule_id, "version": version})
        check_draft(_draft(old.rule))  # the checker may have tightened since: an old expression is checked anew
        return self._next(current, _draft(old.rule), by, now)

    def _next(self, current: StoredRule, draft: RuleDraft, by: str, now: datetime) -> StoredRule:
        rule = _rule(current.rule.rule_id, current.rule.version + 1, draft, by, now)
        if content(rule) == content(current.rule):
            return current
        if rule.mode in PUBLISHED and current.rule.mode not in PUBLISHED:
            self._room_for_one_more()
        return self.rules.save(rule, rule_diff(current.rule, rule), current)

    def _stored(self, rule_id: str) -> StoredRule:
        stored = self.rules.get(rule_id) if _ID.fullmatch(rule_id) else None
        if stored is None:
            raise NotFound(f"no rule {rule_id}", {"rule_id": rule_id})
        return stored

    def _current(self, rule_id: str, expected_version: int | None) -> StoredRule:
        stored = self._stored(rule_id)
        if expected_version is not None and expected_version != stored.rule.version:
            raise Conflict(
                f"rule {rule_id} is at version {stored.rule.version}, not {expected_version}: look again and retry",
                {"rule_id": rule_id, "version": stored.rule.version},
            )
        return stored

    def _room_for_one_more(self) -> None:
        published = sum(1 for stored in self.rules.all() if stored.rule.mode in PUBLISHED)
        if published >= MAX_RULES:
            raise Conflict(
                f"{published} rules are active or in shadow, the most there may be: disable one first",
                {"limit": MAX_RULES},
            )


def _rule(rule_id: str, version: int, draft: RuleDraft, by: str, now: datetime) -> Rule:
    return Rule(
        rule_id=rule_id,
        version=version,
        name=draft.name,
        description=draft.description,
        expression=draft.expression,
        mode=draft.mode,
        severity=draft.severity,
        decision=draft.decision,
        score=draft.score,
        author=by,
        created_at=now,
    )


def _draft(rule: Rule) -> RuleDraft:
    return RuleDraft(rule.name, rule.description, rule.expression, rule.mode, rule.severity, rule.decision, rule.score)


# --- lists -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ItemDraft:
    value: str
    reason: str
    expires_at: datetime | None = None


@dataclass(frozen=True)
class ListSummary:
    head: ListHead
    items_count: int


@dataclass(frozen=True)
class ListDetail:
    head: ListHead
    items: tuple[ListItem, ...]


@dataclass(frozen=True)
class ItemsAdded:
    summary: ListSummary
    added: int  # values that were not on the list
    updated: int  # values that were, now with this reason and expiry


def check_items(kind: ListKind, drafts: Sequence[ItemDraft], by: str, now: datetime) -> list[ListItem]:
    """The entries, added by `by` now, with their values normalised by `kind`; a 400 naming every bad field."""
    errors: list[dict[str, str]] = []
    seen: dict[str, int] = {}
    entries: list[ListItem] = []
    if len(drafts) > MAX_ITEMS_PER_REQUEST:
        raise ValidationFailed(
            "too many items", [{"field": "items", "message": f"at most {MAX_ITEMS_PER_REQUEST} per request"}]
        )
    for index, draft in enumerate(drafts):
        problems = item_problems(kind, draft, now)
        if not problems:
            value = normalise_value(kind, draft.value)
            if value in seen:
                problems = {"value": f"repeats item {seen[value]} ({value})"}
            else:
                seen[value] = index
                entries.append(ListItem(value, draft.reason, by, now, draft.expires_at))
        errors += [{"field": f"items.{index}.{name}", "message": message} for name, message in problems.items()]
    if errors:
        raise ValidationFailed("invalid list items", errors)
    return entries


def item_problems(kind: ListKind, draft: ItemDraft, now: datetime) -> dict[str, str]:
    """What is wrong with one entry, by field (empty: nothing). The CLI's import reports these per line."""
    problems: dict[str, str] = {}
    try:
        normalise_value(kind, draft.value)
    except ValueError as exc:
        problems["value"] = str(exc)
    if not _ONE_LINE.fullmatch(draft.reason) or len(draft.reason) > MAX_REASON:
        problems["reason"] = f"must be one line of 1 to {MAX_REASON} characters"
    if draft.expires_at is not None and draft.expires_at <= now:
        problems["expires_at"] = "must be in the future"
    return problems


class ListService:
    def __init__(self, lists: ListRepository) -> None:
        self.lists = lists

    def list(self, now: datetime) -> list[ListSummary]:
        return [ListSummary(head, self.lists.count(head.name, now)) for head in self.lists.heads()]

    def get(self, name: str, now: datetime) -> ListDetail:
        head = self._head(name)
        return ListDetail(head, tuple(self.lists.items(name, now)))

    def put(
        self,
        name: str,
        kind: ListKind,
        mode: ListMode,
        description: str,
        items: Sequence[ItemDraft] | None,
        by: str,
        now: datetime,
    ) -> ListSummary:
        """Create or change a list. With `items`, they replace every entry; without, the entries stay (and then
        the kind cannot change: they were checked as the old kind)."""
        errors = []
        if not _ID.fullmatch(name):
            errors.append({"field": "name", "message": f"must match {ID_PATTERN}"})
        if len(description) > MAX_DESCRIPTION or not _DESCRIPTION.fullmatch(description):
            errors.append({"field": "description", "message": f"must be text of at most {MAX_DESCRIPTION} characters"})
        if errors:
            raise ValidationFailed("invalid list", errors)
        entries = None if items is None else check_items(kind, items, by, now)
        previous = self.lists.head(name)
        if previous is None and len(self.lists.heads()) >= MAX_LISTS:
            raise Conflict(
                f"there are {MAX_LISTS} lists, the most there may be: remove one first", {"limit": MAX_LISTS}
            )
        deletes: list[str] = []
        if previous is not None and entries is None and kind != previous.kind and self.lists.count(name, now):
            raise Conflict(
                f"list {name} holds {previous.kind} values: send its items as {kind} values to change its kind",
                {"name": name, "kind": previous.kind.value},
            )
        if previous is not None and entries is not None:
            kept = {entry.value for entry in entries}
            deletes = [entry.value for entry in self.lists.items(name, now) if entry.value not in kept]
        head = ListHead(name, kind, mode, description, by, now)
        saved = self.lists.save(head, previous, entries or (), deletes)
        return ListSummary(saved, self.lists.count(name, now))

    def add_items(self, name: str, items: Sequence[ItemDraft], by: str, now: datetime) -> ItemsAdded:
        """Add entries (a value already there takes the new reason and expiry)."""
        head = self._head(name)
        entries = check_items(head.kind, items, by, now)
        present = {entry.value for entry in self.lists.items(name, now)}
        new = sum(1 for entry in entries if entry.value not in present)
        if len(present) + new > MAX_LIST_ITEMS:
            raise Conflict(
                f"list {name} would hold {len(present) + new} entries, over {MAX_LIST_ITEMS}",
                {"name": name, "limit": MAX_LIST_ITEMS},
            )
        saved = self.lists.save(replace(head, updated_by=by, updated_at=now), head, entries)
        return ItemsAdded(ListSummary(saved, len(present) + new), new, len(entries) - new)

    def remove_item(self, name: str, value: str, by: str, now: datetime) -> ListSummary:
        head = self._head(name)
        try:
            stored_value = normalise_value(head.kind, value)
        except ValueError:
            stored_value = None
        entry = self.lists.entry(name, stored_value) if stored_value is not None else None
        if entry is None or not entry.active(now):
            raise NotFound(f"list {name} has no entry {value}", {"name": name, "value": value})
        saved = self.lists.save(replace(head, updated_by=by, updated_at=now), head, deletes=[entry.value])
        return ListSummary(saved, self.lists.count(name, now))

    def _head(self, name: str) -> ListHead:
        head = self.lists.head(name) if _ID.fullmatch(name) else None
        if head is None:
            raise NotFound(f"no list {name}", {"name": name})
        return head
