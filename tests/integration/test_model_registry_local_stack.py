"""The model registry through the local stack, as a person uses it: `shopwatch model train` (ApiFunction
invokes TrainFunction asynchronously; the stack runs it in process with its own environment, the trainer
replaced by a stand-in), the challenger listed, `shopwatch model promote`, and DetectFunction then scoring
with the new champion, its artifact read from the ModelBucket on moto's S3."""

from __future__ import annotations

import sys
from datetime import timedelta

import pytest

from infra.cli import main
from infra.client import ShopwatchClient
from infra.local import lambda_invoke
from infra.local.stack import LocalStack, free_port
from shopwatch.domain.clock import to_iso, utcnow
from tests.training_fakes import FakeTraining

VERSION = "20250921T030000Z-local"


@pytest.fixture
def stack(tmp_path, monkeypatch):
    monkeypatch.setenv("SHOPWATCH_STATE_DIR", str(tmp_path))
    with LocalStack(port=free_port(), state_dir=tmp_path, schedules_paused=True) as running:
        yield running


def test_train_list_promote_and_detection_scores_with_the_new_champion(stack, capsys):
    fake = FakeTraining([VERSION])
    sys.modules["shopwatch_fn_train_app"].train_from_tables = fake  # the function the stack loaded
    assert main(["model", "train"]) == 0
    assert lambda_invoke.wait(60) and lambda_invoke.failures == []
    assert fake.calls[0]["state_table"] == stack.table("StateTable")

    client = ShopwatchClient.for_local_stack(stack_state(stack))
    status, listed = client.request("GET", "/models")
    assert status == 200 and listed["challenger"] == VERSION
    assert listed["models"][0]["trained_by"] == "admin"  # the CLI signed in as the stack's admin
    assert main(["model", "list"]) == 0 and VERSION in capsys.readouterr().out

    assert main(["model", "promote", VERSION]) == 0
    source = sys.modules["shopwatch_fn_detect_app"].models
    source.clock = lambda: utcnow() + source.refresh  # its next batch is one refresh interval on
    tx = {"transaction_id": "after-promote", "customer_id": "c1", "timestamp": to_iso(utcnow() - timedelta(minutes=1)),
          "currency": "USD", "country": "US", "items": [{"sku": "MUG", "quantity": 1, "unit_price": "12.00"}]}  # fmt: skip
    assert client.post_transactions([tx])["accepted"] == ["after-promote"]
    assert stack.wait_until_idle(timeout=60)
    status, detail = client.request("GET", "/transactions/after-promote")
    assert status == 200
    assert detail["detection"]["models"][0]["role"] == "champion"
    assert detail["detection"]["models"][0]["version"] == VERSION
    assert main(["model", "rollback"]) == 1  # no earlier champion: the API's 409, said on stderr
    assert "no earlier champion" in capsys.readouterr().err


def stack_state(stack: LocalStack) -> dict:
    from infra.local.stack import read_state

    return read_state(stack.state_dir)
