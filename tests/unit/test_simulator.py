"""The simulator: deterministic with a seed, human-paced normal customers, every injected kind labelled."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from infra.simulate.shop import build_shop
from infra.simulate.traffic import CUSTOMER_MIN_GAP, DEFAULT_KINDS, KIND_DETECTORS, TrafficPlanner, WindowAnomaly
from shopwatch.domain.clock import parse_iso, to_iso

START = datetime(2025, 9, 16, 16, 0, tzinfo=UTC)


def plan(seed: int = 7):
    return TrafficPlanner(build_shop(seed, 800), seed, START).plan(
        rate=10, duration=60, anomaly_rate=0.05, kinds=DEFAULT_KINDS
    )


def test_the_same_seed_gives_the_same_traffic():
    first, second = plan(), plan()
    assert [p.transaction for p in first.live] == [p.transaction for p in second.live]
    assert [a.transaction_ids for a in first.anomalies] == [a.transaction_ids for a in second.anomalies]
    assert [p.transaction for p in plan(8).live] != [p.transaction for p in first.live]


def test_every_default_kind_is_injected_and_labelled_with_its_detectors():
    anomalies = plan().anomalies
    assert set(Counter(a.kind for a in anomalies)) == set(DEFAULT_KINDS)
    for anomaly in anomalies:
        assert anomaly.expected_detectors == KIND_DETECTORS[anomaly.kind]
        assert anomaly.transaction_ids


def test_normal_customers_buy_at_human_pace():
    injected = {t for a in plan().anomalies for t in a.transaction_ids}
    last: dict[str, float] = {}
    for planned in plan().live:
        tx = planned.transaction
        if tx["transaction_id"] in injected:
            continue
        if tx["customer_id"] in last:
            assert planned.offset - last[tx["customer_id"]] >= CUSTOMER_MIN_GAP
        last[tx["customer_id"]] = planned.offset


def test_warm_up_history_is_backdated_and_approved():
    planner = TrafficPlanner(build_shop(7, 50), 7, START)
    history = planner.warmup()
    assert len(history) == 50 * 3
    assert all(p.transaction["timestamp"] < "2025-09-16" for p in history)
    assert all("status" not in p.transaction for p in history)


def test_a_bot_burst_is_eight_transactions_within_twelve_seconds():
    result = plan()
    burst = next(a for a in result.anomalies if a.kind == "bot_burst")
    times = sorted(p.offset for p in result.live if p.transaction["transaction_id"] in burst.transaction_ids)
    assert len(times) == 8 and times[-1] - times[0] <= 12


def test_too_few_customers_for_the_rate_is_refused_with_the_number_needed():
    with pytest.raises(ValueError, match="use --customers 751 or more"):
        TrafficPlanner(build_shop(7, 100), 7, START).plan(rate=10, duration=10, anomaly_rate=0, kinds=DEFAULT_KINDS)


def test_history_follows_each_customers_daily_rhythm():
    shop = build_shop(7, 50)
    history = TrafficPlanner(shop, 7, START).warmup()
    peaks = {c.customer_id: c.peak_hour for c in shop.customers}
    for planned in history:
        hour = datetime.fromisoformat(planned.transaction["timestamp"].replace("Z", "+00:00"))
        minutes = hour.hour * 60 + hour.minute
        assert abs(minutes - peaks[planned.transaction["customer_id"]] * 60) <= 90


def test_an_outage_sends_nothing_and_a_failure_spike_fails_a_share_of_payments_in_their_windows():
    windows = (WindowAnomaly("failure_spike", 30.0, 60.0), WindowAnomaly("outage", 150.0, 120.0))
    traffic = TrafficPlanner(build_shop(7, 800), 7, START).plan(10, 300, 0.0, DEFAULT_KINDS, windows)
    assert not [p for p in traffic.live if 150 <= p.offset < 270]
    spike = [p.transaction for p in traffic.live if 30 <= p.offset < 90]
    failing = [t for t in spike if t["status"] in ("failed", "denied")]
    assert 0.35 < len(failing) / len(spike) < 0.5
    assert {t["transaction_id"] for t in failing} >= set(traffic.window_transactions[0])
    truth = windows[1].truth("W0002", START, [])
    assert (truth["kind"], truth["expected_detectors"], truth["window"]["start"]) == (
        "outage",
        ["volume"],
        to_iso(START + timedelta(seconds=150)),
    )


def test_recent_traffic_fills_the_minutes_before_live_traffic_at_the_given_rate():
    planner = TrafficPlanner(build_shop(7, 800), 7, START)
    recent = planner.recent(5.0, START - timedelta(minutes=12), START)
    moments = sorted(parse_iso(p.transaction["timestamp"]) for p in recent)
    assert len(recent) == 3600 and moments[0] == START - timedelta(minutes=12) and moments[-1] < START
