"""How fast cases are worked: time to first action (creation to the first analyst change) and time to close
(creation to a closing status), as median and 90th percentile over the cases created (first action) or closed
(close) in a window. Pure: the cases in, the figures out.

Why median and p90, not the mean: one case left over a weekend would move a mean by hours; the median says
what is usual and the p90 what the slow tail looks like.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from shopwatch.cases.model import Case


@dataclass(frozen=True)
class Durations:
    count: int
    median_seconds: float | None
    p90_seconds: float | None

    @classmethod
    def of(cls, seconds: list[float]) -> Durations:
        if not seconds:
            return cls(0, None, None)
        ordered = sorted(seconds)
        middle = len(ordered) // 2
        median = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
        p90 = ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]  # nearest rank
        return cls(len(ordered), round(median, 1), round(p90, 1))


@dataclass(frozen=True)
class CaseMetrics:
    opened: int  # cases created in the window
    closed: int  # cases closed in the window
    time_to_first_action: Durations
    time_to_close: Durations


def case_metrics(cases: list[Case], since: datetime, until: datetime) -> CaseMetrics:
    created = [c for c in cases if since <= c.created_at <= until]
    closed = [c for c in cases if c.closed_at is not None and since <= c.closed_at <= until]
    first = [(c.first_action_at - c.created_at).total_seconds() for c in created if c.first_action_at is not None]
    close = [(c.closed_at - c.created_at).total_seconds() for c in closed if c.closed_at is not None]
    return CaseMetrics(
        opened=len(created),
        closed=len(closed),
        time_to_first_action=Durations.of(first),
        time_to_close=Durations.of(close),
    )
