"""The rules benchmarks' rule set: 100 rules that all pass the save-time checks, of every kind the issue names,
and lists that the rules name and the limits allow."""

from __future__ import annotations

import re

from infra.benchmarks.rule_set import benchmark_lists, benchmark_rules, ingest_rules
from shopwatch.rules.definitions import MAX_LIST_ITEMS, MAX_LISTS, MAX_RULES, RuleMode, valid_id
from shopwatch.rules.expressions import check
from tests.builders import T0

KINDS = {
    "amount": r"tx\.amount >",
    "account age": r"account\.age_seconds|account_created_at",
    "entity counts": r"entities\.\w+\.(accounts|transactions|failed)_",
    "lists": r"listed\(",
    "items comprehension": r"tx\.items\.(exists|all|filter)\(",
    "regex on e-mail": r"tx\.email\.matches\(",
    "timestamps": r"duration\(|getHours\(|getDayOfWeek\(",
    "findings and scores": r"findings\.|scores\.",
}


def test_a_hundred_distinct_rules_that_all_pass_the_checks_a_save_makes():
    rules = benchmark_rules(T0)
    assert len(rules) == len({r.rule_id for r in rules}) == 100 <= MAX_RULES
    assert all(valid_id(r.rule_id) for r in rules)
    assert {r.rule_id: check(r.expression) for r in rules} == {r.rule_id: [] for r in rules}
    assert sum(r.mode is RuleMode.SHADOW for r in rules) == 25


def test_the_rules_cover_every_kind_of_condition_the_issue_names():
    expressions = [r.expression for r in benchmark_rules()]
    counts = {kind: sum(bool(re.search(p, e)) for e in expressions) for kind, p in KINDS.items()}
    assert all(count >= 4 for count in counts.values()), counts


def test_every_list_a_rule_names_exists_and_the_lists_stay_within_the_limits():
    lists = benchmark_lists([f"C{i:05d}" for i in range(3000)], T0)
    names = {rl.name for rl in lists}
    named = {m for r in benchmark_rules() for m in re.findall(r"listed\('([a-z_]+)'", r.expression)}
    assert named <= names and len(lists) <= MAX_LISTS
    assert all(valid_id(rl.name) and 0 < len(rl.items) <= MAX_LIST_ITEMS for rl in lists)


def test_the_ingest_rules_decide_and_read_nothing_ingest_lacks():
    rules = ingest_rules(50)
    assert len(rules) == 50 and all(r.mode is RuleMode.ACTIVE and r.decision is not None for r in rules)
    assert not [r.rule_id for r in rules if re.search(r"\b(findings|scores)\b", r.expression)]
