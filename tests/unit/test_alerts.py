"""Alerts: deterministic ids, grouping into occurrences, escalation, and the stored item round trip."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from shopwatch.detectors.findings import Finding, Reason
from shopwatch.domain.alert import (
    MAX_LISTED_TRANSACTIONS,
    Alert,
    AlertStatus,
    add_occurrence,
    alert_id_for,
    open_alert,
)
from shopwatch.domain.clock import floor_window
from shopwatch.domain.severity import Severity
from tests.builders import T0, seconds, tx

REASON = Reason("rapid_transactions", "6 transactions within 60 seconds", "6", "fewer than 5")


def finding(severity: Severity = Severity.HIGH, description: str = "Bob made 6 transactions") -> Finding:
    return Finding("velocity", severity, (REASON,), description)


def test_the_alert_id_depends_on_detector_subject_and_window_only():
    window = floor_window(T0, 3600)
    assert alert_id_for("velocity", "c1", window) == alert_id_for("velocity", "c1", window)
    assert alert_id_for("velocity", "c1", window) != alert_id_for("velocity", "c2", window)
    assert alert_id_for("velocity", "c1", window) != alert_id_for("geo", "c1", window)
    assert alert_id_for("velocity", "c1", window) != alert_id_for(
        "velocity", "c1", floor_window(T0 + seconds(3600), 3600)
    )


def test_a_new_alert_states_the_facts_and_the_severity():
    alert = open_alert(finding(), Severity.HIGH, Decimal("67.5"), tx("t1", "c1", customer_name="Bob"), 3600, T0)
    assert alert.summary == "Bob made 6 transactions: high transaction velocity anomaly"
    assert (alert.status.value, alert.occurrences, alert.transaction_ids) == ("open", 1, ("t1",))
    assert alert.window_start == floor_window(T0, 3600)
    assert alert.history[0]["action"] == "created"


def test_an_occurrence_of_the_same_severity_counts_without_escalating():
    alert = open_alert(finding(), Severity.HIGH, Decimal("60"), tx("t1"), 3600, T0)
    grown = add_occurrence(
        alert, finding(), Severity.HIGH, Decimal("70"), tx("t2", at=T0 + seconds(5)), T0 + seconds(5)
    )
    assert (grown.occurrences, grown.transaction_ids, grown.version) == (2, ("t1", "t2"), 2)
    assert grown.severity is Severity.HIGH
    assert grown.last_change == "occurrence"
    assert grown.risk_score == Decimal("70")


def test_a_more_severe_occurrence_escalates_and_is_recorded_in_history():
    alert = open_alert(finding(), Severity.HIGH, Decimal("60"), tx("t1"), 3600, T0)
    grown = add_occurrence(
        alert, finding(Severity.CRITICAL, "Bob made 11 transactions"), Severity.CRITICAL, Decimal("95"), tx("t2"), T0
    )
    assert grown.severity is Severity.CRITICAL
    assert grown.last_change == "escalated"
    assert grown.summary == "Bob made 11 transactions: critical transaction velocity anomaly"
    assert grown.history[-1] == {
        "at": grown.history[-1]["at"],
        "by": "shopwatch",
        "action": "escalated",
        "from": "high",
        "to": "critical",
    }


@pytest.mark.parametrize("closed", ["resolved", "false_positive"])
def test_an_escalation_reopens_a_resolved_or_dismissed_alert(closed):
    alert = replace(open_alert(finding(), Severity.HIGH, Decimal("60"), tx("t1"), 3600, T0), status=AlertStatus(closed))
    grown = add_occurrence(alert, finding(Severity.CRITICAL), Severity.CRITICAL, Decimal("95"), tx("t2"), T0)
    assert grown.status is AlertStatus.OPEN and grown.last_change == "escalated"
    assert [h["action"] for h in grown.history[-2:]] == ["escalated", "reopened by escalation"]
    assert grown.history[-1] | {"at": None} == {
        "at": None, "by": "shopwatch", "action": "reopened by escalation", "from": closed, "to": "open",
        "severity": "critical",
    }  # fmt: skip


@pytest.mark.parametrize(("status", "severity"), [("confirmed_fraud", "critical"), ("resolved", "high")])
def test_a_confirmed_case_or_an_occurrence_that_does_not_escalate_leaves_the_status(status, severity):
    alert = replace(open_alert(finding(), Severity.HIGH, Decimal("60"), tx("t1"), 3600, T0), status=AlertStatus(status))
    level = Severity.parse(severity)
    grown = add_occurrence(alert, finding(level), level, Decimal("95"), tx("t2"), T0)
    assert grown.status is AlertStatus(status)
    assert all(h["action"] != "reopened by escalation" for h in grown.history)


def test_a_less_severe_occurrence_keeps_the_alerts_summary():
    alert = open_alert(finding(Severity.CRITICAL, "worst"), Severity.CRITICAL, Decimal("95"), tx("t1"), 3600, T0)
    grown = add_occurrence(alert, finding(Severity.HIGH, "milder"), Severity.HIGH, Decimal("60"), tx("t2"), T0)
    assert grown.summary.startswith("worst")
    assert grown.severity is Severity.CRITICAL


def test_the_listed_transactions_are_capped_but_the_count_stays_exact():
    alert = open_alert(finding(), Severity.HIGH, Decimal("60"), tx("t0"), 3600, T0)
    for i in range(1, MAX_LISTED_TRANSACTIONS + 20):
        alert = add_occurrence(alert, finding(), Severity.HIGH, Decimal("60"), tx(f"t{i}"), T0)
    assert alert.occurrences == MAX_LISTED_TRANSACTIONS + 20
    assert len(alert.transaction_ids) == MAX_LISTED_TRANSACTIONS


def test_the_stored_item_round_trips():
    alert = open_alert(finding(), Severity.HIGH, Decimal("67.5"), tx("t1", "c1", customer_name="Bob"), 3600, T0)
    assert Alert.from_item(alert.to_item()) == alert
