"""Rules and lists in StateTable (the template's own table on moto): every change a new immutable version with its
author, time and diff; rollback as a new version; two saves on one version, one wins; list entries that expire by
the reader's clock, whatever TTL has done; and the engine's one read of what is published."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from shopwatch.domain.severity import Severity
from shopwatch.errors import Conflict
from shopwatch.rules.changes import FieldChange
from shopwatch.rules.definitions import Decision, ListItem, ListKind, ListMode, RuleMode
from shopwatch.rules.service import RuleDraft, RuleService
from shopwatch.storage.rules import ListHead, ListRepository, PublishedReader, RuleRepository
from tests.builders import T0

DRAFT = RuleDraft(
    name="Big first order",
    description="first purchases over 500",
    expression="tx.amount > 500.0",
    mode=RuleMode.SHADOW,
    decision=Decision.REVIEW,
)


@pytest.fixture
def repository(stack) -> RuleRepository:
    return RuleRepository(stack.table("StateTable"))


@pytest.fixture
def rules(repository) -> RuleService:
    return RuleService(repository)


@pytest.fixture
def lists(stack) -> ListRepository:
    return ListRepository(stack.table("StateTable"))


def test_each_change_is_a_new_version_with_its_author_time_and_diff(rules, repository):
    rules.create(DRAFT, None, "ana", T0)
    rules.update("big-first-order", replace(DRAFT, expression="tx.amount > 700.0"), "bo", T0 + timedelta(hours=1))
    first, second = repository.versions("big-first-order")
    assert (first.rule.version, first.rule.author, first.rule.created_at) == (1, "ana", T0)
    assert (second.rule.version, second.rule.author, second.rule.created_at) == (2, "bo", T0 + timedelta(hours=1))
    assert second.diff == (FieldChange("expression", "tx.amount > 500.0", "tx.amount > 700.0"),)
    assert {change.field for change in first.diff} == {"name", "description", "expression", "mode", "decision"}


def test_the_head_is_the_latest_version_and_remembers_when_the_rule_was_created(rules, repository):
    rules.create(DRAFT, None, "ana", T0)
    rules.set_mode("big-first-order", RuleMode.ACTIVE, "bo", T0 + timedelta(days=2))
    stored = repository.get("big-first-order")
    assert (stored.rule.version, stored.rule.mode, stored.first_created_at) == (2, RuleMode.ACTIVE, T0)


def test_an_earlier_version_stays_as_it_was_after_later_changes(rules, repository):
    rules.create(DRAFT, None, "ana", T0)
    rules.update("big-first-order", replace(DRAFT, severity=Severity.HIGH), "bo", T0 + timedelta(minutes=1))
    assert repository.version("big-first-order", 1).rule.severity is None
    assert repository.version("big-first-order", 2).rule.severity is Severity.HIGH


def test_rollback_is_a_new_version_copying_the_old_one(rules, repository):
    rules.create(DRAFT, None, "ana", T0)
    rules.update("big-first-order", replace(DRAFT, expression="tx.amount > 900.0"), "bo", T0 + timedelta(minutes=1))
    rolled = rules.rollback("big-first-order", 1, "cy", T0 + timedelta(minutes=2))
    assert (rolled.rule.version, rolled.rule.expression, rolled.rule.author) == (3, "tx.amount > 500.0", "cy")
    assert repository.version("big-first-order", 3).diff == (
        FieldChange("expression", "tx.amount > 900.0", "tx.amount > 500.0"),
    )
    assert len(repository.versions("big-first-order")) == 3


def test_a_save_that_changes_nothing_writes_no_version(rules, repository):
    rules.create(DRAFT, None, "ana", T0)
    unchanged = rules.update("big-first-order", DRAFT, "bo", T0 + timedelta(minutes=1))
    assert unchanged.rule.version == 1 and len(repository.versions("big-first-order")) == 1


def test_two_saves_on_the_same_version_one_wins_and_the_other_is_a_conflict_that_changes_nothing(rules, repository):
    rules.create(DRAFT, None, "ana", T0)
    seen_by_both = repository.get("big-first-order")
    mine = replace(seen_by_both.rule, version=2, expression="tx.amount > 600.0", author="ana")
    theirs = replace(seen_by_both.rule, version=2, expression="tx.amount > 800.0", author="bo")
    repository.save(mine, (), seen_by_both)
    with pytest.raises(Conflict):
        repository.save(theirs, (), seen_by_both)
    assert repository.get("big-first-order").rule.expression == "tx.amount > 600.0"
    assert [v.rule.author for v in repository.versions("big-first-order")] == ["ana", "ana"]


def test_a_new_rule_with_a_taken_id_is_a_conflict(rules):
    rules.create(DRAFT, None, "ana", T0)
    with pytest.raises(Conflict):
        rules.create(replace(DRAFT, expression="true"), None, "bo", T0)


def test_a_change_based_on_an_older_version_is_a_conflict(rules, repository):
    rules.create(DRAFT, None, "ana", T0)
    rules.set_mode("big-first-order", RuleMode.ACTIVE, "ana", T0)
    with pytest.raises(Conflict):
        rules.update("big-first-order", replace(DRAFT, name="Renamed"), "bo", T0, expected_version=1)
    assert repository.get("big-first-order").rule.name == DRAFT.name


def head(name: str = "blocked-devices", kind: ListKind = ListKind.DEVICE) -> ListHead:
    return ListHead(name, kind, ListMode.BLOCK, "", "ana", T0)


def test_an_entry_past_its_expiry_is_not_read_even_before_ttl_removes_it(lists):
    lists.save(head(), None, [ListItem("dev-1", "fraud ring", "ana", T0, T0 + timedelta(hours=1))])
    assert [e.value for e in lists.items("blocked-devices", T0 + timedelta(minutes=59))] == ["dev-1"]
    assert lists.items("blocked-devices", T0 + timedelta(hours=1)) == []
    assert lists.count("blocked-devices", T0 + timedelta(hours=2)) == 0
    assert lists.entry("blocked-devices", "dev-1") is not None  # still stored: TTL is only a hint


def test_an_entry_stops_counting_at_its_exact_expiry(lists):
    expiry = T0 + timedelta(hours=1, microseconds=500)
    lists.save(head(), None, [ListItem("dev-1", "fraud ring", "ana", T0, expiry)])
    assert lists.count("blocked-devices", expiry - timedelta(microseconds=1)) == 1
    assert lists.count("blocked-devices", expiry) == 0


def test_an_entry_with_an_expiry_carries_a_ttl_no_earlier_than_it(lists, stack):
    expiry = T0 + timedelta(hours=1, microseconds=500)
    lists.save(head(), None, [ListItem("dev-1", "fraud ring", "ana", T0, expiry)])
    (item,) = [i for i in stack.scan("StateTable") if i["pk"] == "LISTITEM#blocked-devices"]
    assert int(item["expires_at"]) >= expiry.timestamp()


def test_an_entry_without_expiry_has_no_ttl(lists, stack):
    lists.save(head(), None, [ListItem("dev-1", "fraud ring", "ana", T0)])
    (item,) = [i for i in stack.scan("StateTable") if i["pk"] == "LISTITEM#blocked-devices"]
    assert "expires_at" not in item


def test_two_list_changes_on_the_same_revision_one_wins(lists):
    created = lists.save(head(), None)
    lists.save(replace(head(), description="first"), created)
    with pytest.raises(Conflict):
        lists.save(replace(head(), description="second"), created)
    assert lists.head("blocked-devices").description == "first"


def test_a_change_of_more_entries_than_one_transaction_holds_writes_them_all(lists):
    entries = [ListItem(f"dev-{i:03d}", "import", "ana", T0) for i in range(250)]
    lists.save(head(), None, entries)
    assert lists.count("blocked-devices", T0) == 250


def test_the_published_read_has_active_and_shadow_rules_and_unexpired_entries(rules, lists, stack):
    rules.create(DRAFT, "shadowed", "ana", T0)
    rules.create(replace(DRAFT, mode=RuleMode.ACTIVE), "active", "ana", T0)
    rules.create(replace(DRAFT, mode=RuleMode.DISABLED), "off", "ana", T0)
    lists.save(
        head(),
        None,
        [ListItem("dev-1", "ring", "ana", T0), ListItem("dev-2", "ring", "ana", T0, T0 + timedelta(minutes=5))],
    )
    published = PublishedReader(stack.table("StateTable")).load_published(T0 + timedelta(minutes=10))
    assert sorted(r.rule_id for r in published.rules) == ["active", "shadowed"]
    (devices,) = published.lists
    assert (devices.name, devices.kind, devices.mode) == ("blocked-devices", ListKind.DEVICE, ListMode.BLOCK)
    assert [item.value for item in devices.items] == ["dev-1"] and published.truncated == ()
