"""The model-parity benchmark's bookkeeping: targets whose data is absent are skipped with a reason, the PASS
line follows the 0.01 bar, and a comparison ranks labelled rows with both implementations."""

from __future__ import annotations

import numpy as np
import pytest

from infra.benchmarks import model_parity
from infra.benchmarks.model_parity import LabelledSet, ParityResult


def test_absent_data_is_skipped_with_where_it_was_looked_for(tmp_path):
    report = model_parity.run(fraud_file=tmp_path / "no.csv", retail_file=tmp_path / "no.csv.gz", seeds=1)
    assert report.forest == [] and report.autoencoder == [] and report.at_scale == []
    assert [line.split(" skipped")[0] for line in report.skipped] == ["Fraud_Data", "Online Retail"]
    assert all(str(tmp_path) in line for line in report.skipped)


def test_the_verdict_follows_the_absolute_difference_of_the_mean_aucs():
    def result(ours: tuple[float, ...], theirs: tuple[float, ...]) -> ParityResult:
        return ParityResult("t", 10, 1, 2, ours, theirs, (0.1,) * len(ours), (0.1,) * len(ours))

    close, far = result((0.80, 0.82), (0.815, 0.82)), result((0.78, 0.80), (0.82, 0.80))
    assert close.passed and not far.passed  # |-0.0075| <= 0.01 < |-0.02|
    lines = model_parity.verdict_lines([close, result((0.70,), (0.72,))])
    assert lines[0].startswith("PASS forest t") and lines[1].startswith("FAIL forest t")


def test_a_comparison_fits_both_implementations_per_seed_on_the_same_rows():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 3))
    y = np.zeros(600, dtype=int)
    X[:12] += 6
    y[:12] = 1
    result = model_parity.compare(LabelledSet("planted", X, y), seeds=2)
    assert (result.rows, result.positives, result.features) == (600, 12, 3)
    assert len(result.numpy_auc) == len(result.sklearn_auc) == 2
    assert min(result.numpy_auc + result.sklearn_auc) > 0.95 and result.passed


def test_the_autoencoder_lines_carry_the_standard_error_and_only_the_forest_gates():
    network = model_parity.AutoencoderParity(
        "t", (0.70, 0.74), (0.76, 0.80), (0.2, 0.2), (0.2, 0.2), (1.0, 1.0), (1.0, 1.0), (300, 300), (300, 300)
    )
    assert network.standard_error == pytest.approx(np.sqrt((0.0008 + 0.0008) / 2))
    [line] = model_parity.autoencoder_lines([network])
    assert line.startswith("FAIL autoencoder t: |AUC difference| 0.0600 > 0.01") and "not gated" in line
    forest = ParityResult("t", 10, 1, 2, (0.8,), (0.8,), (0.1,), (0.1,))
    assert model_parity.Report([forest], [network], [], []).passed()
