"""The backtest's figures equal a brute-force judgement of every stored transaction of the period, and its
labels, overlap and examples are counted as the shop's data says."""

from __future__ import annotations

from datetime import timedelta

from tests.backtest.conftest import DAYS, START, brute_force_matches
from tests.conftest import Stack

EXPRESSIONS = [
    "tx.amount > 400.0",
    "entities.device.accounts_1h >= 2 || entities.ip.transactions_1h >= 4",
    "account.age_seconds < 3600.0 && tx.status != 'approved'",
    "findings.velocity > 0.0 || findings.new_account > 0.0 || findings.shared_identity > 0.0",
    "scores.risk > 20.0 || scores.model > 0.5",
    "findings.model > 0.0 || tx.amount > 1000.0",  # the model's finding: DetectFunction's, from the marker
]
SINCE, UNTIL = START + timedelta(days=1), START + timedelta(days=DAYS, hours=1)


def run(api, expression: str, since=SINCE, until=UNTIL) -> dict:
    status, body = api("POST", "/rules/backtest", {"expression": expression, "since": since.isoformat(),
                                                   "until": until.isoformat()})  # fmt: skip
    assert status == 200, body
    return body


def test_the_counts_equal_a_brute_force_judgement_of_each_stored_transaction(
    stack: Stack, shop, apis, backtest_function
):
    """One shop for every kind of variable (it takes ~30 s to make): the transaction, entities, the account,
    findings and scores."""
    for expression in EXPRESSIONS:
        _equals_brute_force(stack, shop, apis, expression)
    modelled = run(apis["analyst"], "findings.model > 0.0")
    assert modelled["matches"] > 0, "no transaction of the period has a model finding: findings.model is untested"
    _failures_are_counted(shop, apis)


def _failures_are_counted(shop, apis) -> None:
    """A draft that fails on some transactions (this shop sends no basket but the whale's: the first item of
    another above 400 is an index error; below, `&&` is false before it is read) counts each failure."""
    result = run(apis["analyst"], "tx.amount > 400.0 && tx.items[0].quantity > 0")
    failing = [
        tx.transaction_id
        for tx in shop.transactions
        if SINCE <= tx.timestamp <= UNTIL and tx.amount > 400 and not tx.items
    ]
    assert result["errors"] == len(failing) > 0
    assert result["matches"] == sum(1 for tx in shop.transactions if SINCE <= tx.timestamp <= UNTIL and tx.items)
    first, error = result["first_error"].split(": ", 1)
    assert first == failing[0] and "index" in error.lower()


def _equals_brute_force(stack: Stack, shop, apis, expression: str) -> None:
    expected = brute_force_matches(stack, shop, expression, SINCE, UNTIL)
    result = run(apis["analyst"], expression)
    in_period = [tx for tx in shop.transactions if SINCE <= tx.timestamp <= UNTIL]
    assert result["evaluated"] == len(in_period) and result["errors"] == 0 and result["first_error"] is None
    assert result["matches"] == len(expected) > 0
    by_day: dict[str, int] = {}
    for tx in in_period:
        if tx.transaction_id in expected:
            by_day[tx.timestamp.date().isoformat()] = by_day.get(tx.timestamp.date().isoformat(), 0) + 1
    days = [(SINCE + timedelta(days=i)).date().isoformat() for i in range((UNTIL.date() - SINCE.date()).days + 1)]
    assert result["matches_per_day"] == [{"day": d, "matches": by_day.get(d, 0)} for d in days]
    assert [e["transaction_id"] for e in result["examples"]] == expected[:50]
    matched = set(expected)
    assert result["fraud"] == len(matched & shop.fraud)
    assert result["legitimate"] == len(matched & shop.legitimate)
    assert result["unlabelled"] == len(matched - shop.fraud - shop.legitimate)
    assert result["overlap_with_alerts"] == len(matched & shop.alerted)
    fraud_in_period = {tx.transaction_id for tx in in_period} & shop.fraud
    assert result["fraud_in_period"] == len(fraud_in_period)
    assert result["recall"] == (round(len(matched & shop.fraud) / len(fraud_in_period), 4) if fraud_in_period else None)
    labelled = len(matched & (shop.fraud | shop.legitimate))
    assert result["precision"] == (round(len(matched & shop.fraud) / labelled, 4) if labelled else None)


def test_labels_from_chargebacks_and_feedback_are_counted_and_give_precision_and_recall(shop, apis, backtest_function):
    fraud_and_legitimate = " || ".join(f"tx.transaction_id == '{t}'" for t in sorted(shop.fraud | shop.legitimate))
    result = run(apis["analyst"], fraud_and_legitimate, START - timedelta(hours=1), START + timedelta(days=DAYS + 1))
    assert shop.fraud and shop.legitimate
    assert (result["fraud"], result["legitimate"], result["unlabelled"]) == (len(shop.fraud), len(shop.legitimate), 0)
    assert result["precision"] == round(len(shop.fraud) / (len(shop.fraud) + len(shop.legitimate)), 4)
    assert result["recall"] == 1.0
    labelled = {e["transaction_id"]: e["labelled"] for e in result["examples"]}
    assert labelled == {t: "fraud" for t in shop.fraud} | {t: "legitimate" for t in shop.legitimate}


def test_examples_are_the_first_fifty_matches_in_time_order(shop, apis, backtest_function):
    result = run(apis["analyst"], "true", START - timedelta(hours=1), START + timedelta(days=DAYS + 1))
    assert result["matches"] == result["evaluated"] == len(shop.transactions) > 50
    assert len(result["examples"]) == 50
    first = shop.transactions[:50]
    assert [e["transaction_id"] for e in result["examples"]] == [tx.transaction_id for tx in first]
    example, tx = result["examples"][0], first[0]
    assert example == {
        "transaction_id": tx.transaction_id,
        "timestamp": example["timestamp"],
        "amount": str(tx.amount),
        "currency": "USD",
        "customer_id": tx.customer_id,
        "labelled": None if tx.transaction_id not in shop.fraud | shop.legitimate else example["labelled"],
        "alerted": tx.transaction_id in shop.alerted,
    }
