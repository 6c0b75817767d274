"""Running a traffic plan against a Shopwatch URL in real time, and writing the ground truth."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from rich.progress import Progress

from infra.client import ShopwatchClient
from infra.simulate.shop import Shop, build_shop
from infra.simulate.traffic import Planned, TrafficPlanner, WindowAnomaly
from shopwatch.domain.buckets import Grain
from shopwatch.domain.clock import utcnow

RECENT_LEAD = timedelta(seconds=90)  # recent traffic runs this far ahead of the clock, while it is being sent


@dataclass
class SimulationReport:
    warmup_sent: int
    live_sent: int
    accepted: int
    duplicates: int
    rejected: int
    anomalies: int
    truth_path: Path
    seconds: float


def _send_all(client: ShopwatchClient, transactions: list[dict[str, Any]], totals: dict[str, int]) -> None:
    result = client.post_transactions(transactions)
    for key in ("accepted", "duplicates", "rejected"):
        totals[key] += len(result[key])


def _send_history(
    client: ShopwatchClient, planned: list[Planned], totals: dict[str, int], progress: Progress, label: str
) -> None:
    """Backdated transactions as fast as the API takes them, 100 per request."""
    task = progress.add_task(label, total=len(planned))
    for start in range(0, len(planned), 100):
        chunk = [p.transaction for p in planned[start : start + 100]]
        _send_all(client, chunk, totals)
        progress.advance(task, len(chunk))


def run_simulation(
    url: str,
    api_key: str,
    *,
    rate: float,
    duration: float,
    anomaly_rate: float,
    seed: int,
    kinds: tuple[str, ...],
    truth_path: Path,
    customers: int = 800,
    batch_size: int = 25,
    load_catalog: Callable[[Shop], None] | None = None,
    after_warmup: Callable[[list[str]], None] | None = None,
    after_recent: Callable[[], None] | None = None,
    show_progress: bool = True,
    recent_minutes: float = 0.0,
    recent_rate: float | None = None,
    windows: tuple[WindowAnomaly, ...] = (),
) -> SimulationReport:
    """Warm-up history first (as fast as the API takes it), then `after_warmup(ids)` (wait until it is
    detected, so customers have habits), then live traffic at `rate` for `duration` seconds.

    With `recent_minutes`, the shop's ordinary traffic of the last minutes (at `recent_rate`, default the
    live rate) is sent after the warm-up, running up to the next whole minute after a short lead, then
    `after_recent()`; live traffic starts exactly there, so the windowed detectors see continuous minutes
    with a baseline.
    `windows`: outages and failure spikes in live time."""
    client = ShopwatchClient(url, api_key)
    shop = build_shop(seed, customers)
    if load_catalog is not None:
        load_catalog(shop)
    totals = {"accepted": 0, "duplicates": 0, "rejected": 0}
    started = time.monotonic()
    warmup = TrafficPlanner(shop, seed, utcnow()).warmup()
    with Progress(disable=not show_progress, transient=False) as progress:
        _send_history(client, warmup, totals, progress, "warm-up: customer history")

        if after_warmup is not None:
            progress.console.print("waiting for the warm-up to be detected (customer habits, SKU prices)")
            after_warmup([p.transaction["transaction_id"] for p in warmup])
        recent: list[Planned] = []
        live_start = utcnow()
        if recent_minutes > 0:
            live_start = Grain.MINUTE.start_of(utcnow() + RECENT_LEAD) + Grain.MINUTE.step
            planner = TrafficPlanner(shop, seed + 2, live_start)
            planner.counter = len(warmup)
            recent = planner.recent(recent_rate or rate, live_start - timedelta(minutes=recent_minutes), live_start)
            _send_history(client, recent, totals, progress, "recent traffic: a baseline for the windowed detectors")
            if after_recent is not None:
                after_recent()
            wait = (live_start - utcnow()).total_seconds()
            if wait < 0:
                progress.console.print(f"[yellow]recent traffic took {-wait:.0f} s longer than its lead[/yellow]")
            time.sleep(max(0.0, wait))
        planner = TrafficPlanner(shop, seed + 1, live_start)
        planner.counter = len(warmup) + len(recent)
        plan = planner.plan(rate, duration, anomaly_rate, kinds, windows)
        task = progress.add_task(f"live traffic at {rate:g}/s", total=len(plan.live))
        clock0 = time.monotonic()
        sent_at: dict[str, Any] = {}
        queue: list[Planned] = list(plan.live)
        while queue:
            now = time.monotonic() - clock0
            due = [p for p in queue if p.offset <= now]
            if not due:
                time.sleep(min(0.05, queue[0].offset - now))
                continue
            queue = queue[len(due) :]
            for start in range(0, len(due), batch_size):
                chunk = [p.transaction for p in due[start : start + batch_size]]
                moment = utcnow()
                for tx in chunk:
                    sent_at[tx["transaction_id"]] = moment
                _send_all(client, chunk, totals)
                progress.advance(task, len(chunk))

    truth_path.parent.mkdir(parents=True, exist_ok=True)
    with truth_path.open("w") as handle:
        for anomaly in plan.anomalies:
            handle.write(json.dumps(anomaly.truth(sent_at[anomaly.transaction_ids[0]])) + "\n")
        for index, window in enumerate(plan.windows):
            truth = window.truth(f"W{index + 1:04d}", live_start, plan.window_transactions.get(index, []))
            handle.write(json.dumps(truth) + "\n")
    return SimulationReport(
        warmup_sent=len(warmup) + len(recent),
        live_sent=len(plan.live),
        accepted=totals["accepted"],
        duplicates=totals["duplicates"],
        rejected=totals["rejected"],
        anomalies=len(plan.anomalies) + len(plan.windows),
        truth_path=truth_path,
        seconds=time.monotonic() - started,
    )
