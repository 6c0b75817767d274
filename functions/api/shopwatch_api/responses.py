"""The response bodies of ApiFunction's routes: each is documented in /openapi.json and checked by Powertools
on the way out (a body that does not match its model is our bug, answered 500, never a client's 400).

Unknown fields are refused here too, so the document says exactly what a client receives. Money leaves as a
decimal string, never a float.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

from shopwatch.analytics.models import Comparison
from shopwatch.analytics.service import (
    Confusion,
    DetectorOutcomes,
    Distribution,
    HourCount,
    Metrics,
    Trend,
    Window,
)
from shopwatch.auth.sign_in import Session
from shopwatch.cases.metrics import CaseMetrics, Durations
from shopwatch.customers.anomalies import AnomalyView, Point
from shopwatch.customers.service import CustomerProfile, CustomersPage, CustomerView
from shopwatch.domain.alert import Alert, AlertStatus
from shopwatch.domain.buckets import STATUSES, Bucket
from shopwatch.domain.clock import to_iso
from shopwatch.domain.severity import Severity
from shopwatch.domain.triage import FeedbackLabel
from shopwatch.reports.service import Report
from shopwatch.storage.catalog import CatalogRecord
from shopwatch.storage.models import HistoryEntry, ModelRecord, Pointers
from shopwatch.triage.service import AlertsPage, EachOutcome
from shopwatch.windows.stats import DailyReport

Money = Annotated[
    Decimal,
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "description": "a decimal amount, as a string", "examples": ["12.50"]}),
]
Timestamp = Annotated[str, Field(description="RFC 3339, UTC")]
HISTORY_SHOWN = 100  # GET /models: the newest changes of the registry's history


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _fields(result: Any, **mapped: Any) -> dict[str, Any]:
    """A service result's (a dataclass's) fields by name, with those whose API shape differs given mapped: most
    results and their response models share their field names, so the mapping names only what changes."""
    return {f.name: getattr(result, f.name) for f in dataclasses.fields(result)} | mapped


# --- alerts ----------------------------------------------------------------------------------------------
class ReasonOut(_Out):
    code: str
    message: str
    value: str | None = None
    expected: str | None = None


class AlertWindowOut(_Out):
    """The time an alert covers (its own name: a second `WindowOut` made /openapi.json name both by module)."""

    start: Timestamp
    end: Timestamp


class AlertOut(_Out):
    alert_id: str
    detector: str
    severity: Severity
    risk_score: float = Field(ge=0, le=100)
    status: AlertStatus
    summary: str
    narrative: str | None
    customer_id: str | None
    customer_name: str | None
    subject: str
    transaction_ids: list[str]
    window: AlertWindowOut
    reasons: list[ReasonOut]
    occurrences: int = Field(ge=1)
    assignee: str | None
    feedback: dict[str, str] | None
    notes: list[dict[str, str]]
    history: list[dict[str, str | None]]
    model_version: str | None
    created_at: Timestamp
    updated_at: Timestamp
    triaged_at: Timestamp | None
    amount: Money | None = Field(default=None, description="the money of its transactions, when known")
    currency: str | None = None
    case_id: str | None = Field(default=None, description="the case it belongs to (GET /cases/{case_id})")

    @classmethod
    def from_alert(cls, alert: Alert) -> AlertOut:
        """The one mapping of the domain alert to what a client sees (DESIGN §3): storage-only fields (version,
        rank, last change) stay behind."""
        return cls(
            alert_id=alert.alert_id,
            detector=alert.detector,
            severity=alert.severity,
            risk_score=float(alert.risk_score),
            status=alert.status,
            summary=alert.summary,
            narrative=alert.narrative,
            customer_id=alert.customer_id,
            customer_name=alert.customer_name,
            subject=alert.subject,
            transaction_ids=list(alert.transaction_ids),
            window=AlertWindowOut(start=to_iso(alert.window_start), end=to_iso(alert.window_end)),
            reasons=[ReasonOut.model_validate(r.to_dict()) for r in alert.reasons],
            occurrences=alert.occurrences,
            assignee=alert.assignee,
            feedback=alert.feedback,
            notes=list(alert.notes),
            history=list(alert.history),
            model_version=alert.model_version,
            created_at=to_iso(alert.created_at),
            updated_at=to_iso(alert.updated_at),
            triaged_at=to_iso(alert.triaged_at) if alert.triaged_at else None,
            amount=alert.amount,
            currency=alert.currency,
            case_id=alert.case_id,
        )


class AlertPage(_Out):
    alerts: list[AlertOut]
    next_token: str | None = Field(description="pass it back, with the same filters, for the next page")

    @classmethod
    def from_page(cls, page: AlertsPage) -> AlertPage:
        return cls(alerts=[AlertOut.from_alert(a) for a in page.alerts], next_token=page.next_token)


# --- transactions ----------------------------------------------------------------------------------------
class ItemOut(_Out):
    sku: str
    quantity: int
    unit_price: Money
    name: str | None = None


class TransactionOut(_Out):
    """A stored transaction as POST /transactions accepted it (optional fields absent when not sent)."""

    transaction_id: str
    customer_id: str
    timestamp: Timestamp
    received_at: Timestamp
    status: str
    amount: Money
    currency: str
    items: list[ItemOut] | None = None
    country: str | None = None
    customer_name: str | None = None
    email: str | None = None
    ip: str | None = None
    device_id: str | None = None
    payment_method: str | None = None
    channel: str | None = None
    user_agent: str | None = None
    account_created_at: Timestamp | None = None
    card_bin: str | None = None
    card_fingerprint: str | None = None
    billing_country: str | None = None
    shipping_country: str | None = None
    metadata: dict[str, Any] | None = None


class ScoreOut(_Out):
    detector: str
    severity: Severity
    score: float = Field(description="the detector's strength, 0 to 1")
    description: str
    reasons: list[ReasonOut]


class ModelScoreOut(_Out):
    role: Literal["champion", "challenger"] = Field(
        description="champion: the model that judged it; challenger: scored in shadow, never alerting"
    )
    version: str
    score: float = Field(description="Isolation Forest score, -1..0: lower is more isolated")
    outlier: bool = Field(description="below the forest's threshold")
    risk_score: float | None = Field(
        default=None,
        description="the risk score 0-100 this version gave: the champion's is the transaction's own, the "
        "challenger's what its learned (or hand-set) combination would have said",
    )


class RuleMatchOut(_Out):
    rule_id: str
    version: int
    mode: Literal["active", "shadow"]


class CheckoutReasonOut(BaseModel):
    """A rule (kind "rule": id, version, name) or a list (kind "list": name, mode) that decided it."""

    model_config = ConfigDict(extra="allow")
    kind: Literal["rule", "list"]
    message: str


class CheckoutOut(_Out):
    decision: Literal["allow", "review", "block"]
    reasons: list[CheckoutReasonOut]
    risk_score: float = Field(description="0-100, from what ingest knew (DetectFunction's is under detection)")


class ContributionOut(_Out):
    """One part of the risk score: a finding's, a weak signal's, or what the stored marker does not explain."""

    kind: Literal["finding", "signal", "other"]
    name: str = Field(description="the detector or signal; `other`: signals not kept, rule points, a learned model")
    evidence: float | None = Field(description="the input to the scorer's noisy-OR, 0-1, weighted (null: other)")
    points: float = Field(ge=0, le=100, description="risk points; a transaction's parts add up to its risk_score")


class DetectionOut(_Out):
    processed: bool = Field(description="false until DetectFunction has judged it (or after the 7 days markers live)")
    risk_score: float
    models: list[ModelScoreOut] = Field(description="the champion's score and, in shadow, the challenger's")
    scores: list[ScoreOut]
    alert_ids: list[str]
    rules: list[RuleMatchOut] = Field(default_factory=list, description="the analysts' rules it matched, shadow too")
    breakdown: list[ContributionOut] = Field(
        default_factory=list, description="the risk score split by what contributed, largest first"
    )


class LabelOut(_Out):
    transaction_id: str
    label: FeedbackLabel
    source: str
    by: str
    at: Timestamp
    customer_id: str
    transaction_time: Timestamp
    alert_ids: list[str] = Field(description="the alerts that covered the transaction when it was labelled")
    models: list[ModelScoreOut] = Field(
        default_factory=list, description="the models' scores when it was labelled (GET /analytics/models)"
    )


class LabelResult(LabelOut):
    alerted: bool = Field(description="false: fraud no alert caught (a false negative)")
    feedback_given_to: list[str] = Field(description="alerts that had no analyst feedback and now carry this label")


class EntityRefOut(_Out):
    kind: Literal["customer", "email", "device", "ip", "card"]
    value: str = Field(description="as keyed: an e-mail normalised; a card its fingerprint, else `<bin>/<customer>`")


class AlertBriefOut(_Out):
    alert_id: str
    detector: str
    severity: Severity
    status: AlertStatus
    risk_score: float = Field(ge=0, le=100)
    summary: str

    @classmethod
    def of(cls, alert: Alert) -> AlertBriefOut:
        """The one mapping of an alert to its short form (a transaction's and an entity's alerts)."""
        return cls(
            alert_id=alert.alert_id,
            detector=alert.detector,
            severity=alert.severity,
            status=alert.status,
            risk_score=float(alert.risk_score),
            summary=alert.summary,
        )


class TransactionDetail(_Out):
    transaction: TransactionOut
    checkout: CheckoutOut | None = Field(description="the decision answered at ingest (null before decisions existed)")
    detection: DetectionOut
    label: LabelOut | None
    alerts: list[AlertBriefOut] = Field(default_factory=list, description="the alerts its findings went to")
    entities: list[EntityRefOut] = Field(default_factory=list, description="its account, e-mail, device, IP, card")
    account_age_seconds: float | None = Field(
        default=None, description="how old the account was at the transaction (null: the shop did not say)"
    )


# --- customers -------------------------------------------------------------------------------------------
class CustomerOut(_Out):
    customer_id: str
    customer_name: str | None
    transactions: int
    approved: int
    failed: int
    mean_amount: str | None = Field(description="a decimal string; null before the first transaction")
    countries: list[str]
    first_seen: Timestamp | None
    last_seen: Timestamp | None

    @classmethod
    def from_profile(cls, profile: CustomerProfile) -> CustomerOut:
        mean = profile.mean_amount
        return cls(
            customer_id=profile.customer_id,
            customer_name=profile.customer_name,
            transactions=profile.transactions,
            approved=profile.approved,
            failed=profile.failed,
            mean_amount=None if mean is None else str(mean),
            countries=list(profile.countries),
            first_seen=profile.first_seen,
            last_seen=profile.last_seen,
        )


class CustomerPage(_Out):
    customers: list[CustomerOut]
    next_token: str | None

    @classmethod
    def from_page(cls, page: CustomersPage) -> CustomerPage:
        return cls(customers=[CustomerOut.from_profile(p) for p in page.customers], next_token=page.next_token)


class CustomerDetail(_Out):
    profile: CustomerOut
    recent_alerts: list[AlertOut]
    recent_transactions: list[TransactionOut]

    @classmethod
    def from_view(cls, view: CustomerView) -> CustomerDetail:
        return cls(
            profile=CustomerOut.from_profile(view.profile),
            recent_alerts=[AlertOut.from_alert(a) for a in view.recent_alerts],
            # the stored item is the transaction as POST /transactions accepted it
            recent_transactions=[TransactionOut.model_validate(t.to_item()) for t in view.recent_transactions],
        )


class BaselineOut(_Out):
    mean: float
    std: float
    transactions: int


class ChartDataOut(_Out):
    """Columns of equal length, one entry per transaction, oldest first: ready for a chart library."""

    transaction_id: list[str]
    timestamp: list[Timestamp]
    value: list[str]
    anomalous: list[bool]


class AnomalyRow(_Out):
    transaction_id: str
    timestamp: Timestamp
    status: str
    amount: str
    currency: str
    country: str | None
    metric_value: str
    z_score: float
    anomalous: bool
    alert_ids: list[str]

    @classmethod
    def from_point(cls, point: Point) -> AnomalyRow:
        tx = point.transaction
        return cls(
            transaction_id=tx.transaction_id,
            timestamp=to_iso(tx.timestamp),
            status=tx.status,
            amount=str(tx.amount),
            currency=tx.currency,
            country=tx.country,
            metric_value=str(point.value),
            z_score=point.z_score,
            anomalous=point.anomalous,
            alert_ids=list(point.alert_ids),
        )


class CustomerAnomalies(_Out):
    customer_id: str
    metric: str
    baseline: BaselineOut
    chart_data: ChartDataOut
    anomaly_list: list[AnomalyRow]
    drill_down: list[AnomalyRow]

    @classmethod
    def from_view(cls, customer_id: str, view: AnomalyView) -> CustomerAnomalies:
        rows = [AnomalyRow.from_point(p) for p in view.points]
        return cls(
            customer_id=customer_id,
            metric=view.metric.value,
            baseline=BaselineOut(mean=view.mean, std=view.std, transactions=len(rows)),
            chart_data=ChartDataOut(
                transaction_id=[r.transaction_id for r in rows],
                timestamp=[r.timestamp for r in rows],
                value=[r.metric_value for r in rows],
                anomalous=[r.anomalous for r in rows],
            ),
            anomaly_list=[r for r in rows if r.anomalous],
            drill_down=rows,
        )


# --- traffic stats ---------------------------------------------------------------------------------------
class PeriodOut(_Out):
    start: Timestamp
    transactions: int
    statuses: dict[str, int]
    approved_revenue: dict[str, str] = Field(description="per currency, decimal strings")

    @classmethod
    def from_bucket(cls, bucket: Bucket) -> PeriodOut:
        return cls(**_period(bucket))


def _period(bucket: Bucket) -> dict[str, Any]:
    """A bucket's counts: every status named (zero when none), revenue per currency as decimal strings."""
    return {
        "start": bucket.start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "transactions": bucket.transactions,
        "statuses": {s: bucket.count(s) for s in STATUSES},
        "approved_revenue": {c: str(a) for c, a in sorted(bucket.revenue.items())},
    }


