"""NotifyFunction: AlertsTable stream (new alerts, severity escalations) → SNS, rate-limited, never twice."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from shopwatch.config import NotifySettings, required_env
from shopwatch.domain.alert import Alert
from shopwatch.notify.service import NotificationService
from shopwatch.storage.alert_topic import AlertTopic
from shopwatch.storage.notifications import NotificationLedger
from shopwatch.streams import new_image, old_image

logger = Logger()
tracer = Tracer()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
service = NotificationService(
    NotificationLedger(required_env("STATE_TABLE")),
    AlertTopic(required_env("ALERTS_TOPIC_ARN")),
    NotifySettings.from_env(),
)


@tracer.capture_method
def record_handler(record: DynamoDBRecord) -> None:
    old = old_image(record)
    result = service.handle(Alert.from_item(new_image(record)), Alert.from_item(old) if old else None)
    metrics.add_metric(name=f"Notifications_{result.decision.value}", unit=MetricUnit.Count, value=1)
    logger.info("notification decision", extra={"alert_id": result.alert_id, "decision": result.decision.value})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
