"""Two kinds of caller on ApiFunction, on moto's Cognito: signing in (POST /auth/login), guessing throttled, the
groups' rights checked by the handler, and histories that name the signed-in user."""

from __future__ import annotations

import json

import pytest

from infra.users import UserDirectory
from shopwatch.domain.clock import utcnow
from shopwatch.storage.alerts import AlertRepository
from tests.builders import stored_alert
from tests.conftest import Stack
from tests.integration.api_requests import ADMIN, ANALYST, NOBODY_IN_A_GROUP, ApiClient, api_event, as_signed_in

PASSWORD = "Correct-horse-9"  # pragma: allowlist secret


@pytest.fixture
def users(stack: Stack) -> UserDirectory:
    directory = UserDirectory(stack.session.client("cognito-idp"), stack.resources.user_pools["UserPool"])
    directory.add("maria", "analysts", PASSWORD)
    return directory


@pytest.fixture
def handler(stack: Stack):
    return stack.handler("ApiFunction", SIGN_IN_MAX_FAILURES="3")


@pytest.fixture
def alert_id(stack: Stack) -> str:
    alert = stored_alert()
    AlertRepository(stack.table("AlertsTable")).save(alert)
    return alert.alert_id


def login(handler, username: str, password: str) -> tuple[int, dict, dict]:
    response = handler(api_event("POST", "/auth/login", {"username": username, "password": password}, user=None))
    headers = {k: v[-1] for k, v in (response.get("multiValueHeaders") or {}).items()}
    return response["statusCode"], json.loads(response["body"]), headers | (response.get("headers") or {})


def test_the_right_password_gives_an_id_token_for_the_bearer_header(handler, users):
    status, body, _ = login(handler, "maria", PASSWORD)
    assert status == 200 and set(body) == {"token", "expires_at"}
    assert body["token"].count(".") == 2 and body["expires_at"] > utcnow().isoformat()[:19]


@pytest.mark.parametrize(("username", "password"), [("maria", "Wrong-horse-9"), ("nobody", PASSWORD)])
def test_a_wrong_password_and_an_unknown_user_get_the_same_401(handler, users, username, password):
    status, body, _ = login(handler, username, password)
    assert status == 401
    assert body == {"error": {"code": "unauthorized", "message": "wrong user name or password"}}


def test_repeated_failures_for_one_name_are_throttled_even_with_the_right_password(handler, users):
    for _ in range(3):
        assert login(handler, "maria", "Wrong-horse-9")[0] == 401
    status, body, headers = login(handler, "MARIA", PASSWORD)  # user names are case-insensitive, so is the count
    assert status == 429 and body["error"]["code"] == "too_many_requests"
    assert 1 <= int(headers["Retry-After"]) <= 900
    assert login(handler, "someone-else", "Wrong-horse-9")[0] == 401  # other names are not locked out


def test_a_success_clears_earlier_failures(handler, users):
    for _ in range(2):
        login(handler, "maria", "Wrong-horse-9")
    assert login(handler, "maria", PASSWORD)[0] == 200
    for _ in range(2):
        login(handler, "maria", "Wrong-horse-9")
    assert login(handler, "maria", PASSWORD)[0] == 200


def test_a_persons_route_with_the_key_alone_is_401(handler):
    event = api_event("GET", "/alerts", user=None)  # the key header is there, no claims
    assert handler(event)["statusCode"] == 401


def test_an_analyst_reads_and_triages_and_every_change_names_the_analyst(handler, alert_id):
    api = ApiClient(handler, ANALYST)
    assert api("GET", "/alerts")[0] == 200 and api("GET", f"/alerts/{alert_id}")[0] == 200
    assert api("PATCH", f"/alerts/{alert_id}", {"assignee": "sam"})[0] == 200
    assert api("PATCH", f"/alerts/{alert_id}", {"status": "investigating"})[0] == 200
    assert api("POST", f"/alerts/{alert_id}/notes", {"text": "called the customer"})[0] == 201
    status, alert = api("POST", f"/alerts/{alert_id}/feedback", {"label": "fraud"})
    assert status == 200 and alert["status"] == "confirmed_fraud"
    assert [h["by"] for h in alert["history"][1:]] == ["maria"] * 4  # assigned, status, note, feedback
    assert alert["notes"][0]["by"] == alert["feedback"]["by"] == "maria"


def test_a_body_that_names_someone_else_is_refused_and_changes_nothing(stack, handler, alert_id):
    api = ApiClient(handler, ANALYST)
    before = AlertRepository(stack.table("AlertsTable")).get(alert_id)
    assert api("PATCH", f"/alerts/{alert_id}", {"status": "resolved", "by": "the-boss"})[0] == 400
    assert api("POST", f"/alerts/{alert_id}/notes", {"text": "fine", "by": "the-boss"})[0] == 400
    assert AlertRepository(stack.table("AlertsTable")).get(alert_id) == before


def test_a_user_in_no_group_may_neither_read_nor_triage(handler, alert_id):
    api = ApiClient(handler, NOBODY_IN_A_GROUP)
    status, body = api("GET", "/alerts")
    assert status == 403 and body["error"]["code"] == "forbidden"
    assert api("PATCH", f"/alerts/{alert_id}", {"status": "resolved"})[0] == 403


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/products/MUG-1", {"price": "4.50"}),
        ("POST", "/products", {"products": [{"sku": "MUG-1", "price": "4.50"}]}),
    ],
)
def test_catalog_writes_take_the_shops_key_or_an_admin_but_not_an_analyst(handler, method, path, body):
    def as_person(user):
        return handler(as_signed_in(api_event(method, path, body), user))["statusCode"]

    assert as_person(ANALYST) == 403
    assert as_person(ADMIN) == 200
    assert handler(api_event(method, path, body))["statusCode"] == 200  # the key
    assert ApiClient(handler, ANALYST)("GET", "/products/MUG-1")[0] == 200  # reading is for every analyst
