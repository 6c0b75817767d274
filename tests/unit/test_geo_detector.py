"""Geo: a country the customer never used, once the customer has history."""

from __future__ import annotations

from shopwatch.config import DetectionSettings
from shopwatch.detectors import geo
from shopwatch.domain.severity import Severity
from tests.builders import T0, detection_input, seconds, tx

SETTINGS = DetectionSettings()  # history: 3 approved purchases


def history(count: int, country: str = "GB", status: str = "approved"):
    return [
        tx(f"h{i}", at=T0 - seconds(3600 * (i + 1)), country=country, status=status, amount="10.00")
        for i in range(count)
    ]


def test_a_new_country_after_enough_history_is_medium():
    finding = geo.detect(detection_input(tx(country="NG", amount="900.00"), history(3)), SETTINGS)
    assert finding.severity is Severity.MEDIUM
    assert finding.reasons[0].value == "NG"
    assert "Nigeria" in finding.description and "United Kingdom" in finding.description


def test_a_known_country_raises_nothing():
    assert geo.detect(detection_input(tx(country="GB"), history(5)), SETTINGS) is None


def test_a_new_customer_has_no_usual_country_yet():
    assert geo.detect(detection_input(tx(country="NG"), history(2)), SETTINGS) is None


def test_failed_attempts_do_not_teach_countries():
    past = [*history(3), *history(2, country="NG", status="failed")]
    assert geo.detect(detection_input(tx(country="NG"), past), SETTINGS) is not None


def test_a_transaction_without_country_raises_nothing():
    assert geo.detect(detection_input(tx(country=None), history(5)), SETTINGS) is None
