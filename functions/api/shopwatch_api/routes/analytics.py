"""The dashboard's figures and the analytics: KPIs, alert trends, detector precision, the confusion matrix and
champion against challenger."""

from collections.abc import Callable
from datetime import datetime

from aws_lambda_powertools.event_handler.api_gateway import Router

from shopwatch.analytics.models import ModelAnalytics
from shopwatch.analytics.service import AnalyticsService, Window
from shopwatch.cases.metrics import CaseMetrics
from shopwatch.domain.clock import utcnow
from shopwatch_api.cases_models import case_metrics_json
from shopwatch_api.params import Days, Hours
from shopwatch_api.responses import (
    AlertsTrend,
    ConfusionMatrix,
    DashboardMetrics,
    DetectorAnalytics,
    ModelAnalyticsOut,
    SeverityDistribution,
)


def router(
    analytics: AnalyticsService,
    model_analytics: ModelAnalytics,
    case_metrics: Callable[[datetime, datetime], CaseMetrics] | None = None,
) -> Router:
    router = Router()

    @router.get("/dashboard/metrics")
    def dashboard_metrics(hours: Hours = 24) -> DashboardMetrics:
        """KPIs: transactions, alerts by severity, open alerts, alert rate, mean time to triage; and the cases'
        time to first action and to close."""
        window = Window.hours(hours, utcnow())
        figures = analytics.metrics(window)
        if case_metrics is not None:
            figures = {**figures, "cases": case_metrics_json(case_metrics(window.since, window.until))}
        return figures

    @router.get("/dashboard/alerts-trend")
    def alerts_trend(hours: Hours = 24) -> AlertsTrend:
        """Alerts per hour and severity."""
        return analytics.alerts_trend(Window.hours(hours, utcnow()))

    @router.get("/dashboard/severity-distribution")
    def severity_distribution(hours: Hours = 24) -> SeverityDistribution:
        """Alerts per severity and per status."""
        return analytics.severity_distribution(Window.hours(hours, utcnow()))

    @router.get("/analytics/detectors")
    def detector_analytics(days: Days = 30) -> DetectorAnalytics:
        """Alerts per detector and precision from feedback (confirmed / reviewed)."""
        return analytics.detectors(Window.days(days, utcnow()))

    @router.get("/analytics/confusion-matrix")
    def confusion_matrix(days: Days = 30) -> ConfusionMatrix:
        """Confirmed alerts (TP), dismissed (FP), labelled fraud without an alert (FN) and their ratios."""
        return analytics.confusion_matrix(Window.days(days, utcnow()))

    @router.get("/analytics/models")
    def models_compared(days: Days = 30) -> ModelAnalyticsOut:
        """Champion against challenger on labelled transactions: ROC AUC of each one's score, precision at the
        paging budget (its most anomalous 1% of scored transactions) and alerts per day."""
        return model_analytics.compare(days, utcnow())

    return router
