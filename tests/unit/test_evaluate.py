"""Evaluation: matching alerts to ground truth, per kind and overall."""

from __future__ import annotations

from decimal import Decimal

from infra.evaluate import evaluate
from shopwatch.detectors.findings import Finding
from shopwatch.domain.alert import add_occurrence, open_alert
from shopwatch.domain.severity import Severity
from tests.builders import T0, tx

TRUTH = [
    {"anomaly_id": "A1", "kind": "deep_discount", "transaction_ids": ["t1"], "expected_detectors": ["price"]},
    {
        "anomaly_id": "A2",
        "kind": "bot_burst",
        "transaction_ids": ["b1", "b2", "b3"],
        "expected_detectors": ["velocity"],
    },
    {"anomaly_id": "A3", "kind": "new_country", "transaction_ids": ["g1"], "expected_detectors": ["geo"]},
]


def alert(detector: str, tid: str, customer: str, severity: Severity = Severity.HIGH):
    return open_alert(Finding(detector, severity, (), "x"), severity, Decimal("70"), tx(tid, customer), 3600, T0)


def test_caught_missed_and_false_alerts_are_counted_per_kind():
    alerts = [
        alert("price", "t1", "c1"),
        add_occurrence(
            alert("velocity", "b2", "bot"),
            Finding("velocity", Severity.HIGH, (), "x"),
            Severity.HIGH,
            Decimal(70),
            tx("b3", "bot"),
            T0,
        ),
        alert("price", "normal-1", "c9"),  # a false alarm on normal traffic
        alert("geo", "t1", "c1"),  # right transaction, wrong detector for its kind: not a catch
        alert("failed_payment", "f1", "c5", Severity.LOW),  # informational
    ]
    result = evaluate(TRUTH, alerts, {"t1": 0.4, "b2": 0.9, "b3": 1.1})
    kinds = result.kinds
    assert (kinds["deep_discount"].caught, kinds["bot_burst"].caught, kinds["new_country"].caught) == (1, 1, 0)
    assert kinds["new_country"].missed == ["A3"]
    assert (result.true_alerts, result.false_alerts, result.informational_alerts) == (2, 2, 1)
    assert kinds["deep_discount"].precision == 0.5
    assert result.recall == 2 / 3
    assert sorted(result.latencies) == [0.4, 0.9]


def test_the_json_report_has_overall_and_per_kind_figures():
    report = evaluate(TRUTH, [alert("price", "t1", "c1")], {"t1": 0.5}).to_json()
    assert report["overall"]["recall"] == 1 / 3
    assert report["kinds"]["deep_discount"]["recall"] == 1.0
    assert report["overall"]["latency_p50_seconds"] == 0.5


def test_a_window_anomaly_is_caught_by_an_alert_of_its_detector_created_during_it_or_soon_after():
    from datetime import timedelta

    from shopwatch.domain.alert import open_window_alert
    from shopwatch.domain.clock import to_iso

    truth = [{"anomaly_id": "W1", "kind": "outage", "transaction_ids": [], "expected_detectors": ["volume"],
              "window": {"start": to_iso(T0), "end": to_iso(T0 + timedelta(minutes=2))}}]  # fmt: skip
    finding = Finding("volume", Severity.HIGH, (), "Sales drop")
    caught = open_window_alert(finding, Severity.HIGH, "shop:minute:volume_drop", T0, T0, T0 + timedelta(seconds=95))
    unrelated = open_window_alert(finding, Severity.HIGH, "shop:minute:volume_drop", T0, T0, T0 + timedelta(hours=1))
    result = evaluate(truth, [caught, unrelated], {})
    assert (result.kinds["outage"].caught, result.true_alerts, result.false_alerts) == (1, 1, 1)
    assert result.window_latencies == {"W1": 95.0}
    assert evaluate(truth, [unrelated], {}).kinds["outage"].missed == ["W1"]


def test_failed_payments_piling_up_during_a_failure_spike_are_not_false_alerts():
    truth = [{"anomaly_id": "W1", "kind": "failure_spike", "transaction_ids": ["f1"], "expected_detectors": ["status_mix"],
              "related_detectors": ["failed_payment"], "window": {"start": "2025-09-16T16:00:00Z", "end": "2025-09-16T16:01:00Z"}}]  # fmt: skip
    result = evaluate(truth, [alert("failed_payment", "f1", "c9", Severity.MEDIUM)], {})
    assert (result.true_alerts, result.false_alerts, result.kinds["failure_spike"].caught) == (1, 0, 0)


def _rendered(result) -> str:
    from rich.console import Console

    from infra.report import evaluation_table

    console = Console(record=True, width=240)
    console.print(evaluation_table(result))
    return console.export_text()


def test_no_alerts_says_precision_is_not_defined_instead_of_100_percent(tmp_path):
    from infra.evaluate import plain_notes

    result = evaluate(TRUTH, [alert("failed_payment", "f1", "c5", Severity.LOW)], {})
    report = result.to_json()
    assert report["overall"]["precision"] is None and report["overall"]["f1"] is None
    assert report["overall"]["recall"] == 0.0  # nothing of what was injected was caught: that is measured
    assert report["kinds"]["bot_burst"]["precision"] is None
    assert plain_notes(result, tmp_path / "t.jsonl", "medium") == [
        "No alerts at medium severity or above (1 below it): precision is not defined, and nothing injected was caught."
    ]
    table = _rendered(result)
    assert "100.0%" not in table and "None" not in table
    assert "n/a" in table and "latency: none measured" in table


def test_no_ground_truth_says_recall_is_not_measured(tmp_path):
    from infra.evaluate import plain_notes

    result = evaluate([], [alert("price", "normal-1", "c9")], {})
    report = result.to_json()
    assert report["overall"]["recall"] is None and report["overall"]["precision"] == 0.0
    assert plain_notes(result, tmp_path / "t.jsonl", "medium") == [
        f"The ground truth ({tmp_path / 't.jsonl'}) lists no injected anomalies: recall is not measured; "
        "all 1 alerts are on normal traffic."
    ]
    overall_row = next(line for line in _rendered(result).splitlines() if "overall" in line)
    assert [cell.strip() for cell in overall_row.split("│")][4:7] == ["n/a", "0.0%", "n/a"]  # recall, precision, F1
    nothing = evaluate([], [], {})
    assert len(plain_notes(nothing, tmp_path / "t.jsonl", "medium")) == 2
    assert (nothing.to_json()["overall"]["precision"], nothing.to_json()["overall"]["recall"]) == (None, None)


def test_a_missing_truth_file_is_named_with_what_writes_one(tmp_path):
    import pytest

    from infra.evaluate import read_truth

    with pytest.raises(
        FileNotFoundError, match=r"no ground truth at .*missing\.jsonl: `shopwatch simulate` writes one"
    ):
        read_truth(tmp_path / "missing.jsonl")
