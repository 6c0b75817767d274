"""The engine: which rules match, which lists hold an entity, what that decides; the same facts at ingest,
in DetectFunction and in a backtest."""

from datetime import timedelta
from decimal import Decimal

from shopwatch.detectors.entities import NO_HISTORY, apply_update, entity_views, plan_updates
from shopwatch.detectors.findings import Finding
from shopwatch.domain.severity import Severity
from shopwatch.rules.definitions import Decision, ListItem, ListKind, ListMode, Rule, RuleList, RuleMode
from shopwatch.rules.engine import RuleEngine
from shopwatch.rules.expressions import compile_expression
from shopwatch.rules.facts import facts_for
from tests.builders import T0, item, tx


def rule(rule_id="r1", expression="tx.amount > 500.0", mode=RuleMode.ACTIVE, **outcome) -> Rule:
    return Rule(rule_id, 1, rule_id.upper(), "", expression, mode, **outcome)


def a_list(name="bad", kind=ListKind.DEVICE, mode=ListMode.BLOCK, *values, expires_at=None) -> RuleList:
    items = tuple(ListItem(v, "seen in a chargeback", "ann", T0, expires_at) for v in values)
    return RuleList(name, kind, mode, items=items)


def engine(*rules, lists=()):
    return RuleEngine(rules, list(lists), T0)


def with_fields(t, **fields):
    from dataclasses import replace

    return replace(t, **fields)


def histories_after(past):
    """The entity aggregates these transactions leave, through the production update path."""
    histories = {}
    for p in past:
        for update in plan_updates(p, histories, frozenset({"failed", "denied"})):
            histories[update.key] = apply_update(histories.get(update.key, NO_HISTORY), update)
    return histories


def test_an_active_rule_with_a_decision_decides_and_scores():
    verdict = engine(rule(decision=Decision.REVIEW, score=30)).evaluate(facts_for(tx(amount="800.00")))
    assert verdict.decision is Decision.REVIEW
    assert verdict.score_added == 30
    assert [m.rule_id for m in verdict.active] == ["r1"]
    assert verdict.reasons[0]["id"] == "r1"


def test_a_rule_that_does_not_match_leaves_the_transaction_allowed():
    verdict = engine(rule(decision=Decision.BLOCK)).evaluate(facts_for(tx(amount="20.00")))
    assert (verdict.decision, verdict.matches, verdict.score_added) == (Decision.ALLOW, (), 0)


def test_a_shadow_rule_matches_but_never_decides_or_scores():
    verdict = engine(rule(mode=RuleMode.SHADOW, decision=Decision.BLOCK, score=50)).evaluate(
        facts_for(tx(amount="800.00"))
    )
    assert [m.rule_id for m in verdict.shadow] == ["r1"]
    assert (verdict.decision, verdict.score_added, verdict.reasons) == (Decision.ALLOW, 0, ())


def test_a_disabled_rule_is_not_evaluated():
    assert engine(rule(mode=RuleMode.DISABLED, decision=Decision.BLOCK)).rules == []


def test_the_strongest_decision_wins_and_scores_add_up_to_at_most_100():
    rules = [
        rule("a", decision=Decision.REVIEW, score=60),
        rule("b", decision=Decision.BLOCK, score=70),
        rule("c", "tx.amount > 1000.0", decision=Decision.ALLOW),
    ]
    verdict = engine(*rules).evaluate(facts_for(tx(amount="800.00")))
    assert verdict.decision is Decision.BLOCK
    assert verdict.score_added == 100


def test_a_rule_that_fails_on_a_transaction_does_not_match_and_is_reported():
    verdict = engine(rule(expression="int(tx.amount * 1e30) > 0")).evaluate(facts_for(tx(amount="800.00")))
    assert verdict.matches == ()
    assert verdict.errors and verdict.errors[0][0] == "r1"


def test_a_stored_rule_that_no_longer_compiles_is_skipped_and_named():
    built = engine(rule("ok"), rule("gone", "tx.removed_field > 1.0"))
    assert [r.rule_id for r, _ in built.rules] == ["ok"]
    assert "removed_field" in built.broken["gone"]


def test_a_blocked_device_means_block_and_full_score():
    t = with_fields(tx(), device_id="dev-9")
    verdict = engine(lists=[a_list("bad", ListKind.DEVICE, ListMode.BLOCK, "dev-9")]).evaluate(facts_for(t))
    assert verdict.decision is Decision.BLOCK
    assert verdict.score_added == 100
    assert verdict.blocked[0].name == "bad"
    assert verdict.reasons[0]["kind"] == "list"


def test_an_expired_list_item_no_longer_applies():
    t = with_fields(tx(), device_id="dev-9")
    expired = a_list("bad", ListKind.DEVICE, ListMode.BLOCK, "dev-9", expires_at=T0 - timedelta(seconds=1))
    assert engine(lists=[expired]).evaluate(facts_for(t)).decision is Decision.ALLOW


