"""The dashboard's figures and the analytics: KPIs, alert trends, detector precision, the confusion matrix and
champion against challenger."""

from collections.abc import Callable
from datetime import datetime

from aws_lambda_powertools.event_handler.api_gateway import Router

from shopwatch.analytics.models import ModelAnalytics
from shopwatch.analytics.service import AnalyticsService, Window
from shopwatch.cases.metrics import CaseMetrics
from shopwatch.domain.clock import utcnow
from shopwatch_api.params import Days, Hours
from shopwatch_api.responses import (
    AlertsTrend,
    CaseMetricsOut,
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
        figures = DashboardMetrics.from_metrics(analytics.metrics(window))
        if case_metrics is None:
            return figures
        cases = CaseMetricsOut.from_metrics(case_metrics(window.since, window.until))
        return figures.model_copy(update={"cases": cases})

    @router.get("/dashboard/alerts-trend")
    def alerts_trend(hours: Hours = 24) -> AlertsTrend:
        """Alerts per hour and severity."""
        return AlertsTrend.from_trend(analytics.alerts_trend(Window.hours(hours, utcnow())))

    @router.get("/dashboard/severity-distribution")
    def severity_distribution(hours: Hours = 24) -> SeverityDistribution:
        """Alerts per severity and per status."""
        return SeverityDistribution.from_distribution(analytics.severity_distribution(Window.hours(hours, utcnow())))

    @router.get("/analytics/detectors")
    def detector_analytics(days: Days = 30) -> DetectorAnalytics:
        """Alerts per detector and precision from feedback (confirmed / reviewed)."""
        return DetectorAnalytics.from_outcomes(analytics.detectors(Window.days(days, utcnow())))

    @router.get("/analytics/confusion-matrix")
    def confusion_matrix(days: Days = 30) -> ConfusionMatrix:
        """Confirmed alerts (TP), dismissed (FP), labelled fraud without an alert (FN) and their ratios."""
        return ConfusionMatrix.from_confusion(analytics.confusion_matrix(Window.days(days, utcnow())))

    @router.get("/analytics/models")
    def models_compared(days: Days = 30) -> ModelAnalyticsOut:
        """Champion against challenger on labelled transactions: ROC AUC of each one's score, precision at the
        paging budget (its most anomalous 1% of scored transactions) and alerts per day."""
        return ModelAnalyticsOut.from_comparison(model_analytics.compare(days, utcnow()))

    return router
