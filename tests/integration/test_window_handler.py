"""WindowFunction on moto: closed minutes, hours and days judged exactly once from the traffic buckets;
outages and failure spikes become grouped alerts; replayed schedule events, late records, future timestamps,
empty minutes and a new deployment's first hour are handled as the design says."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

import pytest

from infra.local import moto_speedups
from shopwatch.domain.buckets import Grain
from shopwatch.storage.alerts import AlertRepository
from shopwatch.storage.buckets import BucketRepository
from shopwatch.storage.window_cursors import WindowCursorRepository
from tests.builders import tx
from tests.conftest import Stack, load_event

OPEN = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)  # the shop's traffic starts here (a Wednesday)


@pytest.fixture(autouse=True)
def rollback_without_copying_tables(stack):
    """The local stack's TransactWriteItems (moto's own deep-copies the whole table on every call, which for
    a thousand markers makes each tick take a second); test_moto_speedups proves the two agree."""
    moto_speedups.install()
    yield
    moto_speedups.uninstall()


def sell(
    stack: Stack, first_minute: int, minutes: int, per_minute: int = 20, status_of=lambda m, i: "approved"
) -> None:
    """`per_minute` transactions in each minute from OPEN + first_minute, counted into the buckets."""
    transactions = [
        tx(
            f"m{m}-{i}",
            f"c{i}",
            at=OPEN + timedelta(minutes=m, seconds=i * 60 / per_minute),
            status=status_of(m, i),
            amount="12.50",
        )
        for m in range(first_minute, first_minute + minutes)
        for i in range(per_minute)
    ]
    BucketRepository(stack.table("StateTable")).add(transactions, OPEN)


class Window:
    """WindowFunction with its clock set by the test."""

    def __init__(self, stack: Stack, monkeypatch) -> None:
        self.handler = stack.handler("WindowFunction")
        self.module = sys.modules["shopwatch_fn_window_app"]
        self.monkeypatch = monkeypatch

    def tick(self, at: datetime) -> list[dict]:
        self.monkeypatch.setattr(self.module, "utcnow", lambda: at)
        return self.handler(load_event("window_scheduled.json"))["judged"]


def minute_start(minutes: int) -> str:
    return (OPEN + timedelta(minutes=minutes)).isoformat()


def alerts(stack: Stack) -> list:
    return sorted(AlertRepository(stack.table("AlertsTable")).scan_all(), key=lambda a: a.created_at)


def test_an_outage_is_one_volume_alert_growing_with_each_silent_minute(stack, monkeypatch):
    sell(stack, 0, 45)
    window = Window(stack, monkeypatch)
    window.tick(OPEN + timedelta(minutes=45, seconds=5))  # judges minute 44: ordinary
    assert alerts(stack) == []
    window.tick(OPEN + timedelta(minutes=46, seconds=5))  # minute 45: nothing sold
    (alert,) = alerts(stack)
    assert (alert.detector, alert.subject, alert.severity.value, alert.occurrences) == (
        "volume",
        "shop:minute:volume_drop",
        "high",
        1,
    )
    assert alert.reasons[0].code == "volume_drop" and alert.reasons[0].expected == "20"
    assert "minute 2026-11-18 09:45 UTC" in alert.summary
    window.tick(OPEN + timedelta(minutes=47, seconds=5))  # minute 46: still nothing
    (alert,) = alerts(stack)
    assert alert.occurrences == 2 and alert.customer_id is None


def test_a_failure_spike_minute_is_a_status_mix_alert_with_counts_and_baseline(stack, monkeypatch):
    sell(
        stack, 0, 40, status_of=lambda m, i: "failed" if (m == 39 and i < 9) or (m % 10 == 0 and i == 0) else "approved"
    )
    Window(stack, monkeypatch).tick(OPEN + timedelta(minutes=40, seconds=5))
    (alert,) = alerts(stack)
    assert alert.detector == "status_mix" and alert.severity.value == "high"
    assert alert.reasons[0].value == "9" and "9 of 20 payments failed" in alert.reasons[0].message


def test_a_replayed_schedule_event_judges_nothing_and_changes_nothing(stack, monkeypatch):
    sell(stack, 0, 45)
    window = Window(stack, monkeypatch)
    at = OPEN + timedelta(minutes=46, seconds=5)
    first = window.tick(at)
    assert [j["start"] for j in first if j["grain"] == "minute"] == [minute_start(45)]
    before = stack.scan("StateTable"), stack.scan("AlertsTable")
    assert window.tick(at) == []
    assert window.tick(at + timedelta(seconds=40)) == []  # a second event within the same minute
    assert (stack.scan("StateTable"), stack.scan("AlertsTable")) == before


def test_a_late_record_updates_its_minute_which_is_not_judged_again(stack, monkeypatch):
    sell(stack, 0, 45)
    window = Window(stack, monkeypatch)
    window.tick(OPEN + timedelta(minutes=46, seconds=5))
    assert len(alerts(stack)) == 1
    BucketRepository(stack.table("StateTable")).add([tx("late", at=OPEN + timedelta(minutes=45, seconds=10))], OPEN)
    (minute,) = BucketRepository(stack.table("StateTable")).get_range(
        Grain.MINUTE, OPEN + timedelta(minutes=45), OPEN + timedelta(minutes=45)
    )
    assert minute.transactions == 1
    judged = window.tick(OPEN + timedelta(minutes=47, seconds=5))
    assert [j["start"] for j in judged if j["grain"] == "minute"] == [minute_start(46)]
    assert alerts(stack)[0].occurrences == 2  # minute 46 was silent too; minute 45 was not judged twice


def test_future_timestamps_wait_until_their_minute_has_closed(stack, monkeypatch):
    sell(stack, 0, 40)
    sell(stack, 43, 1, per_minute=400)  # a client clock 3 minutes fast: a spike-sized minute in the future
    window = Window(stack, monkeypatch)
    judged = window.tick(OPEN + timedelta(minutes=40, seconds=5))
    assert [j["start"] for j in judged if j["grain"] == "minute"] == [minute_start(39)]
    assert alerts(stack) == []
    window.tick(OPEN + timedelta(minutes=44, seconds=5))
    drop, spike = alerts(stack)  # minutes 40-42 silent, then the fast clock's minute 43
    assert (drop.reasons[0].code, drop.occurrences, spike.reasons[0].code) == ("volume_drop", 3, "volume_spike")
    assert "400" in spike.summary


def test_a_new_deployment_raises_nothing_in_its_first_half_hour_even_when_sales_stop(stack, monkeypatch):
    sell(stack, 0, 20)
    window = Window(stack, monkeypatch)
    for minute in range(20, 30):  # ten silent minutes after twenty of sales: too little history to judge
        window.tick(OPEN + timedelta(minutes=minute + 1, seconds=5))
    assert alerts(stack) == []
    judged = [j for j in window.tick(OPEN + timedelta(minutes=31, seconds=5)) if j["grain"] == "minute"]
    assert [j["start"] for j in judged] == [minute_start(30)]


def test_empty_minutes_before_the_first_sale_are_not_history(stack, monkeypatch):
    sell(stack, 50, 10)  # the shop opened at minute 50; the hour before is empty, not "zero sales"
    window = Window(stack, monkeypatch)
    window.tick(OPEN + timedelta(minutes=61, seconds=5))
    assert alerts(stack) == []


def test_after_a_gap_only_the_newest_minutes_are_judged_and_the_skip_is_bounded(stack, monkeypatch):
    sell(stack, 0, 60)
    window = Window(stack, monkeypatch)
    window.tick(OPEN + timedelta(minutes=30, seconds=5))
    judged = window.tick(OPEN + timedelta(minutes=60, seconds=5))  # 29 minutes closed since the last tick
    minutes = [j["start"] for j in judged if j["grain"] == "minute"]
    assert minutes == [minute_start(m) for m in range(45, 60)]
    assert WindowCursorRepository(stack.table("StateTable")).get(Grain.MINUTE) == OPEN + timedelta(minutes=60)


def test_hours_and_days_are_judged_once_when_they_close(stack, monkeypatch):
    sell(stack, 0, 65, per_minute=2)
    window = Window(stack, monkeypatch)
    window.tick(OPEN + timedelta(minutes=59, seconds=30))
    judged = window.tick(OPEN + timedelta(minutes=60, seconds=5))
    assert [(j["grain"], j["start"]) for j in judged] == [("minute", minute_start(59)), ("hour", OPEN.isoformat())]
    assert [j["grain"] for j in window.tick(OPEN + timedelta(minutes=61, seconds=5))] == ["minute"]


def test_a_new_deployment_judges_hours_and_days_from_the_first_that_closes_after_it(stack, monkeypatch):
    """The hour and the day that closed before Shopwatch ran were seen through backfilled history at best."""
    sell(stack, 0, 65, per_minute=2)
    window = Window(stack, monkeypatch)
    judged = window.tick(OPEN + timedelta(minutes=60, seconds=5))  # the first tick: hour 0 closed just before
    assert [j["grain"] for j in judged] == ["minute"]
    cursors = WindowCursorRepository(stack.table("StateTable"))
    assert cursors.get(Grain.HOUR) == OPEN + timedelta(hours=1)  # the hour in progress, judged when it closes
    assert cursors.get(Grain.DAY) == OPEN.replace(hour=0)  # likewise today


def test_an_hour_is_judged_with_the_novelty_core_on_the_hourly_series_ending_with_it(stack, monkeypatch):
    sell(stack, 0, 3 * 60, per_minute=1)
    window = Window(stack, monkeypatch)
    series = []
    monkeypatch.setattr(window.module.service, "novelty", lambda values: series.append(values) or 0.0)
    window.tick(OPEN + timedelta(hours=2, minutes=59, seconds=30))  # deployed during the third hour
    window.tick(OPEN + timedelta(hours=3, seconds=5))
    # the hours since traffic began (its first hour left out: a first bucket is usually partial), this one last
    assert series == [[60.0, 60.0]]
