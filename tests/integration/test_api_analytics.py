"""ApiFunction's dashboard and analytics routes on moto: KPIs over a window, the alerts trend, the severity
distribution, precision per detector from feedback, and the confusion matrix with labels reported later."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from shopwatch.domain.alert import AlertStatus
from shopwatch.storage.alerts import AlertRepository
from shopwatch.storage.buckets import BucketRepository
from tests.builders import T0, stored_alert, tx
from tests.conftest import Stack
from tests.integration.api_requests import ApiClient, set_api_clock

NOW = T0 + timedelta(hours=2, minutes=30)  # 18:30 on T0's day


@pytest.fixture
def api(stack: Stack, monkeypatch) -> ApiClient:
    client = ApiClient(stack.handler("ApiFunction"))
    set_api_clock(monkeypatch, lambda: NOW)
    return client


@pytest.fixture
def history(stack: Stack) -> None:
    """200 transactions in the last hours; six alerts: price ×3 (one confirmed, one dismissed, one open),
    velocity ×2 (one confirmed, one triaged to investigating after 10 minutes), geo ×1 three days ago."""
    BucketRepository(stack.table("StateTable")).add(
        [tx(f"t{i}", at=T0 + timedelta(minutes=i // 2), amount="10.00") for i in range(200)], NOW
    )
    alerts = AlertRepository(stack.table("AlertsTable"))
    rows = [
        ("a", 5, "price", "critical", AlertStatus.CONFIRMED_FRAUD, "fraud"),
        ("b", 6, "price", "high", AlertStatus.FALSE_POSITIVE, "legitimate"),
        ("c", 7, "price", "medium", AlertStatus.OPEN, None),
        ("d", 65, "velocity", "high", AlertStatus.CONFIRMED_FRAUD, None),
        ("e", 66, "velocity", "low", AlertStatus.INVESTIGATING, None),
        ("f", -3 * 24 * 60, "geo", "medium", AlertStatus.OPEN, None),
    ]
    for customer, minute, detector, severity, status, label in rows:
        alert = stored_alert(customer, minute=minute, detector=detector, severity=severity, status=status.value)
        triaged = alert.created_at + timedelta(minutes=10) if status is not AlertStatus.OPEN else None
        feedback = {"label": label, "by": "x", "at": "2025-09-16T17:00:00Z"} if label else None
        assert alerts.save(replace(alert, triaged_at=triaged, feedback=feedback))


def test_the_kpis_count_transactions_alerts_open_alerts_rate_and_time_to_triage(api, history):
    status, m = api("GET", "/dashboard/metrics", hours="24")
    assert status == 200
    assert m["transactions"] == 200 and m["alerts"] == 5
    assert m["alerts_by_severity"] == {"low": 1, "medium": 1, "high": 2, "critical": 1}
    assert m["open_alerts"] == 2 and m["investigating_alerts"] == 1  # open counts every open alert, any age
    assert m["alert_rate"] == 0.025 and m["triaged"] == 4 and m["mean_time_to_triage_seconds"] == 600.0
    assert m["window"] == {"since": "2025-09-15T19:00:00.000000Z", "until": "2025-09-16T18:30:00.000000Z"}


def test_a_window_of_one_hour_sees_only_that_hour(api, history):
    m = api("GET", "/dashboard/metrics", hours="1")[1]
    assert m["transactions"] == 0 and m["alerts"] == 0 and m["alert_rate"] is None


def test_the_trend_has_every_hour_of_the_window_with_counts_per_severity(api, history):
    hours = api("GET", "/dashboard/alerts-trend", hours="3")[1]["hours"]
    assert [h["start"] for h in hours] == ["2025-09-16T16:00:00.000000Z", "2025-09-16T17:00:00.000000Z",
                                           "2025-09-16T18:00:00.000000Z"]  # fmt: skip
    assert [h["total"] for h in hours] == [3, 2, 0] and hours[0]["critical"] == 1 and hours[1]["low"] == 1


def test_the_severity_distribution_counts_severities_and_statuses(api, history):
    body = api("GET", "/dashboard/severity-distribution", hours="168")[1]
    assert body["total"] == 6 and body["severities"] == {"low": 1, "medium": 2, "high": 2, "critical": 1}
    assert body["statuses"]["open"] == 2 and body["statuses"]["confirmed_fraud"] == 2


def test_precision_per_detector_comes_from_feedback_and_settled_statuses(api, history):
    rows = {r["detector"]: r for r in api("GET", "/analytics/detectors", days="30")[1]["detectors"]}
    assert rows["price"] | {} == {
        "detector": "price", "alerts": 3, "confirmed": 1, "dismissed": 1, "pending": 1, "precision": 0.5
    }  # fmt: skip
    assert rows["velocity"]["precision"] == 1.0 and rows["geo"]["precision"] is None


def test_the_confusion_matrix_counts_labelled_fraud_without_an_alert_as_missed(stack, api, history):
    pipeline = stack.pipeline(MODEL_ARTIFACT="off")
    body = {"transactions": [{"transaction_id": f"cb{i}", "customer_id": f"z{i}", "amount": "5.00"} for i in range(3)]}
    assert pipeline.post(body)["status"] == 202
    pipeline.drain()
    for i, label in enumerate(("fraud", "fraud", "legitimate")):
        status, answer = api("POST", f"/transactions/cb{i}/label", {"label": label})
        assert status == 200 and answer["alerted"] is False
    m = api("GET", "/analytics/confusion-matrix", days="30")[1]
    assert (m["true_positive"], m["false_positive"], m["false_negative"], m["true_negative"]) == (2, 1, 2, 1)
    assert m["precision"] == round(2 / 3, 4) and m["recall"] == 0.5 and m["pending"] == 3


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/dashboard/metrics", {"hours": "0"}),
        ("/dashboard/metrics", {"hours": "721"}),
        ("/dashboard/alerts-trend", {"hours": "a"}),
        ("/dashboard/severity-distribution", {"hours": "-1"}),
        ("/analytics/detectors", {"days": "0"}),
        ("/analytics/confusion-matrix", {"days": "367"}),
    ],
)
def test_windows_out_of_range_are_400s(api, path, query):
    status, body = api("GET", path, **query)
    assert status == 400 and body["error"]["code"] == "validation_failed"


def test_a_report_reads_each_alert_of_the_day_as_a_sentence(api, history):
    status, report = api("GET", "/reports/price", date="2025-09-16")
    assert status == 200 and report["title"] == "Price anomalies" and report["count"] == 3
    assert report["lines"][0] == "16:05 UTC, CRITICAL: a did something [confirmed fraud]."
    assert report["lines"][2] == "16:07 UTC, MEDIUM: c did something."
    assert [a["detector"] for a in report["alerts"]] == ["price"] * 3
    status, text = api("GET", "/reports/price", date="2025-09-16", format="text")
    assert status == 200 and text.splitlines()[0] == "Price anomalies on 2025-09-16: 3"
    assert text.splitlines()[1:] == report["lines"]
    assert api("GET", "/reports/velocity", date="2025-09-15", format="text")[1] == (
        "Spam and bot customers on 2025-09-15: 0. Nothing to report.\n"
    )


@pytest.mark.parametrize(
    ("path", "query", "status"),
    [
        ("/reports/astrology", {}, 404),
        ("/reports/price", {"date": "16/09/2025"}, 400),
        ("/reports/price", {"format": "pdf"}, 400),
    ],
)
def test_reports_refuse_unknown_detectors_bad_dates_and_formats(api, path, query, status):
    assert api("GET", path, **query)[0] == status


def test_a_report_for_a_day_still_to_come_is_empty(api):
    """No schema can say "not after today" (seen from the server's clock), so the future is an empty report."""
    status, body = api("GET", "/reports/price", date="2025-09-17")  # the day after NOW
    assert status == 200 and body["count"] == 0 and body["alerts"] == [] and body["lines"] == []
