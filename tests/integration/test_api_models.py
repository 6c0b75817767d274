"""ApiFunction's model routes on moto: analysts read the registry and the champion/challenger comparison,
admins start training (TrainFunction invoked asynchronously) and promote or roll back, each change recorded
under the signed-in admin; an unknown version is a 404 and a change that makes no sense now a 409."""

from __future__ import annotations

from datetime import timedelta

import pytest

from infra.local import lambda_invoke
from shopwatch.detectors.model import ModelScore
from shopwatch.storage.labels import LabelRepository
from shopwatch.storage.model_stats import ModelStatsRepository
from shopwatch.storage.models import ModelRegistry
from tests.builders import T0
from tests.conftest import Stack
from tests.integration.api_requests import ADMIN, ANALYST, ApiClient, set_api_clock
from tests.model_artifacts import files
from tests.training_fakes import METADATA

NOW = T0 + timedelta(hours=1)


@pytest.fixture
def registry(stack: Stack) -> ModelRegistry:
    return ModelRegistry(stack.table("StateTable"), stack.resources.buckets["ModelBucket"])


@pytest.fixture
def invoked(stack: Stack):
    """TrainFunction's invocations, as the local stack's lambda:Invoke serves them (here: recorded only)."""
    events: list[dict] = []
    lambda_invoke.install({stack.resources.functions["TrainFunction"]: events.append})
    yield events
    lambda_invoke.uninstall()


@pytest.fixture
def apis(stack: Stack, monkeypatch) -> dict[str, ApiClient]:
    handler = stack.handler("ApiFunction")
    set_api_clock(monkeypatch, lambda: NOW)
    return {"analyst": ApiClient(handler, ANALYST), "admin": ApiClient(handler, ADMIN)}


def publish(registry: ModelRegistry, version: str) -> None:
    registry.publish_challenger(version, files(version), METADATA, "schedule", T0)


def test_analysts_see_every_version_with_status_figures_and_history(apis, registry):
    publish(registry, "v1")
    registry.promote("v1", "root", T0)
    publish(registry, "v2")
    status, body = apis["analyst"]("GET", "/models")
    assert status == 200
    assert (body["champion"], body["challenger"]) == ("v1", "v2")
    v2, v1 = body["models"]
    assert (v2["version"], v2["status"], v1["status"]) == ("v2", "challenger", "champion")
    assert v2["rows"] == 1500 and v2["label_counts"] == {"fraud": 25, "legitimate": 310, "unlabelled_too_recent": 12}
    assert v2["holdout_metrics"] == {"rows": 67, "fraud": 6, "learned_roc_auc": 0.84} and v2["metadata"]["period"]
    assert [(h["action"], h["version"], h["by"]) for h in body["history"]][:2] == [
        ("challenger", "v2", "schedule"),
        ("promote", "v1", "root"),
    ]


@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/models/train"), ("POST", "/models/v1/promote"), ("POST", "/models/rollback")]
)
def test_analysts_may_not_train_promote_or_roll_back(apis, registry, invoked, method, path):
    publish(registry, "v1")
    status, body = apis["analyst"](method, path)
    assert status == 403 and body["error"]["details"] == {"action": "manage models"}
    assert invoked == [] and registry.pointers().champion is None


def test_an_admin_starts_training_asynchronously_under_their_name(apis, invoked, stack):
    status, body = apis["admin"]("POST", "/models/train")
    assert status == 202
    assert body == {"requested_by": "root", "function": stack.resources.functions["TrainFunction"]}
    assert lambda_invoke.wait(10) and invoked == [{"requested_by": "root"}]


def test_an_admin_promotes_and_rolls_back_and_each_change_names_them(apis, registry):
    publish(registry, "v1")
    assert apis["admin"]("POST", "/models/v1/promote") == (
        200,
        {"champion": "v1", "challenger": None, "previous": []},
    )
    publish(registry, "v2")
    assert apis["admin"]("POST", "/models/v2/promote")[1]["previous"] == ["v1"]
    assert apis["admin"]("POST", "/models/rollback") == (200, {"champion": "v1", "challenger": None, "previous": []})
    history = apis["analyst"]("GET", "/models")[1]["history"]
    assert [(h["action"], h["by"], h["at"]) for h in history[:2]] == [
        ("rollback", "root", "2025-09-16T17:00:00.000000Z"),
        ("promote", "root", "2025-09-16T17:00:00.000000Z"),
    ]


def test_an_unknown_version_is_404_and_a_pointless_change_409(apis, registry):
    assert apis["admin"]("POST", "/models/nope/promote")[0] == 404
    assert apis["admin"]("POST", "/models/rollback")[0] == 409
    publish(registry, "v1")
    apis["admin"]("POST", "/models/v1/promote")
    status, body = apis["admin"]("POST", "/models/v1/promote")
    assert status == 409 and body["error"]["code"] == "conflict"


def test_a_version_that_is_no_plain_name_is_refused_as_invalid(apis):
    assert apis["admin"]("POST", "/models/a..b%20c/promote")[0] == 400


def test_the_comparison_ranks_each_versions_scores_on_labelled_transactions(apis, registry, stack):
    publish(registry, "v1")
    registry.promote("v1", "root", T0)
    publish(registry, "v2")
    labels = LabelRepository(stack.table("StateTable"))
    stats = ModelStatsRepository(stack.table("StateTable"))
    # v1 ranks the two frauds below both legitimate ones (AUC 1); v2 gets one pair wrong (AUC 0.75)
    rows = [("f1", "fraud", -0.70, -0.60), ("f2", "fraud", -0.65, -0.45), ("l1", "legitimate", -0.40, -0.50),
            ("l2", "legitimate", -0.42, -0.40)]  # fmt: skip
    for tid, label, v1, v2 in rows:
        scores = [ModelScore("champion", "v1", v1, v1 < -0.6), ModelScore("challenger", "v2", v2, v2 < -0.55)]
        labels.put(tid, {"label": label, "source": "chargeback", "by": "shop", "at": "2025-09-16T17:00:00.000000Z",
                         "customer_id": "c", "transaction_time": "2025-09-16T16:00:00.000000Z", "alert_ids": [],
                         "models": [s.to_dict() for s in scores]})  # fmt: skip
    # every scored transaction of the day: 98 ordinary ones at -0.40, and the four above
    day = T0.date()
    ordinary = [(day, ModelScore("champion", "v1", -0.40, False)) for _ in range(98)]
    stats.add(ordinary + [(day, ModelScore("champion", "v1", r[2], r[2] < -0.6)) for r in rows], NOW)
    stats.add([(day, ModelScore("challenger", "v2", r[3], r[3] < -0.55)) for r in rows], NOW)
    status, body = apis["analyst"]("GET", "/analytics/models", days="7")
    assert status == 200 and body["labelled"] == 4 and body["paging_budget"] == 0.01
    champion, challenger = body["models"]
    assert (champion["role"], champion["version"], champion["roc_auc"]) == ("champion", "v1", 1.0)
    assert challenger["roc_auc"] == 0.75
    # 1% of v1's 102 scored transactions: its most anomalous bin (-0.70) alone; f1 is in it, a fraud
    assert champion["threshold_score"] == -0.7 and champion["precision_at_budget"] == 1.0
    assert champion["scored"] == 102 and champion["alerts_per_day"] == 2.0 and champion["days"] == 1
    assert (challenger["labelled_fraud"], challenger["labelled_legitimate"]) == (2, 2)
