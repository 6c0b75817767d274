"""A small shop for the backtest's tests: transactions through IngestFunction and DetectFunction on moto (so
markers, entity state and alerts are what production writes), labels from a chargeback and from an analyst's
feedback, and a brute-force judge to compare the backtest with."""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from infra.local import lambda_invoke, moto_speedups
from infra.local.lambda_context import LocalLambdaContext
from infra.local.lambda_loader import load_handler
from shopwatch.config import DetectionSettings
from shopwatch.detection.model_scoring import load_model
from shopwatch.detection.service import BatchState
from shopwatch.detectors.registry import run_detectors
from shopwatch.domain.clock import to_iso
from shopwatch.domain.transaction import Transaction
from shopwatch.rules.engine import RuleEngine
from shopwatch.rules.expressions import compile_expression
from shopwatch.rules.facts import facts_for, model_anomaly
from shopwatch.storage.alerts import AlertRepository
from shopwatch.storage.labels import LabelRepository
from shopwatch.storage.state import StateRepository
from shopwatch.storage.transactions import TransactionRepository
from tests.conftest import TEMPLATE, Stack
from tests.integration.api_requests import ADMIN, ANALYST, ApiClient

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
DAYS = 3


def shop_transactions(count: int = 200, seed: int = 7) -> list[dict[str, Any]]:
    """`count` purchases over DAYS days by 40 customers; a few devices and IPs shared by several accounts, some
    new accounts, failed payments and big baskets, so entity figures, findings and alerts vary."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        at = START + timedelta(seconds=int(i * DAYS * 86400 / count) + rng.randint(0, 300))
        customer = f"c{rng.randint(0, 39)}"
        shared = rng.random() < 0.2
        out.append(
            {
                "transaction_id": f"t{i:04d}",
                "customer_id": customer,
                "timestamp": to_iso(at),
                "amount": f"{rng.choice([12, 25, 40, 60, 95, 150, 480, 1900])}.{rng.randint(0, 99):02d}",
                "currency": "USD",
                "status": rng.choice(["approved"] * 8 + ["failed", "denied"]),
                "country": rng.choice(["GB", "GB", "GB", "FR", "US"]),
                "device_id": f"dev-shared-{rng.randint(0, 2)}" if shared else f"dev-{customer}",
                "ip": f"203.0.113.{rng.randint(1, 4)}" if shared else f"198.51.100.{int(customer[1:])}",
                "email": f"{customer}@example.com",
                "account_created_at": to_iso(at - timedelta(minutes=rng.choice([5, 50, 600, 60 * 24 * 90]))),
            }
        )
    return out


def whale() -> dict[str, Any]:
    """A basket far beyond anything the model trained on (30 lines of 120 units): the model's finding that
    `findings.model` reads, as DetectFunction stores it on the marker."""
    lines = [{"sku": f"W-{i}", "quantity": 120, "unit_price": "49.99"} for i in range(30)]
    return {
        "transaction_id": "t0999",  # numbered as the others (the labels read the number)
        "customer_id": "c-whale",
        "timestamp": to_iso(START + timedelta(days=2, hours=1)),
        "amount": str(sum(Decimal(line["unit_price"]) * line["quantity"] for line in lines)),
        "currency": "USD",
        "status": "approved",
        "items": lines,
    }


@dataclass
class Shop:
    transactions: list[Transaction]  # as stored
    fraud: set[str]
    legitimate: set[str]
    alerted: set[str]


@pytest.fixture
def shop(stack: Stack) -> Iterator[Shop]:
    moto_speedups.install()  # the local stack's TransactWriteItems: moto's copies the table on every call
    try:
        yield _shop(stack)
    finally:
        moto_speedups.uninstall()


def _shop(stack: Stack) -> Shop:
    pipeline = stack.pipeline()
    records = [*shop_transactions(), whale()]
    for i in range(0, len(records), 40):
        answer = pipeline.post({"transactions": records[i : i + 40]})
        assert answer["status"] == 202 and len(answer["body"]["accepted"]) == len(records[i : i + 40])
        pipeline.drain()
    stored = TransactionRepository(stack.table("TransactionsTable")).between(
        START - timedelta(days=1), START + timedelta(days=DAYS + 1), 10_000
    )
    # a chargeback on every fifth transaction above 400, an analyst's "legitimate" on the first alert
    labels = LabelRepository(stack.table("StateTable"))
    fraud = {tx.transaction_id for tx in stored if tx.amount > 400 and int(tx.transaction_id[1:]) % 5 == 0}
    for transaction_id in fraud:
        labels.put(transaction_id, {"label": "fraud", "source": "chargeback", "by": "shop", "at": to_iso(START)})
    alerts = AlertRepository(stack.table("AlertsTable")).scan_all()
    assert alerts, "the shop's traffic raised no alert: the overlap would not be tested"
    first = min(alerts, key=lambda a: a.alert_id)
    api = ApiClient(stack.handler("ApiFunction"), ANALYST)
    status, _ = api("POST", f"/alerts/{first.alert_id}/feedback", {"label": "legitimate"})
    assert status == 200
    legitimate = set(first.transaction_ids) - fraud
    alerted = {t for a in alerts for t in a.transaction_ids}
    return Shop(sorted(stored, key=lambda t: (t.timestamp, t.transaction_id)), fraud, legitimate, alerted)


def brute_force_matches(stack: Stack, shop: Shop, expression: str, since: datetime, until: datetime) -> list[str]:
    """The ids the expression matches in [since, until], judged one transaction at a time from scratch: the
    state rebuilt from every earlier stored transaction, the detectors run, the marker read (the scores and the
    model's finding DetectFunction stored), the engine asked."""
    settings = DetectionSettings()
    engine = RuleEngine((), (), START)
    compiled = compile_expression(expression)
    state = StateRepository(stack.table("StateTable"))
    layer_model = load_model("default")
    matched = []
    for index, tx in enumerate(shop.transactions):
        if not since <= tx.timestamp <= until:
            continue
        before = BatchState.empty()
        for earlier in shop.transactions[:index]:
            before.learn(earlier, settings.failed_statuses)
        data = before.input_for(tx)
        marker = state.get_markers([tx.transaction_id], {})[(tx.transaction_id, 0)]
        champion = next(m for m in marker.models if m.role == "champion")
        anomaly = model_anomaly(champion.score, layer_model.artifact.forest.offset)
        findings = run_detectors(data, settings) + [f for f in marker.findings if f.detector == "model"]
        facts = facts_for(tx, data.views, findings, anomaly, float(marker.risk_score))
        if engine.evaluate_one(compiled, facts):
            matched.append(tx.transaction_id)
    return matched


@pytest.fixture
def apis(stack: Stack) -> dict[str, ApiClient]:
    handler = stack.handler("ApiFunction")
    return {"analyst": ApiClient(handler, ANALYST), "admin": ApiClient(handler, ADMIN)}


@pytest.fixture
def backtest_function(stack: Stack):
    """BacktestFunction served by the local stack's lambda:Invoke (synchronous and asynchronous), as a fresh
    container; its invocations are recorded."""
    stack.handler("BacktestFunction")  # a fresh container with the template's environment
    properties = TEMPLATE["Resources"]["BacktestFunction"]["Properties"]
    handler = load_handler(properties["CodeUri"], properties["Handler"])
    calls: list[dict] = []

    def run(event: dict) -> Any:
        """Each invocation with its own context and the template's timeout (the job watches its time)."""
        calls.append(event)
        context = LocalLambdaContext("BacktestFunction", properties["MemorySize"], properties["Timeout"])
        return handler(event, context)

    lambda_invoke.failures.clear()
    lambda_invoke.install({stack.resources.functions["BacktestFunction"]: run})
    run.calls = calls  # type: ignore[attr-defined]
    run.module = sys.modules["shopwatch_fn_backtest_app"]  # type: ignore[attr-defined]
    yield run
    lambda_invoke.uninstall()
