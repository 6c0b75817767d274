"""Train a shop's model from its own stored history and labels (TrainFunction; numpy only).

1. The shop's transactions of the period (the last `period_days` of its history, at most `max_transactions`,
   newest first) are replayed in time order through DetectFunction's own state and detectors
   (`replay.py`): every row is point in time.
2. Amounts are made relative to the shop's usual amount in each currency (the median), so every currency the
   shop uses is scored by one model.
3. An Isolation Forest and the autoencoder (numpy, `shopwatch_model.forest_fit` / `autoencoder_fit`, checked
   against scikit-learn by `make bench-parity`) are fitted on those rows; the training ranges and medians are kept for the model detector's reasons.
4. With enough labels (at least `min_fraud` frauds and `min_legitimate` legitimate ones; unlabelled
   transactions count as legitimate once older than `label_maturity_days` before the newest, when a
   chargeback would have come), a logistic regression learns the risk score from the signals
   (`risk_inputs.py`). It replaces the hand-set weights only when it ranks a time-ordered holdout (the latest
   `holdout_fraction` of the labelled rows, fitted on the rows before it) better than the hand-set score by
   more than the holdout AUC's standard error: a shop whose recent fraud no longer looks like its older fraud
   keeps the hand-set score, and the metadata says why.
Why the period ends at the newest stored transaction rather than today: a shop that loads its history (a
replay, a migration) trains on it the same way as one that has run for months.
"""

from __future__ import annotations

import hashlib
import os
import resource
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from shopwatch_model import ModelArtifact
from shopwatch_model.autoencoder_fit import AutoencoderSettings, fit_autoencoder
from shopwatch_model.combiner import LogisticCombiner, fit_logistic
from shopwatch_model.drift import reference_of
from shopwatch_model.forest_fit import fit_isolation_forest

from shopwatch.analytics.ranking import auc_standard_error, average_precision, roc_auc
from shopwatch.config import DetectionSettings
from shopwatch.detection.model_scoring import ArtifactModel, amount_scales, relative_amounts
from shopwatch.detectors.features import FEATURE_NAMES
from shopwatch.detectors.history import CatalogEntry
from shopwatch.detectors.risk_inputs import COMBINER_INPUTS, feature_inputs, model_inputs_of
from shopwatch.domain.clock import to_iso
from shopwatch.domain.transaction import Transaction
from shopwatch.storage.alerts import AlertRepository
from shopwatch.storage.labels import LabelRepository
from shopwatch.storage.state import StateRepository
from shopwatch.storage.transactions import TransactionRepository
from shopwatch.training.labels import FRAUD, LEGITIMATE, merged_labels
from shopwatch.training.replay import ReplayedHistory, replay_history

MIN_TRANSACTIONS = 50
SCORE_CHUNK = 5_000  # rows scored per call: the scorer walks trees x rows at once (200 x 5,000 elements)


@dataclass(frozen=True)
class TrainingOptions:
    max_transactions: int = 300_000
    period_days: int = 90
    min_fraud: int = 20
    min_legitimate: int = 200
    label_maturity_days: int = 14
    holdout_fraction: float = 0.2
    min_holdout_fraud: int = 5
    trees: int = 200
    contamination: float = 0.01
    extreme_quantile: float = 0.0001
    autoencoder_percentile: float = 98.0  # seed 001: a reconstruction error above the training's 98th percentile
    autoencoder_epochs: int = 300  # MLPRegressor's max_iter, as offline training (it stops earlier once it converges)
    l2: float = 1.0
    seed: int = 42

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TrainingOptions:
        env = os.environ if environ is None else environ
        d = cls()
        options = cls(
            max_transactions=int(env.get("TRAIN_MAX_TRANSACTIONS", d.max_transactions)),
            period_days=int(env.get("TRAIN_PERIOD_DAYS", d.period_days)),
            min_fraud=int(env.get("TRAIN_MIN_FRAUD", d.min_fraud)),
            min_legitimate=int(env.get("TRAIN_MIN_LEGIT", d.min_legitimate)),
            label_maturity_days=int(env.get("TRAIN_LABEL_MATURITY_DAYS", d.label_maturity_days)),
            trees=int(env.get("TRAIN_TREES", d.trees)),
            contamination=float(env.get("TRAIN_CONTAMINATION", d.contamination)),
            seed=int(env.get("TRAIN_SEED", d.seed)),
        )
        options.check()
        return options

    def check(self) -> None:
        if self.max_transactions < MIN_TRANSACTIONS or self.period_days < 1:
            raise ValueError(f"train on at least {MIN_TRANSACTIONS} transactions and 1 day")
        if not 0 < self.contamination < 0.5 or not 0 < self.holdout_fraction < 1:
            raise ValueError("contamination must be in (0, 0.5) and the holdout fraction in (0, 1)")
        if self.min_fraud < 1 or self.min_legitimate < 1 or self.trees < 1 or self.label_maturity_days < 0:
            raise ValueError("label minimums and trees must be positive, label maturity not negative")


