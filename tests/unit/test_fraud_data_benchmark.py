"""The Fraud_Data benchmark's reading of the file and its arithmetic (ROC AUC, PR AUC, the cuts), on a small file
it writes itself; the real file lives in ../shared and is only read by `make bench`."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from infra.benchmarks.fraud_data import Cut, average_precision, purchases, roc_auc, score
from shopwatch.domain.severity import Severity

ROWS = """user_id,signup_time,purchase_time,purchase_value,device_id,source,browser,sex,age,class
2,1/1/15 10:00,1/3/15 9:00,34,DEV-B,SEO,Chrome,M,39,0
1,1/2/15 8:00,1/2/15 8:00,12,DEV-A,Ads,Safari,F,25,1
3,1/1/15 11:00,1/3/15 9:00,50,DEV-A,Direct,IE,F,44,0
"""


def test_rows_become_transactions_in_purchase_order_with_every_contract_field(tmp_path):
    path = tmp_path / "fraud.csv"
    path.write_text(ROWS)
    (first, label), second, third = purchases(path)
    assert label == 1 and first["transaction_id"] == "fd-1" and first["customer_id"] == "1"
    assert first["account_created_at"] == first["timestamp"] == "2015-01-02T08:00:00.000000Z"
    assert first["device_id"] == "DEV-A" and first["user_agent"] == "Safari" and first["amount"] == "12"
    assert first["metadata"] == {"source": "Ads", "sex": "F", "age": 25}
    assert [second[0]["customer_id"], third[0]["customer_id"]] == ["2", "3"]  # same minute: by user id


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_roc_and_pr_auc_agree_with_scikit_learn_including_ties(seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, 400)
    scores = np.round(rng.random(400) + labels * 0.3, 1)  # rounded: many ties
    assert roc_auc(labels, scores) == pytest.approx(roc_auc_score(labels, scores))
    assert average_precision(labels, scores) == pytest.approx(average_precision_score(labels, scores))


def test_cuts_count_what_an_alert_of_that_severity_or_above_lists():
    labels = {"a": 1, "b": 1, "c": 0, "d": 0}
    severities = {"a": Severity.HIGH, "c": Severity.LOW, "b": Severity.LOW}
    _, _, (medium, low), on_frauds, on_normals = score(
        labels, {"a": 90.0, "b": 20.0, "c": 10.0}, severities, {"a": {"new_account"}, "c": {"shared_identity"}}
    )
    assert (medium.flagged, medium.true_positives, medium.precision, medium.recall) == (1, 1, 1.0, 0.5)
    assert (low.flagged, low.true_positives) == (3, 2)
    assert on_frauds == {"new_account": 1} and on_normals == {"shared_identity": 1}
    assert Cut("x", 0, 0, 5).f1 == 0.0
