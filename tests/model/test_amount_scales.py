"""A model with amount scales scores every currency the shop used on one scale, and speaks in money."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from shopwatch_model import ModelArtifact
from shopwatch_model.artifact import DEFAULT_ARTIFACT
from shopwatch_model.combiner import fit_logistic

from shopwatch.detection.model_scoring import AMOUNT, ArtifactModel, amount_scales
from shopwatch.detection.service import BatchState
from shopwatch.detectors.features import transaction_features
from shopwatch.detectors.model import ModelVerdict
from shopwatch.detectors.risk_inputs import COMBINER_INPUTS
from tests.builders import item, tx


def features(amount: str, currency: str) -> tuple[float, ...]:
    lines = (item("SKU-1", 2, str(float(amount) / 2)),)
    return transaction_features(BatchState.empty().input_for(tx("t", amount=amount, currency=currency, items=lines)))


@pytest.fixture(scope="module")
def scaled() -> ArtifactModel:
    # the default forest learned raw USD amounts: a USD scale of 1 keeps it as it was, GBP 0.8 maps £80 to $100
    return ArtifactModel(replace(ModelArtifact.load(DEFAULT_ARTIFACT), amount_scales={"USD": 1.0, "GBP": 0.8}))


def test_every_scaled_currency_is_judged_on_one_scale(scaled):
    assert scaled.currencies == {"USD", "GBP"}
    usd, gbp = scaled.verdicts([features("5000.00", "USD"), features("4000.00", "GBP")], ["USD", "GBP"])
    assert gbp.score == pytest.approx(usd.score)
    # the reasons speak in the row's money: the training's largest amount, in pounds
    assert gbp.bounds[AMOUNT][1] == pytest.approx(usd.bounds[AMOUNT][1] * 0.8)
    assert gbp.medians[AMOUNT] == pytest.approx(usd.medians[AMOUNT] * 0.8)


def test_scaled_rows_need_their_currency(scaled):
    with pytest.raises(ValueError, match="currency"):
        scaled.verdicts([features("10.00", "USD")])


def test_an_unscaled_artifact_is_scored_as_before():
    plain = ArtifactModel(ModelArtifact.load(DEFAULT_ARTIFACT))
    row = features("120.00", "USD")
    assert plain.currencies == {"USD"}
    assert plain.verdicts([row])[0] == plain.verdicts([row], ["USD"])[0]
    assert plain.learned_risk(row, "USD", (0.0,) * 25, plain.verdicts([row])[0]) is None


def test_the_shops_usual_amount_is_its_median_per_currency():
    txs = [tx(f"u{i}", amount=f"{v}.00", currency="USD") for i, v in enumerate((10, 20, 30, 1000))]
    txs += [tx(f"g{i}", amount=f"{v}.00", currency="GBP") for i, v in enumerate((5, 7, 9))]
    txs.append(tx("z", amount="0.00", currency="EUR"))  # no positive amount: a neutral scale of 1
    assert amount_scales(txs) == {"EUR": 1.0, "GBP": 7.0, "USD": 30.0}


def test_a_combiner_learned_on_other_inputs_is_refused():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(200, 3)), (rng.random(200) < 0.3).astype(float)
    stale = fit_logistic(X, y, ["a", "b", "c"])
    with pytest.raises(ValueError, match="retrain"):
        ArtifactModel(replace(ModelArtifact.load(DEFAULT_ARTIFACT), combiner=stale))


def test_the_learned_risk_is_the_combiners_probability_of_the_row(scaled):
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(500, len(COMBINER_INPUTS))), (rng.random(500) < 0.2).astype(float)
    model = ArtifactModel(replace(scaled.artifact, combiner=fit_logistic(X, y, COMBINER_INPUTS)))
    row = features("4000.00", "GBP")
    verdict: ModelVerdict = model.verdicts([row], ["GBP"])[0]
    risk = model.learned_risk(row, "GBP", (0.0,) * (len(COMBINER_INPUTS) - 19), verdict)
    assert risk is not None and 0.0 < risk < 1.0
