"""`shopwatch evaluate`: alerts against the simulator's ground truth.

An injected anomaly is caught when an alert of one of its expected detectors lists one of its transactions.
Alerts count for precision at or above a minimum severity (default medium: what gets notified); an alert is
a true positive when it lists an injected transaction, else a false positive of every kind its detector
serves. The model detector is general-purpose: its alert on any injected transaction is a true positive
(it caught something that is wrong), though it counts toward recall only for the kinds it is expected to
catch. Low alerts (every single failed payment, by design) are informational and reported apart.
Latency is the time from the transaction's receipt to the commit that wrote its alert (the detection
marker's processed_at), per caught anomaly's first transaction.

An alert listing a window anomaly's transactions from one of its `related_detectors` (failed payments piling
up during a failure spike) is a true positive too, without counting toward recall. Window anomalies (an
outage, a failure spike) are caught by time instead: an alert of an expected detector
created from the window's start until WINDOW_GRACE after its end catches it, and its latency is the time
from the window's start to the alert's creation (the "caught within 2 minutes" target).
"""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from infra.simulate.traffic import KIND_DETECTORS
from shopwatch.domain.alert import Alert
from shopwatch.domain.clock import parse_iso
from shopwatch.domain.severity import Severity

GENERAL_DETECTORS = frozenset({"model"})  # may rightly flag an anomaly of any kind
WINDOW_GRACE = timedelta(minutes=3)  # a closed minute is judged up to a minute and a bit after it ends


class _Scores:
    """Precision over alerts, recall over injected anomalies, and their F1, from the counts a score keeps."""

    true_alerts: int
    false_alerts: int

    @property
    def recall(self) -> float:
        injected, caught = self._recall_counts()
        return caught / injected if injected else 0.0

    @property
    def precision(self) -> float:
        total = self.true_alerts + self.false_alerts
        return self.true_alerts / total if total else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    # Without alerts precision is 0/0, without injected anomalies recall is: the numbers above keep their
    # conventional values for the targets' arithmetic, and what people read (the JSON, the table) says "none".
    @property
    def precision_defined(self) -> bool:
        return self.true_alerts + self.false_alerts > 0

    @property
    def recall_defined(self) -> bool:
        return self._recall_counts()[0] > 0

    def scores_json(self) -> dict[str, float | None]:
        """precision, recall and F1, each None when it is not defined (no alerts / nothing injected)."""
        both = self.precision_defined and self.recall_defined
        return {"precision": self.precision if self.precision_defined else None,
                "recall": self.recall if self.recall_defined else None, "f1": self.f1 if both else None}  # fmt: skip

    def _recall_counts(self) -> tuple[int, int]:
        raise NotImplementedError


@dataclass
class KindScore(_Scores):
    kind: str
    injected: int = 0
    caught: int = 0
    true_alerts: int = 0
    false_alerts: int = 0
    missed: list[str] = field(default_factory=list)

    def _recall_counts(self) -> tuple[int, int]:
        return self.injected, self.caught


@dataclass
class Evaluation(_Scores):
    kinds: dict[str, KindScore]
    alerts_considered: int
    true_alerts: int
    false_alerts: int
    informational_alerts: int
    latencies: list[float]
    false_alert_examples: list[str]
    window_latencies: dict[str, float] = field(default_factory=dict)  # window anomaly id → seconds to alert

    def _recall_counts(self) -> tuple[int, int]:
        return sum(k.injected for k in self.kinds.values()), sum(k.caught for k in self.kinds.values())

    def latency(self, quantile: float) -> float | None:
        if not self.latencies:
            return None
        if len(self.latencies) == 1:
            return self.latencies[0]
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[int(quantile * 100) - 1]

    def to_json(self) -> dict[str, Any]:
        return {
            "overall": self.scores_json() | {"alerts_considered": self.alerts_considered, "true_alerts": self.true_alerts,
                        "false_alerts": self.false_alerts, "informational_alerts": self.informational_alerts,
                        "latency_p50_seconds": self.latency(0.5), "latency_p95_seconds": self.latency(0.95)},
            "kinds": {k: asdict(v) | v.scores_json() for k, v in self.kinds.items()},
            "false_alert_examples": self.false_alert_examples,
            "window_latencies_seconds": self.window_latencies,
        }  # fmt: skip


