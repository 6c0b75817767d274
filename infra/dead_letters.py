"""Replaying the dead-letter queue: `shopwatch dlq replay`.

A stream consumer's on-failure record names a batch, not its contents: the stream, the shard and the first and
last sequence numbers. Replaying reads those records back from the stream (while it keeps them: 24 hours),
builds the event the function would have received (its FilterCriteria applied), invokes the function, and
deletes the dead-letter message only when every record succeeded. Safe to repeat: every consumer applies a
record once (markers), so records of the batch that did succeed change nothing the second time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from infra.local.stream_events import lambda_event, lambda_record, parse_filters, passes_filters
from infra.template import resources_of_type

_FUNCTION = re.compile(r":function:([^:]+)")
Invoke = Callable[[str, str, dict[str, Any]], Any]  # (logical id, function ARN, event) -> the response


@dataclass(frozen=True)
class Replayed:
    message_id: str
    function: str
    records: int
    outcome: str  # replayed | failed | expired | skipped

    def cells(self) -> list[str]:
        return [self.function, str(self.records), self.outcome]


def stream_filters(template: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Each stream consumer's FilterCriteria patterns, by function."""
    found: dict[str, list[dict[str, Any]]] = {}
    for name, function in resources_of_type(template, "AWS::Serverless::Function").items():
        for event in function["Properties"].get("Events", {}).values():
            if event["Type"] == "DynamoDB":
                found[name] = parse_filters(event["Properties"].get("FilterCriteria"))
    return found


def read_batch(streams: Any, info: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The batch's records in Lambda's shape, or None when the stream no longer holds its first record."""
    try:
        iterator = streams.get_shard_iterator(
            StreamArn=info["streamArn"],
            ShardId=info["shardId"],
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber=info["startSequenceNumber"],
        )["ShardIterator"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("TrimmedDataAccessException", "ResourceNotFoundException"):
            return None
        raise
    last = int(info["endSequenceNumber"])
    records: list[dict[str, Any]] = []
    while iterator:
        page = streams.get_records(ShardIterator=iterator, Limit=1000)
        for raw in page.get("Records", []):
            if int(raw["dynamodb"]["SequenceNumber"]) > last:
                return records
            records.append(lambda_record(raw, info["streamArn"]))
        if not page.get("Records"):
            return records
        iterator = page.get("NextShardIterator")
    return records


def replay(
    sqs: Any,
    queue_url: str,
    streams: Any,
    invoke: Invoke,
    filters: dict[str, list[dict[str, Any]]],
    only: str | None = None,
    dry_run: bool = False,
) -> list[Replayed]:
    """Replay every dead-letter message (of one function, if `only`), once each. A replayed message is deleted;
    any other is made visible again for the next run."""
    received: dict[str, dict[str, Any]] = {}
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=300)
        batch = messages.get("Messages", [])
        fresh = [m for m in batch if m["MessageId"] not in received]
        received.update({m["MessageId"]: m for m in batch})  # the latest receipt handle is the valid one
        if not fresh:
            break
    done = []
    for message in received.values():
        result = _outcome(streams, invoke, filters, message, only, dry_run)
        if result.outcome == "replayed":
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        else:
            sqs.change_message_visibility(
                QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
        done.append(result)
    return done


def _outcome(
    streams: Any,
    invoke: Invoke,
    filters: dict[str, list[dict[str, Any]]],
    message: dict[str, Any],
    only: str | None,
    dry_run: bool,
) -> Replayed:
    body = json.loads(message["Body"])
    info = body.get("DDBStreamBatchInfo")
    arn = body.get("requestContext", {}).get("functionArn", "")
    match = _FUNCTION.search(arn)
    physical = match.group(1) if match else "?"  # SAM names functions <stack>-<LogicalId>-<suffix>
    function = next((name for name in filters if name in physical), physical)
    if info is None or function not in filters or (only and function != only):
        return Replayed(message["MessageId"], function, 0, "skipped")
    records = read_batch(streams, info)
    if records is None:
        return Replayed(message["MessageId"], function, int(info.get("batchSize", 0)), "expired")
    kept = [r for r in records if passes_filters(r, filters[function])]
    if dry_run:
        return Replayed(message["MessageId"], function, len(kept), "would replay")
    if kept:
        response = invoke(function, arn, lambda_event(kept))
        if (response or {}).get("batchItemFailures"):
            return Replayed(message["MessageId"], function, len(kept), "failed")
    return Replayed(message["MessageId"], function, len(kept), "replayed")
