"""TrainFunction: a scheduled or requested run trains (here: a stand-in for the pipeline) and publishes the
result as the challenger, recording who asked."""

from __future__ import annotations

import sys

import pytest

from shopwatch.storage.models import ModelRegistry, ModelStatus
from tests.conftest import Stack, load_event
from tests.training_fakes import METADATA, FakeTraining


@pytest.fixture
def train(stack: Stack, monkeypatch):
    handler = stack.handler("TrainFunction")
    fake = FakeTraining(["20250921T030000Z-aaaa", "20250921T040000Z-bbbb"])
    monkeypatch.setattr(sys.modules["shopwatch_fn_train_app"], "train_from_tables", fake)
    handler.fake = fake
    return handler


@pytest.fixture
def registry(stack: Stack) -> ModelRegistry:
    return ModelRegistry(stack.table("StateTable"), stack.resources.buckets["ModelBucket"])


def test_the_weekly_run_trains_on_the_shops_tables_and_publishes_a_challenger_by_the_schedule(train, registry, stack):
    answer = train(load_event("train_scheduled.json"))
    assert answer == {
        "version": "20250921T030000Z-aaaa",
        "status": "challenger",
        "trained_by": "schedule",
        "drift_alert": None,
    }
    (call,) = train.fake.calls
    assert call["transactions_table"] == stack.table("TransactionsTable")
    assert call["state_table"] == stack.table("StateTable") and call["alerts_table"] == stack.table("AlertsTable")
    record = registry.get("20250921T030000Z-aaaa")
    assert record.status is ModelStatus.CHALLENGER and record.metadata == METADATA
    assert registry.get_files(record.version)  # the artifact is in the bucket


def test_a_requested_run_is_recorded_under_the_admin_who_asked(train, registry):
    train({"requested_by": "root"})
    train({"requested_by": "ana"})
    records = {r.version: r for r in registry.versions()}
    assert records["20250921T030000Z-aaaa"].status is ModelStatus.RETIRED
    assert records["20250921T040000Z-bbbb"].trained_by == "ana"
    assert [e.by for e in registry.history()] == ["ana", "root"]


@pytest.mark.parametrize("event", [{}, {"requested_by": ""}, {"requested_by": "x\n"}, {"requested_by": 7}])
def test_a_run_nobody_can_be_named_for_is_refused_before_training(train, event):
    with pytest.raises(ValueError, match="requested_by"):
        train(event)
    assert train.fake.calls == []


def test_a_run_whose_recent_traffic_drifted_from_the_champion_opens_one_low_operations_alert(stack, monkeypatch):
    """The real pipeline trains the champion; a week later the shop's amounts are five times larger: the next
    run (here its result is the replayed history of that week) opens a model_drift alert, a retried run none."""
    from datetime import UTC, datetime

    from shopwatch.storage.alerts import AlertRepository
    from shopwatch.training.pipeline import TrainingResult, train_shop
    from tests.training.test_drift_check import later_week
    from tests.training.test_pipeline import FAST, shop_history

    handler = stack.handler("TrainFunction")
    module = sys.modules["shopwatch_fn_train_app"]
    registry = ModelRegistry(stack.table("StateTable"), stack.resources.buckets["ModelBucket"])
    transactions, _ = shop_history(seed=9, rate=1.0, hours=0.5, customers=200)
    champion = train_shop(transactions, {}, FAST, datetime(2026, 11, 1, tzinfo=UTC))
    registry.publish_challenger(champion.metadata["version"], champion.artifact.to_files(), champion.metadata, "t",
                                datetime(2026, 11, 1, tzinfo=UTC))  # fmt: skip
    registry.promote(champion.metadata["version"], "root", datetime(2026, 11, 1, tzinfo=UTC))
    drifted = later_week(transactions, "5")
    runs = iter(["20261108T000000Z-drift1", "20261108T010000Z-drift2"])

    def retrained(**_: object) -> TrainingResult:
        fresh = champion.artifact.__class__.from_files(champion.artifact.to_files())
        version = next(runs)
        from dataclasses import replace

        return TrainingResult(replace(fresh, info=fresh.info | {"version": version}), {"version": version}, drifted)

    monkeypatch.setattr(module, "train_from_tables", retrained)
    first = handler({"requested_by": "root"})
    assert first["drift_alert"] is not None
    alert = AlertRepository(stack.table("AlertsTable")).get(first["drift_alert"])
    assert alert is not None and alert.detector == "model_drift" and alert.severity.value == "low"
    assert champion.metadata["version"] in alert.summary
    again = handler({"requested_by": "root"})  # the same week, the same champion: the same alert, not a second
    assert again["drift_alert"] == first["drift_alert"]
    assert [a.detector for a in AlertRepository(stack.table("AlertsTable")).scan_all()] == ["model_drift"]
