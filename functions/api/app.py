"""ApiFunction: every route but POST /transactions (DESIGN §3) and the dashboard page at GET /.

This module builds the resolver and the services, and includes one Powertools Router per area from the
function's own package (shopwatch_api.routes); the routes themselves live there. Typed routes with Powertools'
validation; every refusal in the DESIGN's JSON error shape; /openapi.json is generated from these very routes.
No `from __future__ import annotations` here or in the routes: Powertools reads the route signatures' types at
runtime.
"""

import json
import os
from http import HTTPStatus
from pathlib import Path as FilePath

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
    ResponseValidationError,
)
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from shopwatch.analytics.models import ModelAnalytics
from shopwatch.analytics.service import AnalyticsService
from shopwatch.auth.callers import Action, authorize
from shopwatch.auth.routes import OPEN_ROUTES
from shopwatch.auth.sign_in import SignIn
from shopwatch.cases.service import CaseService
from shopwatch.catalog.service import CatalogService
from shopwatch.config import DetectionSettings, SignInSettings, WindowSettings, required_env
from shopwatch.customers.service import CustomerService
from shopwatch.domain.text import log_json
from shopwatch.errors import InvalidBody, UnsupportedMediaType, ValidationFailed
from shopwatch.http import (
    ProxyEventResolver,
    cors_config,
    internal_error_response,
    json_response,
    non_json_body_refusal,
    register_error_handlers,
)
from shopwatch.ingest.body import loads_strict
from shopwatch.ingest.openapi import add_post_transactions
from shopwatch.investigation.entities import EntityInvestigation
from shopwatch.reports.service import ReportService
from shopwatch.storage.alerts import AlertRepository
from shopwatch.storage.buckets import BucketRepository
from shopwatch.storage.cases import CaseRepository
from shopwatch.storage.catalog import CatalogRepository
from shopwatch.storage.customers import CustomerRepository
from shopwatch.storage.labels import LabelRepository
from shopwatch.storage.model_stats import ModelStatsRepository
from shopwatch.storage.models import ModelRegistry
from shopwatch.storage.sign_in_attempts import SignInAttempts
from shopwatch.storage.state import StateRepository
from shopwatch.storage.training_runs import TrainingRuns
from shopwatch.storage.transactions import TransactionRepository
from shopwatch.storage.user_pool import UserPoolSignIn
from shopwatch.triage.service import TriageService
from shopwatch.triage.transactions import TransactionLookup
from shopwatch.windows.stats import StatsService
from shopwatch_api.docs import finish_document
from shopwatch_api.page import DashboardPage
from shopwatch_api.responses import HealthOut
from shopwatch_api.routes import alerts as alerts_routes
from shopwatch_api.routes import analytics as analytics_routes
from shopwatch_api.routes import auth as auth_routes
from shopwatch_api.routes import backtest as backtest_routes
from shopwatch_api.routes import cases as cases_routes
from shopwatch_api.routes import catalog as catalog_routes
from shopwatch_api.routes import customers as customers_routes
from shopwatch_api.routes import entities as entities_routes
from shopwatch_api.routes import lists as lists_routes
from shopwatch_api.routes import models as models_routes
from shopwatch_api.routes import reports as reports_routes
from shopwatch_api.routes import rules as rules_routes
from shopwatch_api.routes import stats as stats_routes
from shopwatch_api.routes import transactions as transactions_routes

logger = Logger(json_serializer=log_json)  # one escaped line per record, whatever a customer sent
tracer = Tracer()
metrics = Metrics()
app = ProxyEventResolver(
    enable_validation=True,
    json_body_deserializer=loads_strict,
    response_validation_error_http_code=HTTPStatus.INTERNAL_SERVER_ERROR,
    cors=cors_config(os.environ.get("CORS_ALLOW_ORIGIN", "")),
)
register_error_handlers(app, logger, metrics)

