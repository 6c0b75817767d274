"""The trained model behind the model detector: an artifact of the model layer, scored a batch at a time.

Only DetectFunction (which has ModelLayer, hence numpy) and the offline tools import this module; the rest
of the core layer never needs numpy. The artifact is loaded once per container (module scope in the
handler); `MODEL_ARTIFACT` names it: "default" (the model the layer ships), a directory, or "off".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import numpy as np
from shopwatch_model import DEFAULT_ARTIFACT, ModelArtifact

from shopwatch.detectors.features import FEATURE_NAMES
from shopwatch.detectors.model import TOP_FEATURES, ModelVerdict
from shopwatch.detectors.risk_inputs import COMBINER_INPUTS, combiner_row
from shopwatch.domain.transaction import Transaction

OFF = "off"
AMOUNT, LOG_AMOUNT = FEATURE_NAMES.index("amount"), FEATURE_NAMES.index("log_amount")
DEFAULT = "default"


class ArtifactModel:
    """`TransactionModel` over a `ModelArtifact`: forest scores and autoencoder errors for all rows in one
    vectorized call; feature contributions (a second walk) only for the rows the forest calls outliers.

    Amounts: an artifact with `amount_scales` learned amounts relative to the shop's usual amount in each
    currency; rows arrive with raw amounts, are made relative here before scoring, and each verdict's training
    bounds and medians are turned back into the row's currency, so the detector's reasons read in money."""

    def __init__(self, artifact: ModelArtifact) -> None:
        if artifact.feature_names != FEATURE_NAMES:
            raise ValueError(
                f"model {artifact.info.get('version')} was trained on features {list(artifact.feature_names)}, "
                f"this code computes {list(FEATURE_NAMES)}: retrain it (make train)"
            )
        if artifact.autoencoder is not None and "autoencoder_error" not in artifact.thresholds:
            raise ValueError(f"model {artifact.info.get('version')} has an autoencoder but no threshold for it")
        if not artifact.feature_bounds:
            raise ValueError(f"model {artifact.info.get('version')} lacks its training ranges: retrain it")
        self.artifact = artifact
        self.version = str(artifact.info.get("version", "unversioned"))
        self.scales = dict(artifact.amount_scales)
        self.currencies = frozenset(self.scales or artifact.info.get("currencies", ()))
        if not self.currencies:
            raise ValueError(f"model {self.version} does not say which currencies it learned amounts in")
        self.combiner = artifact.combiner
        if self.combiner is not None and self.combiner.inputs != COMBINER_INPUTS:
            raise ValueError(
                f"model {self.version}'s risk combination was learned on inputs {list(self.combiner.inputs)}, "
                f"this code computes {list(COMBINER_INPUTS)}: retrain it"
            )

    def amount_scale(self, currency: str) -> float:
        return self.scales.get(currency, 1.0)

    def verdicts(self, rows: Sequence[Sequence[float]], currencies: Sequence[str] | None = None) -> list[ModelVerdict]:
        if not rows:
            return []
        artifact, forest = self.artifact, self.artifact.forest
        X = np.asarray(rows, dtype=np.float64)
        scales = np.ones(len(rows))
        if self.scales:
            if currencies is None or len(currencies) != len(rows):
                raise ValueError("a model with amount scales needs each row's currency")
            scales = np.array([self.scales[c] for c in currencies])
            X = relative_amounts(X, scales)
        scores = forest.score_samples(X)
        errors = None
        if artifact.autoencoder is not None:
            errors = artifact.autoencoder.reconstruction_error(artifact.standardize(X))
        outliers = np.flatnonzero(scores < forest.offset)
        leading: dict[int, tuple[tuple[str, float], ...]] = {}
        if len(outliers):
            for row, shares in zip(outliers, forest.feature_contributions(X[outliers]), strict=True):
                order = np.argsort(shares)[::-1][:TOP_FEATURES]
                leading[int(row)] = tuple((FEATURE_NAMES[j], float(shares[j])) for j in order if shares[j] > 0)
        thresholds = artifact.thresholds
        in_money = {scale: self._in_money(scale) for scale in set(scales.tolist())}
        return [
            ModelVerdict(
                version=self.version,
                score=float(scores[i]),
                outlier_below=forest.offset,
                reconstruction_error=None if errors is None else float(errors[i]),
                reconstruction_above=thresholds.get("autoencoder_error"),
                contributions=leading.get(i, ()),
                medians=in_money[float(scales[i])][0],
                bounds=in_money[float(scales[i])][1],
            )
            for i in range(len(rows))
        ]

    def _in_money(self, scale: float) -> tuple[tuple[float, ...], tuple[tuple[float, float], ...]]:
        """The training medians and bounds with amounts in the currency whose usual amount is `scale`."""
        medians, bounds = list(self.artifact.feature_medians), [list(b) for b in self.artifact.feature_bounds]

        def log_amount(value: float) -> float:  # log1p of a relative amount -> log1p of the amount in money
            return math.log1p(max(math.expm1(min(value, 700.0)) * scale, 0.0))

        if scale != 1.0:
            if len(medians) > max(AMOUNT, LOG_AMOUNT):
                medians[AMOUNT], medians[LOG_AMOUNT] = medians[AMOUNT] * scale, log_amount(medians[LOG_AMOUNT])
            if len(bounds) > max(AMOUNT, LOG_AMOUNT):
                bounds[AMOUNT] = [value * scale for value in bounds[AMOUNT]]
                bounds[LOG_AMOUNT] = [log_amount(value) for value in bounds[LOG_AMOUNT]]
        return tuple(medians), tuple((b[0], b[1]) for b in bounds)

    def learned_risk(
        self, features: Sequence[float], currency: str, context: Sequence[float], verdict: ModelVerdict
    ) -> float | None:
        """P(fraud) from the shop's learned combination, or None when the model carries none."""
        if self.combiner is None:
            return None
        return self.combiner.probability(combiner_row(features, self.amount_scale(currency), context, verdict))


def relative_amounts(X: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """Rows with their amount (and log amount) relative to each row's currency scale; a new array."""
    out = np.array(X, dtype=np.float64, copy=True)
    out[:, AMOUNT] = out[:, AMOUNT] / scales
    out[:, LOG_AMOUNT] = np.log1p(np.maximum(out[:, AMOUNT], 0.0))
    return out


def amount_scales(transactions: Sequence[Transaction]) -> dict[str, float]:
    """The median positive amount per currency: the shop's usual purchase in it."""
    by_currency: dict[str, list[Decimal]] = {}
    for tx in transactions:
        if tx.amount > 0:
            by_currency.setdefault(tx.currency, []).append(tx.amount)
    scales = {}
    for currency in sorted({tx.currency for tx in transactions}):
        amounts = sorted(by_currency.get(currency, []))
        scales[currency] = float(amounts[len(amounts) // 2]) if amounts else 1.0
    return scales


def load_model(location: str) -> ArtifactModel | None:
    """The model `location` names ("default", a directory or "off"); a named model that cannot be loaded is
    an error, never a silent fallback to no model."""
    if location.strip().lower() == OFF:
        return None
    directory = DEFAULT_ARTIFACT if location.strip().lower() in ("", DEFAULT) else Path(location)
    return ArtifactModel(ModelArtifact.load(directory))