@dataclass(frozen=True)
class TrainingResult:
    artifact: ModelArtifact
    metadata: dict[str, Any]  # JSON-able: what the registry lists and GET /models shows
    history: ReplayedHistory | None = field(default=None, repr=False, compare=False)  # the drift check reads it


def newest_within(transactions: Iterable[Transaction], options: TrainingOptions) -> list[Transaction]:
    """The period's transactions, newest first and bounded, returned in time order."""
    newest_first = sorted(transactions, key=lambda t: (t.timestamp, t.transaction_id), reverse=True)
    if not newest_first:
        return []
    since = newest_first[0].timestamp - timedelta(days=options.period_days)
    kept = [tx for tx in newest_first[: options.max_transactions] if tx.timestamp >= since]
    kept.reverse()
    return kept


def data_hash(transactions: list[Transaction], labels: Mapping[str, str]) -> str:
    """What the model learned from, as one digest: two trainings on the same data and labels share it."""
    digest = hashlib.sha256()
    for tx in transactions:
        digest.update(f"{tx.transaction_id}|{tx.timestamp.isoformat()}|{labels.get(tx.transaction_id, '')}\n".encode())
    return digest.hexdigest()


def _handset_with_model(
    base: np.ndarray, scores: np.ndarray, outlier_below: float, settings: DetectionSettings
) -> np.ndarray:
    """The hand-set risk (0..1) with the model's isolation signal as `signals.risk_signals` adds it."""
    isolation = 1 / (1 + np.exp(-(outlier_below - scores) * 20))
    return 1 - (1 - base) * (1 - float(settings.model_signal_weight) * isolation)


