"""Has the shop's traffic drifted from what the serving model learned? A low operations alert when it has.

Which statistic: the population stability index (`shopwatch_model.drift`) of each model feature over the
latest `RECENT_DAYS` of the shop's transactions (replayed point in time, as training replays them) against
the champion's training deciles. Any feature above 0.25 (the usual "significant shift") raises one low alert
naming the shifted features, the model version and the week: a person looks, retrains or promotes a
challenger. Checked at every training run (weekly, and on demand); the champion compared is the one serving
when the check runs. The alert's id is fixed by the model version and the week it covers, so a retried run
finds it and changes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import numpy as np
from shopwatch_model.drift import SHIFTED, drift

from shopwatch.detection.model_scoring import ArtifactModel, relative_amounts
from shopwatch.detectors.features import FEATURE_LABELS
from shopwatch.detectors.findings import Finding, Reason
from shopwatch.domain.alert import Alert, open_window_alert
from shopwatch.domain.clock import floor_window
from shopwatch.domain.severity import Severity
from shopwatch.training.replay import ReplayedHistory

DETECTOR = "model_drift"
RECENT_DAYS = 7
MIN_ROWS = 200  # fewer recent transactions than this: a PSI over ten bins is noise
TOP = 3


def drift_finding(champion: ArtifactModel, history: ReplayedHistory) -> Finding | None:
    """The finding when the recent traffic's features moved past SHIFTED from the champion's training; None
    when they did not, the champion carries no drift reference (older artifacts), or there is too little."""
    references = champion.artifact.drift_reference
    if not references or not history.transactions:
        return None
    since = history.transactions[-1].timestamp - timedelta(days=RECENT_DAYS)
    rows = [
        i for i, tx in enumerate(history.transactions) if tx.timestamp > since and tx.currency in champion.currencies
    ]
    if len(rows) < MIN_ROWS:
        return None
    scales = np.array([champion.amount_scale(history.transactions[i].currency) for i in rows])
    X = relative_amounts(history.features[rows], scales) if champion.scales else history.features[rows]
    shifted = [(name, value) for name, value in drift(references, X) if value > SHIFTED]
    if not shifted:
        return None
    reasons = tuple(
        Reason(
            code=f"model_drift_{name}",
            message=f"{FEATURE_LABELS.get(name, name)}: population stability index {value:.2f} over the last "
            f"{RECENT_DAYS} days against model {champion.version}'s training (above {SHIFTED} is a real shift)",
            value=f"{value:.3f}",
            expected=f"<= {SHIFTED}",
        )
        for name, value in shifted[:TOP]
    )
    named = ", ".join(FEATURE_LABELS.get(name, name) for name, _ in shifted[:TOP])
    return Finding(
        detector=DETECTOR,
        severity=Severity.LOW,
        reasons=reasons,
        description=f"The last {RECENT_DAYS} days' {named} no longer look like what model {champion.version} was "
        f"trained on ({len(rows):,} transactions): retrain it or promote a newer one",
        score=Decimal("0.2"),
        model_version=champion.version,
    )


def drift_alert(finding: Finding, newest: datetime, now: datetime) -> Alert:
    """One alert per champion version and week (its id is fixed by both: a retried run writes nothing new)."""
    week = floor_window(newest, RECENT_DAYS * 86400)
    subject = f"model:{finding.model_version}"
    return open_window_alert(finding, Severity.LOW, subject, week, week + timedelta(days=RECENT_DAYS), now)
