"""`shopwatch train`: pandas cleaning that says what it dropped, seeded training, an artifact the numpy
scorers load, and a report."""

from __future__ import annotations

import json
import random
from datetime import timedelta
from decimal import Decimal

import numpy as np
import pytest
from shopwatch_model import DEFAULT_ARTIFACT, ModelArtifact

from infra.cli import main
from infra.template import ROOT
from infra.training.loading import load_jsonl, load_online_retail, validated_records
from infra.training.simulated import normal_traffic
from infra.training.train import TrainingOptions, data_hash, train
from shopwatch.detection.model_scoring import ArtifactModel
from shopwatch.detectors.features import FEATURE_NAMES
from tests.builders import T0, item, tx

RETAIL = """InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
536365,85123A,WHITE HANGING HEART,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom
536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850.0,United Kingdom
536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850.0,United Kingdom
536366,,NO CODE,1,2010-12-01 08:28:00,1.85,17850.0,United Kingdom
536367,22633,HAND WARMER,x,2010-12-01 08:34:00,1.85,13047.0,United Kingdom
536368,22960,JAM MAKING SET,0,2010-12-01 08:34:00,4.25,13047.0,United Kingdom
A563185,B,Adjust bad debt,1,2011-08-12 14:50:00,-11062.06,,United Kingdom
C536379,D,Discount,-1,2010-12-01 09:41:00,27.50,14527.0,United Kingdom
536370,22728,ALARM CLOCK,24,2010-12-01 08:45:00,3.75,,France
"""


def test_online_retail_cleaning_reports_every_drop(tmp_path):
    path = tmp_path / "retail.csv"
    path.write_text(RETAIL)
    transactions, report = load_online_retail(path)
    assert report.rows_read == 9
    assert report.dropped == {
        "exact duplicate rows": 1,
        "rows without an invoice number or stock code": 1,
        "rows with a quantity or price that is not a number": 1,
        "rows with quantity 0": 1,
        "rows with a negative price (bad-debt adjustments, not sales)": 1,
    }
    by_id = {t.transaction_id: t for t in transactions}
    assert sorted(by_id) == ["OR-536365", "OR-536370", "OR-C536379"]
    assert len(by_id["OR-536365"].items) == 2
    assert by_id["OR-C536379"].status == "reversed"
    assert by_id["OR-536370"].customer_id == "guest-536370" and by_id["OR-536370"].country == "FR"
    assert report.transactions == 3


def shop(n: int = 400, seed: int = 1) -> list:
    """Ordinary baskets from a few customers, and one wildly odd transaction."""
    rng = random.Random(seed)
    out = [
        tx(f"t{i}", f"c{rng.randint(1, 25)}", at=T0 + timedelta(minutes=11 * i),
           items=(item(rng.choice(["MUG", "TEA", "POT"]), rng.randint(1, 3), rng.choice(["4.50", "5.00", "5.50"])),))
        for i in range(n)
    ]  # fmt: skip
    out.append(tx("odd", "c3", at=T0 + timedelta(minutes=11 * n), items=(item("MUG", 400, "0.05"),), country="BR"))
    return out


def test_training_is_seeded_exports_a_loadable_artifact_and_ranks_the_odd_one_first(tmp_path):
    first = train(shop(), TrainingOptions(seed=3, trees=50))
    second = train(shop(), TrainingOptions(seed=3, trees=50))
    np.testing.assert_array_equal(first.forest_scores, second.forest_scores)
    np.testing.assert_array_equal(first.reconstruction_errors, second.reconstruction_errors)
    assert first.transactions[int(np.argmin(first.forest_scores))].transaction_id == "odd"

    first.artifact.save(tmp_path / "model")
    loaded = ModelArtifact.load(tmp_path / "model")
    np.testing.assert_array_equal(loaded.forest.score_samples(first.features), first.forest_scores)
    errors = loaded.autoencoder.reconstruction_error(loaded.standardize(first.features))
    np.testing.assert_allclose(errors, first.reconstruction_errors, rtol=0, atol=1e-12)
    assert np.mean(errors > loaded.thresholds["autoencoder_error"]) == pytest.approx(0.02, abs=0.005)
    info = loaded.info
    assert info["training_rows"] == 401 and len(info["data_hash"]) == 64 and info["seed"] == 3
    assert set(info["libraries"]) == {"scikit-learn", "numpy", "pandas"} and info["created_at"].endswith("Z")


