"""AlertsTable: alerts keyed by their deterministic id, written with optimistic concurrency (`version`).

Every writer (detection, later triage) reads an alert, changes it, and writes it back on the condition that
nobody else wrote in between; a refused write is re-read and retried by the caller.
"""

from __future__ import annotations

from typing import Any

from shopwatch.domain.alert import Alert
from shopwatch.storage.aws import client
from shopwatch.storage.batch_reads import get_many
from shopwatch.storage.items import from_attributes, to_attributes


class AlertRepository:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def get_many(self, alert_ids: list[str]) -> dict[str, Alert]:
        items = get_many(self.table_name, [{"alert_id": {"S": a}} for a in alert_ids])
        return {item["alert_id"]: Alert.from_item(item) for item in items}

    def get(self, alert_id: str) -> Alert | None:
        response = client("dynamodb").get_item(
            TableName=self.table_name, Key={"alert_id": {"S": alert_id}}, ConsistentRead=True
        )
        return Alert.from_item(from_attributes(response["Item"])) if "Item" in response else None

    def save_action(self, alert: Alert) -> dict[str, Any]:
        """A Put of `alert` that succeeds only over the version it was derived from (or over nothing for v1)."""
        action: dict[str, Any] = {"TableName": self.table_name, "Item": to_attributes(alert.to_item())}
        if alert.version == 1:
            action["ConditionExpression"] = "attribute_not_exists(alert_id)"
        else:
            action["ConditionExpression"] = "version = :expected"
            action["ExpressionAttributeValues"] = {":expected": {"N": str(alert.version - 1)}}
        return {"Put": action}

    def scan_all(self) -> list[Alert]:
        """Every alert (tests and small local tools; the API pages through indexes instead)."""
        alerts: list[Alert] = []
        kwargs: dict[str, Any] = {"TableName": self.table_name, "ConsistentRead": True}
        while True:
            response = client("dynamodb").scan(**kwargs)
            alerts.extend(Alert.from_item(from_attributes(i)) for i in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return alerts
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
