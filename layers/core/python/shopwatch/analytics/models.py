"""Champion against challenger on what actually happened: labelled transactions (analysts' verdicts and
chargebacks) and every transaction each one scored.

For each of the two versions:
- ROC AUC of its forest score on the labelled transactions it scored (fraud as the positive class, a lower
  score is more anomalous; ties count half): how well it ranks fraud above legitimate, threshold-free; and
  the ROC AUC of the risk score it gave (`risk_roc_auc`: the champion's is the transaction's own, the
  challenger's is what its learned or hand-set combination would have said), which is what analysts sort by;
- precision at the paging budget: the shop pages on at most ~1% of its traffic (DESIGN §5), so the threshold
  is the score that keeps at most 1% of *all* the transactions it scored in the window past it (from the
  per-day score histograms, model_stats, to 0.01), and precision is the share of fraud among the labelled
  transactions at or past it;
- alerts per day: the transactions it called outliers, per day it scored any (the challenger's are what it
  would have raised).
A version's scores come from the labels (copied from the marker when the label was given) or, while it lives
(7 days), from the marker itself. Labelled transactions a version never scored do not count for it, so the
two may be judged on different sets: each says how many it had.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shopwatch.analytics import ranking
from shopwatch.detectors.model import ModelScore
from shopwatch.storage.labels import LabelRepository
from shopwatch.storage.model_stats import BINS, DayStats, ModelStatsRepository
from shopwatch.storage.models import ModelRegistry
from shopwatch.storage.state import StateRepository

PAGING_BUDGET = 0.01  # DESIGN §5: at most ~1% of normal traffic pages at medium or above
FRAUD = "fraud"


def roc_auc(fraud_scores: Sequence[float], legit_scores: Sequence[float]) -> float | None:
    """P(a fraud scores as more anomalous than a legitimate one), ties half, over forest scores (lower = more
    anomalous). None without both classes."""
    if not fraud_scores or not legit_scores:
        return None
    labels = [1] * len(fraud_scores) + [0] * len(legit_scores)
    return ranking.roc_auc(labels, [-s for s in (*fraud_scores, *legit_scores)])


def budget_threshold(bins: Counter[int], budget: float = PAGING_BUDGET) -> float | None:
    """The score at or below which the most anomalous scores lie, at most `budget` of those counted (the upper
    edge of the last histogram bin that keeps within it; the most anomalous bin alone when it holds more).
    None when nothing was scored."""
    total = sum(bins.values())
    if total == 0:
        return None
    allowed, seen, threshold = budget * total, 0, None
    for k in sorted(bins, reverse=True):  # most anomalous bin first
        seen += bins[k]
        if seen > allowed and threshold is not None:
            break
        threshold = -k / BINS
    return threshold


@dataclass(frozen=True)
class VersionOutcome:
    role: str
    version: str
    labelled_fraud: int
    labelled_legitimate: int
    roc_auc: float | None
    threshold_score: float | None
    precision_at_budget: float | None
    paged_labelled: int  # labelled transactions at or past the threshold
    scored: int
    alerts_per_day: float | None
    days: int  # days in the window it scored anything
    risk_roc_auc: float | None = None  # the same, ranking by the risk score it gave (what analysts sort by)
    risk_scored: int = 0  # labelled transactions it gave a risk score


def compare_version(
    role: str,
    version: str,
    labelled: Iterable[tuple[bool, float]],
    days: dict[Any, DayStats],
    risks: Iterable[tuple[bool, float]] = (),
) -> VersionOutcome:
    """`labelled`: (fraud?, forest score) per labelled transaction it scored; `risks`: (fraud?, risk score)."""
    pairs = list(labelled)
    risk_pairs = list(risks)
    # the risk ranks the other way (higher = riskier): negated, the forest's Mann-Whitney statistic applies
    risk_auc = roc_auc([-r for f, r in risk_pairs if f], [-r for f, r in risk_pairs if not f])
    fraud = [s for is_fraud, s in pairs if is_fraud]
    legit = [s for is_fraud, s in pairs if not is_fraud]
    bins: Counter[int] = Counter()
    for stats in days.values():
        bins.update(stats.bins)
    threshold = budget_threshold(bins)
    paged = [is_fraud for is_fraud, s in pairs if threshold is not None and s <= threshold]
    active = [d for d in days.values() if d.scored]
    return VersionOutcome(
        role=role,
        version=version,
        labelled_fraud=len(fraud),
        labelled_legitimate=len(legit),
        roc_auc=None if (auc := roc_auc(fraud, legit)) is None else round(auc, 4),
        threshold_score=threshold,
        precision_at_budget=round(sum(paged) / len(paged), 4) if paged else None,
        paged_labelled=len(paged),
        scored=sum(d.scored for d in days.values()),
        alerts_per_day=round(sum(d.outliers for d in active) / len(active), 2) if active else None,
        days=len(active),
        risk_roc_auc=None if risk_auc is None else round(risk_auc, 4),
        risk_scored=len(risk_pairs),
    )


@dataclass(frozen=True)
class Comparison:
    """GET /analytics/models: each version's outcome on `labelled` labelled transactions over `days` days."""

    days: int
    paging_budget: float
    labelled: int
    models: list[VersionOutcome]


class ModelAnalytics:
    def __init__(
        self, registry: ModelRegistry, labels: LabelRepository, state: StateRepository, stats: ModelStatsRepository
    ) -> None:
        self.registry = registry
        self.labels = labels
        self.state = state
        self.stats = stats

    def compare(self, days: int, now: datetime) -> Comparison:
        pointers = self.registry.pointers()
        labels = self.labels.all()
        scores = self._scores(labels)
        since, until = (now - timedelta(days=days - 1)).date(), now.date()
        compared = []
        for role, version in (("champion", pointers.champion), ("challenger", pointers.challenger)):
            if version is None:
                continue
            mine = [
                (label["label"] == FRAUD, score)
                for label in labels
                for score in scores.get(label["transaction_id"], ())
                if score.version == version
            ]
            labelled = [(is_fraud, score.score) for is_fraud, score in mine]
            risks = [(is_fraud, score.risk_score) for is_fraud, score in mine if score.risk_score is not None]
            days_stats = self.stats.days(version, since, until)
            compared.append(compare_version(role, version, labelled, days_stats, risks))
        return Comparison(days, PAGING_BUDGET, len(labels), compared)

    def _scores(self, labels: list[dict[str, Any]]) -> dict[str, tuple[ModelScore, ...]]:
        """Each labelled transaction's model scores: kept on its label, else read from its marker."""
        found = {
            label["transaction_id"]: tuple(ModelScore.from_dict(m) for m in label["models"])
            for label in labels
            if label.get("models")
        }
        missing = [label["transaction_id"] for label in labels if label["transaction_id"] not in found]
        if missing:
            markers = self.state.get_markers(missing, {})
            for (transaction_id, part), marker in markers.items():
                if part == 0 and marker.models:
                    found[transaction_id] = marker.models
        return found
