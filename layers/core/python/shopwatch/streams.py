"""Reading DynamoDB stream records: which records are ours and what their images hold."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord


def new_image(record: DynamoDBRecord) -> dict[str, Any]:
    image = record.dynamodb.new_image if record.dynamodb else None
    if not image:
        raise ValueError(f"stream record {record.event_id} has no NewImage (StreamViewType must include it)")
    return image


def old_image(record: DynamoDBRecord) -> dict[str, Any] | None:
    image = record.dynamodb.old_image if record.dynamodb else None
    return image or None
