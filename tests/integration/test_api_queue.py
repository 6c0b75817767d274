"""The analyst's queue on moto: GET /alerts?order=risk (highest risk first, then the longest waiting, read
from the by-risk index, across pages and with every filter) and POST /alerts/bulk (each alert on its own:
partial refusals, a retry that changes nothing twice, a reason in the history, limits, who may)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from shopwatch.domain.alert import AlertStatus
from shopwatch.storage.alerts import AlertRepository
from tests.builders import stored_alert
from tests.conftest import Stack
from tests.integration.api_requests import NOBODY_IN_A_GROUP, ApiClient


@pytest.fixture
def api(stack: Stack) -> ApiClient:
    return ApiClient(stack.handler("ApiFunction"))


@pytest.fixture
def repository(stack: Stack) -> AlertRepository:
    return AlertRepository(stack.table("AlertsTable"))


def save(repository, customer, *, risk, minute, status="open", severity="high", detector="price"):
    alert = stored_alert(customer, minute=minute, status=status, severity=severity, detector=detector)
    alert = replace(alert, risk_score=Decimal(risk))
    assert repository.save(alert)
    return alert


def every_page(api, limit=3, **query):
    seen, token = [], None
    while True:
        status, page = api("GET", "/alerts", limit=str(limit), **query, **({"next_token": token} if token else {}))
        assert status == 200, page
        assert len(page["alerts"]) <= limit
        seen.extend(page["alerts"])
        token = page["next_token"]
        if token is None:
            return seen


def queue_order(alerts):
    return sorted(alerts, key=lambda a: (-float(a["risk_score"]), a["created_at"], a["alert_id"]))


@pytest.fixture
def mixed(repository):
    """Sixteen alerts (each in an hour of its own: one id per detector, customer and hour): risks with ties,
    ages, all five statuses, four severities, two detectors."""
    risks = [95, 40, 72.5, 95, 10, 72.5, 88, 40, 95, 61, 72.5, 5, 100, 0, 88, 55]
    severities = ["low", "medium", "high", "critical"]
    return [
        save(
            repository,
            f"c{i % 4}",
            risk=str(r),
            minute=i * 60 + (i * 7) % 20,
            status=list(AlertStatus)[i % 5].value,
            severity=severities[i % 4],
            detector="price" if i % 3 else "geo",
        )
        for i, r in enumerate(risks)
    ]


def test_order_risk_lists_highest_risk_first_then_the_oldest_across_pages(api, mixed):
    seen = every_page(api, order="risk")
    assert sorted(a["alert_id"] for a in seen) == sorted(a.alert_id for a in mixed)
    assert [a["alert_id"] for a in seen] == [a["alert_id"] for a in queue_order(seen)]
    assert seen[0]["risk_score"] == 100 and seen[-1]["risk_score"] == 0


@pytest.mark.parametrize(
    "query",
    [
        {"status": "open"},
        {"min_severity": "medium"},
        {"status": "open", "min_severity": "high"},
        {"detector": "geo"},
        {"customer_id": "c1"},
        {"customer_id": "c2", "status": "investigating"},
        {"since": "2025-09-16T18:00:00Z", "until": "2025-09-16T23:00:00Z"},
    ],
)
def test_filters_keep_working_in_risk_order(api, mixed, query):
    newest = every_page(api, limit=100, **query)  # the same filters, the default order: the expected set
    by_risk = every_page(api, limit=2, order="risk", **query)
    assert newest, "the filter should match something"
    assert sorted(a["alert_id"] for a in by_risk) == sorted(a["alert_id"] for a in newest)
    assert by_risk == queue_order(by_risk)


def test_the_default_order_is_still_newest_first(api, mixed):
    seen = every_page(api)
    order = [(a["created_at"], a["alert_id"]) for a in seen]
    assert order == sorted(order, reverse=True)


def test_a_risk_order_token_is_refused_in_the_other_order(api, mixed):
    token = api("GET", "/alerts", limit="1", order="risk")[1]["next_token"]
    assert token
    status, body = api("GET", "/alerts", limit="1", next_token=token)
    assert status == 400 and "next_token" in body["error"]["message"]
    assert api("GET", "/alerts", limit="1", order="somehow")[0] == 400


def test_an_alert_whose_risk_grows_moves_up_the_queue(api, repository):
    low = save(repository, "a", risk="20", minute=1)
    save(repository, "b", risk="50", minute=2)
    assert every_page(api, order="risk")[0]["customer_id"] == "b"
    assert repository.save(replace(low, risk_score=Decimal("90"), version=low.version + 1))
    assert every_page(api, order="risk")[0]["customer_id"] == "a"


# --- POST /alerts/bulk ---------------------------------------------------------------------------------------
def test_bulk_resolve_settles_each_alert_with_the_reason_and_reports_refusals_one_by_one(api, repository):
    first = save(repository, "a", risk="50", minute=1)
    second = save(repository, "b", risk="60", minute=2, status="investigating")
    confirmed = save(repository, "c", risk="70", minute=3, status="confirmed_fraud")
    unknown = "al_" + "0" * 24
    body = {"alert_ids": [first.alert_id, unknown, second.alert_id, "nonsense"], "action": "false_positive",
            "reason": "test orders from the QA team"}  # fmt: skip
    status, answer = api("POST", "/alerts/bulk", body)
    assert status == 200, answer
    outcomes = [(r["alert_id"], r["outcome"], r["http_status"]) for r in answer["results"]]
    assert outcomes == [
        (first.alert_id, "changed", 200), (unknown, "refused", 404), (second.alert_id, "changed", 200),
        ("nonsense", "refused", 404),
    ]  # fmt: skip
    assert (answer["changed"], answer["unchanged"], answer["refused"]) == (2, 0, 2)
    for alert_id in (first.alert_id, second.alert_id):
        stored = repository.get(alert_id)
        assert stored.status is AlertStatus.FALSE_POSITIVE
        assert stored.history[-1] | {"at": None} == {
            "at": None, "by": "maria", "action": "status", "from": stored.history[-1]["from"],
            "to": "false_positive", "reason": "test orders from the QA team",
        }  # fmt: skip
    status, answer = api("POST", "/alerts/bulk", body | {"alert_ids": [confirmed.alert_id]})
    (refused,) = answer["results"]
    assert refused["http_status"] == 409 and refused["error"]["code"] == "conflict"
    assert repository.get(confirmed.alert_id) == confirmed


def test_a_retried_bulk_request_changes_nothing_twice(api, repository):
    alerts = [save(repository, c, risk="50", minute=i) for i, c in enumerate("abc")]
    body = {"alert_ids": [a.alert_id for a in alerts], "action": "resolve", "reason": "duplicate of case 7"}
    assert api("POST", "/alerts/bulk", body)[1]["changed"] == 3
    after_first = {a.alert_id: repository.get(a.alert_id) for a in alerts}
    status, answer = api("POST", "/alerts/bulk", body)
    assert status == 200 and [r["outcome"] for r in answer["results"]] == ["unchanged"] * 3
    assert {a.alert_id: repository.get(a.alert_id) for a in alerts} == after_first


def test_bulk_assign_needs_no_reason_and_is_idempotent(api, repository):
    alert = save(repository, "a", risk="50", minute=1)
    body = {"alert_ids": [alert.alert_id], "action": "assign", "assignee": "sam"}
    assert api("POST", "/alerts/bulk", body)[1]["results"][0]["alert"]["assignee"] == "sam"
    assert api("POST", "/alerts/bulk", body)[1]["results"][0]["outcome"] == "unchanged"
    assert repository.get(alert.alert_id).history[-1]["action"] == "assigned"
    unassigned = api("POST", "/alerts/bulk", body | {"assignee": None})[1]["results"][0]
    assert unassigned["outcome"] == "changed" and unassigned["alert"]["assignee"] is None


def ids(n):
    return [f"al_{i:024x}" for i in range(n)]


@pytest.mark.parametrize(
    "body",
    [
        {"alert_ids": [], "action": "resolve", "reason": "r"},
        {"alert_ids": ids(101), "action": "resolve", "reason": "r"},
        {"alert_ids": ids(1) * 2, "action": "resolve", "reason": "r"},
        {"alert_ids": ids(1), "action": "resolve"},
        {"alert_ids": ids(1), "action": "resolve", "reason": None},
        {"alert_ids": ids(1), "action": "confirmed_fraud", "reason": ""},
        {"alert_ids": ids(1), "action": "resolve", "reason": "x" * 1001},
        {"alert_ids": ids(1), "action": "resolve", "reason": "bad\x07bell"},
        {"alert_ids": ids(1), "action": "resolve", "reason": "r", "assignee": "sam"},
        {"alert_ids": ids(1), "action": "assign"},
        {"alert_ids": ids(1), "action": "delete", "reason": "r"},
        {"alert_ids": [""], "action": "resolve", "reason": "r"},
        {"alert_ids": ids(1), "action": "resolve", "reason": "r", "extra": 1},
    ],
)
def test_a_bulk_request_outside_the_limits_is_a_400(api, body):
    status, answer = api("POST", "/alerts/bulk", body)
    assert status == 400 and answer["error"]["code"] in {"validation_failed", "invalid_body"}, answer


def test_a_hundred_alerts_is_within_the_limit(api):
    status, answer = api("POST", "/alerts/bulk", {"alert_ids": ids(100), "action": "resolve", "reason": "r"})
    assert status == 200 and answer["refused"] == 100


def test_bulk_needs_the_triage_right(stack, repository):
    alert = save(repository, "a", risk="50", minute=1)
    api = ApiClient(stack.handler("ApiFunction"), NOBODY_IN_A_GROUP)
    status, body = api("POST", "/alerts/bulk", {"alert_ids": [alert.alert_id], "action": "resolve", "reason": "r"})
    assert status == 403 and body["error"]["code"] == "forbidden"
    assert repository.get(alert.alert_id) == alert


class CountingReads:
    """A DynamoDB client that counts the items each Query read (ScannedCount), to show a page reads a page."""

    def __init__(self, real) -> None:
        self.real, self.scanned = real, 0

    def query(self, **kwargs):
        response = self.real.query(**kwargs)
        self.scanned += response["ScannedCount"]
        return response

    def __getattr__(self, name):
        return getattr(self.real, name)


def test_the_first_page_of_a_long_queue_reads_about_a_page_not_the_queue(api, repository, monkeypatch):
    """Why /alerts?order=risk stays fast with 10,000 open alerts: the by-risk index hands them over in queue
    order, so the first page of 20 reads 21 items of the open partition, whatever its length."""
    from shopwatch.storage import newest_first

    for i in range(300):
        save(repository, f"long-{i}", risk=str(i % 97), minute=i)
    counting = CountingReads(newest_first.client("dynamodb"))
    monkeypatch.setattr(newest_first, "client", lambda service: counting)
    status, page = api("GET", "/alerts", order="risk", status="open", limit="20")
    assert status == 200 and len(page["alerts"]) == 20 and page["next_token"]
    assert [a["risk_score"] for a in page["alerts"][:4]] == [96, 96, 96, 95]
    assert counting.scanned <= 21
