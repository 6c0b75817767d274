"""The backtest's small parts: the period's limits, which entity kinds an expression reads, and the tally's
ratios when there is nothing to divide by."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shopwatch.backtest.matcher import entity_kinds
from shopwatch.backtest.period import Period
from shopwatch.backtest.tally import Tally
from shopwatch.errors import ValidationFailed
from shopwatch.rules.variables import ENTITY_KINDS
from tests.builders import tx

NOW = datetime(2026, 3, 10, tzinfo=UTC)


def test_a_period_of_at_most_31_days_up_to_a_day_ahead_is_taken():
    period = Period.requested(NOW - timedelta(days=30), NOW + timedelta(hours=23), NOW)
    assert period.history_since == NOW - timedelta(days=60)
    assert len(period.days()) == 31  # Feb 8 .. Mar 10


@pytest.mark.parametrize(
    ("since", "until", "field"),
    [
        (NOW, NOW - timedelta(seconds=1), "since"),
        (NOW - timedelta(days=31, seconds=1), NOW, "until"),
        (NOW, NOW + timedelta(days=1, seconds=1), "until"),
        (datetime(1999, 12, 31, tzinfo=UTC), datetime(2000, 1, 2, tzinfo=UTC), "since"),
    ],
)
def test_a_period_out_of_bounds_is_refused_naming_the_field(since, until, field):
    with pytest.raises(ValidationFailed) as refused:
        Period.requested(since, until, NOW)
    assert refused.value.details == {"field": field}


@pytest.mark.parametrize(
    ("expression", "kinds"),
    [
        ("tx.amount > 10.0", set()),
        ("entities.device.accounts_1h > 2 && entities . ip.transactions_1h > 3", {"device", "ip"}),
        ("account.age_seconds < 60.0", {"customer"}),
        ("has(entities.card) || account.first_purchase", {"card", "customer"}),
        ("[entities][0].email.transactions_1h > 1", set(ENTITY_KINDS)),  # entities not read as entities.<kind>
    ],
)
def test_the_entity_kinds_read_are_those_the_expression_names(expression, kinds):
    assert entity_kinds(expression) == kinds


def test_without_labelled_matches_or_fraud_precision_and_recall_are_null():
    period = Period.checked(NOW - timedelta(days=1), NOW)
    tally = Tally(period, {"t2": "legitimate"}, frozenset({"t1"}))
    tally.add(tx("t1", at=NOW - timedelta(hours=2)), True)
    tally.add(tx("t2", at=NOW - timedelta(hours=1)), False)
    result = tally.result().to_json()
    assert (result["precision"], result["recall"], result["unlabelled"]) == (None, None, 1)
    assert (result["overlap_with_alerts"], result["evaluated"], result["matches"]) == (1, 2, 1)
    assert result["matches_per_day"] == [{"day": "2026-03-09", "matches": 1}, {"day": "2026-03-10", "matches": 0}]
