"""POST /rules/backtest and its jobs on moto: a big table's backtest runs as a job through BacktestFunction with
its progress and result stored; a saved rule's version is what is replayed; bad input is refused and stores
nothing; analysts may backtest, the shop's key may not."""

from __future__ import annotations

from datetime import timedelta

import pytest

from infra.local import lambda_invoke
from shopwatch.backtest import jobs, service
from shopwatch.storage.backtests import BacktestJobs
from tests.backtest.conftest import DAYS, START
from tests.conftest import Stack, load_event
from tests.integration.api_requests import ANALYST, ApiClient, api_event

SINCE, UNTIL = START, START + timedelta(days=DAYS, hours=1)
PERIOD = {"since": SINCE.isoformat(), "until": UNTIL.isoformat()}
RULE = {"name": "Big baskets", "expression": "tx.amount > 400.0", "mode": "shadow", "severity": "medium"}


def stored_jobs(stack: Stack) -> list[dict]:
    return [i for i in stack.scan("StateTable") if str(i["pk"]).startswith("BACKTEST#")]


@pytest.fixture
def as_jobs(stack: Stack) -> ApiClient:
    """ApiFunction with every table counted as big: each backtest is a job."""
    return ApiClient(stack.handler("ApiFunction", BACKTEST_INLINE_MAX_TRANSACTIONS="0"), ANALYST)


def test_a_big_tables_backtest_runs_as_a_job_whose_progress_and_result_are_stored(
    stack: Stack, shop, apis, as_jobs, backtest_function, monkeypatch
):
    inline = apis["analyst"]("POST", "/rules/backtest", {"expression": "tx.amount > 90.0"} | PERIOD)
    assert inline[0] == 200 and backtest_function.calls[-1].keys() == {"inline"} and stored_jobs(stack) == []
    monkeypatch.setattr(service, "CHUNK", 40)  # progress is written after each chunk
    reported: list[float] = []
    progress = BacktestJobs.progress
    monkeypatch.setattr(BacktestJobs, "progress", lambda self, job_id, share, now: (
        reported.append(share), progress(self, job_id, share, now)))  # fmt: skip

    status, started = as_jobs("POST", "/rules/backtest", {"expression": "tx.amount > 90.0"} | PERIOD)

    assert status == 202 and started["status"] == "running"
    assert lambda_invoke.wait(120) and lambda_invoke.failures == []
    assert backtest_function.calls[-1] == {"job_id": started["job_id"]}
    assert reported == sorted(reported) and len(reported) >= 4 and 0 < reported[0] < 1
    status, job = as_jobs("GET", f"/rules/backtest/{started['job_id']}")
    assert status == 200
    assert (job["status"], job["progress"], job["requested_by"], job["error"]) == ("done", 1.0, "maria", None)
    assert job["result"] == inline[1]
    assert job["request"] == {"expression": "tx.amount > 90.0", "since": "2026-03-02T08:00:00.000000Z",
                              "until": "2026-03-05T09:00:00.000000Z"}  # fmt: skip
    (item,) = stored_jobs(stack)
    assert item["expires_at"] > 0 and len(item["result"]) < 40_000  # bounded: counts, days, 50 examples


def test_a_job_that_cannot_finish_in_time_ends_failed_with_the_reason(
    stack: Stack, shop, as_jobs, backtest_function, monkeypatch
):
    monkeypatch.setattr(jobs, "SPARE_MS", 10**9)  # every check finds the function's time running out
    status, started = as_jobs("POST", "/rules/backtest", {"expression": "tx.amount > 90.0"} | PERIOD)
    assert status == 202 and lambda_invoke.wait(120) and lambda_invoke.failures == []
    status, job = as_jobs("GET", f"/rules/backtest/{started['job_id']}")
    assert job["status"] == "failed" and "time limit" in job["error"] and job["result"] is None


def test_a_saved_rules_version_is_replayed_not_its_current_one(stack: Stack, shop, apis, backtest_function):
    admin, analyst = apis["admin"], apis["analyst"]
    status, rule = admin("POST", "/rules", RULE)
    assert status == 201
    status, _ = admin("PUT", f"/rules/{rule['rule_id']}", RULE | {"expression": "tx.amount > 10.0"})
    assert status == 200

    old = analyst("POST", "/rules/backtest", {"rule_id": rule["rule_id"], "version": 1} | PERIOD)
    current = analyst("POST", "/rules/backtest", {"rule_id": rule["rule_id"]} | PERIOD)
    draft = analyst("POST", "/rules/backtest", {"expression": "tx.amount > 400.0"} | PERIOD)

    assert old[0] == current[0] == draft[0] == 200
    assert old[1] == draft[1] and current[1]["matches"] > old[1]["matches"]


BAD = [
    ({"rule_id": "no-such-rule"} | PERIOD, 404, "not_found"),
    ({"expression": "tx.amount > 'x'"} | PERIOD, 400, "invalid_expression"),
    ({"expression": "tx.amount > 1.0", "since": UNTIL.isoformat(), "until": SINCE.isoformat()}, 400, "validation_failed"),
    ({"expression": "tx.amount > 1.0", "since": SINCE.isoformat(), "until": (SINCE + timedelta(days=32)).isoformat()},
     400, "validation_failed"),
    ({"expression": "tx.amount > 1.0", "rule_id": "both"} | PERIOD, 400, "validation_failed"),
    ({"expression": "tx.amount > 1.0", "since": "2026-03-02T08:00:00"} | {"until": UNTIL.isoformat()}, 400,
     "validation_failed"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "status", "code"), BAD)
def test_bad_input_is_refused_and_stores_nothing(stack: Stack, apis, as_jobs, backtest_function, body, status, code):
    for api in (apis["analyst"], as_jobs):
        answer, refusal = api("POST", "/rules/backtest", body)
        assert (answer, refusal["error"]["code"]) == (status, code)
    assert stored_jobs(stack) == [] and backtest_function.calls == []


def test_an_invalid_expression_is_refused_with_the_problems_position(stack: Stack, apis, backtest_function):
    status, refusal = apis["analyst"]("POST", "/rules/backtest", {"expression": "tx.amount > 'x'"} | PERIOD)
    (problem,) = refusal["error"]["details"]["problems"]
    assert status == 400 and (problem["line"], problem["column"]) == (1, 11) and "_>_" in problem["message"]


def test_an_unknown_job_is_a_404(apis):
    status, refusal = apis["analyst"]("GET", f"/rules/backtest/{'0' * 32}")
    assert status == 404 and refusal["error"]["code"] == "not_found"


def test_the_shops_key_may_not_backtest(stack: Stack, backtest_function):
    handler = stack.handler("ApiFunction")
    event = api_event("POST", "/rules/backtest", {"expression": "true"} | PERIOD)
    event["requestContext"]["authorizer"] = None  # the shop's key alone, no person
    response = handler(event)
    assert response["statusCode"] in (401, 403) and backtest_function.calls == []


def test_a_job_event_for_a_job_nobody_created_fails_and_creates_nothing(stack: Stack, backtest_function):
    with pytest.raises(LookupError, match="no backtest job"):
        backtest_function(load_event("backtest_job.json"))
    assert stored_jobs(stack) == []
