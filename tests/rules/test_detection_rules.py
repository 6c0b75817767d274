"""DetectFunction's side of the rules: active rules alert and score, shadow rules are recorded and counted but
never alert, block lists alert high, allow lists silence medium and lower, and a replayed record counts nothing
twice (on moto, tables from template.yaml)."""

from dataclasses import replace
from datetime import timedelta

from shopwatch.config import DetectionSettings
from shopwatch.detection.service import DetectionService
from shopwatch.domain.severity import Severity
from shopwatch.rules.definitions import ListItem, ListKind, ListMode, Rule, RuleList, RuleMode
from shopwatch.rules.engine import RuleEngine
from shopwatch.storage.alerts import AlertRepository
from shopwatch.storage.rule_matches import RuleMatchRepository
from shopwatch.storage.state import StateRepository
from tests.builders import T0, tx

BIG = Rule(
    "big",
    1,
    "Big first order",
    "",
    "tx.amount > 500.0 && account.first_purchase",
    RuleMode.ACTIVE,
    Severity.HIGH,
    score=20,
)
SHADOW = Rule(
    "odd_hour", 2, "Shadow idea", "tx.amount > 100.0", "tx.amount > 100.0", RuleMode.SHADOW, Severity.CRITICAL
)


def service(stack, rules=(), lists=()) -> DetectionService:
    engine = RuleEngine(rules, list(lists), T0)
    return DetectionService(
        StateRepository(stack.table("StateTable")),
        AlertRepository(stack.table("AlertsTable")),
        DetectionSettings(),
        clock=lambda: T0 + timedelta(minutes=5),
        rules=lambda: engine,
    )


def run(svc: DetectionService, *transactions):
    batch = svc.load(list(transactions))
    return [svc.process(batch, t) for t in transactions]


def alerts(stack) -> list[dict]:
    return stack.scan("AlertsTable")


def test_an_active_rule_with_a_severity_opens_an_alert_naming_the_rule_and_adds_its_score(stack):
    without = run(service(stack), tx("t0", "c0", amount="900.00"))[0]
    outcome = run(service(stack, [BIG]), tx("t1", "c1", amount="900.00"))[0]
    rule_alerts = [a for a in alerts(stack) if a["detector"] == "rule"]
    assert len(rule_alerts) == 1
    assert rule_alerts[0]["severity"] in ("high", "critical")
    assert "Big first order" in rule_alerts[0]["reasons"][0]["message"]
    assert outcome.risk_score >= without.risk_score + 20


def test_a_shadow_rule_is_recorded_but_opens_no_alert(stack):
    svc = service(stack, [SHADOW])
    run(svc, tx("t1", "c1", amount="200.00"))
    assert not [a for a in alerts(stack) if a["detector"] == "rule"]
    recorded = RuleMatchRepository(stack.table("StateTable")).per_day("odd_hour", T0.date())
    assert recorded == [{"day": T0.date().isoformat(), "mode": "shadow", "matches": 1}]


def test_a_replayed_record_counts_its_matches_once(stack):
    svc = service(stack, [SHADOW, BIG])
    first = tx("t1", "c1", amount="900.00")
    run(svc, first)
    again = run(service(stack, [SHADOW, BIG]), first)[0]
    assert again.replayed
    matches = RuleMatchRepository(stack.table("StateTable"))
    assert [d["matches"] for d in matches.per_day("odd_hour", T0.date())] == [1]
    assert [d["matches"] for d in matches.per_day("big", T0.date())] == [1]


def test_a_blocked_device_opens_a_high_alert(stack):
    blocked = RuleList("stolen", ListKind.DEVICE, ListMode.BLOCK, items=(ListItem("dev-1"),))
    run(service(stack, lists=[blocked]), replace(tx("t1", "c1", amount="20.00"), device_id="dev-1"))
    (alert,) = [a for a in alerts(stack) if a["detector"] == "block_list"]
    assert alert["severity"] == "high"
    assert alert["risk_score"] == 100


def test_an_allowed_customer_gets_no_medium_alert_but_keeps_a_critical_one(stack):
    medium = Rule("m", 1, "Medium", "", "tx.amount > 10.0", RuleMode.ACTIVE, Severity.MEDIUM)
    critical = Rule("c", 1, "Critical", "", "tx.amount > 5000.0", RuleMode.ACTIVE, Severity.CRITICAL)
    vip = RuleList("vips", ListKind.CUSTOMER, ListMode.ALLOW, items=(ListItem("c1"),))
    svc = service(stack, [medium, critical], [vip])
    run(svc, tx("t1", "c1", amount="50.00"))
    assert alerts(stack) == []
    run(svc, tx("t2", "c1", amount="9000.00", at=T0 + timedelta(hours=2)))
    assert [a["severity"] for a in alerts(stack)] == ["critical"]