def read_truth(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        raise FileNotFoundError(
            f"no ground truth at {path}: `shopwatch simulate` writes one (its --truth), or name yours with --truth"
        )
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def plain_notes(result: Evaluation, truth_path: Path, min_severity: str) -> list[str]:
    """What the figures cannot say, said in words: no injected anomalies, no alerts."""
    notes = []
    if not result.recall_defined:
        notes.append(
            f"The ground truth ({truth_path}) lists no injected anomalies: recall is not measured"
            + (f"; all {result.alerts_considered} alerts are on normal traffic." if result.alerts_considered else ".")
        )
    if not result.precision_defined:
        notes.append(
            f"No alerts at {min_severity} severity or above"
            + (f" ({result.informational_alerts} below it)" if result.informational_alerts else "")
            + ": precision is not defined"
            + (", and nothing injected was caught." if result.recall_defined else ".")
        )
    return notes


def evaluate(
    truth: list[dict[str, Any]],
    alerts: list[Alert],
    latencies: dict[str, float],
    min_severity: Severity = Severity.MEDIUM,
) -> Evaluation:
    kinds = {k: KindScore(k) for k in dict.fromkeys(t["kind"] for t in truth)}
    owner: dict[str, dict[str, Any]] = {tid: t for t in truth for tid in t["transaction_ids"]}
    considered = [a for a in alerts if a.severity >= min_severity]
    true_alerts = false_alerts = 0
    examples: list[str] = []
    windows = [t for t in truth if "window" in t]

    def window_matches(alert: Alert) -> list[dict[str, Any]]:
        return [
            w for w in windows
            if alert.detector in w["expected_detectors"]
            and parse_iso(w["window"]["start"]) <= alert.created_at <= parse_iso(w["window"]["end"]) + WINDOW_GRACE
        ]  # fmt: skip

    for alert in considered:
        if window_matches(alert):
            true_alerts += 1
            for w in window_matches(alert):
                kinds[w["kind"]].true_alerts += 1
            continue
        matched = {
            owner[t]["kind"]
            for t in alert.transaction_ids
            if t in owner
            and (
                alert.detector in owner[t]["expected_detectors"]
                or alert.detector in owner[t].get("related_detectors", ())
                or alert.detector in GENERAL_DETECTORS
            )
        }
        if matched:
            true_alerts += 1
            for kind in matched:
                kinds[kind].true_alerts += 1
            continue
        false_alerts += 1
        if len(examples) < 10:
            examples.append(alert.summary)
        for kind, score in kinds.items():
            if alert.detector in KIND_DETECTORS.get(kind, ()):
                score.false_alerts += 1
    found_latencies = []
    window_latencies: dict[str, float] = {}
    for anomaly in truth:
        score = kinds[anomaly["kind"]]
        score.injected += 1
        if "window" in anomaly:
            created = [a.created_at for a in considered if anomaly in window_matches(a)]
            if created:
                score.caught += 1
                window_latencies[anomaly["anomaly_id"]] = (
                    min(created) - parse_iso(anomaly["window"]["start"])
                ).total_seconds()
            else:
                score.missed.append(anomaly["anomaly_id"])
            continue
        ids = set(anomaly["transaction_ids"])
        alerted = {
            t for a in considered if a.detector in anomaly["expected_detectors"] for t in ids & set(a.transaction_ids)
        }
        if alerted:
            score.caught += 1
            delays = [latencies[t] for t in alerted if t in latencies]
            if delays:
                found_latencies.append(min(delays))
        else:
            score.missed.append(anomaly["anomaly_id"])
    return Evaluation(
        kinds=kinds,
        alerts_considered=len(considered),
        true_alerts=true_alerts,
        false_alerts=false_alerts,
        informational_alerts=len(alerts) - len(considered),
        latencies=found_latencies,
        false_alert_examples=examples,
        window_latencies=window_latencies,
    )