class MinutesOut(_Out):
    minutes: list[PeriodOut]


class DayOut(PeriodOut):
    date: str
    complete: bool
    low_performance: bool | None = Field(description="null: not judged (too little history or not closed)")


class DailyOut(_Out):
    currency: str
    days: list[DayOut]

    @classmethod
    def from_report(cls, report: DailyReport) -> DailyOut:
        days = [
            DayOut(**_period(d.bucket), date=d.day.isoformat(), complete=d.complete, low_performance=d.low_performance)
            for d in report.days
        ]
        return cls(currency=report.currency, days=days)


# --- dashboard and analytics -----------------------------------------------------------------------------
class TimeWindowOut(_Out):
    since: Timestamp
    until: Timestamp

    @classmethod
    def from_window(cls, window: Window) -> TimeWindowOut:
        return cls(since=to_iso(window.since), until=to_iso(window.until))


class DashboardMetrics(_Out):
    window: TimeWindowOut
    transactions: int
    alerts: int
    alerts_by_severity: dict[str, int]
    open_alerts: int
    investigating_alerts: int
    alert_rate: float | None
    triaged: int
    mean_time_to_triage_seconds: float | None
    cases: CaseMetricsOut | None = Field(default=None, description="time to first action and to close (cases)")

    @classmethod
    def from_metrics(cls, metrics: Metrics) -> DashboardMetrics:
        return cls(**_fields(metrics, window=TimeWindowOut.from_window(metrics.window)))


