"""ApiFunction's rules and lists routes on moto, through real API Gateway events: admins write (every change
recorded under the signed-in name), analysts read and check expressions but may not write (403, nothing stored),
bad input is a 400 naming what is wrong and stores nothing, a change on a stale version is a 409, and
GET /analytics/rules counts each rule's matches and its precision against feedback and chargebacks."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from shopwatch.domain.clock import to_iso
from shopwatch.rules import service
from shopwatch.storage.alerts import AlertRepository
from shopwatch.storage.labels import LabelRepository
from shopwatch.storage.rule_matches import RecordedMatch, RuleMatchRepository
from shopwatch.storage.rules import ListRepository, RuleRepository
from tests.builders import T0, stored_alert
from tests.conftest import Stack
from tests.integration.api_requests import ADMIN, ANALYST, NOBODY_IN_A_GROUP, ApiClient, set_api_clock

NOW = T0 + timedelta(hours=1)
RULE = {"name": "Big first order", "expression": "tx.amount > 500.0", "mode": "shadow", "decision": "review"}
BLOCKED_IPS = {"kind": "ip", "mode": "block", "items": [{"value": "203.0.113.0/24", "reason": "botnet"}]}


@pytest.fixture
def clock() -> dict:
    """The routes' clock, movable by a test (set on the routes by `apis`, once the handler is loaded)."""
    return {"at": NOW}


@pytest.fixture
def apis(stack: Stack, clock, monkeypatch) -> dict[str, ApiClient]:
    handler = stack.handler("ApiFunction")
    set_api_clock(monkeypatch, lambda: clock["at"])
    return {
        "admin": ApiClient(handler, ADMIN),
        "analyst": ApiClient(handler, ANALYST),
        "nobody": ApiClient(handler, NOBODY_IN_A_GROUP),
    }


@pytest.fixture
def admin(apis) -> ApiClient:
    return apis["admin"]


@pytest.fixture
def analyst(apis) -> ApiClient:
    return apis["analyst"]


# --- rules -----------------------------------------------------------------------------------------------------
def test_an_admin_creates_a_rule_at_version_one_under_their_own_name(admin):
    status, body = admin("POST", "/rules", RULE)
    assert status == 201
    assert (body["rule_id"], body["version"], body["author"]) == ("big-first-order", 1, ADMIN.name)
    assert body["created_at"] == body["updated_at"] == to_iso(NOW)


def test_a_rule_may_be_given_its_id(admin):
    status, body = admin("POST", "/rules", RULE | {"rule_id": "first-500"})
    assert (status, body["rule_id"]) == (201, "first-500")


def test_a_body_naming_its_author_is_refused(admin, stack):
    status, body = admin("POST", "/rules", RULE | {"author": "someone else"})
    assert status == 400 and body["error"]["code"] == "validation_failed"
    assert RuleRepository(stack.table("StateTable")).all() == []


def test_analysts_read_rules_with_their_versions(admin, analyst, clock):
    admin("POST", "/rules", RULE)
    clock["at"] = NOW + timedelta(minutes=5)
    admin("POST", "/rules/big-first-order/mode", {"mode": "active"})
    assert [r["rule_id"] for r in analyst("GET", "/rules")[1]["rules"]] == ["big-first-order"]
    status, body = analyst("GET", "/rules/big-first-order")
    assert status == 200 and (body["version"], body["mode"], body["updated_at"]) == (2, "active", to_iso(clock["at"]))
    newest, first = body["versions"]
    assert newest["diff"] == [{"field": "mode", "before": "shadow", "after": "active"}]
    assert (first["version"], first["author"], first["expression"]) == (1, ADMIN.name, RULE["expression"])


WRITES = [
    ("POST", "/rules", RULE),
    ("PUT", "/rules/big-first-order", RULE | {"name": "Renamed"}),
    ("DELETE", "/rules/big-first-order", None),
    ("POST", "/rules/big-first-order/mode", {"mode": "active"}),
    ("POST", "/rules/big-first-order/rollback", {"version": 1}),
    ("PUT", "/lists/blocked-ips", BLOCKED_IPS | {"mode": "allow"}),
    ("POST", "/lists/blocked-ips/items", {"items": [{"value": "198.51.100.1", "reason": "x"}]}),
    ("DELETE", "/lists/blocked-ips/items/203.0.113.0%2F24", None),
]


