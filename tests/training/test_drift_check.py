"""The drift check: a low operations alert when the recent traffic's features moved from the champion's
training, none when they did not, and one alert per champion and week however often training runs."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from shopwatch.config import DetectionSettings
from shopwatch.detection.model_scoring import ArtifactModel, load_model
from shopwatch.domain.severity import Severity
from shopwatch.storage.alerts import AlertRepository
from shopwatch.training.drift_check import DETECTOR, drift_alert, drift_finding
from shopwatch.training.pipeline import train_shop
from shopwatch.training.replay import replay_history
from tests.training.test_pipeline import FAST, NOW, shop_history


@pytest.fixture(scope="module")
def trained():
    transactions, _ = shop_history(seed=9, rate=1.0, hours=0.5, customers=200)
    return transactions, ArtifactModel(train_shop(transactions, {}, FAST, NOW).artifact)


def later_week(transactions, factor: str):
    """The same traffic by new customers a week on (same weekdays and hours), amounts (and line prices) times
    `factor`: only the amounts can have moved."""
    moved = []
    for t in transactions:
        items = tuple(replace(i, unit_price=i.unit_price * Decimal(factor)) for i in t.items)
        moved.append(
            replace(t, transaction_id=f"w2-{t.transaction_id}", customer_id=f"w2-{t.customer_id}",
                    timestamp=t.timestamp + timedelta(days=7), amount=t.amount * Decimal(factor), items=items)
        )  # fmt: skip
    return replay_history(transactions + moved, DetectionSettings())


def test_the_same_traffic_raises_nothing(trained):
    transactions, champion = trained
    assert drift_finding(champion, later_week(transactions, "1")) is None


def test_amounts_five_times_larger_raise_a_low_alert_naming_them(trained, stack):
    transactions, champion = trained
    history = later_week(transactions, "5")
    finding = drift_finding(champion, history)
    assert finding is not None and finding.detector == DETECTOR and finding.severity is Severity.LOW
    assert {r.code for r in finding.reasons} >= {"model_drift_amount"}
    assert champion.version in finding.description
    alerts = AlertRepository(stack.table("AlertsTable"))
    alert = drift_alert(finding, history.transactions[-1].timestamp, NOW)
    assert alerts.save(alert) is True
    again = drift_alert(drift_finding(champion, history), history.transactions[-1].timestamp, NOW + timedelta(hours=1))
    assert again.alert_id == alert.alert_id and alerts.save(again) is False  # a retried run writes nothing new


def test_a_champion_without_a_reference_or_too_little_traffic_is_not_judged(trained):
    transactions, _ = trained
    default = load_model("default")
    assert default is not None and drift_finding(default, later_week(transactions, "5")) is None
    _, champion = trained
    assert drift_finding(champion, replay_history(transactions[:50], DetectionSettings())) is None
