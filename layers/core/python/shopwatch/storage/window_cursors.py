"""Where the windowed detectors have got to: for each grain, the start of the next period to judge.

Why a cursor and not a marker per period: advancing it is the condition that makes each closed minute, hour
and day judged exactly once. The move from P to P + step goes into the same TransactWriteItems as the alerts
P produced, on the condition that the cursor still says P; a replayed schedule event, or a second invocation
running at the same time, finds it moved and judges nothing.

Key layout: WINDOW#<grain> / CURSOR, attribute `next` (the stored time format).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from shopwatch.domain.buckets import Grain
from shopwatch.domain.clock import parse_iso, to_iso
from shopwatch.storage.aws import client


def cursor_key(grain: Grain) -> dict[str, Any]:
    return {"pk": {"S": f"WINDOW#{grain.value}"}, "sk": {"S": "CURSOR"}}


class WindowCursorRepository:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def get(self, grain: Grain) -> datetime | None:
        response = client("dynamodb").get_item(TableName=self.table_name, Key=cursor_key(grain), ConsistentRead=True)
        item = response.get("Item")
        return parse_iso(item["next"]["S"]) if item else None

    def advance_action(
        self, grain: Grain, expected: datetime | None, following: datetime, now: datetime
    ) -> dict[str, Any]:
        """Move the cursor from `expected` (None: it does not exist yet) to `following`, or refuse."""
        values: dict[str, Any] = {":next": {"S": to_iso(following)}, ":now": {"S": to_iso(now)}}
        if expected is None:
            condition = "attribute_not_exists(pk)"
        else:
            condition = "#next = :expected"
            values[":expected"] = {"S": to_iso(expected)}
        return {
            "Update": {
                "TableName": self.table_name,
                "Key": cursor_key(grain),
                "UpdateExpression": "SET #next = :next, judged_at = :now",
                "ConditionExpression": condition,
                "ExpressionAttributeNames": {"#next": "next"},
                "ExpressionAttributeValues": values,
            }
        }

    def start_at(self, grain: Grain, first: datetime, now: datetime) -> bool:
        """Create the cursor at `first` (nothing before it will be judged); False when one exists already."""
        try:
            client("dynamodb").update_item(**self.advance_action(grain, None, first, now)["Update"])
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True
