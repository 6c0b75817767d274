"""Facts built for what the rules read: the fields named and no other, and never a different answer than facts
built whole (`rules.reads`)."""

import random
from datetime import datetime, timedelta

import pytest

from infra.training.loading import validated_records
from shopwatch.config import DetectionSettings
from shopwatch.domain.clock import to_iso
from shopwatch.rules.engine import RuleEngine
from shopwatch.rules.expressions import compile_expression
from shopwatch.rules.facts import facts_for
from shopwatch.rules.reads import EVERYTHING, reads_of
from shopwatch.rules.variables import MESSAGES
from shopwatch.training.replay import replay_steps
from tests.backtest.conftest import START, shop_transactions


def test_a_selection_names_the_fields_built():
    reads = reads_of(["entities.device.accounts_1h >= 3 && account.cards_30d > 1", "entities.ip.failed_1h > 2"])
    assert reads.variables == {"tx", "entities", "account"}
    assert reads.fields_of("entities") == {"accounts_1h", "failed_1h"}
    assert reads.fields_of("account") == {"cards_30d"}


def test_a_message_used_whole_builds_every_field():
    assert reads_of(["has(entities.device) && entities.card.accounts_30d > 1"]).fields_of("entities") is None
    assert reads_of(["[entities.device, entities.card].exists(e, e.accounts_1h > 2)"]).fields_of("entities") is None
    assert reads_of(["account == account"]).fields_of("account") is None


def test_a_name_in_a_string_costs_time_never_an_answer():
    # "account" in a literal is a mention without a selection: every field of the account is built
    assert reads_of(['tx.email == "account" && account.age_seconds < 60.0']).fields_of("account") is None
    # the transaction's account_created_at is not the account variable
    assert reads_of(["has(tx.account_created_at)"]).variables == {"tx"}


def test_variables_not_named_are_not_built():
    reads = reads_of(["tx.amount > 500.0"])
    assert reads.variables == {"tx"} and reads.fields_of("entities") is None
    facts = facts_for(validated_records(shop_transactions(1))[0][0])
    data = facts.data(reads)
    assert not data["entities"].HasField("customer") and data["account"].transactions == 0


# every number of the entity and the account, read so that the answer follows its value (even or odd)
EXPRESSIONS = [
    *(f"int(entities.device.{f.name}) % 2 == 0" for f in MESSAGES["Entity"] if f.type in ("int64", "double")),
    # an IP's accounts are kept for 30 days only: its accounts_1y is the transaction's own account
    *(
        f"int(entities.ip.{f.name}) % 2 == 1"
        for f in MESSAGES["Entity"]
        if f.type == "int64" and f.name != "accounts_1y"
    ),
    *(f"int(account.{f.name}) % 2 == 0" for f in MESSAGES["Account"] if f.type in ("int64", "double")),
    "entities.device.accounts_1h >= 2 && account.devices_30d >= 1 && tx.amount > 50.0",
    "has(entities.card) && entities.card.amount_24h > 100.0",
    "[entities.device, entities.ip].exists(e, e.accounts_30d >= 3)",
]


def varied_shop() -> list:
    """The backtests' small shop with what makes every field vary: bursts within a minute, cards shared by a
    few accounts, a second e-mail for some, account ages to the second (two in five under an hour)."""
    rng = random.Random(11)
    records = shop_transactions(200)
    for i, record in enumerate(records):
        at = datetime.fromisoformat(record["timestamp"])
        if i % 5 in (1, 2):
            at = datetime.fromisoformat(records[i - 1]["timestamp"]) + timedelta(seconds=rng.randint(5, 25))
        record["timestamp"] = to_iso(at)
        record["card_fingerprint"] = f"card-{rng.randint(0, 5)}"
        if rng.random() < 0.3:
            record["email"] = f"{record['customer_id']}.{rng.randint(1, 3)}@example.com"
        age = rng.randint(10, 3000) if rng.random() < 0.4 else rng.randint(3000, 86400 * 400)
        record["account_created_at"] = to_iso(at - timedelta(seconds=age))
    return validated_records(records)[0]


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_restricted_facts_judge_as_whole_ones(expression):
    """Over a replayed shop (shared devices and IPs, new accounts, failures), the rule with the facts it reads
    matches exactly the transactions it matches with every fact built, and it matches some and misses some."""
    settings = DetectionSettings()
    transactions = varied_shop()
    engine, compiled, reads = RuleEngine((), (), START), compile_expression(expression), reads_of([expression])
    answers = []
    for step in replay_steps(transactions, settings, detectors=frozenset()):
        restricted = facts_for(step.tx, step.data.views, failed_statuses=settings.failed_statuses)
        whole = facts_for(step.tx, step.data.views, failed_statuses=settings.failed_statuses)
        answer = engine.evaluate_one(compiled, restricted, reads)
        assert answer == engine.evaluate_one(compiled, whole, EVERYTHING), step.tx.transaction_id
        for variable in ("account", "entities"):
            fields = reads.fields_of(variable)
            if variable in reads.variables and fields is not None:
                built, full = restricted.data(reads)[variable], whole.data(EVERYTHING)[variable]
                messages = (
                    [(built, full)]
                    if variable == "account"
                    else [(getattr(built, k), getattr(full, k)) for k in ("device", "ip", "card")]
                )
                for mine, theirs in messages:
                    assert all(getattr(mine, f) == getattr(theirs, f) for f in fields)
        answers.append(answer)
    assert any(answers) and not all(answers), "the expression does not separate this shop's transactions"


def test_a_backtest_runs_the_detectors_whose_findings_are_selected():
    from shopwatch.backtest.matcher import ExpressionMatcher

    def detectors(expression):
        return ExpressionMatcher(expression, (), START, frozenset({"failed"})).detectors

    assert detectors("findings.price > 0.5 || findings.velocity > 0.5") == {"price", "velocity"}
    assert detectors("findings.model > 0.5") == frozenset()  # the model's is not a per-transaction detector's
    assert ExpressionMatcher("findings.model > 0.5", (), START, frozenset()).needs_model_finding
    assert not ExpressionMatcher("findings.price > 0.5", (), START, frozenset()).needs_model_finding
    assert detectors("tx.amount > 1.0") == frozenset()
    assert detectors('findings == findings && tx.currency == "findings"') is None
