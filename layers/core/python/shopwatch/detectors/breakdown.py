"""Why a transaction's risk score is what it is: the score split into parts, one per finding and weak signal,
that add up to it.

The scorer combines its inputs as a noisy-OR (risk = 1 − Π (1 − x)), which is not a sum, so "how much did the
price finding add" has no answer by subtraction (the order would matter). Each input's part is its share of
the total log-survival instead: part_k = risk × ln(1 − x_k) / Σ ln(1 − x). Shares are order-free, an input of 0
gets nothing, two equal inputs get equal parts, and the parts add up to the risk exactly (after rounding to the
score's 0.1, the rounding difference goes to the largest part).

What the stored marker does not keep (the linked-accounts signal, the model's isolation signal, rule points,
a learned combination's difference from the hand-set one) is one more part, "other", so that the parts still
add up to the score the transaction got. A learned combination below the hand-set one scales the parts down.
Pure: the transaction page and its test call it on the same findings the scorer saw.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Literal

from shopwatch.config import DetectionSettings
from shopwatch.detectors.findings import Finding
from shopwatch.detectors.scoring import weighted_strength

_TENTH = Decimal("0.1")
OTHER = "other"


@dataclass(frozen=True)
class Contribution:
    kind: Literal["finding", "signal", "other"]
    name: str  # the detector, the signal, or "other"
    evidence: Decimal | None  # the input to the noisy-OR, 0..1 (weighted); None for "other"
    points: Decimal  # risk points, 0.1 precision; the parts of one score add up to it


def risk_breakdown(
    risk_score: Decimal,
    findings: list[Finding] | tuple[Finding, ...],
    settings: DetectionSettings,
    signals: Mapping[str, Decimal] | None = None,
) -> list[Contribution]:
    """The parts of `risk_score` (0-100), largest first: `findings` weighted as `assess` weighs them, `signals`
    as `assess` takes them (already weighted), and "other" for whatever of the score they do not explain."""
    inputs: list[tuple[Literal["finding", "signal"], str, Decimal]] = [
        ("finding", f.detector, weighted_strength(f, settings)) for f in findings
    ]
    inputs += [("signal", name, min(Decimal(1), max(Decimal(0), v))) for name, v in (signals or {}).items()]
    remaining = Decimal(1)
    for _, _, x in inputs:
        remaining *= Decimal(1) - x
    explained = ((Decimal(1) - remaining) * 100).quantize(_TENTH)
    shared = min(explained, risk_score)  # a learned risk below the hand-set one: the same shares, scaled down
    weights = _shares([x for _, _, x in inputs])
    points = [(shared * w).quantize(_TENTH, rounding=ROUND_HALF_EVEN) for w in weights]
    if points:
        largest = max(range(len(points)), key=lambda i: points[i])
        points[largest] += shared - sum(points, Decimal(0))
    parts = [Contribution(kind, name, x, p) for (kind, name, x), p in zip(inputs, points, strict=True)]
    if risk_score > shared:
        parts.append(Contribution("other", OTHER, None, risk_score - shared))
    return sorted((p for p in parts if p.points > 0), key=lambda p: p.points, reverse=True)


def _shares(inputs: list[Decimal]) -> list[Decimal]:
    """Each input's share of Σ ln(1 − x); inputs of 1 (certain evidence, an infinite log) share it equally."""
    certain = [x >= 1 for x in inputs]
    if any(certain):
        return [Decimal(1) / sum(certain) if c else Decimal(0) for c in certain]
    logs = [-math.log1p(-float(x)) for x in inputs]
    total = sum(logs)
    if total == 0:
        return [Decimal(0) for _ in inputs]
    return [Decimal(repr(v / total)) for v in logs]
