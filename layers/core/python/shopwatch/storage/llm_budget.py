"""A daily cap on language-model calls, so narratives never cost more than configured: one atomic counter per
UTC day in StateTable (`LLM#<day> / CALLS`), incremented only while under the limit."""

from __future__ import annotations

from datetime import date, timedelta

from botocore.exceptions import ClientError

from shopwatch.domain.clock import epoch_seconds, utcnow
from shopwatch.storage.aws import client


class LlmBudget:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def claim(self, day: date, limit: int) -> bool:
        """Count one call against `day`; False (and nothing counted) when `limit` calls were made already."""
        try:
            client("dynamodb").update_item(
                TableName=self.table_name,
                Key={"pk": {"S": f"LLM#{day.isoformat()}"}, "sk": {"S": "CALLS"}},
                UpdateExpression="ADD calls :one SET expires_at = :expires",
                ConditionExpression="attribute_not_exists(calls) OR calls < :limit",
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":limit": {"N": str(limit)},
                    ":expires": {"N": str(epoch_seconds(utcnow() + timedelta(days=7)))},
                },
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True
