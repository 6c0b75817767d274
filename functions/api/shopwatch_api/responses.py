"""The response bodies of ApiFunction's routes: each is documented in /openapi.json and checked by Powertools
on the way out (a body that does not match its model is our bug, answered 500, never a client's 400).

Unknown fields are refused here too, so the document says exactly what a client receives. Money leaves as a
decimal string, never a float.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

from shopwatch.domain.alert import AlertStatus
from shopwatch.domain.severity import Severity
from shopwatch.domain.triage import FeedbackLabel

Money = Annotated[
    Decimal,
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "description": "a decimal amount, as a string", "examples": ["12.50"]}),
]
Timestamp = Annotated[str, Field(description="RFC 3339, UTC")]


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


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


class AlertPage(_Out):
    alerts: list[AlertOut]
    next_token: str | None = Field(description="pass it back, with the same filters, for the next page")


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


class DetectionOut(_Out):
    processed: bool = Field(description="false until DetectFunction has judged it (or after the 7 days markers live)")
    risk_score: float
    models: list[ModelScoreOut] = Field(description="the champion's score and, in shadow, the challenger's")
    scores: list[ScoreOut]
    alert_ids: list[str]
    rules: list[RuleMatchOut] = Field(default_factory=list, description="the analysts' rules it matched, shadow too")


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


class TransactionDetail(_Out):
    transaction: TransactionOut
    checkout: CheckoutOut | None = Field(description="the decision answered at ingest (null before decisions existed)")
    detection: DetectionOut
    label: LabelOut | None


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


class CustomerPage(_Out):
    customers: list[CustomerOut]
    next_token: str | None


class CustomerDetail(_Out):
    profile: CustomerOut
    recent_alerts: list[AlertOut]
    recent_transactions: list[TransactionOut]


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


class CustomerAnomalies(_Out):
    customer_id: str
    metric: str
    baseline: BaselineOut
    chart_data: ChartDataOut
    anomaly_list: list[AnomalyRow]
    drill_down: list[AnomalyRow]


# --- traffic stats ---------------------------------------------------------------------------------------
class PeriodOut(_Out):
    start: Timestamp
    transactions: int
    statuses: dict[str, int]
    approved_revenue: dict[str, str] = Field(description="per currency, decimal strings")


class MinutesOut(_Out):
    minutes: list[PeriodOut]


class DayOut(PeriodOut):
    date: str
    complete: bool
    low_performance: bool | None = Field(description="null: not judged (too little history or not closed)")


class DailyOut(_Out):
    currency: str
    days: list[DayOut]


# --- dashboard and analytics -----------------------------------------------------------------------------
class TimeWindowOut(_Out):
    since: Timestamp
    until: Timestamp


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


class HourOut(_Out):
    start: Timestamp
    total: int
    low: int
    medium: int
    high: int
    critical: int


class AlertsTrend(_Out):
    window: TimeWindowOut
    hours: list[HourOut]


class SeverityDistribution(_Out):
    window: TimeWindowOut
    total: int
    severities: dict[str, int]
    statuses: dict[str, int]


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


class ConfusionMatrix(_Out):
    window: TimeWindowOut
    true_positive: int
    false_positive: int
    false_negative: int
    true_negative: int
    pending: int
    precision: float | None
    recall: float | None


# --- reports, catalog, health ----------------------------------------------------------------------------
class ReportOut(_Out):
    detector: str
    title: str
    date: str
    count: int
    lines: list[str]
    alerts: list[AlertOut]


class ProductOut(_Out):
    sku: str
    price: str = Field(description="a decimal string")
    currency: str
    name: str | None
    changed_by: str | None = Field(
        description='who set it last: the signed-in admin\'s user name, "shop" for the API key, null if loaded by CLI'
    )
    changed_at: str | None = Field(description="when (RFC 3339, UTC); null if loaded by the CLI")


class ProductsStored(_Out):
    stored: int


class SessionOut(_Out):
    token: str = Field(description="the Cognito ID token: send it as `Authorization: Bearer <token>`")
    expires_at: Timestamp = Field(description="when the token stops working; sign in again then")


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


class ModelHistoryOut(_Out):
    action: Literal["challenger", "promote", "rollback"]
    version: str
    previous_champion: str | None
    by: str
    at: Timestamp


class ModelsOut(_Out):
    champion: str | None = Field(description="null: detection uses the model layer's default")
    challenger: str | None
    models: list[ModelOut] = Field(description="every version, newest first")
    history: list[ModelHistoryOut] = Field(description="every change, newest first")


class ModelPointersOut(_Out):
    champion: str | None
    challenger: str | None
    previous: list[str] = Field(description="the champions before, newest last: what rollback returns to")


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


class BulkOut(_Out):
    results: list[BulkItemOut] = Field(description="one per alert_id, in the request's order")
    changed: int
    unchanged: int
    refused: int
