"""DetectFunction: TransactionsTable stream (INSERT) → per-transaction detectors and the model → alerts, exactly
once.

Partial batch responses: a failing record is reported alone and retried from its sequence number; records
already applied are recognised by their markers and change nothing when they come again.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from shopwatch.cases.writer import CaseWriter, case_window_seconds
from shopwatch.config import DetectionSettings, RulesSettings, required_env
from shopwatch.detection.model_scoring import OFF, load_model
from shopwatch.detection.model_source import ModelSource, StaticModels
from shopwatch.detection.service import BatchState, DetectionService, alerting_detectors
from shopwatch.detectors.model import ModelScore
from shopwatch.domain.clock import utcnow
from shopwatch.domain.text import log_json
from shopwatch.domain.transaction import Transaction
from shopwatch.rules.published import PublishedRules
from shopwatch.storage.alerts import AlertRepository
from shopwatch.storage.aws import with_retries
from shopwatch.storage.cases import CaseRepository
from shopwatch.storage.model_stats import ModelStatsRepository
from shopwatch.storage.models import ModelRegistry
from shopwatch.storage.rules import PublishedReader
from shopwatch.storage.state import StateRepository
from shopwatch.streams import is_insert, new_image, require_sequence_numbers

logger = Logger(json_serializer=log_json)  # one escaped line per record, whatever a customer sent
tracer = Tracer()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
settings = DetectionSettings.from_env()
# A record whose DynamoDB calls were throttled past the SDK's own retries is processed again here, a few times,
# before it is reported failed: a stream retry restarts from it and counts against MaximumRetryAttempts for
# every record after it too, so a throttling burst would otherwise spend the shard's retry budget and send
# sound records to the dead-letter queue. Processing a record again is what a stream retry does anyway
# (every step is recognised by its marker or token), so it is as exactly-once as that.
RECORD_ATTEMPTS = 4


def _count(name: str) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)


# The registry's champion and challenger, followed every MODEL_REFRESH_SECONDS; MODEL_ARTIFACT (the layer's
# default or a directory) is the fallback while there is no champion or the registry cannot be read.
models = (
    StaticModels(None)
    if settings.model_artifact.strip().lower() == OFF
    else ModelSource(
        ModelRegistry(required_env("STATE_TABLE"), required_env("MODEL_BUCKET")),
        fallback=load_model(settings.model_artifact),
        refresh_seconds=settings.model_refresh_seconds,
        count=_count,
    )
)
models()  # at cold start (the init phase), not in the first batch
model_stats = ModelStatsRepository(required_env("STATE_TABLE"))
# The analysts' published rules and lists, read again every RULES_REFRESH_SECONDS (a change is live within it).
rules = PublishedRules(
    PublishedReader(required_env("STATE_TABLE")).load_published, utcnow, RulesSettings.from_env().refresh_seconds
)
service = DetectionService(
    StateRepository(required_env("STATE_TABLE")),
    AlertRepository(required_env("ALERTS_TABLE")),
    settings,
    models=models,
    rules=rules.engine,
    cases=CaseWriter(CaseRepository(required_env("CASES_TABLE"), required_env("ALERTS_TABLE")), case_window_seconds()),
)


def _transactions(event: dict) -> list[tuple[int, Transaction]]:
    """The batch's readable transactions in order, to prefetch their state, each with the identity of its raw
    record (the batch processor hands the record handler these same dicts, so each image is deserialised once);
    unreadable ones fail alone later, when the record handler parses them again."""
    readable = []
    for raw in event.get("Records", []):
        try:
            readable.append((id(raw), Transaction.from_item(new_image(DynamoDBRecord(raw)))))
        except Exception:  # noqa: BLE001, S112 - the record handler parses it again and reports it as failed
            continue
    return readable


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    require_sequence_numbers(event)  # else no failure could be reported: the batch fails whole
    readable = _transactions(event)
    parsed = dict(readable)  # valid while `event` holds its records: their ids are not reused before then
    batch: BatchState = service.load([tx for _, tx in readable])

    # Counts (TransactionsScored, TransactionsReplayed, Findings_*, Alerts_*) are added once per batch with their
    # totals, as IngestFunction adds its own: CloudWatch's Sum per period is the same as with a 1 per record, and
    # each add_metric formats the metric's whole value list (a debug line), so per record they cost ~1% of
    # Detect's CPU. ScoringLatency stays one value per record: its percentiles are the point.
    counts: Counter[str] = Counter()
    scored: list[tuple[date, ModelScore]] = []  # each applied record's model scores, for GET /analytics/models

    def record_handler(record: DynamoDBRecord) -> None:
        if not is_insert(record):
            return  # the event source filter passes INSERTs only; anything else is not ours
        tx = parsed.get(id(record.raw_event))
        if tx is None:  # unreadable up front: parsed again here, so that this record alone fails
            tx = Transaction.from_item(new_image(record))
        outcome = with_retries(lambda: service.process(batch, tx), attempts=RECORD_ATTEMPTS)
        if outcome.replayed:
            counts["TransactionsReplayed"] += 1
            return
        counts["TransactionsScored"] += 1
        scored.extend((tx.timestamp.date(), score) for score in outcome.models)
        # ingest to verdict, what an analyst waits: the stream's delay, batching and the scoring itself
        latency_ms = (utcnow() - tx.received_at).total_seconds() * 1000
        metrics.add_metric(name="ScoringLatency", unit=MetricUnit.Milliseconds, value=round(latency_ms, 1))
        counts.update(f"Findings_{finding.detector}" for finding in outcome.findings)
        counts.update(f"Alerts_{detector}" for detector in alerting_detectors(outcome.findings))
        if outcome.findings:
            logger.info(
                "anomalous transaction",
                extra={
                    "transaction_id": tx.transaction_id,
                    "risk_score": str(outcome.risk_score),
                    "detectors": [f.detector for f in outcome.findings],
                    "alert_ids": list(outcome.alert_ids),
                },
            )

    # X-Ray: a subsegment per record while tracing is on. Off (POWERTOOLS_TRACE_DISABLED: the local stack, the
    # tests) it would be a dummy that records nothing, yet opening and closing one per record is ~2% of Detect's CPU.
    handler = record_handler if tracer.disabled else tracer.capture_method(record_handler)
    try:
        return process_partial_response(event=event, record_handler=handler, processor=processor, context=context)
    finally:  # whatever became of the batch, what its records did is counted
        _count_model_scores(scored)
        for name, value in counts.items():
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def _count_model_scores(scored: list[tuple[date, ModelScore]]) -> None:
    """The applied records' scores per model version and day. Their records are written already: a failure
    here must not fail them (they would come again as replays, which are not counted), so it is logged and
    counted, and those counts are lost."""
    if not scored:
        return
    try:
        model_stats.add(scored, utcnow())
    except Exception:
        logger.exception("model score counts lost", extra={"scores": len(scored)})
        metrics.add_metric(name="ModelStatsLost", unit=MetricUnit.Count, value=len(scored))
