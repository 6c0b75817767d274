"""The model detector inside DetectionService on moto: one vectorized scoring call per batch, the same verdicts
as scoring each transaction on its own state, a rescore when the batch's state moved away from the plan, and
the default model catching the simulator's amount outliers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from infra.local.resources import create_resources
from infra.simulate.shop import Shop, build_shop
from infra.simulate.traffic import TrafficPlanner
from infra.training.loading import validated_records
from shopwatch.config import DetectionSettings
from shopwatch.detection.model_scoring import ArtifactModel, load_model
from shopwatch.detection.service import DetectionService
from shopwatch.domain.clock import utcnow
from shopwatch.domain.transaction import Transaction
from shopwatch.storage.alerts import AlertRepository
from shopwatch.storage.state import StateRepository
from tests.conftest import Stack


class CountingModel:
    """The default model, recording the size of every scoring call."""

    def __init__(self, inner: ArtifactModel) -> None:
        self.inner, self.version, self.currencies, self.calls = inner, inner.version, inner.currencies, []

    def verdicts(self, rows, currencies=None):
        self.calls.append(len(rows))
        return self.inner.verdicts(rows, currencies)

    def learned_risk(self, features, currency, context, verdict):
        return self.inner.learned_risk(features, currency, context, verdict)


@pytest.fixture(scope="module")
def default_model() -> ArtifactModel:
    loaded = load_model("default")
    assert loaded is not None
    return loaded


def shop_traffic(kinds=("amount_outlier",), seed: int = 31) -> tuple[list[Transaction], list, Shop]:
    """40 customers' history and two minutes of their live traffic (60 transactions, 6 amount outliers)."""
    shop = build_shop(seed, 40)
    start = utcnow() - timedelta(hours=1)
    warmup = TrafficPlanner(shop, seed, start).warmup()
    planner = TrafficPlanner(shop, seed + 1, start)
    planner.counter = len(warmup)
    plan = planner.plan(0.5, 120, 0.1, kinds)
    transactions, _ = validated_records([p.transaction for p in warmup + plan.live])
    return transactions, plan.anomalies, shop


def service_on(stack, model, shop) -> DetectionService:
    state = StateRepository(stack.table("StateTable"))
    for entry in shop.catalog().values():
        state.put_catalog_entry(entry)
    return DetectionService(state, AlertRepository(stack.table("AlertsTable")), DetectionSettings(), model=model)


def model_findings(outcomes) -> dict[str, dict]:
    return {o.transaction_id: f.to_dict() for o in outcomes for f in o.findings if f.detector == "model"}


def run_batches(service: DetectionService, transactions: list[Transaction], size: int) -> list:
    outcomes = []
    for start in range(0, len(transactions), size):
        chunk = transactions[start : start + size]
        batch = service.load(chunk)
        outcomes += [service.process(batch, tx) for tx in chunk]
    return outcomes


def other_stack(stack, prefix: str):
    return Stack(create_resources(stack.session, prefix=prefix), stack.monkeypatch)


def test_a_batch_is_scored_in_one_call_with_the_verdicts_of_one_at_a_time(stack, default_model):
    transactions, _, shop = shop_traffic()
    ordered = sorted(transactions, key=lambda t: t.timestamp)
    history, recent = ordered[:-50], ordered[-50:]

    batched = CountingModel(default_model)
    service = service_on(stack, batched, shop)
    run_batches(service, history, 100)
    batched.calls.clear()
    together = run_batches(service, recent, 100)
    assert batched.calls == [50]  # one vectorized call, no rescoring

    single = CountingModel(default_model)
    alone_service = service_on(other_stack(stack, "single"), single, shop)
    run_batches(alone_service, history, 100)
    single.calls.clear()
    alone = run_batches(alone_service, recent, 1)
    assert single.calls == [1] * 50
    assert model_findings(together)  # the comparison below is not between two empty sets
    assert model_findings(together) == model_findings(alone)
    assert [o.risk_score for o in together] == [o.risk_score for o in alone]


def test_a_transaction_whose_state_moved_away_from_the_plan_is_rescored_alone(stack, default_model):
    """A record that fails mid-batch is not learned, so the plan (which assumed it was) no longer holds for the
    customer's later transactions: they are scored again on the state as it is, as if it had never come."""
    transactions, _, shop = shop_traffic()
    ordered = sorted(transactions, key=lambda t: t.timestamp)
    history, recent = ordered[:-40], ordered[-40:]
    customer = next(
        c for c in dict.fromkeys(t.customer_id for t in recent) if sum(t.customer_id == c for t in recent) >= 2
    )
    failed = next(t for t in recent if t.customer_id == customer)
    rest = [t for t in recent if t is not failed]

    model = CountingModel(default_model)
    service = service_on(stack, model, shop)
    run_batches(service, history, 200)
    model.calls.clear()
    batch = service.load(recent)
    moved = [service.process(batch, tx) for tx in rest]
    assert model.calls[0] == 40 and model.calls[1:] and set(model.calls[1:]) == {1}

    reference = service_on(other_stack(stack, "reference"), default_model, shop)
    run_batches(reference, history, 200)
    expected = run_batches(reference, rest, 1)  # the failed record never arrived
    assert [o.findings for o in moved] == [o.findings for o in expected]
    assert [o.risk_score for o in moved] == [o.risk_score for o in expected]


def test_the_default_model_alerts_on_every_injected_amount_outlier_and_never_doubles_a_rule(stack, default_model):
    transactions, anomalies, shop = shop_traffic(kinds=("amount_outlier", "deep_discount"), seed=47)
    service = service_on(stack, default_model, shop)
    outcomes = {o.transaction_id: o for o in run_batches(service, sorted(transactions, key=lambda t: t.timestamp), 100)}
    alerts = stack.scan("AlertsTable")
    alerted_by = {(a["detector"], t) for a in alerts for t in a["transaction_ids"]}
    injected = {
        kind: [a.transaction_ids[0] for a in anomalies if a.kind == kind]
        for kind in ("amount_outlier", "deep_discount")
    }
    assert injected["amount_outlier"] and injected["deep_discount"]
    for tid in injected["amount_outlier"]:
        model = next(f for f in outcomes[tid].findings if f.detector == "model")
        assert model.severity.rank >= 2, model  # medium or above: notified
        assert ("model", tid) in alerted_by
    # a deep discount is the price rule's: the model's finding (far below the prices it learned) adds to the
    # risk and is kept, but opens no second alert
    doubled = [tid for tid in injected["deep_discount"] if any(f.detector == "model" for f in outcomes[tid].findings)]
    assert doubled
    for tid in injected["deep_discount"]:
        assert ("price", tid) in alerted_by and ("model", tid) not in alerted_by
    assert {a["model_version"] for a in alerts if a["detector"] == "model"} == {default_model.version}


def test_the_model_judges_only_the_currencies_it_learned_amounts_in(stack, default_model):
    """An INR shop's ordinary 50,000 would be beyond anything a USD-trained model saw: it is not judged."""
    assert default_model.currencies == frozenset({"USD"})
    shop = build_shop(5, 40, currency="INR")
    start = utcnow() - timedelta(hours=1)
    planner = TrafficPlanner(shop, 5, start)
    transactions, _ = validated_records([p.transaction for p in planner.warmup()[:30]])
    model = CountingModel(default_model)
    outcomes = run_batches(service_on(stack, model, shop), transactions, 100)
    assert model.calls == []  # nothing planned, nothing scored
    assert not any(f.detector == "model" for o in outcomes for f in o.findings)
