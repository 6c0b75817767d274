"""volume: sales far below (an outage, a slow day as in seed 000) or far above (bots, a flash crowd) normal.

Three questions at three grains, each with robust statistics (medians and MADs, so one past outage does not
move the baseline):
- a minute against the recent minutes (catches an outage within a minute or two of its start);
- an hour against the same hour of the week (or of the day, with less than three weeks of history), with the
  streaming novelty score of the hourly series (the core `shopwatch nab` benchmarks) as supporting evidence;
- a day against the same weekday (or the recent days): seed 000's low-performance day.
Empty buckets count as zero; nothing is judged until enough history exists.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from shopwatch.detectors.findings import Finding, Reason
from shopwatch.detectors.tails import poisson_lower_tail, poisson_upper_tail
from shopwatch.domain.buckets import Bucket, Grain
from shopwatch.domain.severity import Severity

DETECTOR = "volume"
MAD_TO_SIGMA = 1.4826


@dataclass(frozen=True)
class VolumeSettings:
    minute_baseline: int = 30  # recent minutes a minute is compared with
    minute_min_history: int = 30  # minutes since traffic began before the first minute verdict
    minute_min_rate: float = 5.0  # per-minute verdicts only for shops selling at least this much a minute
    max_tail: float = 1e-4  # how improbable the count must be as a Poisson count around the baseline
    sigmas: float = 4.0  # and how far outside the robust spread of the baseline
    drop_ratio: float = 0.5  # a drop is at most this share of normal
    spike_ratio: float = 3.0  # a spike at least this multiple of normal
    period_drop_ratio: float = 0.6  # hours and days vary more: a drop is at most 60% of normal
    period_spike_ratio: float = 2.0
    novelty_change: float = 0.25  # with a novelty score past its level, a 25% change is enough
    novelty_level: float = 0.995
    seasonal_weeks: int = 4  # same hour of the week / weekday over this many weeks, when >= 3 are known
    recent_days: int = 28  # otherwise the same hour of the day / the recent days, when >= 7 are known


@dataclass(frozen=True)
class Expectation:
    median: float
    spread: float
    basis: str  # "the same hour on the last 4 Mondays", ...
    samples: int


def _robust(values: list[float], basis: str, floor: float) -> Expectation:
    median = statistics.median(values)
    mad = statistics.median(abs(v - median) for v in values)
    return Expectation(median, max(MAD_TO_SIGMA * mad, floor), basis, len(values))


def _label(bucket: Bucket) -> str:
    formats = {
        Grain.MINUTE: "minute %Y-%m-%d %H:%M UTC",
        Grain.HOUR: "hour %Y-%m-%d %H:00 UTC",
        Grain.DAY: "day %Y-%m-%d",
    }
    return bucket.start.strftime(formats[bucket.grain])


def minute_expectation(recent: list[Bucket], settings: VolumeSettings) -> Expectation | None:
    """`recent`: the minutes since traffic began, oldest first, empty ones included."""
    if len(recent) < settings.minute_min_history:
        return None
    counts = [float(b.transactions) for b in recent[-settings.minute_baseline :]]
    expected = _robust(counts, f"the last {len(counts)} minutes", 0.0)
    if expected.median < settings.minute_min_rate:
        return None
    return Expectation(expected.median, max(expected.spread, expected.median**0.5), expected.basis, expected.samples)


def seasonal_expectation(
    period: Bucket, history: list[Bucket], value: Callable[[Bucket], float], settings: VolumeSettings
) -> Expectation | None:
    """The same hour of the week (or weekday) when three weeks are known, else the same hour of the day (or
    the recent days) when seven days are; `history` holds the buckets since traffic began, oldest first."""
    by_start = {b.start: b for b in history}
    earliest = history[0].start if history else period.start

    def back(step: timedelta, count: int) -> list[float]:
        starts = [period.start - step * i for i in range(1, count + 1)]
        return [value(by_start[s]) if s in by_start else 0.0 for s in starts if s >= earliest]

    week = timedelta(days=7)
    weekly = back(week, settings.seasonal_weeks)
    what = "same hour" if period.grain is Grain.HOUR else "same weekday"
    floor = 0.05
    if len(weekly) >= 3:
        chosen = _robust(weekly, f"the {what} in the last {len(weekly)} weeks", 0.0)
    elif period.grain is Grain.HOUR:
        daily = back(timedelta(days=1), settings.recent_days)
        if len(daily) < 7:
            return None
        chosen = _robust(daily, f"the same hour on the last {len(daily)} days", 0.0)
    else:
        daily = back(timedelta(days=1), settings.recent_days)
        if len(daily) < 7:
            return None
        chosen = _robust(daily, f"the last {len(daily)} days", 0.0)
    return Expectation(chosen.median, max(chosen.spread, floor * chosen.median), chosen.basis, chosen.samples)


def judge_minute_volume(minute: Bucket, recent: list[Bucket], settings: VolumeSettings) -> Finding | None:
    expected = minute_expectation(recent, settings)
    if expected is None:
        return None
    spread = max(expected.spread, expected.median**0.5)
    x, m = minute.transactions, expected.median
    if (
        x <= settings.drop_ratio * m
        and x < m - settings.sigmas * spread
        and poisson_lower_tail(x, m) <= settings.max_tail
    ):
        severity = Severity.HIGH if x <= 0.1 * m else Severity.MEDIUM
        return _finding(minute, "drop", "transactions", x, expected, severity)
    if (
        x >= settings.spike_ratio * m
        and x > m + settings.sigmas * spread
        and poisson_upper_tail(x, m) <= settings.max_tail
    ):
        severity = Severity.HIGH if x >= 10 * m else Severity.MEDIUM
        return _finding(minute, "spike", "transactions", x, expected, severity)
    return None


def judge_period_volume(
    period: Bucket,
    history: list[Bucket],
    currency: str,
    settings: VolumeSettings,
    novelty: float | None = None,
) -> Finding | None:
    """An hour or a day: transactions and approved revenue in `currency` against their seasonal baseline.
    `novelty`: the streaming core's score for this hour (None for days, or before its warm-up)."""
    measures: list[tuple[str, Callable[[Bucket], float]]] = [
        ("transactions", lambda b: float(b.transactions)),
        (f"revenue in {currency}", lambda b: float(b.revenue_in(currency))),
    ]
    novel = novelty is not None and novelty >= settings.novelty_level
    for measure, value in measures:
        expected = seasonal_expectation(period, history, value, settings)
        if expected is None or expected.median <= 0:
            continue
        x, m = value(period), expected.median
        spread = max(expected.spread, m**0.5) if measure == "transactions" else expected.spread
        change = (x - m) / m
        seasonal_drop = x <= settings.period_drop_ratio * m and x < m - settings.sigmas * spread
        seasonal_spike = x >= settings.period_spike_ratio * m and x > m + settings.sigmas * spread
        novel_change = novel and abs(change) >= settings.novelty_change and abs(x - m) > 2 * spread
        if seasonal_drop or (novel_change and change < 0):
            severity = Severity.HIGH if x <= 0.2 * m else Severity.MEDIUM
            return _finding(period, "drop", measure, x, expected, severity, novelty)
        if seasonal_spike or (novel_change and change > 0):
            # a busy hour or day is good news far more often than fraud: shown, not notified
            return _finding(period, "spike", measure, x, expected, Severity.LOW, novelty)
    return None