def _learn_risk(
    rows: np.ndarray, labels: np.ndarray, handset: np.ndarray, eligible: np.ndarray, options: TrainingOptions
) -> tuple[LogisticCombiner | None, dict[str, Any]]:
    """The learned combination and what was measured of it; None (with the reason) when it is not adopted."""
    index = np.flatnonzero(eligible)
    y = labels[index]
    frauds, legitimate = int(y.sum()), int(len(y) - y.sum())
    report: dict[str, Any] = {"labelled_rows": len(index), "fraud": frauds, "legitimate": legitimate}
    if frauds < options.min_fraud or legitimate < options.min_legitimate:
        report["adopted"] = False
        report["reason"] = (
            f"too few labels: {frauds} fraud and {legitimate} legitimate, the minimum is {options.min_fraud} and "
            f"{options.min_legitimate}"
        )
        return None, report
    cut = int(len(index) * (1 - options.holdout_fraction))
    fit_part, holdout = index[:cut], index[cut:]
    held_fraud = int(labels[holdout].sum())
    held_legitimate = len(holdout) - held_fraud
    if (
        held_fraud < options.min_holdout_fraud
        or held_legitimate < options.min_holdout_fraud
        or not labels[fit_part].any()
    ):
        report["adopted"] = False
        report["reason"] = (
            f"the time-ordered holdout (the latest {len(holdout):,} labelled rows) has {held_fraud} fraud and "
            f"{held_legitimate} legitimate: at least {options.min_holdout_fraud} of each are needed to judge a "
            "learned score, and frauds before it to learn from"
        )
        return None, report
    trial = fit_logistic(rows[fit_part], labels[fit_part], COMBINER_INPUTS, l2=options.l2)
    y_held = labels[holdout].astype(int).tolist()
    learned_scores = trial.probabilities(rows[holdout]).tolist()
    handset_scores = handset[holdout].tolist()
    learned_auc, handset_auc = roc_auc(y_held, learned_scores), roc_auc(y_held, handset_scores)
    margin = auc_standard_error(learned_auc, held_fraud, len(holdout) - held_fraud)
    report["holdout"] = {
        "rows": len(holdout),
        "fraud": held_fraud,
        "learned_roc_auc": round(learned_auc, 4),
        "handset_roc_auc": round(handset_auc, 4),
        "learned_pr_auc": round(average_precision(y_held, learned_scores), 4),
        "handset_pr_auc": round(average_precision(y_held, handset_scores), 4),
        "auc_standard_error": round(margin, 4),
    }
    if learned_auc - handset_auc <= margin:
        report["adopted"] = False
        report["reason"] = (
            f"on the time-ordered holdout the learned score ranks fraud at ROC AUC {learned_auc:.3f} against the "
            f"hand-set {handset_auc:.3f}: not better by more than its standard error ({margin:.3f})"
        )
        return None, report
    combiner = fit_logistic(rows[index], labels[index], COMBINER_INPUTS, l2=options.l2)
    report["adopted"] = True
    report["reason"] = (
        f"on the time-ordered holdout the learned score ranks fraud at ROC AUC {learned_auc:.3f} against the "
        f"hand-set {handset_auc:.3f} (standard error {margin:.3f}); refitted on all {len(index):,} labelled rows"
    )
    report["weights"] = [[name, round(weight, 4)] for name, weight in combiner.weights()[:10]]
    return combiner, report


