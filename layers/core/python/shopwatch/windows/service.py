"""Judging closed minutes, hours and days, each exactly once, and turning findings into grouped alerts.

Each schedule tick (rate(1 minute)) judges, per grain, every period that has closed since the cursor (at most
`catch_up` of them; older ones are skipped and said so). A period is closed `settle_seconds` after its end, so
the stream's batching window has delivered its records; records later than that still land in their own
bucket (the stats show them) but the period is not judged again.

History starts where traffic began: empty buckets before the first sale are not "zero sales", and the first
active minute is usually partial, so both are left out of baselines. Within history, empty buckets count as
zero: a silent minute in the middle of the day is exactly what an outage looks like.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aws_lambda_powertools import Logger

from shopwatch.config import WindowSettings
from shopwatch.detectors.findings import Finding
from shopwatch.detectors.status_mix import StatusMixSettings, judge_status_mix
from shopwatch.detectors.volume import VolumeSettings, judge_minute_volume, judge_period_volume
from shopwatch.domain.alert import Alert, grow, open_window_alert
from shopwatch.domain.buckets import Bucket, Grain, dense
from shopwatch.domain.clock import floor_window
from shopwatch.storage.alerts import AlertRepository
from shopwatch.storage.buckets import BucketRepository
from shopwatch.storage.unit_of_work import TransactionRefused, UnitOfWork
from shopwatch.storage.window_cursors import WindowCursorRepository

logger = Logger(child=True)

MINUTE_LOOKBACK = 60  # minutes read to judge one minute
PERIOD_LOOKBACK = {Grain.HOUR: timedelta(days=29), Grain.DAY: timedelta(days=29)}
NOVELTY_HOURS = 3000  # the hourly series given to the novelty core (its history length)

NoveltyScorer = Callable[[list[float]], float]  # a series, oldest first → the last value's score


@dataclass
class Judged:
    grain: Grain
    start: datetime
    findings: list[Finding] = field(default_factory=list)
    alert_ids: list[str] = field(default_factory=list)


def history_since_traffic_began(buckets: list[Bucket]) -> list[Bucket]:
    """Drop the empty buckets before the first sale and, when the window shows traffic beginning, that first
    (partial) bucket too; a window whose first bucket already has traffic began earlier and is kept whole."""
    if not buckets or buckets[0].transactions:
        return buckets
    for index, bucket in enumerate(buckets):
        if bucket.transactions:
            return buckets[index + 1 :]
    return []


class WindowService:
    def __init__(
        self,
        buckets: BucketRepository,
        cursors: WindowCursorRepository,
        alerts: AlertRepository,
        settings: WindowSettings,
        novelty: NoveltyScorer | None = None,
        volume: VolumeSettings | None = None,
        status_mix: StatusMixSettings | None = None,
    ) -> None:
        self.buckets = buckets
        self.cursors = cursors
        self.alerts = alerts
        self.settings = settings
        self.novelty = novelty
        self.volume = volume or VolumeSettings(minute_min_history=settings.minute_min_history)
        self.status_mix = status_mix or StatusMixSettings()

    def run(self, now: datetime) -> list[Judged]:
        judged: list[Judged] = []
        for grain in Grain:
            judged += self._run_grain(grain, now)
        return judged

    def due(self, grain: Grain, now: datetime) -> tuple[datetime | None, list[datetime]]:
        """The cursor and the closed periods to judge now (the newest `catch_up` of those not yet judged)."""
        last_closed = grain.start_of(now - timedelta(seconds=self.settings.settle_seconds)) - grain.step
        cursor = self.cursors.get(grain)
        if cursor is None and grain is not Grain.MINUTE:
            return None, []  # a new deployment judges the hours and days that close from now on (_run_grain)
        first = last_closed if cursor is None else cursor  # ... and minutes from the latest closed one
        if first > last_closed:
            return cursor, []
        periods = grain.starts(first, last_closed)
        limit = self.settings.catch_up[grain.value]
        if len(periods) > limit:
            logger.warning(
                "windowed detection fell behind; skipping the oldest periods",
                extra={"grain": grain.value, "skipped": len(periods) - limit, "from": str(periods[0])},
            )
            periods = periods[-limit:]
        return cursor, periods

    def _run_grain(self, grain: Grain, now: datetime) -> list[Judged]:
        cursor, periods = self.due(grain, now)
        if cursor is None and not periods and grain is not Grain.MINUTE:
            # The hour or day that just closed was seen through backfilled history at best (a shop moving to
            # Shopwatch, a demo): judging it would compare a partial picture with full ones.
            self.cursors.start_at(grain, grain.start_of(now - timedelta(seconds=self.settings.settle_seconds)), now)
            return []
        judged = []
        for start in periods:
            result = self._judge(grain, start)
            if not self._commit(grain, cursor, start, result, now):
                logger.info("period already judged elsewhere", extra={"grain": grain.value, "start": str(start)})
                break
            judged.append(result)
            cursor = start + grain.step
        return judged

    # --- judging ----------------------------------------------------------------------------------------------
    def _judge(self, grain: Grain, start: datetime) -> Judged:
        if grain is Grain.MINUTE:
            lookback = start - timedelta(minutes=MINUTE_LOOKBACK)
            window = dense(self.buckets.get_range(grain, lookback, start), grain, lookback, start)
            minute, recent = window[-1], history_since_traffic_began(window[:-1])
            findings = [
                judge_status_mix(minute, recent, self.status_mix),
                judge_minute_volume(minute, recent, self.volume),
            ]
        else:
            lookback = start - PERIOD_LOOKBACK[grain]
            window = dense(self.buckets.get_range(grain, lookback, start), grain, lookback, start)
            period, history = window[-1], history_since_traffic_began(window[:-1])
            novelty = self._hourly_novelty(start) if grain is Grain.HOUR and history else None
            findings = [judge_period_volume(period, history, self.settings.currency, self.volume, novelty)]
        return Judged(grain, start, [f for f in findings if f is not None])

    def _hourly_novelty(self, start: datetime) -> float | None:
        if self.novelty is None:
            return None
        since = start - timedelta(hours=NOVELTY_HOURS)
        hours = dense(self.buckets.get_range(Grain.HOUR, since, start), Grain.HOUR, since, start)
        series = [*history_since_traffic_began(hours[:-1]), hours[-1]]  # one read, the judged hour last
        return self.novelty([float(b.transactions) for b in series])

    # --- committing: cursor and alerts together ------------------------------------------------------------
    def _commit(self, grain: Grain, cursor: datetime | None, start: datetime, judged: Judged, now: datetime) -> bool:
        """Write the period's alerts and move the cursor past it, atomically; False when the cursor had moved."""
        for _ in range(5):
            alerts = [self._alert_for(grain, start, f, now) for f in judged.findings]
            unit = UnitOfWork().add(
                ("cursor", grain), self.cursors.advance_action(grain, cursor, start + grain.step, now)
            )
            for a in alerts:
                unit.add(("alert", a.alert_id), self.alerts.save_action(a))
            try:
                unit.commit()
            except TransactionRefused as refused:
                if refused.refused_of("cursor"):
                    return False
                if not refused.refused_of("alert"):
                    raise
                continue  # an alert changed under us (a triage update): read it again
            judged.alert_ids = [a.alert_id for a in alerts]
            return True
        raise RuntimeError(f"could not record the {grain.value} {start} after 5 attempts")

    def _alert_for(self, grain: Grain, start: datetime, finding: Finding, now: datetime) -> Alert:
        """Abnormal minutes of one kind (a drop, a spike, failed payments...) group into one alert per group
        window; an hour or a day is its own window."""
        if grain is Grain.MINUTE:
            window_start = floor_window(start, self.settings.alert_group_window_seconds)
            window_end = window_start + timedelta(seconds=self.settings.alert_group_window_seconds)
        else:
            window_start, window_end = start, start + grain.step
        fresh = open_window_alert(
            finding, finding.severity, f"shop:{grain.value}:{finding.reasons[0].code}", window_start, window_end, now
        )
        existing = self.alerts.get(fresh.alert_id)
        if existing is None:
            return fresh
        return grow(existing, finding, finding.severity, fresh.risk_score, now)
