"""ApiFunction's stats routes on moto: per-minute counts per status (seed 003) and daily sales with the
low-performance flag (seed 000), from the buckets AggregateFunction writes; bad parameters are 400s."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from infra.local import moto_speedups
from shopwatch.storage.buckets import BucketRepository
from tests.builders import tx
from tests.conftest import Stack, load_event
from tests.integration.api_requests import set_api_clock

NOW = datetime(2026, 11, 22, 12, 0, 30, tzinfo=UTC)


@pytest.fixture
def api(stack: Stack, monkeypatch):
    moto_speedups.install()  # the local stack's TransactWriteItems: moto's copies the table on every call
    handler = stack.handler("ApiFunction")
    set_api_clock(monkeypatch, lambda: NOW)

    def get(path: str, **query: str) -> tuple[int, dict]:
        event = load_event("api_get_stats_minutes.json")
        event["path"] = event["resource"] = event["requestContext"]["resourcePath"] = path
        event["queryStringParameters"] = query or None
        event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} or None
        response = handler(event)
        return response["statusCode"], json.loads(response["body"])

    yield get
    moto_speedups.uninstall()


def test_the_sample_event_answers_every_minute_of_its_range_with_counts_per_status(stack, api):
    at = datetime(2025, 9, 16, 16, 31, 5, tzinfo=UTC)
    BucketRepository(stack.table("StateTable")).add(
        [tx("a", at=at, amount="10.00"), tx("b", at=at, status="failed", amount="3.00")], NOW
    )
    response = stack.handler("ApiFunction")(load_event("api_get_stats_minutes.json"))
    minutes = json.loads(response["body"])["minutes"]
    assert [m["start"] for m in minutes] == ["2025-09-16T16:30:00Z", "2025-09-16T16:31:00Z", "2025-09-16T16:32:00Z"]
    assert minutes[1]["statuses"] == {"approved": 1, "failed": 1, "denied": 0, "reversed": 0, "pending": 0}
    assert minutes[1]["approved_revenue"] == {"USD": "10.00"} and minutes[0]["transactions"] == 0


def test_minutes_default_to_the_last_hour(api):
    status, body = api("/stats/minutes")
    assert status == 200 and len(body["minutes"]) == 60 and body["minutes"][-1]["start"] == "2026-11-22T12:00:00Z"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"since": "yesterday"}, "since must be an RFC 3339 timestamp"),
        ({"until": "2026-11-22T12:00:00"}, "until must be an RFC 3339 timestamp"),
    ],
)
def test_bad_minute_ranges_are_400s_in_the_error_shape(api, query, message):
    status, body = api("/stats/minutes", **query)
    assert status == 400 and body["error"]["code"] == "validation_failed" and message in body["error"]["message"]


def test_since_after_until_answers_no_minutes(api):
    status, body = api("/stats/minutes", since="2026-11-22T12:00:00Z", until="2026-11-22T11:00:00Z")
    assert (status, body) == (200, {"minutes": []})


def test_a_window_over_a_day_answers_its_last_1440_minutes(api):
    status, body = api("/stats/minutes", since="2026-11-20T00:00:00Z", until="2026-11-22T00:00:00Z")
    assert status == 200 and len(body["minutes"]) == 1440
    assert (
        body["minutes"][0]["start"] == "2026-11-21T00:01:00Z" and body["minutes"][-1]["start"] == "2026-11-22T00:00:00Z"
    )


@pytest.mark.parametrize(
    "query",
    [
        {"since": "0001-01-01T00:00:00+05:00"},
        {"until": "0001-01-01T00:30:00Z"},
        {"since": "9999-12-31T23:59:00Z", "until": "9999-12-31T23:59:59-05:00"},
    ],
)
def test_times_at_the_ends_of_the_calendar_are_answers_not_server_errors(api, query):
    status, _ = api("/stats/minutes", **query)
    assert status == 200


@pytest.mark.parametrize("days", ["0", "367", "ten", "-1"])
def test_bad_day_counts_are_400s(api, days):
    status, body = api("/stats/daily", days=days)
    assert status == 400 and body["error"]["code"] == "validation_failed"


def test_daily_sales_flag_a_slow_day_once_there_is_history(stack, api):
    today = NOW.replace(hour=0, minute=0, second=0)
    sales = []
    for day in range(1, 22):
        per_day = 6 if day == 3 else 20  # three days ago the shop sold less than a third of its usual
        start = today - timedelta(days=day)
        sales += [tx(f"d{day}-{i}", at=start + timedelta(minutes=40 * i), amount="25.00") for i in range(per_day)]
    sales.append(tx("today", at=today + timedelta(minutes=5), amount="25.00"))
    BucketRepository(stack.table("StateTable")).add(sales, NOW)

    status, body = api("/stats/daily", days="10")
    assert status == 200 and body["currency"] == "USD"
    days = {d["date"]: d for d in body["days"]}
    assert len(days) == 10
    slow = days[(today - timedelta(days=3)).date().isoformat()]
    assert (slow["transactions"], slow["approved_revenue"], slow["low_performance"]) == (6, {"USD": "150.00"}, True)
    assert days[(today - timedelta(days=2)).date().isoformat()]["low_performance"] is False
    current = days[today.date().isoformat()]
    assert (current["complete"], current["low_performance"], current["transactions"]) == (False, None, 1)

    status, body = api("/stats/daily", days="30")
    first = body["days"][0]
    assert first["transactions"] == 0 and first["low_performance"] is None  # before the shop had history


def test_health_answers_without_a_key(api):
    assert api("/health") == (200, {"status": "ok"})
