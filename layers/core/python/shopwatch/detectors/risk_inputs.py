"""The inputs of a learned risk score: one row of numbers per transaction, the same online and in training.

Why a fixed list of transforms rather than the raw state: a shop's model is a logistic regression, linear in
its inputs, so each input is shaped to be roughly linear in the log-odds of fraud (counts and ages on a log
scale, account age also as the bands fraud analysts read it, hour and weekday as points on a circle) and
bounded (z-scores through asinh), so that one extreme value cannot dominate the fit.

The row has three parts, assembled by `combiner_row`:
- the model's features of the transaction (`features.py`), with amounts already made relative to the shop's
  own amounts in that currency by the model (`amount_scales`), so a shop's currencies share one scale;
- the context (`context_inputs`): account age, how many accounts shared the device, card, e-mail or IP, how
  busy those entities were, and each rule detector's strength (0 when it did not fire);
- the model's own verdict: how far the forest isolates the transaction past its threshold, and the
  autoencoder's error against its threshold (0 without an autoencoder).
Pure and numpy-free: DetectFunction builds one row per transaction; training builds them by replay.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from shopwatch.detectors.entities import account_age_seconds
from shopwatch.detectors.features import FEATURE_NAMES, NEVER
from shopwatch.detectors.findings import Finding
from shopwatch.detectors.history import DetectionInput
from shopwatch.detectors.model import ModelVerdict

RULE_DETECTORS = (
    "price",
    "velocity",
    "failed_payment",
    "geo",
    "quantity",
    "shared_identity",
    "new_account",
    "entity_velocity",
    "country_mismatch",
)
LINKED_KINDS = ("device", "card", "email", "ip")
AGE_BANDS_SECONDS = (("under_minute", 60), ("under_hour", 3600), ("under_day", 86400), ("under_week", 7 * 86400))
CONTEXT_INPUTS: tuple[str, ...] = (
    "account_age_known",
    "account_age_log_hours",
    *(f"account_age_{name}" for name, _ in AGE_BANDS_SECONDS),
    *(f"accounts_on_{kind}_30d" for kind in LINKED_KINDS),
    *(f"accounts_on_{kind}_1y" for kind in LINKED_KINDS),
    *(f"transactions_on_{kind}_24h" for kind in LINKED_KINDS),
    *(f"finding_{name}" for name in RULE_DETECTORS),
)
FEATURE_INPUTS: tuple[str, ...] = (
    "log_relative_amount",
    "log_items",
    "log_quantity",
    "hour_sin",
    "hour_cos",
    "weekday_sin",
    "weekday_cos",
    "log_customer_transactions",
    "first_purchase",
    "amount_zscore_asinh",
    "log_seconds_since_last",
    "log_days_since_first_seen",
    "log_countries",
    "unusual_country",
    "log_price_ratio_abs",
    "failed",
    "reversed",
)
MODEL_INPUTS: tuple[str, ...] = ("forest_isolation", "autoencoder_log_ratio")
COMBINER_INPUTS: tuple[str, ...] = FEATURE_INPUTS + CONTEXT_INPUTS + MODEL_INPUTS
_AT = {name: i for i, name in enumerate(FEATURE_NAMES)}


def _log_count(value: float) -> float:
    return math.log1p(max(value, 0.0))


def context_inputs(data: DetectionInput, findings: Sequence[Finding]) -> tuple[float, ...]:
    """The context part of the row, in CONTEXT_INPUTS order, from what the detectors saw of `data`."""
    age = account_age_seconds(data.tx)
    known = age is not None
    seconds = max(age or 0.0, 0.0)
    row: list[float] = [float(known), math.log1p(seconds / 3600) if known else 0.0]
    row += [float(known and seconds < limit) for _, limit in AGE_BANDS_SECONDS]
    views = data.views
    for window in ("30d", "1y"):
        row += [_log_count(len(views[k].accounts(window)) - 1) if k in views else 0.0 for k in LINKED_KINDS]
    row += [_log_count(views[k].transactions("24h") - 1) if k in views else 0.0 for k in LINKED_KINDS]
    strengths = {f.detector: float(f.strength) for f in findings}
    row += [strengths.get(name, 0.0) for name in RULE_DETECTORS]
    return tuple(row)


def feature_inputs(features: Sequence[float], amount_scale: float) -> tuple[float, ...]:
    """The transaction's model features, shaped (FEATURE_INPUTS order); `amount_scale` is the shop's usual
    amount in the transaction's currency (the model's `amount_scales`), so amounts compare across currencies."""

    def f(name: str) -> float:
        return float(features[_AT[name]])

    hour, weekday = f("hour"), f("weekday")
    last, first = f("seconds_since_last"), f("days_since_first_seen")
    ratio = f("price_ratio")
    return (
        math.log(max(f("amount"), 0.0) / amount_scale + 1e-3),
        _log_count(f("items")),
        _log_count(f("quantity")),
        math.sin(2 * math.pi * hour / 24),
        math.cos(2 * math.pi * hour / 24),
        math.sin(2 * math.pi * weekday / 7),
        math.cos(2 * math.pi * weekday / 7),
        _log_count(f("customer_transactions")),
        float(f("customer_transactions") == 0),
        math.asinh(f("amount_zscore")),
        -1.0 if last == NEVER else _log_count(last),
        -1.0 if first == NEVER else _log_count(first),
        _log_count(f("countries")),
        f("unusual_country"),
        abs(math.log(ratio)) if ratio > 0 else 0.0,
        f("failed"),
        f("reversed"),
    )


def model_inputs(verdict: ModelVerdict | None) -> tuple[float, float]:
    """How far past its threshold the forest isolates the transaction (positive: an outlier), and the
    autoencoder's error against its threshold on a log scale (0 without an autoencoder)."""
    if verdict is None:
        return (0.0, 0.0)
    return model_inputs_of(
        verdict.score, verdict.outlier_below, verdict.reconstruction_error, verdict.reconstruction_above
    )


def model_inputs_of(
    score: float, outlier_below: float, error: float | None, error_above: float | None
) -> tuple[float, float]:
    """`model_inputs` from the numbers themselves (training computes them for all rows at once)."""
    ratio = 0.0
    if error is not None and error_above:
        ratio = math.log((error + 1e-9) / (error_above + 1e-9))
    return (outlier_below - score, ratio)


def combiner_row(
    features: Sequence[float], amount_scale: float, context: Sequence[float], verdict: ModelVerdict | None
) -> tuple[float, ...]:
    """One row in COMBINER_INPUTS order."""
    return feature_inputs(features, amount_scale) + tuple(context) + model_inputs(verdict)
