"""status_mix: a minute whose failed, denied or reversed payments are far more than the shop's recent share.

Seed 003 fed per-minute status counts to an Isolation Forest. Counts of a minute depend on its traffic: 6
failures are alarming among 40 payments and ordinary among 2,000, and a forest on raw counts sees a busy
minute as an outlier. So each problem status is tested on its own: given the minute's transactions and the
share of that status over the recent minutes, how likely is a count this high (binomial upper tail)? The
reasons carry the count, the share and the baseline; `tests/unit/test_status_mix.py` compares this with an
Isolation Forest on the same simulated minutes.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from shopwatch.detectors.findings import Finding, Reason
from shopwatch.detectors.tails import binomial_upper_tail
from shopwatch.domain.buckets import PROBLEM_STATUSES, Bucket
from shopwatch.domain.severity import Severity

DETECTOR = "status_mix"


@dataclass(frozen=True)
class StatusMixSettings:
    baseline_minutes: int = 60  # recent minutes the usual share comes from
    min_history_minutes: int = 10  # minutes with traffic before the first verdict
    min_history_transactions: int = 100
    max_tail: float = 1e-4  # how improbable the count must be under the usual share
    min_count: int = 5  # never alert on fewer problem payments than this in a minute
    min_ratio: float = 3.0  # and the share must be at least this many times the usual one
    high_share: float = 0.25  # a quarter of the minute's payments with one problem status
    critical_share: float = 0.5


@dataclass(frozen=True)
class StatusShare:
    status: str
    count: int
    transactions: int
    usual_share: float
    tail: float

    @property
    def share(self) -> float:
        return self.count / self.transactions


def _label(minute: Bucket) -> str:
    return minute.start.strftime("%Y-%m-%d %H:%M UTC")


def judge_status_mix(minute: Bucket, recent: list[Bucket], settings: StatusMixSettings) -> Finding | None:
    """`recent`: the minutes before `minute`, empty ones included (only the last `baseline_minutes` count)."""
    baseline = recent[-settings.baseline_minutes :]
    base_total = sum(b.transactions for b in baseline)
    active = sum(1 for b in baseline if b.transactions)
    if active < settings.min_history_minutes or base_total < settings.min_history_transactions:
        return None  # not enough history to know the usual mix
    unusual = []
    for status in PROBLEM_STATUSES:
        count = minute.count(status)
        usual = (sum(b.count(status) for b in baseline) + 1) / (base_total + 2)  # never 0 or 1
        if count < settings.min_count or count / minute.transactions < settings.min_ratio * usual:
            continue
        tail = binomial_upper_tail(count, minute.transactions, usual)
        if tail <= settings.max_tail:
            unusual.append(StatusShare(status, count, minute.transactions, usual, tail))
    if not unusual:
        return None
    worst = max(unusual, key=lambda s: s.share)
    severity = (
        Severity.CRITICAL
        if worst.share >= settings.critical_share
        else Severity.HIGH
        if worst.share >= settings.high_share
        else Severity.MEDIUM
    )
    reasons = tuple(
        Reason(
            code=f"{s.status}_share",
            message=(
                f"{s.count} of {s.transactions} payments {s.status} in the minute {_label(minute)} ({s.share:.1%}); "
                f"usually {s.usual_share:.1%} over the last {len(baseline)} minutes "
                f"(chance of this many or more: {s.tail:.1e})"
            ),
            value=str(s.count),
            expected=f"{s.usual_share * s.transactions:.1f}",
        )
        for s in unusual
    )
    described = ", ".join(f"{s.count} {s.status} ({s.share:.0%}, usually {s.usual_share:.1%})" for s in unusual)
    return Finding(
        detector=DETECTOR,
        severity=severity,
        reasons=reasons,
        description=f"Minute {_label(minute)}: {described} of {minute.transactions} payments",
        score=Decimal(str(round(min(1.0, worst.share / settings.critical_share), 3))),
    )
