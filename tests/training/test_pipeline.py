"""TrainFunction's training: the shop's own history, point in time, its currencies, its labels, and a learned
risk that replaces the hand-set one only when it proves better on a time-ordered holdout."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest

from infra.simulate.shop import build_shop
from infra.simulate.traffic import TrafficPlanner
from infra.training.loading import validated_records
from infra.training.simulated import START
from shopwatch.config import DetectionSettings
from shopwatch.detection.model_scoring import ArtifactModel
from shopwatch.detectors.risk_inputs import COMBINER_INPUTS
from shopwatch.domain.transaction import Transaction
from shopwatch.storage.alerts import AlertRepository
from shopwatch.storage.labels import LabelRepository
from shopwatch.storage.transactions import TransactionRepository
from shopwatch.training.labels import merged_labels
from shopwatch.training.pipeline import TrainingOptions, newest_within, train_from_tables, train_shop
from shopwatch.training.replay import replay_history
from tests.builders import T0, stored_alert, tx

NOW = datetime(2026, 11, 30, tzinfo=UTC)
FAST = TrainingOptions(
    trees=50, period_days=3650, label_maturity_days=0, min_fraud=10, min_legitimate=50, autoencoder_epochs=40
)


def shop_history(
    seed: int = 5, rate: float = 2.0, hours: float = 1.0, customers: int = 300
) -> tuple[list[Transaction], dict[str, str]]:
    """The simulated shop's warm-up and an hour of live traffic with labelled anomalies (3%): their
    transactions are the frauds a shop's chargebacks would report."""
    shop = build_shop(seed, customers)
    plan = TrafficPlanner(shop, seed, START).plan(rate, hours * 3600, 0.03, ("amount_outlier", "new_account_ring"))
    transactions, _ = validated_records([p.transaction for p in plan.warmup + plan.live])
    labels = {tid: "fraud" for anomaly in plan.anomalies for tid in anomaly.transaction_ids}
    return transactions, labels


@pytest.fixture(scope="module")
def history() -> tuple[list[Transaction], dict[str, str]]:
    return shop_history()


def test_the_shops_model_learns_its_risk_from_its_labels(history):
    transactions, labels = history
    result = train_shop(transactions, labels, FAST, NOW)
    meta = result.metadata
    assert meta["rows"] == len(transactions)
    assert meta["labels"]["fraud"] == len(labels)
    assert meta["learning"]["adopted"] is True, meta["learning"]
    assert meta["learning"]["holdout"]["learned_roc_auc"] > meta["learning"]["holdout"]["handset_roc_auc"]
    assert meta["risk_score"] == "learned" and meta["combiner_inputs"] == list(COMBINER_INPUTS)
    model = ArtifactModel(result.artifact)  # loads as DetectFunction loads it: features, combiner inputs match
    assert model.combiner is not None and model.artifact.autoencoder is not None
    assert model.version == meta["version"] == result.artifact.info["version"]
    # the learned probability ranks the shop's frauds above its ordinary purchases
    h = replay_history(transactions, DetectionSettings())
    verdicts = model.verdicts(h.features.tolist(), [t.currency for t in h.transactions])
    risk = [
        model.learned_risk(h.features[i], t.currency, h.context[i], verdicts[i]) for i, t in enumerate(h.transactions)
    ]
    fraud = [r for r, t in zip(risk, h.transactions, strict=True) if t.transaction_id in labels]
    normal = [r for r, t in zip(risk, h.transactions, strict=True) if t.transaction_id not in labels]
    assert np.median(fraud) > 0.5 > np.quantile(normal, 0.99)


def test_without_enough_labels_the_hand_set_risk_stays_and_the_forest_is_still_trained(history):
    transactions, labels = history
    few = dict(list(labels.items())[:3])
    result = train_shop(transactions, few, FAST, NOW)
    assert result.artifact.combiner is None
    assert result.metadata["risk_score"] == "hand-set"
    assert "too few labels: 3 fraud" in result.metadata["learning"]["reason"]
    assert ArtifactModel(result.artifact).learned_risk((0.0,) * 15, "USD", (), None) is None  # type: ignore[arg-type]


