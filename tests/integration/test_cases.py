"""Cases on moto, made by the real pipeline: a ring of new accounts on one device becomes one case (the first
account's own case folded into it), a replayed batch changes nothing, triaging the case settles its alerts
(an alert moved by hand is skipped, not forced; a retry does nothing twice), notes, refusals, and the case
figures on GET /dashboard/metrics."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shopwatch.domain.clock import to_iso, utcnow
from tests.conftest import Stack
from tests.integration.api_requests import ApiClient


def ring_transactions(accounts: int = 3) -> list[dict]:
    """New accounts opened seconds before buying, one after another, on one device."""
    start = utcnow() - timedelta(minutes=30)
    return [
        {"transaction_id": f"ring{i}", "customer_id": f"fresh{i}", "timestamp": to_iso(start + timedelta(minutes=i)),
         "amount": "80.00", "account_created_at": to_iso(start + timedelta(minutes=i, seconds=-10)),
         "device_id": "DEV-RING", "ip": f"203.0.113.{10 + i}", "email": f"fresh{i}@example.com", "country": "GB"}
        for i in range(accounts)
    ]  # fmt: skip


@pytest.fixture
def api(stack: Stack) -> ApiClient:
    return ApiClient(stack.handler("ApiFunction"))


@pytest.fixture
def ring(stack: Stack) -> Stack:
    """The ring's purchases, each detected before the next arrives (as a shop sends them)."""
    pipeline = stack.pipeline(MODEL_ARTIFACT="off")
    for transaction in ring_transactions():
        assert pipeline.post(transaction)["status"] == 202
        pipeline.drain()
    return stack


@pytest.fixture
def ring_case(ring: Stack, api: ApiClient) -> dict:
    status, page = api("GET", "/cases")
    assert status == 200
    (listed,) = page["cases"]
    status, case = api("GET", f"/cases/{listed['case_id']}")
    assert status == 200
    return case


def test_a_device_ring_is_one_case_anchored_on_the_device_with_every_account_and_alert(ring, ring_case):
    assert ring_case["anchor"] == {"kind": "device", "value": "DEV-RING"}
    assert ring_case["accounts"] == ["fresh0", "fresh1", "fresh2"]
    assert {"kind": "device", "value": "DEV-RING"} in ring_case["entities"]
    stored = ring.scan("AlertsTable")
    assert len(stored) >= 3 and {a["customer_id"] for a in stored} == {"fresh0", "fresh1", "fresh2"}
    assert sorted(a["alert_id"] for a in ring_case["alerts"]) == sorted(a["alert_id"] for a in stored)
    assert ring_case["status"] == "open" and ring_case["severity"] == max(
        (a["severity"] for a in stored), key=["low", "medium", "high", "critical"].index
    )


def test_the_first_accounts_own_case_is_folded_into_the_ring_and_hidden_from_the_list(ring, ring_case, api):
    (own,) = [c for c in ring.scan("CasesTable") if c["anchor_kind"] == "customer"]
    assert own["anchor_value"] == "fresh0" and own["folded_into"] == ring_case["case_id"]
    status, page = api("GET", "/cases", status="all")
    assert status == 200 and [c["case_id"] for c in page["cases"]] == [ring_case["case_id"]]


def test_a_replayed_batch_changes_no_case_and_no_alert(stack):
    replay = stack.cursor("TransactionsTable")  # a reader of its own: sees every record once more
    pipeline = stack.pipeline(MODEL_ARTIFACT="off")
    for transaction in ring_transactions():
        pipeline.post(transaction)
        pipeline.drain()
    cases, alerts = stack.scan("CasesTable"), stack.scan("AlertsTable")
    event = stack.stream_event(replay, "DetectFunction")
    assert event is not None and len(event["Records"]) == 3
    assert pipeline.detect(event) == {"batchItemFailures": []}
    assert stack.scan("CasesTable") == cases and stack.scan("AlertsTable") == alerts
    (ring,) = [c for c in cases if c["anchor_kind"] == "device"]
    ring_alerts = [a for a in alerts if a.get("case_id") == ring["case_id"]]
    assert ring["alert_count"] == len(ring_alerts) and ring["transaction_count"] == 2  # fresh1's and fresh2's


