"""ApiFunction: every route but POST /transactions (DESIGN §3) and the dashboard page at GET /.

Typed routes with Powertools' validation; every refusal in the DESIGN's JSON error shape; /openapi.json is
generated from these very routes. No `from __future__ import annotations` here: Powertools reads the route
signatures' types at runtime.
"""

import json
import os
from dataclasses import replace
from http import HTTPStatus
from pathlib import Path as FilePath
from typing import Annotated, Literal

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
    ResponseValidationError,
)
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from shopwatch.analytics.models import ModelAnalytics
from shopwatch.analytics.service import AnalyticsService, Window
from shopwatch.api_docs import finish_document
from shopwatch.api_models import AlertPatch, FeedbackIn, LabelIn, LoginIn, NoteIn, ProductIn, ProductsIn
from shopwatch.api_params import (
    AlertId,
    CustomerId,
    Days,
    DetectorFilter,
    Hours,
    Limit,
    PageToken,
    Sku,
    TransactionId,
    filter_moment,
    moment_query,
)
from shopwatch.api_responses import (
    AlertOut,
    AlertPage,
    AlertsTrend,
    ConfusionMatrix,
    CustomerAnomalies,
    CustomerDetail,
    CustomerPage,
    DailyOut,
    DashboardMetrics,
    DetectorAnalytics,
    HealthOut,
    LabelResult,
    MinutesOut,
    ModelAnalyticsOut,
    ModelPointersOut,
    ModelsOut,
    ProductOut,
    ProductsStored,
    ReportOut,
    SessionOut,
    SeverityDistribution,
    TrainingStarted,
    TransactionDetail,
)
from shopwatch.auth.callers import Action, authorize
from shopwatch.auth.routes import OPEN_ROUTES
from shopwatch.auth.sign_in import SignIn
from shopwatch.backtest.routes import backtest_router
from shopwatch.catalog.service import CatalogService
from shopwatch.config import DetectionSettings, SignInSettings, WindowSettings, required_env
from shopwatch.customers.anomalies import Metric
from shopwatch.customers.service import CustomerService
from shopwatch.dashboard_page import DashboardPage
from shopwatch.domain.alert import AlertStatus, describe_lifecycle
from shopwatch.domain.clock import utcnow
from shopwatch.domain.severity import Severity
from shopwatch.domain.text import log_json
from shopwatch.domain.triage import add_note, assign, change_status, give_feedback
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
from shopwatch.models_view import pointers_json, registry_json
from shopwatch.reports.service import ReportService, report_text
from shopwatch.rules.routes import rules_router
from shopwatch.storage.alerts import AlertRepository
from shopwatch.storage.buckets import BucketRepository
from shopwatch.storage.catalog import CatalogRepository
from shopwatch.storage.customers import CustomerRepository
from shopwatch.storage.labels import LabelRepository
from shopwatch.storage.model_stats import ModelStatsRepository
from shopwatch.storage.models import VERSION_PATTERN, ModelRegistry
from shopwatch.storage.sign_in_attempts import SignInAttempts
from shopwatch.storage.state import StateRepository
from shopwatch.storage.training_runs import TrainingRuns
from shopwatch.storage.transactions import TransactionRepository
from shopwatch.storage.user_pool import UserPoolSignIn
from shopwatch.triage.service import AlertQuery, TriageService
from shopwatch.triage.transactions import TransactionLookup
from shopwatch.triage.views import alert_json
from shopwatch.windows.stats import StatsService

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

_state_table, _alerts_table = required_env("STATE_TABLE"), required_env("ALERTS_TABLE")
_settings = WindowSettings.from_env()
_alerts = AlertRepository(_alerts_table)
_state = StateRepository(_state_table)
_buckets = BucketRepository(_state_table)
_labels = LabelRepository(_state_table)
stats = StatsService(_buckets, _settings.currency)
triage = TriageService(_alerts)
lookup = TransactionLookup(
    TransactionRepository(required_env("TRANSACTIONS_TABLE")),
    _state,
    _labels,
    triage,
    DetectionSettings.from_env().alert_group_window_seconds,
)
customers = CustomerService(CustomerRepository(_state_table, required_env("TRANSACTIONS_TABLE")), _state, _alerts)
analytics = AnalyticsService(_alerts, _buckets, _labels)
catalog = CatalogService(CatalogRepository(_state_table), _settings.currency)
reports = ReportService(_alerts)
_sign_in_settings = SignInSettings.from_env()
sign_in = SignIn(UserPoolSignIn(_sign_in_settings.client_id), SignInAttempts(_state_table), _sign_in_settings)
page = DashboardPage.load(FilePath(__file__).parent / "dashboard")
registry = ModelRegistry(_state_table)  # records and pointers only: artifacts are Train's and Detect's business
training = TrainingRuns(required_env("TRAIN_FUNCTION"))
model_analytics = ModelAnalytics(registry, _labels, _state, ModelStatsRepository(_state_table))
ModelVersion = Annotated[str, Path(min_length=1, max_length=64, pattern=VERSION_PATTERN)]
app.include_router(rules_router(_state_table, _alerts, _labels))
app.include_router(backtest_router(required_env("TRANSACTIONS_TABLE"), _state_table, required_env("BACKTEST_FUNCTION")))


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