@pytest.mark.parametrize(("method", "path", "body"), WRITES, ids=[f"{m} {p}" for m, p, _ in WRITES])
def test_analysts_may_not_change_rules_or_lists(admin, analyst, stack, method, path, body):
    admin("POST", "/rules", RULE)
    admin("PUT", "/lists/blocked-ips", BLOCKED_IPS)
    before = stack.scan("StateTable")
    status, refused = analyst(method, path, body)
    assert status == 403 and refused["error"]["details"] == {"action": "manage rules"}
    assert stack.scan("StateTable") == before


def test_a_person_in_no_group_may_not_read_rules(apis):
    assert apis["nobody"]("GET", "/rules")[0] == 403


def test_an_invalid_expression_is_refused_with_its_position_and_nothing_is_stored(admin, stack):
    status, body = admin("POST", "/rules", RULE | {"expression": "tx.amount >"})
    assert status == 400 and body["error"]["code"] == "invalid_expression"
    (problem, *_) = body["error"]["details"]["problems"]
    assert set(problem) == {"message", "line", "column"} and problem["line"] == 1
    assert RuleRepository(stack.table("StateTable")).all() == []


def test_a_rule_without_an_outcome_is_refused(admin):
    body = {k: v for k, v in RULE.items() if k != "decision"}
    status, refused = admin("POST", "/rules", body)
    assert status == 400 and refused["error"]["code"] == "validation_failed"


def test_a_change_made_on_an_older_version_is_a_conflict_and_changes_nothing(admin, analyst):
    admin("POST", "/rules", RULE)
    admin("PUT", "/rules/big-first-order", RULE | {"expression": "tx.amount > 600.0"})
    status, body = admin("PUT", "/rules/big-first-order", RULE | {"name": "Stale", "expected_version": 1})
    assert status == 409 and body["error"]["details"]["version"] == 2
    assert analyst("GET", "/rules/big-first-order")[1]["name"] == RULE["name"]


def test_delete_disables_the_rule_as_a_new_version(admin):
    admin("POST", "/rules", RULE)
    status, body = admin("DELETE", "/rules/big-first-order")
    assert status == 200 and (body["mode"], body["version"]) == ("disabled", 2)


def test_rollback_makes_a_new_version_with_the_old_content(admin):
    admin("POST", "/rules", RULE)
    admin("PUT", "/rules/big-first-order", RULE | {"expression": "tx.amount > 900.0", "mode": "active"})
    status, body = admin("POST", "/rules/big-first-order/rollback", {"version": 1})
    assert status == 200
    assert (body["version"], body["expression"], body["mode"]) == (3, RULE["expression"], "shadow")


def test_rollback_to_a_version_that_never_was_is_a_404(admin):
    admin("POST", "/rules", RULE)
    assert admin("POST", "/rules/big-first-order/rollback", {"version": 7})[0] == 404


def test_an_unknown_rule_is_a_404(analyst):
    status, body = analyst("GET", "/rules/no-such-rule")
    assert status == 404 and body["error"]["code"] == "not_found"


def test_analysts_read_the_variables_and_functions_an_expression_may_use(analyst):
    status, body = analyst("GET", "/rules/reference")
    names = {entry["name"] for entry in body["variables"]}
    assert status == 200 and {"tx", "listed"} <= names


@pytest.mark.parametrize("rule_id", ["reference", "validate", "backtest"])
def test_an_id_that_names_a_route_is_refused(admin, rule_id):
    status, body = admin("POST", "/rules", RULE | {"rule_id": rule_id})
    assert status == 400 and body["error"]["details"][0]["field"] == "rule_id"


def test_a_rule_named_like_a_route_gets_an_id_of_its_own(admin):
    assert admin("POST", "/rules", RULE | {"name": "Validate"})[1]["rule_id"] == "validate-rule"


