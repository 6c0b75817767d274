"""The period a backtest judges, and the history read before it.

Why the lookback is 30 days: a transaction's point-in-time facts come from the state the transactions before
it left (`training.replay`). The longest entity window a rule can read is 30 days (`entities.WINDOWS["30d"]`),
the velocity and failure windows are minutes, so 30 days of history before `since` give every windowed
figure the value DetectFunction read. What it cannot give are all-time figures: a customer's profile (count,
usual amount, countries seen) and the one-year link sets start 30 days before `since`, so a customer older
than that looks younger to them than they were (the account's age itself is the transaction's own
`account_created_at`, unaffected). Reading further back would not cost reads (the period's Scan reads the
whole table anyway) but replay time: one day of history costs as much CPU as one day of the period.

Why at most 31 days: the replay keeps the period's and the lookback's transactions in memory and judges
them in one function run; a month of a busy shop (~150,000 transactions with its lookback) fits
BacktestFunction's memory and time with room to spare (`make bench-backtest`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from shopwatch.domain.clock import parse_iso, to_iso
from shopwatch.domain.transaction import EARLIEST
from shopwatch.errors import ValidationFailed

LOOKBACK = timedelta(days=30)
MAX_PERIOD = timedelta(days=31)
AHEAD = timedelta(days=1)


@dataclass(frozen=True)
class Period:
    since: datetime
    until: datetime

    @classmethod
    def checked(cls, since: datetime, until: datetime) -> Period:
        """The period, or ValidationFailed naming the field: times with an offset, since ≤ until, ≤ 31 days."""
        for name, moment in (("since", since), ("until", until)):
            if moment.tzinfo is None or moment.utcoffset() is None:
                raise ValidationFailed(f"{name} needs a UTC offset", {"field": name})
        if since > until:
            raise ValidationFailed("since is after until", {"field": "since"})
        if until - since > MAX_PERIOD:
            raise ValidationFailed(
                f"the period is longer than {MAX_PERIOD.days} days: backtest a month at a time", {"field": "until"}
            )
        return cls(since, until)

    @classmethod
    def requested(cls, since: datetime, until: datetime, now: datetime) -> Period:
        """`checked`, and within what can be stored: nothing before 2000, nothing more than a day ahead."""
        if since < EARLIEST:
            raise ValidationFailed(f"since is before {to_iso(EARLIEST)}: nothing is stored there", {"field": "since"})
        period = cls.checked(since, until)
        if until > now + AHEAD:
            raise ValidationFailed("until is more than a day ahead: nothing is stored there yet", {"field": "until"})
        return period

    @property
    def history_since(self) -> datetime:
        """Where the replay starts: the lookback before `since` (learned, not judged)."""
        return self.since - LOOKBACK

    def holds(self, moment: datetime) -> bool:
        return self.since <= moment <= self.until

    def days(self) -> list[date]:
        """Every UTC day the period touches, in order (the chart's x axis, days without matches included)."""
        first, last = self.since.astimezone(UTC).date(), self.until.astimezone(UTC).date()
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]

    def to_json(self) -> dict[str, str]:
        return {"since": to_iso(self.since), "until": to_iso(self.until)}

    @classmethod
    def from_json(cls, data: dict[str, str]) -> Period:
        return cls.checked(parse_iso(data["since"]), parse_iso(data["until"]))