def train_shop(
    transactions: Iterable[Transaction],
    labels: Mapping[str, str],
    options: TrainingOptions,
    now: datetime,
    settings: DetectionSettings | None = None,
    catalog: dict[str, CatalogEntry] | None = None,
) -> TrainingResult:
    """Fit the shop's model on its history; `labels`: transaction id -> "fraud" | "legitimate"."""
    started = time.monotonic()
    settings = settings or DetectionSettings()
    kept = newest_within(transactions, options)
    if len(kept) < MIN_TRANSACTIONS:
        raise ValueError(f"{len(kept)} transactions are too few to train on ({MIN_TRANSACTIONS} at least)")
    history = replay_history(kept, settings, catalog)
    ordered = history.transactions
    currencies = [tx.currency for tx in ordered]
    scales = amount_scales(ordered)
    X = relative_amounts(history.features, np.array([scales[c] for c in currencies]))
    forest = fit_isolation_forest(X, trees=options.trees, contamination=options.contamination, seed=options.seed)
    mean, scale = X.mean(axis=0), X.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    standardized = (X - mean) / scale
    autoencoder = fit_autoencoder(
        standardized, settings=AutoencoderSettings(max_iter=options.autoencoder_epochs), seed=options.seed
    )
    errors = autoencoder.reconstruction_error(standardized)
    del standardized
    version = f"{now:%Y%m%dT%H%M%SZ}-{data_hash(ordered, labels)[:8]}"
    q = options.extreme_quantile
    draft = ModelArtifact(
        feature_names=FEATURE_NAMES,
        scaler_mean=mean,
        scaler_scale=scale,
        forest=forest,
        autoencoder=autoencoder,
        thresholds={
            "autoencoder_error": float(np.percentile(errors, options.autoencoder_percentile)),
            "autoencoder_percentile": options.autoencoder_percentile,
            "forest_contamination": options.contamination,
            "extreme_quantile": q,
        },
        feature_medians=tuple(float(v) for v in np.median(X, axis=0)),
        feature_bounds=tuple(
            (float(low), float(high))
            for low, high in zip(np.quantile(X, q, axis=0), np.quantile(X, 1 - q, axis=0), strict=True)
        ),
        info={"version": version},
        amount_scales=scales,
        drift_reference=reference_of(X, FEATURE_NAMES),
    )
    # every row's model inputs from the scores themselves: no verdict objects (300,000 of them, and the second
    # walk that names an outlier's features, are what DetectFunction needs, not training)
    scores = np.concatenate([forest.score_samples(X[i : i + SCORE_CHUNK]) for i in range(0, len(X), SCORE_CHUNK)])
    error_above = draft.thresholds["autoencoder_error"]
    rows = np.empty((len(ordered), len(COMBINER_INPUTS)))
    for i in range(len(ordered)):
        rows[i] = (
            *feature_inputs(history.features[i], scales[currencies[i]]),
            *history.context[i],
            *model_inputs_of(float(scores[i]), forest.offset, float(errors[i]), error_above),
        )
    newest = ordered[-1].timestamp
    mature_before = newest - timedelta(days=options.label_maturity_days)
    y = np.array([labels.get(tx.transaction_id) == FRAUD for tx in ordered], dtype=np.float64)
    eligible = np.array(
        [
            (tx.transaction_id in labels and labels[tx.transaction_id] in (FRAUD, LEGITIMATE))
            or tx.timestamp <= mature_before
            for tx in ordered
        ]
    )
    handset = _handset_with_model(history.handset, scores, forest.offset, settings)
    combiner, learning = _learn_risk(rows, y, handset, eligible, options)
    fraud_ids = {tid for tid, label in labels.items() if label == FRAUD}
    metadata: dict[str, Any] = {
        "version": version,
        "created_at": to_iso(now),
        "trainer": "TrainFunction (numpy)",
        "period": {"from": to_iso(ordered[0].timestamp), "to": to_iso(newest), "days": options.period_days},
        "rows": len(ordered),
        "currencies": sorted(scales),
        "amount_scales": scales,
        "labels": {
            "fraud": int(sum(1 for tx in ordered if tx.transaction_id in fraud_ids)),
            "legitimate": int(sum(1 for tx in ordered if labels.get(tx.transaction_id) == LEGITIMATE)),
            "unlabelled_too_recent": int((~eligible).sum()),
        },
        "data_hash": data_hash(ordered, labels),
        "features": list(FEATURE_NAMES),
        "combiner_inputs": list(COMBINER_INPUTS) if combiner is not None else None,
        "risk_score": "learned" if combiner is not None else "hand-set",
        "learning": learning,
        "forest": {"trees": options.trees, "contamination": options.contamination, "offset": forest.offset},
        "autoencoder": {
            "hidden": [8, 3, 8],
            "error_threshold": float(np.percentile(errors, options.autoencoder_percentile)),
        },
        "options": {k: v for k, v in options.__dict__.items()},
    }
    metadata["training_seconds"] = round(time.monotonic() - started, 1)
    metadata["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    artifact = replace(draft, combiner=combiner, info=metadata)
    ArtifactModel(artifact)  # what DetectFunction will load: refused here, not after it is published
    return TrainingResult(artifact, metadata, history)


def train_from_tables(
    *,
    transactions_table: str,
    state_table: str,
    alerts_table: str,
    options: TrainingOptions,
    now: datetime,
    settings: DetectionSettings | None = None,
) -> TrainingResult:
    """TrainFunction's work: the shop's newest transactions, its labels (reported on transactions and given
    as alert feedback) and its catalog from the tables, then `train_shop`."""
    transactions = TransactionRepository(transactions_table).newest(options.max_transactions)
    labels = merged_labels(LabelRepository(state_table).all(), AlertRepository(alerts_table).with_feedback())
    skus = sorted({item.sku for tx in transactions for item in tx.items})
    catalog = StateRepository(state_table).get_catalog(skus) if skus else {}
    return train_shop(transactions, labels, options, now, settings or DetectionSettings.from_env(), catalog)
