"""DigestFunction: EventBridge, once a day → the previous UTC day's digest by e-mail through DigestTopic."""

from __future__ import annotations

from datetime import timedelta

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from shopwatch.analytics.service import AnalyticsService
from shopwatch.config import NarrativeSettings, NotifySettings, required_env
from shopwatch.digest.service import DigestService
from shopwatch.domain.clock import parse_rfc3339, utcnow
from shopwatch.domain.text import log_json
from shopwatch.narrative.writer import Narrator
from shopwatch.storage.alert_topic import AlertTopic
from shopwatch.storage.alerts import AlertRepository
from shopwatch.storage.buckets import BucketRepository
from shopwatch.storage.labels import LabelRepository
from shopwatch.storage.llm_budget import LlmBudget
from shopwatch.storage.notifications import NotificationLedger
from shopwatch.storage.secrets import OpenAIKeySource

logger = Logger(json_serializer=log_json)  # one escaped line per record, whatever a customer sent
tracer = Tracer()
metrics = Metrics()
_state, _alerts = required_env("STATE_TABLE"), AlertRepository(required_env("ALERTS_TABLE"))
_narrative = NarrativeSettings.from_env()
service = DigestService(
    _alerts,
    AnalyticsService(_alerts, BucketRepository(_state), LabelRepository(_state)),
    NotificationLedger(_state),
    AlertTopic(required_env("DIGEST_TOPIC_ARN")),
    Narrator(_narrative, OpenAIKeySource(_narrative.key_parameter, _narrative.key_secret), LlmBudget(_state)),
    NotifySettings.from_env().dashboard_url,
)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_source(data_class=EventBridgeEvent)
def lambda_handler(event: EventBridgeEvent, context: LambdaContext) -> dict:
    fired = parse_rfc3339(event.time) if event.get("time") else utcnow()
    day = (fired - timedelta(days=1)).date()  # the last complete UTC day
    digest, message_id = service.send(day, utcnow())
    if digest.narrative.fell_back:
        logger.warning("digest overview fell back to the template", extra={"cause": digest.narrative.cause})
    metrics.add_metric(name="DigestsSent", unit=MetricUnit.Count, value=1 if message_id else 0)
    logger.info("digest", extra={"day": day.isoformat(), "alerts": digest.total, "sent": bool(message_id)})
    return {"day": day.isoformat(), "alerts": digest.total, "message_id": message_id}