def _acting(action: Action, *, person: bool = False) -> str:
    """The name a change is recorded under: the signed-in user's (or the shop's, for its key), never the body's.
    `person`: the route is a person's (the Cognito authorizer's), so the shop's key is no one there."""
    return authorize(app.current_event.raw_event, action, person=person).name


# --- the page and the API's own description ------------------------------------------------------------
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
    return {"status": "ok"}


@app.get("/openapi.json")
def openapi() -> dict:
    """This document: every route, generated from the routes' own types."""
    generated = json.loads(app.get_openapi_json_schema(title="Shopwatch API", version="1.0.0"))
    return finish_document(add_post_transactions(generated))


_ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


# --- signing in ------------------------------------------------------------------------------------------
@app.post(
    "/auth/login",
    responses={
        200: {"description": "signed in", "content": {"application/json": {"model": SessionOut}}},
        401: {"description": "wrong user name or password (never says which)", "content": _ERROR_CONTENT},
        429: {"description": "too many failed sign-ins for this name; see Retry-After", "content": _ERROR_CONTENT},
    },
)
def login(credentials: LoginIn) -> SessionOut:
    """Sign a person in: the token goes in `Authorization: Bearer <token>` on every other route."""
    return sign_in.login(credentials.username, credentials.password, utcnow()).to_json()


# --- alerts and triage ---------------------------------------------------------------------------------
@app.get("/alerts")
@tracer.capture_method
def list_alerts(
    status: Annotated[AlertStatus | None, Query()] = None,
    min_severity: Annotated[Severity | None, Query()] = None,
    detector: DetectorFilter = None,
    customer_id: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
    since: Annotated[str | None, moment_query("created at or after")] = None,
    until: Annotated[str | None, moment_query("created at or before; since after until matches nothing")] = None,
    limit: Limit = 50,
    next_token: PageToken = None,
) -> AlertPage:
    """Alerts newest first, filtered; `next_token` from a page fetches the next one with the same filters."""
    since_at, until_at = filter_moment("since", since), filter_moment("until", until)
    query = AlertQuery(
        status, min_severity, detector and detector.value, customer_id, since_at, until_at, limit, next_token
    )
    return triage.list(query, utcnow())


@app.get("/alerts/<alert_id>")
def get_alert(alert_id: AlertId) -> AlertOut:
    """One alert with its reasons, summary, narrative, notes and history."""
    return alert_json(triage.get(alert_id))


@app.patch(
    "/alerts/<alert_id>",
    description=f"Move the status or (re)assign. {describe_lifecycle()} Any other move is a 409 naming the "
    "allowed ones.",
)
def patch_alert(alert_id: AlertId, patch: AlertPatch) -> AlertOut:
    """Move the status along the lifecycle (describe_lifecycle) or (re)assign."""
    by, now = _acting(Action.TRIAGE), utcnow()

    def apply(current):
        alert = current
        if "assignee" in patch.model_fields_set and patch.assignee != alert.assignee:
            alert = assign(alert, patch.assignee, by, now)
        if patch.status is not None:
            alert = change_status(alert, patch.status, by, now)
        # one request is one write: two changes in it still move the version once (it is saved over `current`'s)
        return alert if alert is current else replace(alert, version=current.version + 1)

    return alert_json(triage.change(alert_id, apply))


@app.post(
    "/alerts/<alert_id>/notes",
    responses={
        201: {"description": "the alert with the note", "content": {"application/json": {"model": AlertOut}}},
    },
)
def post_note(alert_id: AlertId, note: NoteIn) -> Response[AlertOut]:
    """Add an investigation note."""
    by, now = _acting(Action.TRIAGE), utcnow()
    alert = triage.change(alert_id, lambda a: add_note(a, note.text, by, now))
    return Response(201, content_types.APPLICATION_JSON, alert_json(alert))


@app.post("/alerts/<alert_id>/feedback")
def post_feedback(alert_id: AlertId, feedback: FeedbackIn) -> AlertOut:
    """Label the alert fraud or legitimate; it settles an open alert and counts in the precision figures."""
    by, now = _acting(Action.TRIAGE), utcnow()
    alert = triage.change(alert_id, lambda a: give_feedback(a, feedback.label, by, now, feedback.comment))
    return alert_json(alert)


