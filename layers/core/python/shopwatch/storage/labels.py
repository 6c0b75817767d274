"""Labels reported after the fact (chargebacks, customer complaints) in StateTable under one partition:
`LABELS / <transaction id>`. Labels are rare, so one partition holds them all and a confusion matrix reads it
whole; relabelling a transaction overwrites its label (the latest word wins, a resend changes nothing)."""

from __future__ import annotations

import json
from typing import Any

from shopwatch.storage.aws import client
from shopwatch.storage.items import from_attributes, to_attributes

PARTITION = "LABELS"


class LabelRepository:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def put(self, transaction_id: str, label: dict[str, Any]) -> None:
        item = {"pk": PARTITION, "sk": transaction_id} | label
        if "models" in item:  # scores are floats, which DynamoDB's serializer refuses: kept as JSON
            item["models"] = json.dumps(item["models"])
        client("dynamodb").put_item(TableName=self.table_name, Item=to_attributes(item))

    def get(self, transaction_id: str) -> dict[str, Any] | None:
        response = client("dynamodb").get_item(
            TableName=self.table_name, Key={"pk": {"S": PARTITION}, "sk": {"S": transaction_id}}, ConsistentRead=True
        )
        return _label(from_attributes(response["Item"])) if "Item" in response else None

    def all(self) -> list[dict[str, Any]]:
        labels: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": PARTITION}},
        }
        while True:
            response = client("dynamodb").query(**kwargs)
            labels.extend(_label(from_attributes(i)) for i in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return labels
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _label(item: dict[str, Any]) -> dict[str, Any]:
    label = {"transaction_id": item["sk"]} | {k: v for k, v in item.items() if k not in ("pk", "sk")}
    label["models"] = json.loads(label.get("models", "[]"))
    return label
