"""Reading DynamoDB stream records: which records are ours and what their images hold."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord


def is_insert(record: DynamoDBRecord) -> bool:
    """An INSERT, read from the raw field: Powertools' enum lookup raises on a name it does not know."""
    return record.raw_event.get("eventName") == "INSERT"


def new_image(record: DynamoDBRecord) -> dict[str, Any]:
    image = record.dynamodb.new_image if record.dynamodb else None
    if not image:
        raise ValueError(f"stream record {record.event_id} has no NewImage (StreamViewType must include it)")
    return image


def old_image(record: DynamoDBRecord) -> dict[str, Any] | None:
    image = record.dynamodb.old_image if record.dynamodb else None
    return image or None


class UnidentifiableRecords(ValueError):
    """A batch holding records without a sequence number cannot say which of them failed."""


def require_sequence_numbers(event: dict[str, Any]) -> None:
    """Refuse, as a function error, a batch in which a record carries no sequence number.

    Lambda's event source never sends one; a broken or hand-made event might. Without the number no partial
    failure can be reported, so the whole batch fails: Lambda retries it, splits it, and dead-letters what
    stays broken, instead of the handler crashing somewhere deeper or skipping records silently.
    """
    records = event.get("Records")
    if not isinstance(records, list):
        raise UnidentifiableRecords("the event has no Records list")
    for index, record in enumerate(records):
        dynamodb = record.get("dynamodb") if isinstance(record, dict) else None
        sequence = dynamodb.get("SequenceNumber") if isinstance(dynamodb, dict) else None
        if not isinstance(sequence, str) or not sequence:
            raise UnidentifiableRecords(f"record {index} has no sequence number")
