"""A shop's history replayed in time order through DetectFunction's own state and detectors.

Point in time: each transaction is judged by the state as it stood just before it (profile, SKU statistics,
entity aggregates: `BatchState.input_for`), then learned, exactly as DetectFunction learns it after writing
(tests/integration/test_features_online_offline.py holds the two together). Nothing a transaction's future
holds reaches its row. The model's verdict is not part of the replay: the model is trained on these rows, then
scores them.

Two readers share the walk (`replay_steps`): training keeps every row as arrays (`replay_history`); a rule's
backtest (`shopwatch.backtest`) reads each step's entity views and findings as it passes and keeps nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from shopwatch.config import DetectionSettings
from shopwatch.detection.service import BatchState
from shopwatch.detectors.entities import plan_updates
from shopwatch.detectors.features import FEATURE_NAMES, transaction_features
from shopwatch.detectors.findings import Finding
from shopwatch.detectors.history import CatalogEntry, DetectionInput, customer_delta, sku_deltas
from shopwatch.detectors.registry import READ_ENTITIES, run_detectors
from shopwatch.detectors.risk_inputs import CONTEXT_INPUTS, context_inputs
from shopwatch.detectors.scoring import assess
from shopwatch.detectors.signals import risk_signals
from shopwatch.domain.transaction import Transaction
from shopwatch.gc_pause import collector_paused


@dataclass(frozen=True)
class ReplayedHistory:
    transactions: list[Transaction]  # in time order
    features: np.ndarray  # (n, FEATURE_NAMES): the model's features, raw amounts
    context: np.ndarray  # (n, CONTEXT_INPUTS): entity context and the rule detectors' strengths
    handset: np.ndarray  # (n,): the hand-set risk 0..1 without the model's signal (added once a forest scores)


@dataclass(frozen=True)
class ReplayStep:
    """One transaction as DetectFunction would have judged it: its input (the state just before it) and the
    rule detectors' findings on it (empty when the walk was asked not to run them)."""

    data: DetectionInput
    findings: list[Finding]

    @property
    def tx(self) -> Transaction:
        return self.data.tx


def handset_risk(step: ReplayStep, settings: DetectionSettings) -> Decimal:
    """The hand-set risk score 0..100 of a step without the model's signal (what DetectFunction gives a
    transaction no model judges)."""
    return assess(step.findings, settings, signals=risk_signals(step.data, settings, None)).risk_score


def replay_steps(
    transactions: Iterable[Transaction],
    settings: DetectionSettings,
    catalog: dict[str, CatalogEntry] | None = None,
    detectors: frozenset[str] | None = None,
    entity_kinds: frozenset[str] | None = None,
) -> Iterator[ReplayStep]:
    """The transactions in time order, each with the state before it; learned after the caller has read its
    step. For a reader that needs less (a rule's backtest reads what its expression names):
    - `detectors` runs only the detectors of these names (none: an empty set; every one: None);
    - `entity_kinds` learns only those kinds of entity (the others' views stay empty), allowed only when no
      detector run reads entities (`registry.READ_ENTITIES`). Profiles and everything else are learned as always."""
    if entity_kinds is not None and (detectors is None or detectors & READ_ENTITIES):
        raise ValueError("the detectors run read every kind of entity: learn them all")
    state = BatchState.empty()
    state.catalog.update(catalog or {})
    failed = settings.failed_statuses
    detect = detectors is None or bool(detectors)
    for tx in sorted(transactions, key=lambda t: (t.timestamp, t.transaction_id)):
        data = state.input_for(tx)
        yield ReplayStep(data, run_detectors(data, settings, detectors) if detect else [])
        if entity_kinds is None:
            state.learn(tx, failed)
        else:
            state.learn_customer(tx, customer_delta(tx, failed))
            if entity_kinds:
                state.learn_entities(
                    [u for u in plan_updates(tx, state.entities, failed) if u.key.kind in entity_kinds]
                )
            state.learn_skus(sku_deltas(tx))


@collector_paused()  # a walk that keeps every row and builds no cycles: shopwatch/gc_pause.py
def replay_history(
    transactions: Iterable[Transaction],
    settings: DetectionSettings,
    catalog: dict[str, CatalogEntry] | None = None,
) -> ReplayedHistory:
    ordered = sorted(transactions, key=lambda t: (t.timestamp, t.transaction_id))
    # rows go straight into preallocated arrays: 300,000 tuples of Python floats would hold ~0.5 GB more
    features = np.empty((len(ordered), len(FEATURE_NAMES)))
    context = np.empty((len(ordered), len(CONTEXT_INPUTS)))
    handset = np.empty(len(ordered))
    for i, step in enumerate(replay_steps(ordered, settings, catalog)):
        features[i] = transaction_features(step.data)
        context[i] = context_inputs(step.data, step.findings)
        handset[i] = float(handset_risk(step, settings)) / 100
    return ReplayedHistory(ordered, features, context, handset)