class HourOut(_Out):
    start: Timestamp
    total: int
    low: int
    medium: int
    high: int
    critical: int

    @classmethod
    def from_hour(cls, hour: HourCount) -> HourOut:
        return cls(start=to_iso(hour.start), total=hour.total, **hour.by_severity)


class AlertsTrend(_Out):
    window: TimeWindowOut
    hours: list[HourOut]

    @classmethod
    def from_trend(cls, trend: Trend) -> AlertsTrend:
        return cls(window=TimeWindowOut.from_window(trend.window), hours=[HourOut.from_hour(h) for h in trend.hours])


class SeverityDistribution(_Out):
    window: TimeWindowOut
    total: int
    severities: dict[str, int]
    statuses: dict[str, int]

    @classmethod
    def from_distribution(cls, distribution: Distribution) -> SeverityDistribution:
        return cls(**_fields(distribution, window=TimeWindowOut.from_window(distribution.window)))


class DetectorRow(_Out):
    detector: str
    alerts: int
    confirmed: int
    dismissed: int
    pending: int
    precision: float | None = Field(description="confirmed / (confirmed + dismissed); null before any feedback")


class DetectorAnalytics(_Out):
    window: TimeWindowOut
    detectors: list[DetectorRow]

    @classmethod
    def from_outcomes(cls, outcomes: DetectorOutcomes) -> DetectorAnalytics:
        return cls(
            window=TimeWindowOut.from_window(outcomes.window),
            detectors=[DetectorRow(**_fields(row)) for row in outcomes.detectors],
        )


