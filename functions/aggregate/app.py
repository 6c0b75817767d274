"""AggregateFunction: TransactionsTable stream (INSERT) → per-minute, hour and day traffic buckets, exactly once.

The second and last reader of the transactions stream (DESIGN §1). The whole batch is counted in as few
TransactWriteItems as fit (markers and merged counters together), not record by record, so a burst of a
hundred transactions in one minute is one write to that minute's hot item rather than a hundred.

Partial batch response: a record that cannot be read, or a write that fails, is reported with every record
after it, so Lambda retries from there; records already counted are recognised by their markers.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from shopwatch.config import required_env
from shopwatch.domain.clock import utcnow
from shopwatch.domain.text import log_json
from shopwatch.domain.transaction import Transaction
from shopwatch.storage.aws import with_retries
from shopwatch.storage.buckets import BucketRepository
from shopwatch.streams import is_insert, new_image, require_sequence_numbers

logger = Logger(json_serializer=log_json)  # one escaped line per record, whatever a customer sent
tracer = Tracer()
metrics = Metrics()
buckets = BucketRepository(required_env("STATE_TABLE"))
# A write throttled past the SDK's retries is tried again here before the batch is failed (each failed try
# costs the shard one of its MaximumRetryAttempts); counted records are recognised by their markers.
BATCH_ATTEMPTS = 4


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    require_sequence_numbers(event)  # else no failure could be reported: the batch fails whole
    records = list(DynamoDBStreamEvent(event).records)
    transactions: list[Transaction] = []
    failed_at = len(records)
    for index, record in enumerate(records):
        if not is_insert(record):
            continue  # the event source filter passes INSERTs only; anything else is not ours
        try:
            transactions.append(Transaction.from_item(new_image(record)))
        except Exception:
            logger.exception("unreadable stream record", extra={"event_id": record.event_id})
            failed_at = index
            break
    try:
        applied = with_retries(lambda: buckets.add(transactions, utcnow()), attempts=BATCH_ATTEMPTS)
    except Exception:
        logger.exception("bucket write failed; the batch is retried from its first record")
        failed_at = 0
    else:
        metrics.add_metric(name="TransactionsAggregated", unit=MetricUnit.Count, value=applied.counted)
        metrics.add_metric(name="AggregateReplays", unit=MetricUnit.Count, value=applied.already)
    return {
        "batchItemFailures": [{"itemIdentifier": r.dynamodb.sequence_number} for r in records[failed_at:] if r.dynamodb]
    }
