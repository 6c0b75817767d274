"""What a backtest counts as the replay passes: bounded whatever the period holds (counters, one count per day
of the period, at most MAX_EXAMPLES example matches), so a job's result fits one StateTable item.

Labels are the shop's word on a transaction (`training.labels.merged_labels`: chargebacks and reports on the
transaction, analysts' feedback on its alerts). Precision is over the labelled matches only (an unlabelled
match is neither right nor wrong yet); recall is the share of the period's fraud-labelled transactions the rule
matches. Either is null when there is nothing to divide by.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from shopwatch.backtest.period import Period
from shopwatch.domain.clock import parse_iso, to_iso
from shopwatch.domain.transaction import Transaction
from shopwatch.training.labels import FRAUD, LEGITIMATE

MAX_EXAMPLES = 50
MAX_ERROR_CHARS = 300  # the first error kept, cut: cel-cpp's messages name the expression's parts


@dataclass
class Tally:
    period: Period
    labels: Mapping[str, str]  # transaction id -> "fraud" | "legitimate"
    alerted: frozenset[str]  # ids of the transactions existing alerts list
    evaluated: int = 0
    matches: int = 0
    per_day: Counter[str] = field(default_factory=Counter)
    fraud: int = 0
    legitimate: int = 0
    fraud_in_period: int = 0
    overlap_with_alerts: int = 0
    examples: list[dict[str, Any]] = field(default_factory=list)
    errors: int = 0
    first_error: str | None = None

    def add(self, tx: Transaction, matched: bool, error: str | None = None) -> None:
        self.evaluated += 1
        if error is not None:
            self.errors += 1
            if self.first_error is None:
                self.first_error = f"{tx.transaction_id}: {error}"[:MAX_ERROR_CHARS]
        label = self.labels.get(tx.transaction_id)
        self.fraud_in_period += label == FRAUD
        if not matched:
            return
        self.matches += 1
        self.per_day[tx.timestamp.astimezone(UTC).date().isoformat()] += 1
        self.fraud += label == FRAUD
        self.legitimate += label == LEGITIMATE
        alerted = tx.transaction_id in self.alerted
        self.overlap_with_alerts += alerted
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append(
                {
                    "transaction_id": tx.transaction_id,
                    "timestamp": to_iso(tx.timestamp),
                    "amount": str(tx.amount),
                    "currency": tx.currency,
                    "customer_id": tx.customer_id,
                    "labelled": label if label in (FRAUD, LEGITIMATE) else None,
                    "alerted": alerted,
                }
            )

    def result(self) -> BacktestResult:
        labelled = self.fraud + self.legitimate
        return BacktestResult(
            period=self.period,
            evaluated=self.evaluated,
            matches=self.matches,
            matches_per_day=tuple((d.isoformat(), self.per_day.get(d.isoformat(), 0)) for d in self.period.days()),
            fraud=self.fraud,
            legitimate=self.legitimate,
            precision=round(self.fraud / labelled, 4) if labelled else None,
            recall=round(self.fraud / self.fraud_in_period, 4) if self.fraud_in_period else None,
            fraud_in_period=self.fraud_in_period,
            overlap_with_alerts=self.overlap_with_alerts,
            examples=tuple(self.examples),
            errors=self.errors,
            first_error=self.first_error,
        )


@dataclass(frozen=True)
class BacktestResult:
    period: Period
    evaluated: int
    matches: int
    matches_per_day: tuple[tuple[str, int], ...]  # (YYYY-MM-DD, matches), every day of the period
    fraud: int
    legitimate: int
    precision: float | None
    recall: float | None
    fraud_in_period: int
    overlap_with_alerts: int
    examples: tuple[dict[str, Any], ...]
    errors: int = 0  # transactions the expression failed on (counted as not matching)
    first_error: str | None = None

    @property
    def unlabelled(self) -> int:
        return self.matches - self.fraud - self.legitimate

    def to_json(self) -> dict[str, Any]:
        """The wire shape (rules_spec: Backtest result) with the period and the fraud the recall divides by
        added."""
        return {
            **self.period.to_json(),
            "evaluated": self.evaluated,
            "matches": self.matches,
            "matches_per_day": [{"day": day, "matches": n} for day, n in self.matches_per_day],
            "fraud": self.fraud,
            "legitimate": self.legitimate,
            "unlabelled": self.unlabelled,
            "precision": self.precision,
            "recall": self.recall,
            "fraud_in_period": self.fraud_in_period,
            "overlap_with_alerts": self.overlap_with_alerts,
            "examples": list(self.examples),
            "errors": self.errors,
            "first_error": self.first_error,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BacktestResult:
        return cls(
            period=Period(parse_iso(data["since"]), parse_iso(data["until"])),
            evaluated=int(data["evaluated"]),
            matches=int(data["matches"]),
            matches_per_day=tuple((d["day"], int(d["matches"])) for d in data["matches_per_day"]),
            fraud=int(data["fraud"]),
            legitimate=int(data["legitimate"]),
            precision=data["precision"],
            recall=data["recall"],
            fraud_in_period=int(data["fraud_in_period"]),
            overlap_with_alerts=int(data["overlap_with_alerts"]),
            examples=tuple(data["examples"]),
            errors=int(data.get("errors", 0)),  # a job stored before errors were counted
            first_error=data.get("first_error"),
        )