def test_confirming_the_case_settles_each_alert_as_fraud_via_the_case_and_a_retry_does_nothing_twice(
    ring_case, api, stack
):
    path = f"/cases/{ring_case['case_id']}"
    status, changed = api("PATCH", path, {"status": "confirmed_fraud"})
    assert status == 200 and changed["status"] == "confirmed_fraud" and changed["closed_at"]
    assert sorted(changed["settlement"]["settled"]) == sorted(a["alert_id"] for a in ring_case["alerts"])
    assert changed["settlement"]["skipped"] == []
    for alert in changed["alerts"]:
        assert alert["status"] == "confirmed_fraud"
        assert alert["feedback"]["label"] == "fraud"
        assert alert["feedback"]["by"] == f"maria via case {ring_case['case_id']}"
    before = stack.scan("AlertsTable")
    status, again = api("PATCH", path, {"status": "confirmed_fraud"})
    assert status == 200 and again["status"] == "confirmed_fraud"
    assert stack.scan("AlertsTable") == before
    assert again["history"] == changed["history"]


def test_an_alert_moved_by_hand_is_skipped_and_reported_not_forced(ring_case, api):
    by_hand = ring_case["alerts"][0]["alert_id"]
    assert api("PATCH", f"/alerts/{by_hand}", {"status": "false_positive"})[0] == 200
    status, changed = api("PATCH", f"/cases/{ring_case['case_id']}", {"status": "confirmed_fraud"})
    assert status == 200
    (skipped,) = changed["settlement"]["skipped"]
    assert skipped["alert_id"] == by_hand and skipped["status"] == "false_positive"
    assert "resolved" in skipped["reason"]
    assert api("GET", f"/alerts/{by_hand}")[1]["status"] == "false_positive"


def test_resolving_a_case_settles_its_alerts_without_feedback(ring_case, api):
    status, changed = api("PATCH", f"/cases/{ring_case['case_id']}", {"status": "resolved"})
    assert status == 200
    assert {a["status"] for a in changed["alerts"]} == {"resolved"}
    assert {a["feedback"] is None for a in changed["alerts"]} == {True}


def test_assigning_and_noting_a_case_are_recorded_and_start_the_time_to_first_action(ring_case, api):
    path = f"/cases/{ring_case['case_id']}"
    status, assigned = api("PATCH", path, {"assignee": "maria"})
    assert status == 200 and assigned["assignee"] == "maria" and assigned["first_action_at"]
    assert assigned["time_to_first_action_seconds"] >= 0 and assigned["alerts"][0]["status"] == "open"
    status, noted = api("POST", f"{path}/notes", {"text": "same device, three new accounts"})
    assert status == 201 and noted["notes"][-1]["text"] == "same device, three new accounts"
    assert [h["what"] for h in noted["history"]][-2:] == ["assigned to maria", "note"]
    assert noted["first_action_at"] == assigned["first_action_at"]


def test_refusals_are_clear(ring_case, api):
    for unknown in ("cs_" + "0" * 24, "not-a-case"):
        status, body = api("GET", f"/cases/{unknown}")
        assert status == 404 and body["error"]["code"] == "not_found"
    path = f"/cases/{ring_case['case_id']}"
    assert api("PATCH", path, {"status": "confirmed_fraud"})[0] == 200
    status, body = api("PATCH", path, {"status": "false_positive"})
    assert status == 409 and body["error"]["details"]["allowed"] == ["resolved"]
    assert api("PATCH", path, {})[0] == 400
    assert api("PATCH", path, {"status": "closed"})[0] == 400
    assert api("GET", "/cases", status="nonsense")[0] == 400


def test_the_dashboard_metrics_carry_the_cases_time_to_first_action_and_to_close(ring_case, api):
    status, before = api("GET", "/dashboard/metrics")
    assert status == 200 and before["cases"]["opened"] == 1 and before["cases"]["time_to_first_action"]["count"] == 0
    assert api("PATCH", f"/cases/{ring_case['case_id']}", {"status": "investigating"})[0] == 200
    assert api("PATCH", f"/cases/{ring_case['case_id']}", {"status": "resolved"})[0] == 200
    status, after = api("GET", "/dashboard/metrics")
    cases = after["cases"]
    assert cases["time_to_first_action"]["count"] == 1 and cases["time_to_first_action"]["median_seconds"] >= 0
    assert cases["closed"] == 1 and cases["time_to_close"]["count"] == 1
    assert cases["time_to_close"]["p90_seconds"] >= cases["time_to_first_action"]["p90_seconds"]