class ConfusionMatrix(_Out):
    window: TimeWindowOut
    true_positive: int
    false_positive: int
    false_negative: int
    true_negative: int
    pending: int
    precision: float | None
    recall: float | None

    @classmethod
    def from_confusion(cls, confusion: Confusion) -> ConfusionMatrix:
        return cls(**_fields(confusion, window=TimeWindowOut.from_window(confusion.window)))


# --- reports, catalog, health ----------------------------------------------------------------------------
class ReportOut(_Out):
    detector: str
    title: str
    date: str
    count: int
    lines: list[str]
    alerts: list[AlertOut]

    @classmethod
    def from_report(cls, report: Report) -> ReportOut:
        return cls(
            detector=report.detector,
            title=report.title,
            date=report.day.isoformat(),
            count=report.count,
            lines=list(report.lines),
            alerts=[AlertOut.from_alert(a) for a in report.alerts],
        )


class ProductOut(_Out):
    sku: str
    price: str = Field(description="a decimal string")
    currency: str
    name: str | None
    changed_by: str | None = Field(
        description='who set it last: the signed-in admin\'s user name, "shop" for the API key, null if loaded by CLI'
    )
    changed_at: str | None = Field(description="when (RFC 3339, UTC); null if loaded by the CLI")

    @classmethod
    def from_record(cls, record: CatalogRecord) -> ProductOut:
        entry = record.entry
        return cls(
            sku=entry.sku,
            price=str(entry.price),
            currency=entry.currency,
            name=entry.name,
            changed_by=record.changed_by,
            changed_at=to_iso(record.changed_at) if record.changed_at else None,
        )


