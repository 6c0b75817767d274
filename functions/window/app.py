"""WindowFunction: every minute (EventBridge rate(1 minute)), judge the closed minutes, hours and days.

status_mix and volume read the traffic buckets AggregateFunction keeps, never the stream. Each period is
judged exactly once (a cursor moved in the same write as the alerts), so a replayed or doubled schedule
event changes nothing. The hourly volume check adds the streaming novelty core from ModelLayer, the one
`shopwatch nab` benchmarks.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext
from shopwatch_model.novelty import novelty_scores

from shopwatch.config import WindowSettings, required_env
from shopwatch.domain.clock import utcnow
from shopwatch.domain.text import log_json
from shopwatch.storage.alerts import AlertRepository
from shopwatch.storage.buckets import BucketRepository
from shopwatch.storage.window_cursors import WindowCursorRepository
from shopwatch.windows.service import WindowService

logger = Logger(json_serializer=log_json)  # one escaped line per record, whatever a customer sent
tracer = Tracer()
metrics = Metrics()
state_table = required_env("STATE_TABLE")
service = WindowService(
    BucketRepository(state_table),
    WindowCursorRepository(state_table),
    AlertRepository(required_env("ALERTS_TABLE")),
    WindowSettings.from_env(),
    novelty=lambda series: novelty_scores(series)[-1],
)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_source(data_class=EventBridgeEvent)
def lambda_handler(event: EventBridgeEvent, context: LambdaContext) -> dict:
    """The event's own time is not trusted for what is closed: a late or replayed event must not judge a
    period early. The wall clock decides; the event time is logged."""
    judged = service.run(utcnow())
    for period in judged:
        metrics.add_metric(name=f"PeriodsJudged_{period.grain.value}", unit=MetricUnit.Count, value=1)
        for finding in period.findings:
            metrics.add_metric(name=f"Findings_{finding.detector}", unit=MetricUnit.Count, value=1)
            logger.info(
                "abnormal period",
                extra={"grain": period.grain.value, "start": str(period.start), "detector": finding.detector,
                       "severity": finding.severity.value, "alert_ids": period.alert_ids, "event_time": event.time},
            )  # fmt: skip
    return {
        "judged": [{"grain": p.grain.value, "start": p.start.isoformat(), "alerts": p.alert_ids} for p in judged],
    }
