"""The learned risk's inputs: named, point in time, shaped, and the same row online as in training."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import timedelta

from shopwatch.config import DetectionSettings
from shopwatch.detection.service import BatchState
from shopwatch.detectors.features import transaction_features
from shopwatch.detectors.model import ModelVerdict
from shopwatch.detectors.registry import run_detectors
from shopwatch.detectors.risk_inputs import (
    COMBINER_INPUTS,
    CONTEXT_INPUTS,
    combiner_row,
    context_inputs,
    feature_inputs,
    model_inputs,
)
from tests.builders import T0, item, tx

SETTINGS = DetectionSettings()


def context_of(transactions, last):
    """`last`'s context after the others were learned, as DetectFunction and training see it."""
    state = BatchState.empty()
    for earlier in transactions:
        state.learn(earlier, SETTINGS.failed_statuses)
    data = state.input_for(last)
    return dict(zip(CONTEXT_INPUTS, context_inputs(data, run_detectors(data, SETTINGS)), strict=True))


def test_a_brand_new_account_on_a_device_three_other_accounts_used():
    others = [
        replace(tx(f"t{i}", f"c{i}", at=T0 + timedelta(minutes=i), items=(item(),)), device_id="dev-1")
        for i in range(3)
    ]
    fresh = replace(
        tx("t9", "new", at=T0 + timedelta(minutes=10), items=(item(),)),
        device_id="dev-1",
        account_created_at=T0 + timedelta(minutes=10, seconds=-20),
    )
    row = context_of(others, fresh)
    assert row["account_age_known"] == 1.0
    assert row["account_age_under_minute"] == row["account_age_under_week"] == 1.0
    assert row["account_age_log_hours"] == math.log1p(20 / 3600)
    assert row["accounts_on_device_30d"] == math.log1p(3)  # three other accounts, itself not counted
    assert row["transactions_on_device_24h"] == math.log1p(3)
    assert row["accounts_on_card_30d"] == 0.0  # no card given


def test_no_account_age_reads_unknown_not_young():
    row = context_of([], tx("t1", "c1", items=(item(),)))
    assert row["account_age_known"] == 0.0
    assert row["account_age_under_minute"] == 0.0


def test_amounts_compare_across_currencies_through_the_shops_scale():
    usd = transaction_features(BatchState.empty().input_for(tx("a", amount="80.00", currency="USD")))
    gbp = transaction_features(BatchState.empty().input_for(tx("b", amount="64.00", currency="GBP")))
    assert feature_inputs(usd, 40.0)[0] == feature_inputs(gbp, 32.0)[0]  # both twice the shop's usual


def test_model_inputs_say_how_far_past_the_thresholds():
    verdict = ModelVerdict("v", score=-0.62, outlier_below=-0.55, reconstruction_error=4.0, reconstruction_above=2.0)
    isolation, ratio = model_inputs(verdict)
    assert isolation == -0.55 - -0.62
    assert ratio == math.log((4.0 + 1e-9) / (2.0 + 1e-9))
    assert model_inputs(None) == (0.0, 0.0)


def test_the_row_has_one_value_per_named_input():
    data = BatchState.empty().input_for(tx("a", items=(item(),)))
    row = combiner_row(transaction_features(data), 10.0, context_inputs(data, []), None)
    assert len(row) == len(COMBINER_INPUTS) == len(set(COMBINER_INPUTS))
    assert all(math.isfinite(v) for v in row)
