"""write_atomically rides out throttling and nothing else: a throttled transaction applied nothing and may be
tried again; a refused condition is an answer, and is the caller's to handle."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from shopwatch.storage import unit_of_work
from shopwatch.storage.unit_of_work import TransactionRefused, write_atomically

ACTIONS = [{"Put": {"TableName": "StateTable", "Item": {"pk": {"S": "a"}, "sk": {"S": "b"}}}}] * 2


def error(code: str, reasons: list[str] | None = None) -> ClientError:
    response: dict = {"Error": {"Code": code, "Message": "injected"}}
    if reasons is not None:
        response["CancellationReasons"] = [{"Code": r} for r in reasons]
    return ClientError(response, "TransactWriteItems")


class ScriptedClient:
    """Answers each transact_write_items with the next scripted error, then succeeds; records every token."""

    def __init__(self, *errors: ClientError) -> None:
        self.errors = list(errors)
        self.tokens: list[str] = []

    def transact_write_items(self, TransactItems, ClientRequestToken):
        assert TransactItems == ACTIONS
        self.tokens.append(ClientRequestToken)
        if self.errors:
            raise self.errors.pop(0)
        return {}


@pytest.fixture
def scripted(monkeypatch):
    monkeypatch.setattr(unit_of_work.time, "sleep", lambda seconds: None)

    def install(*errors: ClientError) -> ScriptedClient:
        fake = ScriptedClient(*errors)
        monkeypatch.setattr(unit_of_work, "client", lambda service: fake)
        return fake

    return install


def test_a_throttled_call_is_repeated_with_the_same_token(scripted):
    fake = scripted(error("ProvisionedThroughputExceededException"), error("InternalServerError"))
    write_atomically(ACTIONS)
    assert len(fake.tokens) == 3
    assert len(set(fake.tokens)) == 1  # an unknown outcome is repeated idempotently


@pytest.mark.parametrize("reason", ["ThrottlingError", "ProvisionedThroughputExceeded", "TransactionConflict"])
def test_a_transaction_cancelled_for_throttling_is_repeated_with_a_new_token(scripted, reason):
    fake = scripted(error("TransactionCanceledException", ["None", reason]))
    write_atomically(ACTIONS)
    assert len(fake.tokens) == 2
    assert fake.tokens[0] != fake.tokens[1]


def test_a_refused_condition_is_raised_at_once(scripted):
    fake = scripted(error("TransactionCanceledException", ["ConditionalCheckFailed", "ThrottlingError"]))
    with pytest.raises(TransactionRefused) as refused:
        write_atomically(ACTIONS)
    assert refused.value.refused() == [0]  # unnamed actions are named by position
    assert len(fake.tokens) == 1


def test_a_refusal_names_the_actions_whose_condition_failed(scripted):
    """Callers ask by name ("was it my marker?"), whatever position their action had."""
    scripted(error("TransactionCanceledException", ["None", "ConditionalCheckFailed"]))
    unit = unit_of_work.UnitOfWork()
    for name, action in zip([("alert", "a1"), ("marker", 0)], ACTIONS, strict=True):
        unit.add(name, action)
    with pytest.raises(TransactionRefused) as refused:
        unit.commit()
    assert refused.value.refused() == [("marker", 0)]
    assert refused.value.refused_of("marker") == [0] and refused.value.refused_of("alert") == []


def test_a_refusal_after_throttled_attempts_still_names_the_actions(scripted):
    scripted(
        error("TransactionCanceledException", ["ThrottlingError", "None"]),
        error("TransactionCanceledException", ["ConditionalCheckFailed", "None"]),
    )
    with pytest.raises(TransactionRefused) as refused:
        write_atomically(ACTIONS, names=[("marker", "t1"), ("alert", "a1")])
    assert refused.value.refused_of("marker") == ["t1"]


def test_a_unit_of_work_refuses_two_actions_with_one_name():
    unit = unit_of_work.UnitOfWork().add(("marker", 0), ACTIONS[0])
    with pytest.raises(ValueError, match="two actions named"):
        unit.add(("marker", 0), ACTIONS[1])


def test_a_validation_error_is_raised_at_once(scripted):
    fake = scripted(error("ValidationException"))
    with pytest.raises(ClientError):
        write_atomically(ACTIONS)
    assert len(fake.tokens) == 1


def test_throttling_that_outlasts_the_attempts_is_raised(scripted):
    fake = scripted(*[error("ProvisionedThroughputExceededException")] * 3)
    with pytest.raises(ClientError) as raised:
        write_atomically(ACTIONS, attempts=3)
    assert raised.value.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
    assert len(fake.tokens) == 3

    fake = scripted(*[error("TransactionCanceledException", ["ThrottlingError", "None"])] * 3)
    with pytest.raises(TransactionRefused) as refused:
        write_atomically(ACTIONS, attempts=3)
    assert refused.value.reasons == ("ThrottlingError", "None")
