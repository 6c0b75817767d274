"""NotifyFunction: AlertsTable stream (new alerts, severity escalations) → SNS, rate-limited, never twice."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from shopwatch.config import NarrativeSettings, NotifySettings, required_env
from shopwatch.domain.alert import Alert
from shopwatch.domain.text import log_json
from shopwatch.narrative.writer import Narrator
from shopwatch.notify.service import NotificationService
from shopwatch.storage.alert_topic import AlertTopic
from shopwatch.storage.alerts import AlertRepository
from shopwatch.storage.llm_budget import LlmBudget
from shopwatch.storage.notifications import NotificationLedger
from shopwatch.storage.secrets import OpenAIKeySource
from shopwatch.storage.sms_budget import SmsBudget
from shopwatch.streams import new_image, old_image, require_sequence_numbers

logger = Logger(json_serializer=log_json)  # one escaped line per record, whatever a customer sent
tracer = Tracer()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
narrative_settings = NarrativeSettings.from_env()
service = NotificationService(
    NotificationLedger(required_env("STATE_TABLE")),
    AlertTopic(required_env("ALERTS_TOPIC_ARN")),
    NotifySettings.from_env(),
    narrator=Narrator(
        narrative_settings,
        OpenAIKeySource(narrative_settings.key_parameter, narrative_settings.key_secret),
        LlmBudget(required_env("STATE_TABLE")),
    ),
    alerts=AlertRepository(required_env("ALERTS_TABLE")),
    sms_budget=SmsBudget(required_env("STATE_TABLE")),
)


@tracer.capture_method
def record_handler(record: DynamoDBRecord, lambda_context: LambdaContext | None = None) -> None:
    old = old_image(record)
    context = lambda_context  # Powertools passes it to a record handler that asks for it
    seconds_left = (lambda: context.get_remaining_time_in_millis() / 1000) if context is not None else None
    result = service.handle(Alert.from_item(new_image(record)), Alert.from_item(old) if old else None, seconds_left)
    metrics.add_metric(name=f"Notifications_{result.decision.value}", unit=MetricUnit.Count, value=1)
    if result.sms is not None:
        metrics.add_metric(name=f"Sms_{result.sms.attribute}", unit=MetricUnit.Count, value=1)
    if result.narrative.text:
        metrics.add_metric(name="Narratives_written", unit=MetricUnit.Count, value=1)
    if result.narrative.fell_back:
        metrics.add_metric(name="Narratives_fallback", unit=MetricUnit.Count, value=1)
        logger.warning(
            "narrative fell back to the template",
            extra={"alert_id": result.alert_id, "cause": result.narrative.cause},
        )
    logger.info("notification decision", extra={"alert_id": result.alert_id, "decision": result.decision.value})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    require_sequence_numbers(event)  # else no failure could be reported: the batch fails whole
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
