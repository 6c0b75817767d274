"""Velocity: bot-like bursts and card testing."""

from __future__ import annotations

from shopwatch.config import DetectionSettings
from shopwatch.detectors import velocity
from shopwatch.domain.severity import Severity
from tests.builders import T0, detection_input, seconds, tx

SETTINGS = DetectionSettings()  # 5 in 60 s; 4 failures in 120 s


def burst(count: int, spacing: float = 5.0, status: str = "approved"):
    return [tx(f"b{i}", at=T0 + seconds(i * spacing), status=status, amount="20.00") for i in range(count)]


def check(transactions):
    *past, current = transactions
    return velocity.detect(detection_input(current, past), SETTINGS)


def test_five_transactions_within_a_minute_are_a_high_burst():
    finding = check(burst(5))
    assert finding.severity is Severity.HIGH
    assert finding.reasons[0].code == "rapid_transactions"
    assert finding.reasons[0].value == "5"


def test_four_transactions_within_a_minute_are_not_a_burst():
    assert check(burst(4)) is None


def test_twice_the_limit_is_critical():
    assert check(burst(10, spacing=2)).severity is Severity.CRITICAL


def test_transactions_spread_beyond_the_window_do_not_count():
    assert check(burst(6, spacing=20)) is None


def test_repeated_failed_attempts_are_card_testing():
    finding = check(burst(4, spacing=20, status="denied"))
    assert [r.code for r in finding.reasons] == ["repeated_failures"]
    assert finding.severity is Severity.HIGH


def test_a_person_retrying_a_declined_card_every_minute_is_not_card_testing():
    """Four failures a minute apart: a person re-entering card details; the demo paged such customers (issue 16)."""
    assert check(burst(4, spacing=60, status="denied")) is None


def test_an_approved_transaction_after_failures_is_not_card_testing():
    attempts = [*burst(4, spacing=60, status="failed"), tx("ok", at=T0 + seconds(250), amount="20.00")]
    assert check(attempts) is None


def test_the_description_names_the_customer_and_the_minute():
    attempts = [tx(f"b{i}", "17", at=T0 + seconds(i), customer_name="Quentin Fox", amount="5.00") for i in range(6)]
    finding = check(attempts)
    assert finding.description.startswith("Quentin Fox (17) made 6 transactions within 60 seconds")
    assert "September 16, 2025 at 16:00 UTC" in finding.description