def test_an_allow_list_turns_review_into_allow_and_suppresses_only_medium_and_lower():
    t = with_fields(tx(amount="800.00"), email="VIP@Example.com")
    verdict = engine(
        rule(decision=Decision.REVIEW), lists=[a_list("vips", ListKind.EMAIL, ListMode.ALLOW, "vip@example.com")]
    ).evaluate(facts_for(t))
    assert verdict.decision is Decision.ALLOW
    assert verdict.suppresses(Severity.MEDIUM) and not verdict.suppresses(Severity.HIGH)


def test_a_block_list_beats_an_allow_list():
    t = with_fields(tx(), email="a@b.example", device_id="dev-9")
    verdict = engine(
        lists=[
            a_list("vips", ListKind.EMAIL, ListMode.ALLOW, "a@b.example"),
            a_list("bad", ListKind.DEVICE, ListMode.BLOCK, "dev-9"),
        ]
    ).evaluate(facts_for(t))
    assert verdict.decision is Decision.BLOCK
    assert not verdict.allowed


def test_ip_lists_hold_networks_and_bin_lists_match_longer_bins():
    ips = a_list("proxies", ListKind.IP, ListMode.BLOCK, "203.0.113.0/24", "2001:db8::/32")
    bins = a_list("bins", ListKind.CARD_BIN, ListMode.BLOCK, "411111")
    built = engine(lists=[ips, bins])
    assert built.listed("proxies", "203.0.113.77") and not built.listed("proxies", "203.0.114.1")
    assert built.listed("proxies", "2001:db8:1::5") and not built.listed("proxies", "not an ip")
    assert built.listed("bins", "41111122") and not built.listed("bins", "41111")


def test_a_country_list_matches_billing_and_shipping_countries_too():
    t = with_fields(tx(country="GB"), shipping_country="KP")
    verdict = engine(lists=[a_list("embargo", ListKind.COUNTRY, ListMode.BLOCK, "kp")]).evaluate(facts_for(t))
    assert verdict.decision is Decision.BLOCK


def test_rules_read_lists_with_listed():
    t = with_fields(tx(amount="50.00"), email="Mule@Example.com")
    verdict = engine(
        rule(expression='listed("watch", tx.email)', severity=Severity.MEDIUM),
        lists=[a_list("watch", ListKind.EMAIL, ListMode.ALLOW, "mule@example.com")],
    ).evaluate(facts_for(t))
    assert [m.rule_id for m in verdict.matches] == ["r1"]
    assert not engine(rule(expression='listed("nope", tx.email)')).evaluate(facts_for(t)).matches


def test_rules_read_the_account_age_and_the_basket():
    t = with_fields(tx(items=(item("TV", 3, "400.00"),)), account_created_at=T0 - timedelta(minutes=10))
    expression = 'account.age_seconds < 3600.0 && tx.items.exists(i, i.quantity >= 3) && tx.timestamp - tx.account_created_at < duration("1h")'
    assert engine(rule(expression=expression)).evaluate(facts_for(t)).matches


def test_rules_read_entity_aggregates_as_the_entity_detectors_do():
    past = [
        with_fields(tx(f"p{i}", f"acct{i}", at=T0 - timedelta(minutes=5 * i)), device_id="dev-1") for i in range(1, 4)
    ]
    current = with_fields(tx("now", "acct9", amount="10.00"), device_id="dev-1")
    views = entity_views(current, histories_after(past))
    verdict = engine(
        rule("shared", "entities.device.accounts_30d >= 4 && entities.device.transactions_1h == 4"),
        rule("first", "account.first_purchase && account.transactions == 1 && account.devices_30d == 1"),
        rule("no_card", "!has(entities.card)"),
    ).evaluate(facts_for(current, views))
    assert sorted(m.rule_id for m in verdict.matches) == ["first", "no_card", "shared"]


def test_rules_read_findings_and_scores_when_detection_supplies_them():
    finding = Finding("price", Severity.HIGH, (), "far below its catalog price", score=Decimal("0.9"))
    facts = facts_for(tx(), findings=[finding], model_score=0.8, risk_score=72)
    built = engine(rule(expression="findings.price > 0.5 && findings.velocity == 0.0 && scores.risk > 70.0"))
    assert built.evaluate(facts).matches
    at_ingest = facts_for(tx())
    assert not engine(rule(expression="has(scores.risk) || findings.price > 0.0")).evaluate(at_ingest).matches


def test_a_catastrophic_regex_runs_in_linear_time_on_a_hostile_value():
    t = with_fields(tx(), email="a" * 50_000 + "!")
    built = engine(rule(expression='tx.email.matches("^(a+)+$")'))
    assert not built.evaluate(facts_for(t)).matches  # RE2: no backtracking, so this returns at all


def test_evaluate_one_judges_a_draft_with_the_engines_lists():
    t = with_fields(tx(), device_id="dev-9")
    built = engine(lists=[a_list("bad", ListKind.DEVICE, ListMode.BLOCK, "dev-9")])
    assert built.evaluate_one(compile_expression('listed("bad", tx.device_id)'), facts_for(t))
    assert not built.evaluate_one(compile_expression("tx.amount > 1e9"), facts_for(t))
