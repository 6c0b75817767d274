"""Normal traffic of the simulated shop, for training the default model (`make train`).

A week of it, so every hour and weekday is seen, from many customers with a few purchases each (a history
of three backdated purchases, then a few live ones), which is what the demo and a young shop look like. No
anomalies are injected: the model learns what normal is, and the simulator's injected kinds test it.
Deterministic for a seed; the start is a fixed Monday so the same seed gives the same data on any day.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from infra.simulate.shop import Shop, build_shop
from infra.simulate.traffic import TrafficPlanner

START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday, long past: the ingest contract refuses future timestamps


def normal_traffic(
    seed: int = 7, customers: int = 10_000, days: float = 7.0, rate: float = 0.05
) -> tuple[list[dict[str, Any]], Shop]:
    """The shop's warm-up history and `days` of live traffic at `rate` per second, as ingest JSON."""
    shop = build_shop(seed, customers)
    warmup = TrafficPlanner(shop, seed, START).warmup()
    live = TrafficPlanner(shop, seed + 1, START)
    live.counter = len(warmup)
    plan = live.plan(rate, days * 86_400, 0.0, ())
    return [p.transaction for p in warmup + plan.live], shop
