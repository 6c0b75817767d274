"""Alert severities, ordered, so that escalation and filters compare them by rank rather than by name."""

from __future__ import annotations

from enum import StrEnum


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls(text.strip().lower())
        except ValueError:
            raise ValueError(f"unknown severity {text!r}; expected one of {', '.join(s.value for s in cls)}") from None

    @classmethod
    def from_rank(cls, rank: int) -> Severity:
        return _BY_RANK[max(1, min(4, rank))]

    def __ge__(self, other: str) -> bool:
        return self.rank >= Severity(other).rank

    def __gt__(self, other: str) -> bool:
        return self.rank > Severity(other).rank

    def __le__(self, other: str) -> bool:
        return self.rank <= Severity(other).rank

    def __lt__(self, other: str) -> bool:
        return self.rank < Severity(other).rank


_RANKS = {Severity.LOW: 1, Severity.MEDIUM: 2, Severity.HIGH: 3, Severity.CRITICAL: 4}
_BY_RANK = {rank: severity for severity, rank in _RANKS.items()}


def max_severity(*severities: Severity) -> Severity:
    return max(severities, key=lambda s: s.rank)