class ProductsStored(_Out):
    stored: int


class SessionOut(_Out):
    token: str = Field(description="the Cognito ID token: send it as `Authorization: Bearer <token>`")
    expires_at: Timestamp = Field(description="when the token stops working; sign in again then")

    @classmethod
    def from_session(cls, session: Session) -> SessionOut:
        return cls(token=session.token, expires_at=session.expires_at)


class HealthOut(_Out):
    status: str


# --- the model registry ------------------------------------------------------------------------------------
class ModelOut(_Out):
    version: str
    status: Literal["champion", "challenger", "retired"]
    created_at: Timestamp
    trained_by: str = Field(description='the admin who asked, or "schedule" for the weekly run')
    rows: int | None = Field(description="transactions trained on")
    label_counts: dict[str, int] = Field(description="labelled transactions it learned from, by label")
    holdout_metrics: dict[str, Any] = Field(
        description="the learned risk score against the hand-set one on the time-ordered holdout (empty: not judged)"
    )
    metadata: dict[str, Any] = Field(description="everything the training run recorded (data period, features...)")

    @classmethod
    def from_record(cls, record: ModelRecord) -> ModelOut:
        """`rows`, `label_counts` and `holdout_metrics` are read from the run's metadata as
        shopwatch.training.pipeline records them (`rows`, `labels`, `learning.holdout`)."""
        metadata = record.metadata
        rows = metadata.get("rows")
        return cls(
            version=record.version,
            status=record.status.value,
            created_at=record.created_at,
            trained_by=record.trained_by,
            rows=int(rows) if isinstance(rows, int | float) else None,
            label_counts={str(k): int(v) for k, v in (metadata.get("labels") or {}).items()},
            holdout_metrics=dict((metadata.get("learning") or {}).get("holdout") or {}),
            metadata=metadata,
        )


