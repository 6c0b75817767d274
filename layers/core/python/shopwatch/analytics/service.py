"""Dashboard figures and detector quality (seed 002's dashboard and analytics), computed from what is stored:
traffic from the hour buckets, alerts from AlertsTable's by-status index, ground truth from analysts'
feedback and from labels reported later.

Every figure covers one window of whole hours ending now, so the tiles, the trend and the distribution of one
dashboard refresh agree with each other.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from shopwatch.domain.alert import Alert, AlertStatus
from shopwatch.domain.buckets import Grain, dense
from shopwatch.domain.clock import parse_iso
from shopwatch.domain.severity import Severity
from shopwatch.domain.triage import outcome
from shopwatch.storage.alerts import AlertRepository
from shopwatch.storage.buckets import BucketRepository
from shopwatch.storage.labels import LabelRepository


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


@dataclass(frozen=True)
class Window:
    since: datetime
    until: datetime

    @classmethod
    def hours(cls, hours: int, now: datetime) -> Window:
        return cls(Grain.HOUR.start_of(now) - timedelta(hours=hours - 1), now)

    @classmethod
    def days(cls, days: int, now: datetime) -> Window:
        return cls(Grain.DAY.start_of(now) - timedelta(days=days - 1), now)


# --- what the service answers: one frozen result per figure, mapped to the API's response models once ---------
@dataclass(frozen=True)
class Metrics:
    window: Window
    transactions: int
    alerts: int
    alerts_by_severity: dict[str, int]
    open_alerts: int
    investigating_alerts: int
    alert_rate: float | None
    triaged: int
    mean_time_to_triage_seconds: float | None


@dataclass(frozen=True)
class HourCount:
    """Alerts created in one hour, in all and per severity (`by_severity` names every severity)."""

    start: datetime
    total: int
    by_severity: dict[str, int]


@dataclass(frozen=True)
class Trend:
    window: Window
    hours: list[HourCount]


@dataclass(frozen=True)
class Distribution:
    window: Window
    total: int
    severities: dict[str, int]
    statuses: dict[str, int]


@dataclass(frozen=True)
class DetectorOutcome:
    detector: str
    alerts: int
    confirmed: int
    dismissed: int
    pending: int
    precision: float | None


@dataclass(frozen=True)
class DetectorOutcomes:
    window: Window
    detectors: list[DetectorOutcome]


@dataclass(frozen=True)
class Confusion:
    window: Window
    true_positive: int
    false_positive: int
    false_negative: int
    true_negative: int
    pending: int
    precision: float | None
    recall: float | None


class AnalyticsService:
    def __init__(self, alerts: AlertRepository, buckets: BucketRepository, labels: LabelRepository) -> None:
        self.alerts = alerts
        self.buckets = buckets
        self.labels = labels

    def _alerts(self, window: Window) -> list[Alert]:
        return self.alerts.created_between(window.since, window.until)

    def metrics(self, window: Window) -> Metrics:
        hours = dense(
            self.buckets.get_range(Grain.HOUR, window.since, window.until), Grain.HOUR, window.since, window.until
        )
        transactions = sum(b.transactions for b in hours)
        alerts = self._alerts(window)
        severities = Counter(a.severity.value for a in alerts)
        triage_seconds = [(a.triaged_at - a.created_at).total_seconds() for a in alerts if a.triaged_at]
        return Metrics(
            window=window,
            transactions=transactions,
            alerts=len(alerts),
            alerts_by_severity={s.value: severities.get(s.value, 0) for s in Severity},
            open_alerts=self.alerts.count_in_status(AlertStatus.OPEN),
            investigating_alerts=self.alerts.count_in_status(AlertStatus.INVESTIGATING),
            alert_rate=_ratio(len(alerts), transactions),
            triaged=len(triage_seconds),
            mean_time_to_triage_seconds=round(sum(triage_seconds) / len(triage_seconds), 1) if triage_seconds else None,
        )

    def alerts_trend(self, window: Window) -> Trend:
        counts: dict[datetime, Counter[str]] = {h: Counter() for h in Grain.HOUR.starts(window.since, window.until)}
        for alert in self._alerts(window):
            counts.setdefault(Grain.HOUR.start_of(alert.created_at), Counter())[alert.severity.value] += 1
        return Trend(
            window,
            [
                HourCount(h, sum(c.values()), {s.value: c.get(s.value, 0) for s in Severity})
                for h, c in sorted(counts.items())
            ],
        )

    def severity_distribution(self, window: Window) -> Distribution:
        alerts = self._alerts(window)
        severities = Counter(a.severity.value for a in alerts)
        statuses = Counter(a.status.value for a in alerts)
        return Distribution(
            window,
            len(alerts),
            {s.value: severities.get(s.value, 0) for s in Severity},
            {s.value: statuses.get(s.value, 0) for s in AlertStatus},
        )

    def detectors(self, window: Window) -> DetectorOutcomes:
        per: dict[str, Counter[str]] = {}
        for alert in self._alerts(window):
            per.setdefault(alert.detector, Counter())[outcome(alert)] += 1
        rows = []
        for detector, c in sorted(per.items()):
            reviewed = c["confirmed"] + c["dismissed"]
            rows.append(
                DetectorOutcome(
                    detector,
                    sum(c.values()),
                    c["confirmed"],
                    c["dismissed"],
                    c["pending"],
                    _ratio(c["confirmed"], reviewed),
                )
            )
        return DetectorOutcomes(window, rows)

    def confusion_matrix(self, window: Window) -> Confusion:
        """TP: alerts confirmed; FP: alerts dismissed; FN: transactions labelled fraud that no alert covered;
        TN: transactions labelled legitimate that no alert covered. Pending alerts are counted apart."""
        outcomes = Counter(outcome(a) for a in self._alerts(window))
        silent = Counter(
            label["label"]
            for label in self.labels.all()
            if not label.get("alert_ids") and window.since <= parse_iso(label["at"]) <= window.until
        )
        tp, fp, fn = outcomes["confirmed"], outcomes["dismissed"], silent["fraud"]
        return Confusion(
            window,
            true_positive=tp,
            false_positive=fp,
            false_negative=fn,
            true_negative=silent["legitimate"],
            pending=outcomes["pending"],
            precision=_ratio(tp, tp + fp),
            recall=_ratio(tp, tp + fn),
        )