def test_analysts_check_an_expression_without_saving_it(analyst, stack):
    status, body = analyst("POST", "/rules/validate", {"expression": 'tx.amount > "x"'})
    assert status == 200 and body["valid"] is False
    assert body["problems"] == [
        {"message": "found no matching overload for '_>_' applied to '(double, string)'", "line": 1, "column": 11}
    ]
    assert analyst("POST", "/rules/validate", {"expression": "tx.amount > 500.0"})[1] == {"valid": True, "problems": []}
    assert RuleRepository(stack.table("StateTable")).all() == []


def test_the_rule_limit_refuses_one_more_published_rule(admin, monkeypatch):
    monkeypatch.setattr(service, "MAX_RULES", 1)
    admin("POST", "/rules", RULE)
    assert admin("POST", "/rules", RULE | {"rule_id": "disabled-one", "mode": "disabled"})[0] == 201
    status, body = admin("POST", "/rules/disabled-one/mode", {"mode": "active"})
    assert status == 409 and body["error"]["details"] == {"limit": 1}


# --- lists -----------------------------------------------------------------------------------------------------
def test_an_admin_creates_a_list_and_analysts_read_it_with_normalised_values(admin, analyst):
    status, body = admin("PUT", "/lists/blocked-ips", BLOCKED_IPS | {"description": "known bots"})
    assert status == 200 and (body["items_count"], body["updated_by"]) == (1, ADMIN.name)
    admin("POST", "/lists/blocked-ips/items", {"items": [{"value": "2001:DB8:0::7", "reason": "proxy"}]})
    assert analyst("GET", "/lists")[1]["lists"] == [
        {"name": "blocked-ips", "kind": "ip", "mode": "block", "description": "known bots", "items_count": 2,
         "updated_by": ADMIN.name, "updated_at": to_iso(NOW)}
    ]  # fmt: skip
    status, detail = analyst("GET", "/lists/blocked-ips")
    assert status == 200 and [i["value"] for i in detail["items"]] == ["2001:db8::7", "203.0.113.0/24"]
    assert detail["items"][0] | {"added_at": None} == {
        "value": "2001:db8::7", "reason": "proxy", "added_by": ADMIN.name, "added_at": None, "expires_at": None
    }  # fmt: skip


def test_one_bad_item_refuses_the_request_naming_it_and_adds_nothing(admin, stack):
    admin("PUT", "/lists/blocked-ips", BLOCKED_IPS)
    items = [{"value": "198.51.100.1", "reason": "x"}, {"value": "198.51.100.300", "reason": "y"}]
    status, body = admin("POST", "/lists/blocked-ips/items", {"items": items})
    assert status == 400 and [d["field"] for d in body["error"]["details"]] == ["items.1.value"]
    assert ListRepository(stack.table("StateTable")).count("blocked-ips", NOW) == 1


def test_adding_a_value_already_listed_updates_its_reason(admin, analyst):
    admin("PUT", "/lists/blocked-ips", BLOCKED_IPS)
    status, body = admin("POST", "/lists/blocked-ips/items", {"items": [{"value": "203.0.113.0/24", "reason": "new"}]})
    assert status == 200 and (body["added"], body["updated"], body["items_count"]) == (0, 1, 1)
    assert analyst("GET", "/lists/blocked-ips")[1]["items"][0]["reason"] == "new"


def test_put_with_items_replaces_every_entry(admin, analyst):
    admin("PUT", "/lists/blocked-ips", BLOCKED_IPS)
    admin("PUT", "/lists/blocked-ips", BLOCKED_IPS | {"items": [{"value": "198.51.100.9", "reason": "x"}]})
    assert [i["value"] for i in analyst("GET", "/lists/blocked-ips")[1]["items"]] == ["198.51.100.9"]


def test_a_lists_kind_cannot_change_under_its_entries(admin):
    admin("PUT", "/lists/blocked-ips", BLOCKED_IPS)
    status, body = admin("PUT", "/lists/blocked-ips", {"kind": "email", "mode": "block"})
    assert status == 409 and body["error"]["details"]["kind"] == "ip"


def test_an_expired_entry_is_no_longer_listed(admin, analyst, clock):
    expiry = to_iso(NOW + timedelta(hours=1))
    admin(
        "PUT",
        "/lists/blocked-ips",
        BLOCKED_IPS | {"items": [{"value": "198.51.100.1", "reason": "x", "expires_at": expiry}]},
    )
    assert analyst("GET", "/lists/blocked-ips")[1]["items_count"] == 1
    clock["at"] = NOW + timedelta(hours=1)
    body = analyst("GET", "/lists/blocked-ips")[1]
    assert (body["items_count"], body["items"]) == (0, [])


