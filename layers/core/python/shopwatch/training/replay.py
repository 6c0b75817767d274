"""A shop's history replayed in time order through DetectFunction's own state and detectors.

Point in time: each transaction is judged by the state as it stood just before it (profile, SKU statistics,
entity aggregates: `BatchState.input_for`), then learned, exactly as DetectFunction learns it after writing
(tests/integration/test_features_online_offline.py holds the two together). Nothing a transaction's future
holds reaches its row. The model's verdict is not part of the replay: the model is trained on these rows, then
scores them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from shopwatch.config import DetectionSettings
from shopwatch.detection.service import BatchState
from shopwatch.detectors.features import FEATURE_NAMES, transaction_features
from shopwatch.detectors.history import CatalogEntry
from shopwatch.detectors.registry import run_detectors
from shopwatch.detectors.risk_inputs import CONTEXT_INPUTS, context_inputs
from shopwatch.detectors.scoring import assess
from shopwatch.detectors.signals import risk_signals
from shopwatch.domain.transaction import Transaction


@dataclass(frozen=True)
class ReplayedHistory:
    transactions: list[Transaction]  # in time order
    features: np.ndarray  # (n, FEATURE_NAMES): the model's features, raw amounts
    context: np.ndarray  # (n, CONTEXT_INPUTS): entity context and the rule detectors' strengths
    handset: np.ndarray  # (n,): the hand-set risk 0..1 without the model's signal (added once a forest scores)


def replay_history(
    transactions: Iterable[Transaction],
    settings: DetectionSettings,
    catalog: dict[str, CatalogEntry] | None = None,
) -> ReplayedHistory:
    state = BatchState.empty()
    state.catalog.update(catalog or {})
    ordered = sorted(transactions, key=lambda t: (t.timestamp, t.transaction_id))
    # rows go straight into preallocated arrays: 300,000 tuples of Python floats would hold ~0.5 GB more
    features = np.empty((len(ordered), len(FEATURE_NAMES)))
    context = np.empty((len(ordered), len(CONTEXT_INPUTS)))
    handset = np.empty(len(ordered))
    for i, tx in enumerate(ordered):
        data = state.input_for(tx)
        findings = run_detectors(data, settings)
        features[i] = transaction_features(data)
        context[i] = context_inputs(data, findings)
        handset[i] = float(assess(findings, settings, signals=risk_signals(data, settings, None)).risk_score) / 100
        state.learn(tx, settings.failed_statuses)
    return ReplayedHistory(ordered, features, context, handset)
