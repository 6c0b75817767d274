"""DetectFunction serving the registry's models: the champion judges, the challenger is scored in shadow on
the same features and stored beside it on the marker (never alerting, never in the risk score), and a promote
reaches detection within the refresh interval with no failed record. The function's source reads a clock the
test moves: nothing waits on wall time."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import timedelta

import pytest

from shopwatch.config import DetectionSettings
from shopwatch.detection.service import DetectionService
from shopwatch.detectors.model import ModelVerdict, ServingModels
from shopwatch.domain.clock import to_iso, utcnow
from shopwatch.storage.alerts import AlertRepository
from shopwatch.storage.models import ModelRegistry
from shopwatch.storage.state import StateRepository
from tests.builders import tx
from tests.conftest import Stack
from tests.integration.api_requests import ApiClient
from tests.model_artifacts import files

REFRESH = DetectionSettings().model_refresh_seconds


class Clock:
    def __init__(self, now) -> None:
        self.now = now

    def __call__(self):
        return self.now


def purchase(tid: str) -> dict:
    return {
        "transaction_id": tid,
        "customer_id": "c1",
        "timestamp": to_iso(utcnow() - timedelta(minutes=1)),
        "currency": "USD",
        "country": "US",
        "items": [{"sku": "MUG", "quantity": 1, "unit_price": "12.00"}],
    }


def scores_of(stack: Stack, tid: str) -> dict[str, str]:
    (marker,) = StateRepository(stack.table("StateTable")).get_detection(tid)
    return {score.role: score.version for score in marker.models}


@pytest.fixture
def registry(stack: Stack) -> ModelRegistry:
    return ModelRegistry(stack.table("StateTable"), stack.resources.buckets["ModelBucket"])


def publish(registry: ModelRegistry, version: str) -> None:
    registry.publish_challenger(version, files(version), {}, "schedule", utcnow())


def test_a_promote_reaches_detection_within_the_refresh_interval_with_no_failed_record(stack, registry):
    publish(registry, "v1")
    registry.promote("v1", "root", utcnow())
    publish(registry, "v2")
    pipeline = stack.pipeline()  # DetectFunction's cold start: v1 champion, v2 challenger
    source = sys.modules["shopwatch_fn_detect_app"].models
    clock = source.clock = Clock(source.checked_at)

    pipeline.post(purchase("t1"))
    pipeline.drain()  # asserts every batch answered with no failed record
    assert scores_of(stack, "t1") == {"champion": "v1", "challenger": "v2"}

    registry.promote("v2", "root", utcnow())
    clock.now += timedelta(seconds=REFRESH - 1)
    pipeline.post(purchase("t2"))
    pipeline.drain()
    assert scores_of(stack, "t2") == {"champion": "v1", "challenger": "v2"}  # not re-read yet

    clock.now += timedelta(seconds=1)
    pipeline.post(purchase("t3"))
    pipeline.drain()
    assert scores_of(stack, "t3") == {"champion": "v2"}


def test_the_transaction_view_shows_both_scores(stack, registry):
    publish(registry, "v1")
    registry.promote("v1", "root", utcnow())
    publish(registry, "v2")
    pipeline = stack.pipeline()
    pipeline.post(purchase("t1"))
    pipeline.drain()
    status, body = ApiClient(stack.handler("ApiFunction"))("GET", "/transactions/t1")
    assert status == 200
    models = {m["role"]: m for m in body["detection"]["models"]}
    assert (models["champion"]["version"], models["challenger"]["version"]) == ("v1", "v2")
    assert isinstance(models["challenger"]["score"], float) and isinstance(models["challenger"]["outlier"], bool)


class Screaming:
    """A challenger that calls everything as isolated as it gets, far beyond anything seen."""

    version = "loud"
    currencies = frozenset({"USD"})

    def verdicts(self, rows: Sequence[Sequence[float]], currencies: Sequence[str] | None = None) -> list[ModelVerdict]:
        return [ModelVerdict("loud", -1.0, -0.5, 1e9, 1.0, (), (), ((0.0, 0.0),) * len(row)) for row in rows]


class Failing(Screaming):
    version = "failing"

    def verdicts(self, rows, currencies=None):
        raise RuntimeError("a challenger bug")


@pytest.mark.parametrize("challenger", [Screaming(), Failing()])
def test_a_challenger_never_alerts_never_moves_the_risk_and_never_fails_a_record(stack, challenger):
    def service(models: ServingModels) -> DetectionService:
        return DetectionService(
            StateRepository(stack.table("StateTable")),
            AlertRepository(stack.table("AlertsTable")),
            DetectionSettings(),
            models=lambda: models,
        )

    alone, shadowed = service(ServingModels()), service(ServingModels(None, challenger))
    plain = alone.process(alone.load([tx("a1", "c1", amount="99999.00")]), tx("a1", "c1", amount="99999.00"))
    loud_tx = tx("b1", "c2", amount="99999.00")
    outcome = shadowed.process(shadowed.load([loud_tx]), loud_tx)
    assert outcome.risk_score == plain.risk_score
    assert [f.detector for f in outcome.findings] == [f.detector for f in plain.findings]
    assert "model" not in [f.detector for f in outcome.findings]
    expected = {"loud": ("challenger", "loud", -1.0, True)}.get(challenger.version)
    assert [(s.role, s.version, s.score, s.outlier) for s in outcome.models] == ([expected] if expected else [])


def test_model_artifact_off_turns_every_model_off_whatever_the_registry_says(stack, registry, monkeypatch):
    publish(registry, "v1")
    registry.promote("v1", "root", utcnow())
    publish(registry, "v2")
    monkeypatch.setattr(ModelRegistry, "pointers", lambda self: pytest.fail("the registry was read"))
    pipeline = stack.pipeline(MODEL_ARTIFACT="off")
    pipeline.post(purchase("t1"))
    pipeline.drain()
    assert scores_of(stack, "t1") == {}
