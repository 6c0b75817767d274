"""How good the model detector is, offline: on labelled simulated traffic, and against seed 001 on Online Retail.

Simulated: a run of the shop with amount and basket outliers injected (a shop and seed the default model
never saw), replayed in time order through the same feature code as DetectFunction, scored by the model in
one call, each row judged by the model detector alone. Recall per kind, and how many normal transactions
it flags, at every severity and at medium+ (what is notified and counts for precision in the demo).

Online Retail: seed 001 trained its Isolation Forest on line rows of the customers with an id, at
contamination 0.02. We train on invoices (guests included), so the figures differ by construction; the
table prints both with that said.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np
from rich.table import Table

from infra.simulate.shop import build_shop
from infra.simulate.traffic import TrafficPlanner
from infra.training.loading import validated_records
from infra.training.simulated import START
from infra.training.train import TrainingResult, feature_matrix
from shopwatch.detection.model_scoring import ArtifactModel
from shopwatch.detectors.model import severity_of
from shopwatch.domain.severity import Severity

EVALUATED_KINDS = ("amount_outlier", "quantity_spike")
SEED_001 = {
    "rows after cleaning": "401,525 line rows",
    "customers": "4,372",
    "flagged by the forest at contamination 0.02": "2% of rows (about 8,030)",
    "flagged by both forest and autoencoder (98th pct)": "4,338 rows",
}


@dataclass
class KindRecall:
    kind: str
    injected: int = 0
    flagged: int = 0  # any severity
    notified: int = 0  # medium or above

    @property
    def recall(self) -> float:
        return self.notified / self.injected if self.injected else 0.0


@dataclass
class SimulatedEvaluation:
    kinds: dict[str, KindRecall]
    normal: int
    normal_flagged: int
    normal_notified: int
    severities: dict[str, int] = field(default_factory=dict)


def evaluate_on_simulated(
    model: ArtifactModel, seed: int = 2024, customers: int = 2000, hours: float = 6.0, rate: float = 1.0
) -> SimulatedEvaluation:
    shop = build_shop(seed, customers)
    warmup = TrafficPlanner(shop, seed, START).warmup()
    planner = TrafficPlanner(shop, seed + 1, START + timedelta(days=1))
    planner.counter = len(warmup)
    plan = planner.plan(rate, hours * 3600, 0.02, EVALUATED_KINDS)
    transactions, _ = validated_records([p.transaction for p in warmup + plan.live])
    ordered, X = feature_matrix(transactions, shop.catalog())
    rows = X.tolist()
    severities = [severity_of(row, v) for row, v in zip(rows, model.verdicts(rows), strict=True)]
    by_id = {tx.transaction_id: severity for tx, severity in zip(ordered, severities, strict=True)}
    injected_ids = {t for a in plan.anomalies for t in a.transaction_ids}
    kinds = {kind: KindRecall(kind) for kind in EVALUATED_KINDS}
    for anomaly in plan.anomalies:
        found = [by_id[t] for t in anomaly.transaction_ids if by_id.get(t) is not None]
        score = kinds[anomaly.kind]
        score.injected += 1
        score.flagged += bool(found)
        score.notified += any(s >= Severity.MEDIUM for s in found)
    live_normal = [p.transaction["transaction_id"] for p in plan.live]
    normal = [by_id.get(t) for t in live_normal if t not in injected_ids]
    return SimulatedEvaluation(
        kinds=kinds,
        normal=len(normal),
        normal_flagged=sum(s is not None for s in normal),
        normal_notified=sum(s is not None and s >= Severity.MEDIUM for s in normal),
        severities={s.value: sum(1 for x in normal if x == s) for s in Severity},
    )


def simulated_table(evaluation: SimulatedEvaluation, version: str) -> Table:
    table = Table(title=f"Model detector alone on simulated traffic it never saw (model {version})")
    for column in ("transactions", "count", "flagged (any severity)", "flagged medium+ (notified)", "recall"):
        table.add_column(column, justify="right")
    for score in evaluation.kinds.values():
        table.add_row(score.kind, str(score.injected), str(score.flagged), str(score.notified), f"{score.recall:.1%}")
    normal = evaluation.normal
    table.add_row(
        "normal",
        f"{normal:,}",
        f"{evaluation.normal_flagged:,} ({evaluation.normal_flagged / normal:.2%})",
        f"{evaluation.normal_notified:,} ({evaluation.normal_notified / normal:.3%})",
        "",
    )
    table.caption = "recall: injected anomalies flagged at medium or above (low findings are not notified)"
    return table


def retail_comparison(result: TrainingResult, cleaning_rows: int) -> dict[str, Any]:
    """Our figures for the columns of seed 001's table, from a forest trained on Online Retail."""
    scores = result.forest_scores
    forest = scores < np.percentile(scores, 2.0)  # what contamination=0.02 sets as offset_ (same trees)
    both = forest & (result.reconstruction_errors > result.artifact.thresholds["autoencoder_error"])
    customers = {tx.customer_id for tx in result.transactions if not tx.customer_id.startswith("guest-")}
    return {
        "rows after cleaning": f"{cleaning_rows:,} line rows, {len(result.transactions):,} invoices",
        "customers": f"{len(customers):,} (+ guest invoices)",
        "flagged by the forest at contamination 0.02": f"{int(forest.sum()):,} invoices ({forest.mean():.1%})",
        "flagged by both forest and autoencoder (98th pct)": f"{int(both.sum()):,} invoices",
    }


def retail_table(ours: dict[str, Any]) -> Table:
    table = Table(title="Online Retail: seed 001 beside Shopwatch")
    for column in ("figure", "seed 001 (line rows with a CustomerID)", "Shopwatch (invoices, guests kept)"):
        table.add_column(column)
    for name, theirs in SEED_001.items():
        table.add_row(name, theirs, ours[name])
    return table
