"""Lambda's DynamoDB stream event, built from what the DynamoDB Streams API returns, and the event source's
FilterCriteria applied to it.

The event shape is Lambda's exactly (eventID, eventName, eventVersion, eventSource, awsRegion, dynamodb with
ApproximateCreationDateTime in epoch seconds, Keys, images, SequenceNumber, SizeBytes, StreamViewType,
eventSourceARN, and userIdentity on the REMOVE records of TTL deletions), so handlers cannot tell the local stack from AWS.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any


def lambda_record(stream_record: dict[str, Any], stream_arn: str, region: str = "us-east-1") -> dict[str, Any]:
    data = dict(stream_record["dynamodb"])
    created = data.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        data["ApproximateCreationDateTime"] = int(created.timestamp())
    record = {
        "eventID": stream_record["eventID"],
        "eventName": stream_record["eventName"],
        "eventVersion": stream_record.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": stream_record.get("awsRegion", region),
        "dynamodb": data,
        "eventSourceARN": stream_arn,
    }
    identity = stream_record.get("userIdentity")
    if identity:  # a TTL deletion: the Streams API's Type/PrincipalId become Lambda's type/principalId
        record["userIdentity"] = {"type": identity.get("Type"), "principalId": identity.get("PrincipalId")}
    return record


def lambda_event(records: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Records": records}


def parse_filters(filter_criteria: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not filter_criteria:
        return []
    return [json.loads(f["Pattern"]) for f in filter_criteria.get("Filters", [])]


def passes_filters(record: dict[str, Any], patterns: list[dict[str, Any]]) -> bool:
    """Lambda keeps a record when any pattern matches (no patterns: every record)."""
    return not patterns or any(_matches(record, p) for p in patterns)


def _matches(value: Any, pattern: Any) -> bool:
    if isinstance(pattern, dict):
        if not isinstance(value, dict):
            return False
        return all(_matches_field(value, key, sub) for key, sub in pattern.items())
    raise ValueError(f"pattern must be an object, got {pattern!r}")


def _matches_field(container: dict[str, Any], key: str, pattern: Any) -> bool:
    present = key in container
    value = container.get(key)
    if isinstance(pattern, dict):
        return present and _matches(value, pattern)
    if not isinstance(pattern, list):
        raise ValueError(f"pattern values must be lists, got {pattern!r}")
    return any(_matches_rule(present, value, rule) for rule in pattern)


def _matches_rule(present: bool, value: Any, rule: Any) -> bool:
    if isinstance(rule, dict):
        ((operator, operand),) = rule.items()
        match operator:
            case "exists":
                return present == bool(operand)
            case "prefix":
                return present and isinstance(value, str) and value.startswith(operand)
            case "anything-but":
                excluded = operand if isinstance(operand, list) else [operand]
                return present and value not in excluded
            case "numeric":
                return present and _numeric(value, operand)
            case _:
                raise ValueError(f"unsupported filter operator {operator!r}")
    return present and value == rule


def _numeric(value: Any, operand: list[Any]) -> bool:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return False
    checks = {"<": number.__lt__, "<=": number.__le__, "=": number.__eq__, ">": number.__gt__, ">=": number.__ge__}
    return all(checks[operand[i]](float(operand[i + 1])) for i in range(0, len(operand), 2))