class ModelHistoryOut(_Out):
    action: Literal["challenger", "promote", "rollback"]
    version: str
    previous_champion: str | None
    by: str
    at: Timestamp

    @classmethod
    def from_entry(cls, entry: HistoryEntry) -> ModelHistoryOut:
        return cls(**_fields(entry, action=entry.action.value))


class ModelsOut(_Out):
    champion: str | None = Field(description="null: detection uses the model layer's default")
    challenger: str | None
    models: list[ModelOut] = Field(description="every version, newest first")
    history: list[ModelHistoryOut] = Field(description="every change, newest first")

    @classmethod
    def from_registry(cls, pointers: Pointers, records: list[ModelRecord], history: list[HistoryEntry]) -> ModelsOut:
        return cls(
            champion=pointers.champion,
            challenger=pointers.challenger,
            models=[ModelOut.from_record(r) for r in records],
            history=[ModelHistoryOut.from_entry(e) for e in history[:HISTORY_SHOWN]],
        )


class ModelPointersOut(_Out):
    champion: str | None
    challenger: str | None
    previous: list[str] = Field(description="the champions before, newest last: what rollback returns to")

    @classmethod
    def from_pointers(cls, pointers: Pointers) -> ModelPointersOut:
        return cls(champion=pointers.champion, challenger=pointers.challenger, previous=list(pointers.previous))


class TrainingStarted(_Out):
    requested_by: str
    function: str = Field(description="the TrainFunction invoked (asynchronously); GET /models shows its result")


class ModelOutcomeOut(_Out):
    role: Literal["champion", "challenger"]
    version: str
    labelled_fraud: int
    labelled_legitimate: int
    roc_auc: float | None = Field(description="of its score on the labelled transactions it scored")
    threshold_score: float | None = Field(description="the score of its most anomalous 1% of scored transactions")
    precision_at_budget: float | None = Field(description="fraud share of labelled transactions past the threshold")
    paged_labelled: int
    scored: int
    alerts_per_day: float | None = Field(description="outliers per day it scored (the challenger's: would-be alerts)")
    days: int
    risk_roc_auc: float | None = Field(
        default=None, description="ROC AUC of the risk score it gave the labelled transactions (higher = riskier)"
    )
    risk_scored: int = Field(default=0, description="labelled transactions it gave a risk score")


class ModelAnalyticsOut(_Out):
    days: int
    paging_budget: float
    labelled: int
    models: list[ModelOutcomeOut]

    @classmethod
    def from_comparison(cls, comparison: Comparison) -> ModelAnalyticsOut:
        return cls(**_fields(comparison, models=[ModelOutcomeOut(**_fields(m)) for m in comparison.models]))


# --- entities --------------------------------------------------------------------------------------------
EntityKind = Literal["customer", "device", "card", "ip", "email"]


