"""`shopwatch dlq replay` against the local stack: a poisoned record lands in the dead-letter queue; once the
cause is fixed, the replay reads its batch back from the stream, reruns it, and empties the queue; a second
replay finds nothing."""

from __future__ import annotations

import json
import sys

from infra.cli import main
from tests.e2e.test_local_stack import marker_exists, purchase, wait_for


def dead_letters(local_stack) -> int:
    attributes = local_stack.client("sqs").get_queue_attributes(
        QueueUrl=local_stack.resources.queues["StreamDeadLetterQueue"],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def test_a_fixed_poison_record_is_replayed_from_the_dead_letter_queue(local_stack, api, monkeypatch, capsys):
    service = sys.modules["shopwatch_fn_detect_app"].service
    real = service.process

    def buggy(batch, tx):
        if tx.transaction_id == "dlq-1":
            raise RuntimeError("a bug that this record trips")
        return real(batch, tx)

    monkeypatch.setattr(service, "process", buggy)
    api.post_transactions([purchase("dlq-1", "dlq-customer")])
    wait_for(lambda: dead_letters(local_stack) == 1, timeout=60)
    assert not marker_exists(local_stack, "dlq-1")
    monkeypatch.setattr(service, "process", real)  # the bug is fixed and deployed
    monkeypatch.setenv("SHOPWATCH_STATE_DIR", str(local_stack.state_dir))

    assert main(["dlq", "replay", "--dry-run"]) == 0
    assert "would replay" in capsys.readouterr().out and dead_letters(local_stack) == 1

    assert main(["dlq", "replay"]) == 0
    out = capsys.readouterr().out
    assert "DetectFunction" in out and "replayed" in out
    assert marker_exists(local_stack, "dlq-1") and dead_letters(local_stack) == 0
    assert main(["dlq", "replay"]) == 0 and "replayed" not in capsys.readouterr().out
    profile = local_stack.client("dynamodb").get_item(
        TableName=local_stack.table("StateTable"), Key={"pk": {"S": "CUST#dlq-customer"}, "sk": {"S": "PROFILE"}}
    )["Item"]
    assert json.loads(json.dumps(profile["transactions"])) == {"N": "1"}  # applied once
