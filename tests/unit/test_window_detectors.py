"""The windowed detectors on hand-made buckets: status_mix, minute, hour and day volume, and count tails."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from shopwatch.detectors.status_mix import StatusMixSettings, judge_status_mix
from shopwatch.detectors.tails import binomial_upper_tail, poisson_lower_tail, poisson_upper_tail
from shopwatch.detectors.volume import VolumeSettings, judge_minute_volume, judge_period_volume, low_day
from shopwatch.domain.buckets import Bucket, Grain, buckets_of, dense
from shopwatch.domain.severity import Severity
from tests.builders import tx

T0 = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)  # a Monday
MIX = StatusMixSettings()
VOLUME = VolumeSettings()


def minute(i: int, n: int = 100, failed: int = 2, denied: int = 1, reversed_: int = 1) -> Bucket:
    approved = n - failed - denied - reversed_
    statuses = {"approved": approved, "failed": failed, "denied": denied, "reversed": reversed_}
    return Bucket(Grain.MINUTE, T0 + timedelta(minutes=i), n, statuses, {"USD": Decimal(approved * 20)})


def period(grain: Grain, start: datetime, n: int, revenue: str | None = None) -> Bucket:
    return Bucket(grain, start, n, {"approved": n}, {"USD": Decimal(revenue if revenue else n * 20)})


def poisson_minutes(count: int, mean: float, seed: int = 1) -> list[Bucket]:
    rng = random.Random(seed)
    result = []
    for i in range(count):
        n = sum(1 for _ in range(int(mean * 4)) if rng.random() < 0.25)
        failed = sum(1 for _ in range(n) if rng.random() < 0.025)
        result.append(minute(i, max(n, failed), failed, 0, 0))
    return result


def test_tails_match_closed_forms():
    assert binomial_upper_tail(1, 10, 0.1) == pytest.approx(1 - 0.9**10)
    assert binomial_upper_tail(10, 10, 0.5) == pytest.approx(0.5**10)
    assert binomial_upper_tail(0, 10, 0.5) == 1.0 and binomial_upper_tail(11, 10, 0.5) == 0.0
    assert poisson_lower_tail(0, 20.0) == pytest.approx(math.exp(-20))
    assert poisson_upper_tail(1, 3.0) == pytest.approx(1 - math.exp(-3))
    assert poisson_lower_tail(3, 2.0) + poisson_upper_tail(4, 2.0) == pytest.approx(1.0)


def test_a_failure_spike_minute_is_a_status_mix_finding_with_counts_and_baseline_in_the_reasons():
    finding = judge_status_mix(minute(60, failed=30), [minute(i) for i in range(60)], MIX)
    assert finding is not None and finding.detector == "status_mix"
    assert finding.severity is Severity.HIGH  # 30% of payments failing
    (reason,) = finding.reasons
    assert reason.code == "failed_share" and reason.value == "30"
    assert "30 of 100 payments failed" in reason.message and "usually 2.0%" in reason.message


def test_half_the_payments_failing_is_critical_and_several_statuses_are_named():
    finding = judge_status_mix(minute(60, failed=50, denied=20), [minute(i) for i in range(60)], MIX)
    assert finding.severity is Severity.CRITICAL
    assert [r.code for r in finding.reasons] == ["failed_share", "denied_share"]


def test_ordinary_noise_and_a_busy_minute_with_the_usual_share_are_not_status_mix_findings():
    minutes = poisson_minutes(300, 100)
    assert [judge_status_mix(m, minutes[i - 60 : i], MIX) for i, m in enumerate(minutes) if i >= 60] == [None] * 240
    assert (
        judge_status_mix(minute(60, n=2000, failed=50, denied=20, reversed_=20), [minute(i) for i in range(60)], MIX)
        is None
    )


def test_status_mix_waits_for_history():
    assert judge_status_mix(minute(5, failed=60), [minute(i) for i in range(5)], MIX) is None
    assert (
        judge_status_mix(
            minute(60, failed=60), [minute(i, n=5, failed=0, denied=0, reversed_=0) for i in range(12)], MIX
        )
        is None
    )


def test_a_silent_minute_after_steady_sales_is_a_high_volume_drop():
    recent = [minute(i, n=40) for i in range(40)]
    finding = judge_minute_volume(Bucket(Grain.MINUTE, T0 + timedelta(minutes=40)), recent, VOLUME)
    assert finding is not None and finding.severity is Severity.HIGH
    assert finding.reasons[0].code == "volume_drop" and finding.reasons[0].expected == "40"
    assert "0%" in finding.reasons[0].message


def test_a_tenfold_minute_is_a_volume_spike():
    recent = [minute(i, n=40) for i in range(40)]
    finding = judge_minute_volume(minute(40, n=400), recent, VOLUME)
    assert finding.reasons[0].code == "volume_spike" and finding.severity is Severity.HIGH


def test_poisson_noise_is_not_a_volume_finding_and_small_shops_get_no_minute_verdicts():
    minutes = poisson_minutes(400, 20, seed=3)
    assert [judge_minute_volume(m, minutes[:i], VOLUME) for i, m in enumerate(minutes)] == [None] * 400
    slow = [minute(i, n=i % 3) for i in range(60)]
    assert judge_minute_volume(Bucket(Grain.MINUTE, T0 + timedelta(hours=1)), slow, VOLUME) is None


def test_no_minute_volume_verdict_before_thirty_minutes_of_history():
    recent = [minute(i, n=40) for i in range(29)]
    assert judge_minute_volume(Bucket(Grain.MINUTE, T0 + timedelta(minutes=29)), recent, VOLUME) is None


def weekly_hours(weeks: int, per_hour: int = 100) -> list[Bucket]:
    """Hours with a daily shape (quiet nights), `weeks` weeks long."""
    hours = []
    for i in range(weeks * 7 * 24):
        start = T0 + timedelta(hours=i)
        hours.append(period(Grain.HOUR, start, per_hour if 8 <= start.hour < 22 else per_hour // 10))
    return hours


def test_an_hour_far_below_the_same_hour_of_the_week_is_a_drop_and_a_quiet_night_is_not():
    history = weekly_hours(4)
    now = T0 + timedelta(weeks=4, hours=14)
    finding = judge_period_volume(period(Grain.HOUR, now, 30), history, "USD", VOLUME)
    assert finding is not None and finding.reasons[0].code == "volume_drop"
    assert "the same hour in the last 4 weeks" in finding.reasons[0].message
    night = T0 + timedelta(weeks=4, hours=3)
    assert judge_period_volume(period(Grain.HOUR, night, 10), history, "USD", VOLUME) is None


def test_an_hour_uses_the_same_hour_of_the_day_with_one_week_and_nothing_with_less():
    history = weekly_hours(1)
    now = T0 + timedelta(weeks=1, hours=14)
    finding = judge_period_volume(period(Grain.HOUR, now, 20), history, "USD", VOLUME)
    assert "the same hour on the last 7 days" in finding.reasons[0].message
    assert judge_period_volume(period(Grain.HOUR, now, 20), history[-24 * 5 :], "USD", VOLUME) is None


def test_revenue_alone_can_drop_and_a_novel_hour_needs_only_a_quarter_change():
    history = weekly_hours(4)
    now = T0 + timedelta(weeks=4, hours=14)
    finding = judge_period_volume(period(Grain.HOUR, now, 100, revenue="300"), history, "USD", VOLUME)
    assert finding.reasons[0].message.startswith("revenue in USD")
    assert judge_period_volume(period(Grain.HOUR, now, 70), history, "USD", VOLUME) is None
    novel = judge_period_volume(period(Grain.HOUR, now, 70), history, "USD", VOLUME, novelty=0.999)
    assert novel.reasons[0].code == "volume_drop" and novel.reasons[1].code == "pattern_novelty"


def test_a_low_sales_day_is_flagged_as_in_seed_000_once_there_is_history():
    days = [period(Grain.DAY, T0 + timedelta(days=i), 1000 + (i % 7) * 20) for i in range(28)]
    slow = period(Grain.DAY, T0 + timedelta(days=28), 400)
    assert low_day(slow, days, "USD", VOLUME) is True
    assert low_day(period(Grain.DAY, T0 + timedelta(days=28), 1010), days, "USD", VOLUME) is False
    assert low_day(slow, days[-5:], "USD", VOLUME) is None  # five days of history: too few to say


def test_buckets_merge_a_batch_and_missing_buckets_are_empty():
    txs = [
        tx(f"t{i}", at=T0 + timedelta(seconds=20 * i), status="failed" if i == 2 else "approved", amount="5.00")
        for i in range(6)
    ]
    merged = {(b.grain, b.start): b for b in buckets_of(txs)}
    first = merged[(Grain.MINUTE, T0)]
    assert (first.transactions, first.count("failed"), first.revenue_in("USD")) == (3, 1, Decimal("10.00"))
    assert merged[(Grain.DAY, T0)].transactions == 6
    filled = dense(merged.values(), Grain.MINUTE, T0, T0 + timedelta(minutes=3))
    assert [b.transactions for b in filled] == [3, 3, 0, 0]


def test_tails_far_out_underflow_to_zero_instead_of_looping():
    assert poisson_upper_tail(100_000, 1.0) == 0.0
    assert binomial_upper_tail(9_000, 10_000, 0.01) == 0.0