class EntityWindowOut(_Out):
    window: Literal["1h", "24h", "30d"]
    transactions: int
    approved_amount: Money | None = Field(description="approved amounts summed across currencies as sent")


class LinkedOut(_Out):
    kind: EntityKind
    values: list[str]
    at_least: bool = Field(description="the set stopped growing at its cap: there may be more")


class GraphNodeOut(_Out):
    kind: EntityKind
    value: str


class GraphOut(_Out):
    nodes: list[GraphNodeOut] = Field(description="the entity first")
    edges: list[list[int]] = Field(description="pairs of indexes into nodes")
    omitted: int = Field(ge=0, description="nodes left out to keep the graph small")


class ListTargetOut(_Out):
    list_kind: Literal["email", "device", "ip", "card_bin", "card_fingerprint", "customer"]
    value: str


class EntityDetail(_Out):
    kind: EntityKind
    value: str = Field(description="as stored: an e-mail normalised")
    first_seen: Timestamp | None
    last_seen: Timestamp | None
    transactions: int
    failed: int
    approved_amount: Money
    windows: list[EntityWindowOut]
    linked: list[LinkedOut]
    graph: GraphOut
    recent_transactions: list[TransactionOut] = Field(description="newest first")
    alerts: list[AlertBriefOut] = Field(description="newest first")
    list_targets: list[ListTargetOut] = Field(description="what a block or allow list of each kind would hold")


# --- cases (shopwatch_api.cases_models has the rest) ----------------------------------------------------
class DurationsOut(_Out):
    count: int
    median_seconds: float | None
    p90_seconds: float | None

    @classmethod
    def from_durations(cls, durations: Durations) -> DurationsOut:
        return cls(count=durations.count, median_seconds=durations.median_seconds, p90_seconds=durations.p90_seconds)


class CaseMetricsOut(_Out):
    opened: int = Field(description="cases created in the window")
    closed: int = Field(description="cases closed in the window")
    time_to_first_action: DurationsOut = Field(description="over the cases created in the window")
    time_to_close: DurationsOut = Field(description="over the cases closed in the window")

    @classmethod
    def from_metrics(cls, metrics: CaseMetrics) -> CaseMetricsOut:
        return cls(
            opened=metrics.opened,
            closed=metrics.closed,
            time_to_first_action=DurationsOut.from_durations(metrics.time_to_first_action),
            time_to_close=DurationsOut.from_durations(metrics.time_to_close),
        )


# --- POST /alerts/bulk ---------------------------------------------------------------------------------------
class ErrorDetailOut(_Out):
    code: str
    message: str
    details: Any = None


class BulkItemOut(_Out):
    alert_id: str
    outcome: Literal["changed", "unchanged", "refused"] = Field(
        description="unchanged: already as asked (a retry changes nothing twice)"
    )
    http_status: int = Field(description="what a single change of this alert would have answered (200, 404, 409)")
    alert: AlertOut | None = None
    error: ErrorDetailOut | None = None

    @classmethod
    def from_outcome(cls, each: EachOutcome) -> BulkItemOut:
        if each.error is not None:
            error = each.error.body()["error"]
            return cls(alert_id=each.alert_id, outcome=each.outcome, http_status=each.error.status,
                       error=ErrorDetailOut(**error))  # fmt: skip
        alert = AlertOut.from_alert(each.alert) if each.alert is not None else None  # an error's absence: the alert
        return cls(alert_id=each.alert_id, outcome=each.outcome, http_status=200, alert=alert)


class BulkOut(_Out):
    results: list[BulkItemOut] = Field(description="one per alert_id, in the request's order")
    changed: int
    unchanged: int
    refused: int

    @classmethod
    def from_outcomes(cls, outcomes: list[EachOutcome]) -> BulkOut:
        results = [BulkItemOut.from_outcome(o) for o in outcomes]
        counts = {k: sum(r.outcome == k for r in results) for k in ("changed", "unchanged", "refused")}
        return cls(results=results, **counts)
