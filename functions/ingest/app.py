"""IngestFunction: POST /transactions → validate each transaction, decide it (allow, review, block: the shop's
rules and lists), store it once with its decision, answer 202.

Thin by design: the contract lives in shopwatch.domain.transaction, the use case in shopwatch.ingest.
"""

from __future__ import annotations

import base64
import os

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from shopwatch.config import DetectionSettings, IngestSettings, RulesSettings, required_env
from shopwatch.domain.clock import utcnow
from shopwatch.domain.text import log_json
from shopwatch.http import ProxyEventResolver, cors_config, json_response, register_error_handlers
from shopwatch.ingest.decisions import CheckoutDecider
from shopwatch.ingest.service import IngestService
from shopwatch.rules.published import PublishedRules
from shopwatch.storage.rules import PublishedReader
from shopwatch.storage.state import StateRepository
from shopwatch.storage.transactions import TransactionRepository

logger = Logger(json_serializer=log_json)  # one escaped line per record, whatever a customer sent
tracer = Tracer()
metrics = Metrics()
app = ProxyEventResolver(cors=cors_config(os.environ.get("CORS_ALLOW_ORIGIN", "")))
register_error_handlers(app, logger, metrics)
state_table = required_env("STATE_TABLE")
rules = PublishedRules(PublishedReader(state_table).load_published, utcnow, RulesSettings.from_env().refresh_seconds)
service = IngestService(
    TransactionRepository(required_env("TRANSACTIONS_TABLE")),
    IngestSettings.from_env(),
    decider=CheckoutDecider(StateRepository(state_table), rules.engine, DetectionSettings.from_env()),
)


def _raw_body() -> bytes:
    event = app.current_event
    body = event.get("body") or ""
    return base64.b64decode(body) if event.get("isBase64Encoded") else body.encode("utf-8", "surrogatepass")


@app.post("/transactions")
@tracer.capture_method
def post_transactions() -> Response:
    result = service.ingest(_raw_body(), app.current_event.headers.get("content-type"))
    metrics.add_metric(name="TransactionsAccepted", unit=MetricUnit.Count, value=len(result.accepted))
    metrics.add_metric(name="TransactionsDuplicate", unit=MetricUnit.Count, value=len(result.duplicates))
    metrics.add_metric(name="TransactionsRejected", unit=MetricUnit.Count, value=len(result.rejected))
    logger.info(
        "ingested",
        extra={
            "accepted": len(result.accepted),
            "duplicates": len(result.duplicates),
            "rejected": len(result.rejected),
        },
    )
    result.raise_if_all_rejected()
    return json_response(202, result.body())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