def test_a_learned_risk_that_does_not_beat_the_hand_set_one_on_the_holdout_is_not_adopted(history):
    """Labels that say nothing (random transactions called fraud): whatever the regression fits on the older
    rows, the holdout shows it is no better than the hand-set score, so the shop keeps that."""
    transactions, _ = history
    rng = np.random.default_rng(3)
    noise = {t.transaction_id: "fraud" for t in transactions if rng.random() < 0.05}
    result = train_shop(transactions, noise, FAST, NOW)
    learning = result.metadata["learning"]
    assert learning["adopted"] is False and result.artifact.combiner is None
    assert "not better by more than its standard error" in learning["reason"]


def test_every_currency_the_shop_uses_is_scored_on_its_own_scale(history):
    transactions, _ = history
    # the same shop selling in pounds too, at 80% of the dollar amounts
    pounds = [
        replace(t, transaction_id=f"gbp-{t.transaction_id}", currency="GBP", amount=(t.amount * Decimal("0.8")))
        for t in transactions[::3]
    ]
    result = train_shop(transactions + pounds, {}, FAST, NOW)
    scales = result.artifact.amount_scales
    assert set(scales) == {"USD", "GBP"} == set(ArtifactModel(result.artifact).currencies)
    assert scales["GBP"] == pytest.approx(0.8 * scales["USD"], rel=0.05)


def test_a_transactions_row_depends_only_on_what_came_before_it(history):
    transactions, _ = history
    ordered = sorted(transactions, key=lambda t: (t.timestamp, t.transaction_id))
    half = len(ordered) // 2
    whole = replay_history(ordered, DetectionSettings())
    earlier = replay_history(ordered[:half], DetectionSettings())
    assert np.array_equal(whole.features[:half], earlier.features)
    assert np.array_equal(whole.context[:half], earlier.context)


def test_the_period_is_the_newest_transactions_bounded_by_days_and_count():
    txs = [tx(f"t{i:03d}", at=T0 + timedelta(days=i), amount="10.00") for i in range(100)]
    kept = newest_within(txs, TrainingOptions(max_transactions=60, period_days=30))
    assert [t.transaction_id for t in kept] == [f"t{i:03d}" for i in range(69, 100)]  # 30 days back from the newest
    kept = newest_within(txs, TrainingOptions(max_transactions=50, period_days=365))
    assert [t.transaction_id for t in kept] == [f"t{i:03d}" for i in range(50, 100)]


def test_too_little_history_or_bad_options_are_refused(history):
    with pytest.raises(ValueError, match="too few"):
        train_shop(history[0][:10], {}, FAST, NOW)
    with pytest.raises(ValueError, match="contamination"):
        TrainingOptions.from_env({"TRAIN_CONTAMINATION": "0.7"})
    assert TrainingOptions.from_env({"TRAIN_MAX_TRANSACTIONS": "1000"}).max_transactions == 1000


def test_labels_on_transactions_win_over_alert_feedback():
    flagged = replace(stored_alert("a1"), transaction_ids=("t1", "t2"), feedback={"label": "fraud", "by": "ann"})
    cleared = replace(stored_alert("a2"), transaction_ids=("t3",), feedback={"label": "legitimate", "by": "bob"})
    labels = merged_labels([{"transaction_id": "t2", "label": "legitimate"}], [flagged, cleared])
    assert labels == {"t1": "fraud", "t2": "legitimate", "t3": "legitimate"}


def test_train_from_tables_reads_the_newest_transactions_labels_and_feedback(stack):
    transactions, labels = shop_history(seed=8, rate=1.0, hours=0.25, customers=100)
    repository = TransactionRepository(stack.table("TransactionsTable"))
    repository.add_all_if_new(transactions)
    assert [t.transaction_id for t in repository.newest(5)] == [
        t.transaction_id for t in sorted(transactions, key=lambda t: (t.timestamp, t.transaction_id))[-5:][::-1]
    ]
    frauds = sorted(labels)
    for tid in frauds[:-4]:
        LabelRepository(stack.table("StateTable")).put(tid, {"label": "fraud", "source": "chargeback"})
    alert = replace(stored_alert("a-fb"), transaction_ids=tuple(frauds[-4:]), feedback={"label": "fraud", "by": "x"})
    AlertRepository(stack.table("AlertsTable")).save(alert)
    result = train_from_tables(
        transactions_table=stack.table("TransactionsTable"),
        state_table=stack.table("StateTable"),
        alerts_table=stack.table("AlertsTable"),
        options=FAST,
        now=NOW,
    )
    assert result.metadata["rows"] == len(transactions)
    assert result.metadata["labels"]["fraud"] == len(frauds)
    assert result.metadata["learning"]["fraud"] == len(frauds)  # every label reached the learning step