# --- transactions ----------------------------------------------------------------------------------------
@app.get("/transactions/<transaction_id>")
def get_transaction(transaction_id: TransactionId) -> TransactionDetail:
    """A stored transaction with each detector's score and the alerts it went to."""
    return lookup.get(transaction_id)


@app.post("/transactions/<transaction_id>/label")
def label_transaction(transaction_id: TransactionId, label: LabelIn) -> LabelResult:
    """Fraud (or legitimacy) reported later, e.g. a chargeback; it confirms the alerts that covered it."""
    return lookup.label(transaction_id, label.label, label.source, _acting(Action.LABEL), utcnow())


# --- customers -------------------------------------------------------------------------------------------
@app.get("/customers")
def list_customers(
    limit: Limit = 50,
    next_token: PageToken = None,
) -> CustomerPage:
    """Customers, most recently active first."""
    return customers.list(limit, next_token)


@app.get("/customers/<customer_id>")
def get_customer(customer_id: CustomerId) -> CustomerDetail:
    """A customer's profile, recent alerts and recent transactions."""
    return customers.detail(customer_id)


@app.get("/customers/<customer_id>/anomalies")
def customer_anomalies(
    customer_id: CustomerId, metric: Annotated[Metric, Query()] = Metric.AMOUNT
) -> CustomerAnomalies:
    """A customer's recent transactions through one metric: chart data, baseline and drill-down rows."""
    return customers.anomalies(customer_id, metric)


# --- traffic stats, dashboard and analytics --------------------------------------------------------------
@app.get("/stats/minutes")
@tracer.capture_method
def stats_minutes(
    since: Annotated[str | None, moment_query("default: until minus 59 minutes")] = None,
    until: Annotated[str | None, moment_query("default: now; since after until answers no minutes")] = None,
) -> MinutesOut:
    """Counts per status, transactions and approved revenue for each minute in [since, until]; a window longer
    than a day answers its last 1,440 minutes."""
    return stats.minutes(filter_moment("since", since), filter_moment("until", until), utcnow())


@app.get("/stats/daily")
@tracer.capture_method
def stats_daily(days: Annotated[int, Query(ge=1, le=366)] = 30) -> DailyOut:
    """Transactions, approved revenue and the low-performance flag of each of the last `days` days."""
    return stats.daily(days, utcnow())


@app.get("/dashboard/metrics")
def dashboard_metrics(hours: Hours = 24) -> DashboardMetrics:
    """KPIs: transactions, alerts by severity, open alerts, alert rate, mean time to triage."""
    return analytics.metrics(Window.hours(hours, utcnow()))


@app.get("/dashboard/alerts-trend")
def alerts_trend(hours: Hours = 24) -> AlertsTrend:
    """Alerts per hour and severity."""
    return analytics.alerts_trend(Window.hours(hours, utcnow()))


@app.get("/dashboard/severity-distribution")
def severity_distribution(hours: Hours = 24) -> SeverityDistribution:
    """Alerts per severity and per status."""
    return analytics.severity_distribution(Window.hours(hours, utcnow()))


@app.get("/analytics/detectors")
def detector_analytics(days: Days = 30) -> DetectorAnalytics:
    """Alerts per detector and precision from feedback (confirmed / reviewed)."""
    return analytics.detectors(Window.days(days, utcnow()))


@app.get("/analytics/confusion-matrix")
def confusion_matrix(days: Days = 30) -> ConfusionMatrix:
    """Confirmed alerts (TP), dismissed (FP), labelled fraud without an alert (FN) and their ratios."""
    return analytics.confusion_matrix(Window.days(days, utcnow()))


@app.get("/analytics/models")
def models_compared(days: Days = 30) -> ModelAnalyticsOut:
    """Champion against challenger on labelled transactions: ROC AUC of each one's score, precision at the
    paging budget (its most anomalous 1% of scored transactions) and alerts per day."""
    return model_analytics.compare(days, utcnow())


# --- the model registry ----------------------------------------------------------------------------------
_MODEL_CONFLICT = {
    "description": "the models changed meanwhile, or the change makes no sense now",
    "content": _ERROR_CONTENT,
}
_MODEL_POINTERS = {
    "description": "the pointers after the change",
    "content": {"application/json": {"model": ModelPointersOut}},
}


@app.get("/models")
def list_models() -> ModelsOut:
    """Every trained version with its status (champion, challenger, retired), training figures and history."""
    return registry_json(registry)