# --- the services, over the tables the template names --------------------------------------------------
_state_table, _alerts_table = required_env("STATE_TABLE"), required_env("ALERTS_TABLE")
_transactions_table = required_env("TRANSACTIONS_TABLE")
_settings = WindowSettings.from_env()
_alerts = AlertRepository(_alerts_table)
_state = StateRepository(_state_table)
_buckets = BucketRepository(_state_table)
_labels = LabelRepository(_state_table)
stats = StatsService(_buckets, _settings.currency)
triage = TriageService(_alerts)
cases = CaseService(CaseRepository(required_env("CASES_TABLE"), _alerts_table), triage)
lookup = TransactionLookup(
    TransactionRepository(_transactions_table),
    _state,
    _labels,
    triage,
    DetectionSettings.from_env(),
)
customers = CustomerService(CustomerRepository(_state_table, _transactions_table), _state, _alerts)
entities = EntityInvestigation(_state, CustomerRepository(_state_table, _transactions_table), _alerts)
analytics = AnalyticsService(_alerts, _buckets, _labels)
catalog = CatalogService(CatalogRepository(_state_table), _settings.currency)
reports = ReportService(_alerts)
_sign_in_settings = SignInSettings.from_env()
sign_in = SignIn(UserPoolSignIn(_sign_in_settings.client_id), SignInAttempts(_state_table), _sign_in_settings)
page = DashboardPage.load(FilePath(__file__).parent / "dashboard")
registry = ModelRegistry(_state_table)  # records and pointers only: artifacts are Train's and Detect's business
training = TrainingRuns(required_env("TRAIN_FUNCTION"))
model_analytics = ModelAnalytics(registry, _labels, _state, ModelStatsRepository(_state_table))

# the order routes are included in is the order /openapi.json lists them
app.include_router(rules_routes.router(_state_table, _alerts, _labels))
app.include_router(lists_routes.router(_state_table))
app.include_router(backtest_routes.router(_transactions_table, _state_table, required_env("BACKTEST_FUNCTION")))


@app.exception_handler(RequestValidationError)
def _invalid_request(exc: RequestValidationError) -> Response:
    details = [{"field": ".".join(str(p) for p in e["loc"][1:]), "message": e["msg"]} for e in exc.errors()]
    error = ValidationFailed("invalid request", details)
    return json_response(error.status, error.body())


@app.exception_handler(ResponseValidationError)
def _invalid_response(exc: ResponseValidationError) -> Response:
    """A body that does not match its documented model is our bug: a 500, logged with where it differs
    (locations and error types only: the body may hold customers' data)."""
    logger.error("response does not match its model", extra={"errors": [[e["loc"], e["type"]] for e in exc.errors()]})
    metrics.add_metric(name="RequestsFailed", unit=MetricUnit.Count, value=1)
    return internal_error_response()


@app.exception_handler(RequestUnsupportedContentType)
def _unsupported_type(exc: RequestUnsupportedContentType) -> Response:
    error = UnsupportedMediaType("send the body as application/json", {"content_type": "application/json"})
    return json_response(error.status, error.body())


@app.exception_handler(UnicodeDecodeError)
def _not_utf8(exc: UnicodeDecodeError) -> Response:
    error = InvalidBody(f"body is not valid UTF-8 (byte {exc.start})")
    return json_response(error.status, error.body())


def _signed_in_to_read(app: ProxyEventResolver, next_middleware: NextMiddleware) -> Response:
    """Every GET but the open ones needs a person in analysts or admins (API Gateway checked the token; the
    group is checked here). Writes check their own action in the route, as each needs a different one."""
    event = app.current_event
    route = (event.http_method.lower(), event.resource)
    if event.http_method == "GET" and route not in OPEN_ROUTES:
        authorize(event.raw_event, Action.READ)
    return next_middleware(app)


app.use(middlewares=[_signed_in_to_read])


# --- the page and the API's own description: the resolver's own, so here ----------------------------------
@app.get(
    "/",
    summary="The dashboard page (no sign-in; the page asks for one)",
    responses={200: {"description": "HTML", "content": {"text/html": {"schema": {"type": "string"}}}}},
)
def dashboard() -> Response[str]:
    return page.response()


@app.get("/health")
def health() -> HealthOut:
    """Liveness, without a key or a sign-in."""
    return HealthOut(status="ok")


@app.get("/openapi.json")
def openapi() -> dict:
    """This document: every route, generated from the routes' own types."""
    generated = json.loads(app.get_openapi_json_schema(title="Shopwatch API", version="1.0.0"))
    return finish_document(add_post_transactions(generated))


# --- one Router per area ---------------------------------------------------------------------------------
app.include_router(auth_routes.router(sign_in))
app.include_router(alerts_routes.router(triage))
app.include_router(cases_routes.router(cases))
app.include_router(transactions_routes.router(lookup))
app.include_router(customers_routes.router(customers))
app.include_router(entities_routes.router(entities))
app.include_router(stats_routes.router(stats))
app.include_router(analytics_routes.router(analytics, model_analytics, cases.metrics))
app.include_router(models_routes.router(registry, training))
app.include_router(reports_routes.router(reports))
app.include_router(catalog_routes.router(catalog))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return non_json_body_refusal(event) or app.resolve(event, context)
