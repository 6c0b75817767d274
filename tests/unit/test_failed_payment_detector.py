"""Failed payments: repeated ones reported low; bursts escalate; a lone one is not reported."""

from __future__ import annotations

from dataclasses import replace

from shopwatch.config import DetectionSettings
from shopwatch.detectors import failed_payment
from shopwatch.domain.severity import Severity
from tests.builders import T0, detection_input, item, seconds, tx

SETTINGS = DetectionSettings()  # reported from 3; 5 / 8 / 12 failures in 600 s: medium / high / critical


def failures(count: int, spacing: float = 30.0):
    return [tx(f"f{i}", at=T0 + seconds(i * spacing), status="failed", amount="30.00") for i in range(count)]


def check(transactions):
    *past, current = transactions
    return failed_payment.detect(detection_input(current, past), SETTINGS)


def test_a_lone_failed_payment_is_not_reported():
    assert check([tx("923", "9", status="failed", items=(item("MON", 1, "150.00", "Monitor"),))]) is None


def test_a_second_failed_payment_is_not_reported():
    """A declined card retried once is everyday; in the demo such pairs were most of the low queue (issue 16)."""
    assert check([tx("922", "9", at=T0 - seconds(60), status="failed", amount="150.00"),
                  tx("923", "9", status="failed", amount="150.00")]) is None  # fmt: skip


def test_a_third_failed_payment_is_a_low_finding_with_the_facts():
    finding = check(
        [
            tx("921", "9", at=T0 - seconds(120), status="failed", amount="150.00"),
            tx("922", "9", at=T0 - seconds(60), status="failed", amount="150.00"),
            tx("923", "9", customer_name="Ian Clark", status="failed", items=(item("MON", 1, "150.00", "Monitor"),)),
        ]
    )
    assert finding.severity is Severity.LOW
    assert finding.description == (
        "Transaction 923 failed: Ian Clark (9), 150.00 USD (Monitor), 3 failures within 10 minutes"
    )


def test_every_failed_payment_is_reported_when_configured_so():
    settings = replace(SETTINGS, failed_report_min=1)
    lone = detection_input(tx("923", "9", status="failed", amount="1.00"), [])
    assert failed_payment.detect(lone, settings).severity is Severity.LOW


def test_an_approved_payment_is_not_reported():
    assert check([tx()]) is None


def test_denied_payments_count_as_failed():
    assert check([*failures(2, spacing=-30), tx(status="denied", amount="1.00")]).reasons[0].code == "payment_denied"


def test_a_burst_escalates_with_its_size():
    """Three or four failures in ten minutes are retries (reported low); five page (issue 16, the demo's traffic)."""
    assert check(failures(4, spacing=20)).severity is Severity.LOW
    assert check(failures(5, spacing=20)).severity is Severity.MEDIUM
    assert check(failures(8, spacing=20)).severity is Severity.HIGH
    assert check(failures(12, spacing=20)).severity is Severity.CRITICAL


def test_failures_outside_the_burst_window_do_not_escalate():
    assert check(failures(5, spacing=200)).severity is Severity.LOW  # the last 4 within 600 s
    assert check(failures(3, spacing=400)) is None
