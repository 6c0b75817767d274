"""The queue's sort key and the money an alert shows: risk_order sorts as the queue reads (highest risk, then
the longest waiting), and an alert's amount adds up its transactions in one currency."""

from __future__ import annotations

from decimal import Decimal

from shopwatch.detectors.findings import Finding, Reason
from shopwatch.domain.alert import Alert, add_occurrence, open_alert, risk_order
from shopwatch.domain.severity import Severity
from tests.builders import T0, seconds, tx

FINDING = Finding("velocity", Severity.HIGH, (Reason("r", "a reason"),), "Bob made 6 transactions")


def test_the_risk_order_key_sorts_highest_risk_first_then_oldest_first():
    keyed = [
        (Decimal("84.5"), T0 + seconds(60)),
        (Decimal("100"), T0 + seconds(600)),
        (Decimal("84.5"), T0),
        (Decimal("0"), T0),
        (Decimal("9.9"), T0),
        (Decimal("10"), T0 + seconds(1)),
    ]
    ordered = sorted(keyed, key=lambda k: risk_order(*k))
    assert ordered == sorted(keyed, key=lambda k: (-k[0], k[1]))
    assert risk_order(Decimal("84.5"), T0) == "01550#2025-09-16T16:00:00.000000Z"


def test_every_stored_alert_carries_its_risk_order_and_reads_back_unchanged():
    alert = open_alert(FINDING, Severity.HIGH, Decimal("72.5"), tx("t1", "c1", amount="10.00"), 3600, T0)
    item = alert.to_item()
    assert item["risk_order"] == risk_order(Decimal("72.5"), T0)
    assert Alert.from_item(item) == alert and "risk_order" not in Alert.from_item(item).extra


def test_an_alert_adds_up_the_money_of_its_transactions_in_one_currency():
    alert = open_alert(FINDING, Severity.HIGH, Decimal(50), tx("t1", "c1", amount="10.00"), 3600, T0)
    assert (alert.amount, alert.currency) == (Decimal("10.00"), "USD")
    grown = add_occurrence(alert, FINDING, Severity.HIGH, Decimal(50), tx("t2", "c1", amount="2.50"), T0)
    assert grown.amount == Decimal("12.50")
    mixed = add_occurrence(grown, FINDING, Severity.HIGH, Decimal(50), tx("t3", "c1", amount="1", currency="EUR"), T0)
    assert mixed.amount is None
    later = add_occurrence(mixed, FINDING, Severity.HIGH, Decimal(50), tx("t4", "c1", amount="5.00"), T0)
    assert later.amount is None  # once unknown, a sum stays unknown