@app.post(
    "/models/train",
    responses={202: {"description": "started", "content": {"application/json": {"model": TrainingStarted}}}},
)
def train_model() -> Response[TrainingStarted]:
    """Start a training run now (admins). It runs asynchronously; its model becomes the challenger."""
    by = _acting(Action.MANAGE_MODELS, person=True)
    training.start(by)
    body = {"requested_by": by, "function": training.function_name}
    return Response(202, content_types.APPLICATION_JSON, TrainingStarted.model_validate(body).model_dump(mode="json"))


@app.post(
    "/models/<version>/promote",
    responses={
        200: _MODEL_POINTERS,
        404: {"description": "no such version", "content": _ERROR_CONTENT},
        409: _MODEL_CONFLICT,
    },
)
def promote_model(version: ModelVersion) -> ModelPointersOut:
    """Make `version` the champion (admins); the champion before is retired and kept for rollback. Recorded
    with who and when; DetectFunction picks it up within MODEL_REFRESH_SECONDS."""
    by = _acting(Action.MANAGE_MODELS, person=True)
    return pointers_json(registry.promote(version, by, utcnow()))


@app.post("/models/rollback", responses={200: _MODEL_POINTERS, 409: _MODEL_CONFLICT})
def rollback_model() -> ModelPointersOut:
    """The champion before the current one becomes champion again (admins); recorded with who and when."""
    by = _acting(Action.MANAGE_MODELS, person=True)
    return pointers_json(registry.rollback(by, utcnow()))


# --- reports (seed 000's plain-language endpoints) --------------------------------------------------------
@app.get(
    "/reports/<detector>",
    responses={
        200: {
            "description": "the day's alerts of one detector as sentences (format=text: one per line)",
            "content": {
                "application/json": {"model": ReportOut},
                "text/plain": {"schema": {"type": "string"}},
            },
        }
    },
)
def get_report(
    detector: Annotated[str, Path(min_length=1, max_length=32, description="price, volume, velocity, ...")],
    date: Annotated[
        str | None,
        Query(
            max_length=10,
            description="YYYY-MM-DD (UTC); default today; a day to come has no alerts yet",
            json_schema_extra={"format": "date"},
        ),
    ] = None,
    format: Annotated[Literal["json", "text"], Query()] = "json",
) -> Response[dict | str]:
    """One day's alerts of one detector in plain language: price anomalies, low-sales periods, spam and bot
    customers, failed transactions..."""
    report = reports.report(detector, date, utcnow())
    if format == "text":
        return Response(200, "text/plain; charset=utf-8", report_text(report))
    return Response(200, content_types.APPLICATION_JSON, ReportOut.model_validate(report).model_dump(mode="json"))


# --- catalog ---------------------------------------------------------------------------------------------
# The same writes for two kinds of caller, on two routes: API Gateway (REST) guards a method with the API key or
# with the Cognito authorizer, never "either". The shop's systems use /products with the key; a signed-in admin
# uses /admin/products with a token. One handler body each, one catalog service, each change recorded under who
# made it (changed_by: "shop" or the admin's user name).
def _put_product(sku: str, product: ProductIn, by: str) -> dict:
    return catalog.put(sku, product.price, product.currency, product.name, by, utcnow())


def _put_products(body: ProductsIn, by: str) -> dict:
    return catalog.put_many([(p.sku, p.price, p.currency, p.name) for p in body.products], by, utcnow())


@app.put("/products/<sku>")
def put_product(sku: Sku, product: ProductIn) -> ProductOut:
    """Set a product's catalog price (the price detector's reference), with the shop's API key."""
    return _put_product(sku, product, _acting(Action.WRITE_CATALOG))


@app.post("/products")
def post_products(body: ProductsIn) -> ProductsStored:
    """Up to 500 products at once, with the shop's API key; one bad row refuses the whole request, storing nothing."""
    return _put_products(body, _acting(Action.WRITE_CATALOG))


@app.put("/admin/products/<sku>")
def admin_put_product(sku: Sku, product: ProductIn) -> ProductOut:
    """PUT /products/{sku} for a person signed in as an admin (an analyst gets 403); recorded under their name."""
    return _put_product(sku, product, _acting(Action.WRITE_CATALOG, person=True))


@app.post("/admin/products")
def admin_post_products(body: ProductsIn) -> ProductsStored:
    """POST /products for a person signed in as an admin (an analyst gets 403); recorded under their name."""
    return _put_products(body, _acting(Action.WRITE_CATALOG, person=True))


@app.get("/products/<sku>")
def get_product(sku: Sku) -> ProductOut:
    """A product's catalog entry, with who set it last."""
    return catalog.get(sku)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return non_json_body_refusal(event) or app.resolve(event, context)
