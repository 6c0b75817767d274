"""The checkout benchmark stops on a 202 without its transaction's decision, rather than timing it."""

from __future__ import annotations

import pytest

from infra.benchmarks.rules_ingest import _check


def test_a_decision_for_the_transaction_sent_is_read():
    body = {"accepted": ["t1"], "decisions": [{"transaction_id": "t1", "decision": "review", "reasons": []}]}
    assert _check("rules", "t1", body) == "review"
    assert _check("none", "t1", {"accepted": ["t1"], "duplicates": [], "rejected": []}) is None


@pytest.mark.parametrize(
    ("variant", "body"),
    [
        ("rules", {"accepted": ["t1"]}),  # no decision
        ("rules", {"accepted": ["t1"], "decisions": [{"transaction_id": "t2", "decision": "allow"}]}),  # another's
        ("empty", {"accepted": ["t1"], "decisions": [{"transaction_id": "t1", "decision": "maybe"}]}),
        ("rules", {"accepted": [], "duplicates": ["t1"], "decisions": [{"transaction_id": "t1", "decision": "allow"}]}),
        ("none", {"accepted": ["t1"], "decisions": [{"transaction_id": "t1", "decision": "allow"}]}),
    ],
)
def test_a_202_without_exactly_its_decision_stops_the_benchmark(variant, body):
    with pytest.raises(AssertionError):
        _check(variant, "t1", body)
