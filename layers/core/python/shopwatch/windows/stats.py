"""What the stats routes answer: per-minute counts per status (seed 003's /history_counts) and daily sales
with the low-performance flag (seed 000's low-sale report), both from the traffic buckets."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from shopwatch.detectors.volume import VolumeSettings, low_day
from shopwatch.domain.buckets import Bucket, Grain, dense
from shopwatch.errors import ValidationFailed
from shopwatch.storage.buckets import BucketRepository
from shopwatch.windows.service import PERIOD_LOOKBACK, history_since_traffic_began

MAX_MINUTES = 1440  # one day of minutes per request
DEFAULT_MINUTES = 60
MAX_DAYS = 366
DEFAULT_DAYS = 30


@dataclass(frozen=True)
class DayReport:
    """One day's bucket, whether the day is over, and the low-performance flag (None: not judged)."""

    bucket: Bucket
    day: date
    complete: bool
    low_performance: bool | None


@dataclass(frozen=True)
class DailyReport:
    currency: str
    days: list[DayReport]


@dataclass(frozen=True)
class StatsService:
    buckets: BucketRepository
    currency: str
    volume: VolumeSettings = field(default_factory=VolumeSettings)

    def minutes(self, since: datetime | None, until: datetime | None, now: datetime) -> list[Bucket]:
        """Each minute of [since, until]. A window longer than a day answers its last MAX_MINUTES minutes, and
        `since` after `until` none: both are answers a schema can promise, where a refusal would depend on
        how two parameters compare, which no schema can state."""
        end = until or now
        start = since or end - timedelta(minutes=DEFAULT_MINUTES - 1)
        if start > end:
            return []
        start = max(start, Grain.MINUTE.start_of(end) - timedelta(minutes=MAX_MINUTES - 1))
        return dense(self.buckets.get_range(Grain.MINUTE, start, end), Grain.MINUTE, start, end)

    def daily(self, days: int, now: datetime) -> DailyReport:
        if not 1 <= days <= MAX_DAYS:
            raise ValidationFailed(f"days must be between 1 and {MAX_DAYS}", {"field": "days", "value": days})
        today = Grain.DAY.start_of(now)
        first = today - timedelta(days=days - 1)
        since = first - PERIOD_LOOKBACK[Grain.DAY]
        every = dense(self.buckets.get_range(Grain.DAY, since, today), Grain.DAY, since, today)
        offset = len(every) - days
        report = []
        for index in range(offset, len(every)):
            day = every[index]
            closed = day.start < today
            history = history_since_traffic_began(every[max(0, index - PERIOD_LOOKBACK[Grain.DAY].days) : index])
            flag = low_day(day, history, self.currency, self.volume) if closed else None
            report.append(DayReport(day, day.start.date(), closed, flag))
        return DailyReport(self.currency, report)