def test_too_little_data_is_refused():
    with pytest.raises(ValueError, match="too few"):
        train(shop(10), TrainingOptions())


def test_the_cli_trains_on_jsonl_and_prints_the_report(tmp_path, capsys):
    path = tmp_path / "transactions.jsonl"
    lines = []
    for t in shop(120):
        record = {"transaction_id": t.transaction_id, "customer_id": t.customer_id,
                  "timestamp": t.timestamp.isoformat().replace("+00:00", "Z"), "country": t.country, "currency": "USD",
                  "items": [{"sku": i.sku, "quantity": i.quantity, "unit_price": str(i.unit_price)} for i in t.items]}  # fmt: skip
        lines.append(json.dumps(record))
    lines.append(json.dumps({"transaction_id": "bad", "customer_id": "c1", "timestamp": "yesterday"}))
    path.write_text("\n".join(lines) + "\n")
    transactions, report = load_jsonl(path)
    assert len(transactions) == 121 and sum(report.dropped.values()) == 1
    assert all(isinstance(i.unit_price, Decimal) for t in transactions for i in t.items)

    assert main(["train", "--data", str(path), "--trees", "30", "--out", str(tmp_path / "artifact")]) == 0
    printed = capsys.readouterr().out
    assert "most anomalous" in printed and "odd" in printed and "121" in printed
    assert (tmp_path / "artifact" / "metadata.json").exists() and (tmp_path / "artifact" / "arrays.npz").exists()


RETAIL_DATA = ROOT.parent / "shared" / "data" / "online_retail" / "online_retail.csv.gz"


@pytest.mark.skipif(not RETAIL_DATA.exists(), reason="the shared Online Retail data is not beside this clone")
def test_training_on_the_real_online_retail_invoices():
    transactions, report = load_online_retail(RETAIL_DATA, limit=800)
    assert report.rows_read > 500_000 and report.dropped["exact duplicate rows"] > 1000
    result = train(transactions, TrainingOptions(trees=50))
    assert result.artifact.info["training_rows"] == len(transactions) >= 790
    flagged = float((result.artifact.forest.decision_function(result.features) < 0).mean())
    assert 0.005 <= flagged <= 0.02  # contamination 1%


def test_the_committed_default_model_is_small_and_was_trained_on_the_simulated_week():
    """`make train` (train --data simulated) made the artifact ModelLayer ships: same data, same features."""
    folder = DEFAULT_ARTIFACT
    size = sum(p.stat().st_size for p in folder.iterdir())
    assert size < 5 * 2**20, f"{size / 2**20:.1f} MB"
    artifact = ModelArtifact.load(folder)
    assert artifact.feature_names == FEATURE_NAMES
    assert len(artifact.feature_medians) == len(artifact.feature_bounds) == len(FEATURE_NAMES)
    assert {"autoencoder_error", "autoencoder_percentile", "extreme_quantile"} <= set(artifact.thresholds)
    records, _ = normal_traffic()
    transactions, report = validated_records(records)
    assert not report.dropped
    ordered = sorted(transactions, key=lambda t: (t.timestamp, t.transaction_id))
    assert artifact.info["data_hash"] == data_hash(ordered)
    assert artifact.info["training_rows"] == len(ordered)
    assert artifact.info["version"].endswith(data_hash(ordered)[:8])
    assert ArtifactModel(artifact).version == artifact.info["version"]


def test_the_cli_trains_on_the_simulated_shop(tmp_path, capsys):
    out = tmp_path / "model"
    assert main(["train", "--data", "simulated", "--limit", "3000", "--trees", "20", "--out", str(out)]) == 0
    assert "3,000 transactions kept" in capsys.readouterr().out
    assert ModelArtifact.load(out).info["training_rows"] == 3000
