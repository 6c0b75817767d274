"""ApiFunction: every route but POST /transactions. For now the traffic stats; triage, analytics, catalog
and the dashboard page join it (issue 6).

Typed routes with Powertools' validation; every refusal in the DESIGN's JSON error shape. No
`from __future__ import annotations` here: Powertools reads the route signatures' types at runtime.
"""

from typing import Annotated

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shopwatch.config import WindowSettings, required_env
from shopwatch.domain.clock import utcnow
from shopwatch.errors import ValidationFailed
from shopwatch.http import json_response, register_error_handlers
from shopwatch.storage.buckets import BucketRepository
from shopwatch.windows.stats import StatsService

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = APIGatewayRestResolver(enable_validation=True)
register_error_handlers(app, logger, metrics)
stats = StatsService(BucketRepository(required_env("STATE_TABLE")), WindowSettings.from_env().currency)


@app.exception_handler(RequestValidationError)
def _invalid_request(exc: RequestValidationError) -> Response:
    details = [{"field": ".".join(str(p) for p in e["loc"][1:]), "message": e["msg"]} for e in exc.errors()]
    error = ValidationFailed("invalid request parameters", details)
    return json_response(error.status, error.body())


@app.get("/health")
def health() -> dict:
    return {"status": "ok"}


@app.get("/stats/minutes")
@tracer.capture_method
def stats_minutes(
    since: Annotated[str | None, Query(description="RFC 3339; default: until minus 59 minutes")] = None,
    until: Annotated[str | None, Query(description="RFC 3339; default: now")] = None,
) -> dict:
    """Counts per status, transactions and approved revenue for each minute in [since, until] (at most a day)."""
    return stats.minutes(since, until, utcnow())


@app.get("/stats/daily")
@tracer.capture_method
def stats_daily(days: Annotated[int, Query(ge=1, le=366)] = 30) -> dict:
    """Transactions, approved revenue and the low-performance flag of each of the last `days` days."""
    return stats.daily(days, utcnow())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
