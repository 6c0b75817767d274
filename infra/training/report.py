"""What `shopwatch train` prints: the cleaning, the model and the transactions it finds most anomalous."""

from __future__ import annotations

import numpy as np
from rich.table import Table

from infra.training.loading import CleaningReport
from infra.training.train import TrainingResult


def training_tables(result: TrainingResult, cleaning: CleaningReport, top: int = 10) -> list[Table]:
    artifact = result.artifact
    summary = Table(title=f"Model {artifact.info['version']}", show_header=False)
    for line in cleaning.lines():
        summary.add_row("data", line)
    outliers = float((artifact.forest.decision_function(result.features) < 0).mean())
    over = float((result.reconstruction_errors > artifact.thresholds["autoencoder_error"]).mean())
    summary.add_row("rows", f"{len(result.transactions):,}")
    summary.add_row("features", ", ".join(artifact.feature_names))
    summary.add_row("isolation forest", f"{artifact.forest.n_trees} trees, {outliers:.2%} of rows flagged")
    summary.add_row(
        "autoencoder",
        f"error above the {artifact.thresholds['autoencoder_percentile']:g}th percentile "
        f"({artifact.thresholds['autoencoder_error']:.4f}): {over:.2%} of rows",
    )

    anomalies = Table(title=f"The {top} most anomalous transactions (isolation forest)")
    for column in ("transaction", "customer", "amount", "score", "autoencoder error", "mostly because of"):
        anomalies.add_column(column)
    order = np.argsort(result.forest_scores)[:top]
    contributions = artifact.forest.feature_contributions(result.features[order])
    for row, index in enumerate(order):
        tx = result.transactions[index]
        leading = np.argsort(contributions[row])[::-1][:3]
        anomalies.add_row(
            tx.transaction_id,
            tx.customer_id,
            f"{tx.amount} {tx.currency}",
            f"{result.forest_scores[index]:.3f}",
            f"{result.reconstruction_errors[index]:.2f}",
            ", ".join(f"{artifact.feature_names[f]} {contributions[row, f]:.0%}" for f in leading),
        )
    return [summary, anomalies]