def test_an_expiry_in_the_past_is_refused(admin):
    item = {"value": "198.51.100.1", "reason": "x", "expires_at": to_iso(NOW - timedelta(seconds=1))}
    status, body = admin("PUT", "/lists/blocked-ips", BLOCKED_IPS | {"items": [item]})
    assert status == 400 and body["error"]["details"][0]["field"] == "items.0.expires_at"


def test_an_entry_is_removed_by_any_form_of_its_value(admin, analyst):
    admin("PUT", "/lists/blocked-ips", BLOCKED_IPS | {"items": [{"value": "2001:db8::7", "reason": "x"}]})
    status, body = admin("DELETE", "/lists/blocked-ips/items/2001%3ADB8%3A0%3A%3A7")
    assert status == 200 and body["items_count"] == 0
    assert admin("DELETE", "/lists/blocked-ips/items/2001%3Adb8%3A%3A7")[0] == 404


def test_a_cidr_entry_is_removed_through_its_encoded_slash(admin):
    admin("PUT", "/lists/blocked-ips", BLOCKED_IPS)
    assert admin("DELETE", "/lists/blocked-ips/items/203.0.113.0%2F24")[1]["items_count"] == 0


def test_an_unknown_list_is_a_404(analyst, admin):
    assert analyst("GET", "/lists/nope")[0] == 404
    assert admin("POST", "/lists/nope/items", {"items": [{"value": "x", "reason": "y"}]})[0] == 404


# --- analytics -------------------------------------------------------------------------------------------------
def _matched(stack: Stack, rule_id: str, transaction_id: str, mode: str, day: str) -> None:
    """What DetectFunction records for a match."""
    at = datetime.fromisoformat(f"{day}T12:00:00+00:00")
    RuleMatchRepository(stack.table("StateTable")).record([RecordedMatch(rule_id, 1, mode, transaction_id, at)], NOW)


def test_rule_analytics_count_matches_per_day_and_precision_from_labels_and_feedback(admin, analyst, stack):
    admin("POST", "/rules", RULE)
    day, yesterday = NOW.date().isoformat(), (NOW - timedelta(days=1)).date().isoformat()
    for transaction_id, mode, on in [("t1", "shadow", yesterday), ("t2", "shadow", day), ("t3", "active", day),
                                     ("t4", "active", day)]:  # fmt: skip
        _matched(stack, "big-first-order", transaction_id, mode, on)
    labels = LabelRepository(stack.table("StateTable"))
    labels.put("t1", {"label": "fraud", "source": "chargeback", "by": "shop", "at": to_iso(NOW)})
    labels.put("t2", {"label": "legitimate", "source": "analyst", "by": "maria", "at": to_iso(NOW)})
    alert = stored_alert("c9", minute=30, transaction_id="t3")  # an analyst confirmed t3's alert as fraud
    AlertRepository(stack.table("AlertsTable")).save(
        replace(alert, feedback={"label": "fraud", "by": "maria", "at": to_iso(NOW)})
    )
    status, body = analyst("GET", "/analytics/rules", days="7")
    assert status == 200
    (stats,) = body["rules"]
    assert stats["matches_per_day"] == [
        {"day": yesterday, "mode": "shadow", "matches": 1},
        {"day": day, "mode": "active", "matches": 2},
        {"day": day, "mode": "shadow", "matches": 1},
    ]
    assert (stats["matches"], stats["shadow_matches"]) == (2, 2)
    assert (stats["labelled_fraud"], stats["labelled_legitimate"], stats["precision"]) == (2, 1, 0.6667)


def test_rule_analytics_without_labels_give_no_precision(admin, analyst, stack):
    admin("POST", "/rules", RULE)
    _matched(stack, "big-first-order", "t1", "shadow", NOW.date().isoformat())
    (stats,) = analyst("GET", "/analytics/rules")[1]["rules"]
    assert (stats["shadow_matches"], stats["precision"]) == (1, None)