def _number(value: float, measure: str) -> str:
    return f"{value:,.2f}" if measure.startswith("revenue") else f"{value:,.0f}"


def _finding(
    bucket: Bucket,
    direction: str,
    measure: str,
    value: float,
    expected: Expectation,
    severity: Severity,
    novelty: float | None = None,
) -> Finding:
    ratio = value / expected.median
    message = (
        f"{measure} in the {_label(bucket)}: {_number(value, measure)}, {ratio:.0%} of the usual "
        f"{_number(expected.median, measure)} (median of {expected.basis}, robust spread {_number(expected.spread, measure)})"
    )
    reasons = [
        Reason(
            code=f"volume_{direction}",
            message=message,
            value=_number(value, measure),
            expected=_number(expected.median, measure),
        )
    ]
    if novelty is not None:
        reasons.append(
            Reason(
                code="pattern_novelty",
                message=f"the hourly series' novelty score is {novelty:.3f} (fires at 0.995)",
                value=f"{novelty:.3f}",
            )
        )
    kind = {("drop", Grain.DAY): "low-performance day", ("drop", Grain.MINUTE): "sales drop"}.get(
        (direction, bucket.grain), f"sales {direction}"
    )
    return Finding(
        detector=DETECTOR,
        severity=severity,
        reasons=tuple(reasons),
        description=f"{kind.capitalize()} in the {_label(bucket)}: {_number(value, measure)} {measure} against a usual {_number(expected.median, measure)}",
        score=Decimal(str(round(min(1.0, abs(1 - ratio)), 3))),
    )


def low_day(day: Bucket, history: list[Bucket], currency: str, settings: VolumeSettings) -> bool | None:
    """Seed 000's low-performance flag: None until there is enough history to say."""
    if seasonal_expectation(day, history, lambda b: float(b.transactions), settings) is None:
        return None
    finding = judge_period_volume(day, history, currency, settings)
    return finding is not None and finding.reasons[0].code == "volume_drop"
