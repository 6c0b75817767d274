"""TrainFunction: weekly (EventBridge rate(7 days)) and on demand (POST /models/train invokes it asynchronously),
train the shop's model on its stored transactions and labels, publish it as the challenger, and check whether
the recent traffic drifted from what the serving champion learned (a low operations alert if it has).

Thin on purpose: the training itself is `shopwatch.training.pipeline` (bounded reads, point-in-time features,
the numpy forest, the learned risk combination); the registry stores the artifact and records who asked. A
new challenger is only scored in shadow: nothing detection does changes until an admin promotes it.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from shopwatch_model import ModelArtifact

from shopwatch.config import required_env
from shopwatch.detection.model_scoring import ArtifactModel, load_model
from shopwatch.domain.clock import utcnow
from shopwatch.domain.text import log_json
from shopwatch.storage.alerts import AlertRepository
from shopwatch.storage.models import ModelRegistry
from shopwatch.training.drift_check import drift_alert, drift_finding
from shopwatch.training.pipeline import TrainingOptions, TrainingResult, train_from_tables

logger = Logger(json_serializer=log_json)
tracer = Tracer()
metrics = Metrics()
registry = ModelRegistry(required_env("STATE_TABLE"), required_env("MODEL_BUCKET"))
alerts = AlertRepository(required_env("ALERTS_TABLE"))
SCHEDULE = "schedule"  # trained_by of a run the weekly rule started
MAX_REQUESTER = 128  # a Cognito user name is at most 128 characters


def requester(event: dict[str, Any]) -> str:
    """Who asked for this run: the schedule (an EventBridge Scheduled Event) or the admin ApiFunction names
    (`{"requested_by": user}`). Any other event is refused: a run nobody can be named for is not recorded."""
    if event.get("detail-type") == "Scheduled Event" and event.get("source") == "aws.events":
        return SCHEDULE
    who = event.get("requested_by")
    if isinstance(who, str) and 0 < len(who) <= MAX_REQUESTER and who.isprintable():
        return who
    raise ValueError("a training run is started by its schedule or by {'requested_by': <user>}")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    by = requester(event)
    result = train_from_tables(
        transactions_table=required_env("TRANSACTIONS_TABLE"),
        state_table=required_env("STATE_TABLE"),
        alerts_table=required_env("ALERTS_TABLE"),  # analysts' feedback on alerts is labels too
        options=TrainingOptions.from_env(),
        now=utcnow(),
    )
    version = str(result.artifact.info.get("version") or "")
    if not version:
        raise ValueError("the trained artifact names no version (info['version'])")
    record = registry.publish_challenger(version, result.artifact.to_files(), result.metadata, by, utcnow())
    metrics.add_metric(name="ModelsTrained", unit=MetricUnit.Count, value=1)
    logger.info("new challenger", extra={"version": version, "trained_by": by})
    drifted = check_drift(result)
    return {
        "version": record.version,
        "status": record.status.value,
        "trained_by": record.trained_by,
        "drift_alert": drifted,
    }


def serving_champion() -> ArtifactModel | None:
    """The champion DetectFunction serves: the registry's, else the layer's default (as ModelSource falls back)."""
    champion = registry.pointers().champion
    if champion is None:
        return load_model("default")
    return ArtifactModel(ModelArtifact.from_files(registry.get_files(champion)))


def check_drift(result: TrainingResult) -> str | None:
    """The drift check against the serving champion (`training.drift_check`); the alert's id, or None."""
    champion = serving_champion()
    finding = None if champion is None or result.history is None else drift_finding(champion, result.history)
    if finding is None:
        return None
    alert = drift_alert(finding, result.history.transactions[-1].timestamp, utcnow())  # type: ignore[union-attr]
    created = alerts.save(alert)  # False: this week's alert for this champion exists (a retried run)
    if created:
        metrics.add_metric(name="ModelDriftAlerts", unit=MetricUnit.Count, value=1)
        logger.warning("model drift", extra={"alert_id": alert.alert_id, "reasons": [r.code for r in finding.reasons]})
    return alert.alert_id
