"""ApiFunction's triage routes on moto, with alerts made by the real pipeline: listing with filters and
opaque pagination, detail, the status workflow (409 on an illegal move), notes, feedback, transactions with
their detector scores, and labels reported later."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from shopwatch.domain.alert import AlertStatus
from shopwatch.domain.clock import floor_window, to_iso, utcnow
from shopwatch.storage.alerts import AlertRepository
from tests.builders import stored_alert
from tests.conftest import Stack, load_event
from tests.integration.api_requests import ApiClient, User


@pytest.fixture
def api(stack: Stack) -> ApiClient:
    return ApiClient(stack.handler("ApiFunction"))


def sample_transaction(**changes) -> dict:
    tx = json.loads(load_event("ingest_post_transactions.json")["body"])
    return tx | changes


@pytest.fixture
def price_alert(stack: Stack, api: ApiClient) -> dict:
    """The sample purchase: a laptop sold 99% under its catalog price, caught by the price detector."""
    assert api("PUT", "/products/LAPTOP-15", {"price": 50000.00, "currency": "INR", "name": "Laptop"})[0] == 200
    pipeline = stack.pipeline(MODEL_ARTIFACT="off")
    assert pipeline.post(sample_transaction())["status"] == 202
    pipeline.drain()
    status, page = api("GET", "/alerts")
    assert status == 200
    (alert,) = page["alerts"]
    return alert


def test_the_price_alert_is_listed_with_its_facts(price_alert):
    assert price_alert["detector"] == "price" and price_alert["severity"] == "critical"
    assert price_alert["status"] == "open" and price_alert["transaction_ids"] == ["921"]
    assert "99.0%" in price_alert["summary"] and price_alert["reasons"]


def test_an_alert_is_found_by_its_id_and_an_unknown_id_is_a_404(api, price_alert):
    status, alert = api("GET", f"/alerts/{price_alert['alert_id']}")
    assert status == 200 and alert == price_alert
    for unknown in ("al_" + "0" * 24, "not-an-id"):
        status, body = api("GET", f"/alerts/{unknown}")
        assert status == 404 and body["error"]["code"] == "not_found"


def test_the_status_workflow_records_who_and_when_and_refuses_illegal_moves(api, price_alert):
    path = f"/alerts/{price_alert['alert_id']}"
    status, alert = api("PATCH", path, {"status": "investigating"})
    assert status == 200 and alert["status"] == "investigating" and alert["triaged_at"]
    assert alert["history"][-1] | {"at": None} == {
        "at": None, "by": "maria", "action": "status", "from": "open", "to": "investigating"
    }  # fmt: skip
    status, body = api("PATCH", path, {"status": "open"})
    assert status == 409 and body["error"]["code"] == "conflict"
    assert body["error"]["details"]["allowed"] == ["confirmed_fraud", "false_positive", "resolved"]
    assert api("PATCH", path, {"status": "resolved"})[1]["status"] == "resolved"
    status, body = api("PATCH", path, {"status": "open"})
    assert status == 409 and body["error"]["details"]["allowed"] == ["investigating"]
    assert api("PATCH", path, {"status": "investigating"})[1]["status"] == "investigating"


def test_one_patch_can_move_the_status_and_assign_at_once(api, price_alert):
    """Both changes land in one write (each used to move the version, so the save never matched: a 503)."""
    path = f"/alerts/{price_alert['alert_id']}"
    status, alert = api("PATCH", path, {"status": "investigating", "assignee": "sam"})
    assert status == 200, alert
    assert (alert["status"], alert["assignee"]) == ("investigating", "sam")
    assert [h["action"] for h in alert["history"][-2:]] == ["assigned", "status"]
    assert api("GET", path)[1] == alert


def test_assigning_and_unassigning_is_history(api, price_alert):
    path = f"/alerts/{price_alert['alert_id']}"
    assert api("PATCH", path, {"assignee": "sam"})[1]["assignee"] == "sam"
    alert = api("PATCH", path, {"assignee": None})[1]
    assert alert["assignee"] is None and alert["status"] == "open"
    assert [(h["action"], h["to"]) for h in alert["history"][-2:]] == [("assigned", "sam"), ("assigned", None)]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"by": "x"},
        {"status": "resolved", "by": "maria"},  # the history names the signed-in user; nobody else can be named
        {"status": "closed"},
        {"status": "resolved", "colour": "red"},
        {"assignee": 7},
        {"status": "resolved", "by": ""},
        {"status": None},
        "not an object",
    ],
)
def test_a_bad_patch_is_a_400_and_changes_nothing(api, stack, price_alert, body):
    before = AlertRepository(stack.table("AlertsTable")).get(price_alert["alert_id"])
    status, answer = api("PATCH", f"/alerts/{price_alert['alert_id']}", body)
    assert status == 400 and answer["error"]["code"] == "validation_failed"
    assert AlertRepository(stack.table("AlertsTable")).get(price_alert["alert_id"]) == before


def test_a_body_that_is_not_json_is_a_400(api, price_alert):
    status, answer = api("PATCH", f"/alerts/{price_alert['alert_id']}", b"{status:")
    assert status == 400 and answer["error"]["code"] == "validation_failed"


def test_notes_are_kept_in_order_with_their_author(api, price_alert):
    path = f"/alerts/{price_alert['alert_id']}/notes"
    assert api("POST", path, {"text": "called the customer"})[0] == 201
    status, alert = ApiClient(api.handler, User("sam", ("admins",)))(
        "POST", path, {"text": "<script>alert(1)</script>"}
    )
    assert status == 201
    assert [(n["by"], n["text"]) for n in alert["notes"]] == [
        ("maria", "called the customer"), ("sam", "<script>alert(1)</script>")
    ]  # fmt: skip
    for bad in (
        {"text": ""},
        {"text": "   "},
        {"text": " \n\t"},
        {"text": "x" * 1001},
        {"note": "x"},
        {"text": "x", "by": "sam"},
    ):
        assert api("POST", path, bad)[0] == 400
    assert api("POST", f"/alerts/al_{'f' * 24}/notes", {"text": "x"})[0] == 404


def test_feedback_settles_an_open_alert_and_is_only_recorded_on_a_settled_one(api, price_alert):
    path = f"/alerts/{price_alert['alert_id']}"
    status, alert = api("POST", path + "/feedback", {"label": "fraud", "comment": "card stolen"})
    assert status == 200 and alert["status"] == "confirmed_fraud"
    assert alert["feedback"] | {"at": None} == {"label": "fraud", "by": "maria", "comment": "card stolen", "at": None}
    alert = api("POST", path + "/feedback", {"label": "legitimate"})[1]
    assert alert["status"] == "confirmed_fraud" and alert["feedback"]["label"] == "legitimate"
    assert api("POST", path + "/feedback", {"label": "maybe"})[0] == 400


def test_list_filters_combine_and_bad_filters_are_400s(api, price_alert):
    def ids(**query):
        status, page = api("GET", "/alerts", **query)
        assert status == 200
        return [a["alert_id"] for a in page["alerts"]]

    mine = [price_alert["alert_id"]]
    assert ids(status="open") == mine and ids(status="resolved") == []
    assert ids(min_severity="critical") == mine and ids(detector="price") == mine and ids(detector="geo") == []
    assert ids(customer_id="1") == mine and ids(customer_id="1", status="investigating") == []
    assert (
        ids(since="2999-01-01T00:00:00Z", until="2999-01-02T00:00:00Z") == []
        and ids(until="2000-01-01T00:00:00Z") == []
        and ids(since="2026-01-02T00:00:00Z", until="2026-01-01T00:00:00Z") == []  # an empty window
        and ids(since="0001-01-01T00:00:00+05:00") == mine  # before anything stored: everything
    )
    for query in (
        {"status": "closed"}, {"min_severity": "huge"}, {"detector": "astrology"}, {"limit": "0"}, {"limit": "101"},
        {"limit": "ten"}, {"since": "yesterday"}, {"next_token": "%%%"}, {"customer_id": ""},
    ):  # fmt: skip
        status, body = api("GET", "/alerts", **query)
        assert status == 400 and body["error"]["code"] == "validation_failed", query


def test_pages_cover_every_alert_once_newest_first_even_across_ties(stack, api):
    """Thirty alerts in all five statuses, ten of them created at the very same instant."""
    repository = AlertRepository(stack.table("AlertsTable"))
    statuses = list(AlertStatus)
    made = []
    for i in range(30):
        alert = stored_alert(f"c{i}", minute=min(i, 20), status=statuses[i % 5].value, transaction_id=f"t{i}")
        assert repository.save(alert)
        made.append(alert)
    seen, token, pages = [], None, 0
    while True:
        query = {"limit": "7"} | ({"next_token": token} if token else {})
        status, page = api("GET", "/alerts", **query)
        assert status == 200 and len(page["alerts"]) <= 7
        seen.extend(page["alerts"])
        pages += 1
        token = page["next_token"]
        if token is None:
            break
    assert sorted(a["alert_id"] for a in seen) == sorted(a.alert_id for a in made)
    order = [(a["created_at"], a["alert_id"]) for a in seen]
    assert order == sorted(order, reverse=True) and pages == 5


def test_a_token_is_refused_with_other_filters(api, stack):
    repository = AlertRepository(stack.table("AlertsTable"))
    for i in range(3):
        assert repository.save(stored_alert(f"c{i}", minute=i))
    token = api("GET", "/alerts", limit="1")[1]["next_token"]
    assert token
    status, body = api("GET", "/alerts", limit="1", status="open", next_token=token)
    assert status == 400 and "next_token" in body["error"]["message"]
    assert api("GET", "/alerts", limit="1", next_token=token)[0] == 200


def test_a_transaction_shows_each_detectors_score_and_its_alert(api, price_alert):
    status, body = api("GET", "/transactions/921")
    assert status == 200
    assert body["transaction"]["amount"] == "500.00" and body["detection"]["processed"] is True
    assert [s["detector"] for s in body["detection"]["scores"]] == ["price"]
    assert body["detection"]["alert_ids"] == [price_alert["alert_id"]] and body["label"] is None
    assert api("GET", "/transactions/nope")[0] == 404
    assert api("GET", "/transactions/bad%20id")[0] == 404


def test_a_chargeback_confirms_the_alert_that_caught_it(api, price_alert):
    status, body = api("POST", "/transactions/921/label", {"label": "fraud", "source": "chargeback"})
    assert status == 200 and body["alerted"] is True and body["feedback_given_to"] == [price_alert["alert_id"]]
    alert = api("GET", f"/alerts/{price_alert['alert_id']}")[1]
    assert alert["status"] == "confirmed_fraud" and alert["feedback"]["by"] == "shop (chargeback)"  # the API key
    again = api("POST", "/transactions/921/label", {"label": "fraud", "source": "chargeback"})[1]
    assert again["feedback_given_to"] == []  # a resend changes nothing
    assert api("GET", f"/alerts/{price_alert['alert_id']}")[1]["history"] == alert["history"]
    assert api("GET", "/transactions/921")[1]["label"]["label"] == "fraud"


def test_labels_need_a_known_transaction_and_a_known_label(api, price_alert):
    assert api("POST", "/transactions/nope/label", {"label": "fraud"})[0] == 404
    assert api("POST", "/transactions/921/label", {"label": "chargeback"})[0] == 400
    assert api("POST", "/transactions/921/label", {"label": "fraud", "amount": 1})[0] == 400


def bot_purchases(first: int, count: int, start) -> list[dict]:
    return [
        {
            "transaction_id": f"bot-{n}",
            "customer_id": "bot-17",
            "customer_name": "Quentin Fox",
            "amount": "9.99",
            "timestamp": to_iso(start + timedelta(seconds=n)),
        }
        for n in range(first, first + count)
    ]


def test_a_resolved_alert_that_escalates_is_reopened_queued_and_notified(stack: Stack, api: ApiClient):
    inbox = stack.subscribe_queue("everything", None)
    pipeline = stack.pipeline(MODEL_ARTIFACT="off")
    start = floor_window(utcnow(), 3600) - timedelta(minutes=30)  # one grouping window, whatever the time now
    assert pipeline.post({"transactions": bot_purchases(0, 5, start)})["status"] == 202
    pipeline.drain()
    (alert,) = api("GET", "/alerts", status="open")[1]["alerts"]
    assert (alert["detector"], alert["severity"]) == ("velocity", "high")
    assert api("PATCH", f"/alerts/{alert['alert_id']}", {"status": "resolved"})[0] == 200
    assert api("GET", "/alerts", status="open")[1]["alerts"] == []
    stack.drain(inbox)

    assert pipeline.post({"transactions": bot_purchases(5, 10, start)})["status"] == 202
    pipeline.drain()

    (reopened,) = api("GET", "/alerts", status="open")[1]["alerts"]
    assert reopened["alert_id"] == alert["alert_id"]
    assert (reopened["status"], reopened["severity"]) == ("open", "critical")
    assert reopened["history"][-1] | {"at": None} == {
        "at": None, "by": "shopwatch", "action": "reopened by escalation", "from": "resolved", "to": "open",
        "severity": "critical",
    }  # fmt: skip
    (message,) = stack.drain(inbox)
    assert message["Subject"].startswith("[Shopwatch] Escalated: CRITICAL")
    assert json.loads(message["Message"])["status"] == "open"


def test_the_openapi_description_of_patch_states_the_whole_lifecycle(api):
    described = api("GET", "/openapi.json")[1]["paths"]["/alerts/{alert_id}"]["patch"]["description"]
    assert "resolved → investigating" in described and "reopened by escalation" in described
