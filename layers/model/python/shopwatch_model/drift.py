"""Has live traffic moved away from what the model was trained on? The population stability index per feature.

PSI = sum over bins of (live share - training share) x ln(live share / training share), with the bins the
training deciles of each feature (features with few values, such as hour or a flag, get one bin per value
seen). It is the credit-risk industry's drift statistic: under 0.1 no real change, 0.1-0.25 a moderate shift,
above 0.25 a shift that makes the model's judgement of that feature unreliable. Symmetric, additive over
bins, and defined for any feature once empty bins get a small floor share (0.0001, as is usual).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

BINS = 10
FLOOR = 1e-4
SHIFTED = 0.25  # PSI above this: the feature's distribution changed enough to question the model


@dataclass(frozen=True)
class FeatureReference:
    name: str
    edges: tuple[float, ...]  # inner bin edges: len(edges) + 1 bins, a value x falls in bin searchsorted(edges, x)
    shares: tuple[float, ...]  # the training share of each bin

    def meta(self) -> dict[str, Any]:
        return {"name": self.name, "edges": list(self.edges), "shares": list(self.shares)}

    @classmethod
    def from_meta(cls, meta: dict[str, Any]) -> FeatureReference:
        edges, shares = tuple(float(v) for v in meta["edges"]), tuple(float(v) for v in meta["shares"])
        if len(shares) != len(edges) + 1:
            raise ValueError(f"drift reference {meta.get('name')}: {len(edges)} edges need {len(edges) + 1} shares")
        return cls(str(meta["name"]), edges, shares)


def _shares(column: np.ndarray, edges: tuple[float, ...]) -> np.ndarray:
    counts = np.bincount(np.searchsorted(np.asarray(edges), column, side="right"), minlength=len(edges) + 1)
    return counts / max(len(column), 1)


def reference_of(X: np.ndarray, names: Sequence[str]) -> tuple[FeatureReference, ...]:
    """Each feature's training deciles (or its distinct values, when it has at most BINS of them) and shares."""
    out = []
    for j, name in enumerate(names):
        column = X[:, j]
        distinct = np.unique(column)
        if len(distinct) <= BINS:
            edges = tuple(float(v) for v in (distinct[:-1] + distinct[1:]) / 2)  # one bin per value seen
        else:
            edges = tuple(float(v) for v in np.unique(np.quantile(column, np.linspace(0, 1, BINS + 1)[1:-1])))
        out.append(FeatureReference(name, edges, tuple(float(v) for v in _shares(column, edges))))
    return tuple(out)


def psi(reference: FeatureReference, column: np.ndarray) -> float:
    expected = np.maximum(np.asarray(reference.shares), FLOOR)
    actual = np.maximum(_shares(np.asarray(column, dtype=np.float64), reference.edges), FLOOR)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def drift(references: Sequence[FeatureReference], X: np.ndarray) -> list[tuple[str, float]]:
    """(feature, PSI) for every feature, largest first."""
    values = [(ref.name, psi(ref, X[:, j])) for j, ref in enumerate(references)]
    return sorted(values, key=lambda kv: -kv[1])
