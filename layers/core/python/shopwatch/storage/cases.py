"""CasesTable: cases keyed by their deterministic id, written with optimistic concurrency (`version`), like
alerts: DetectFunction grows a case inside a transaction's unit of work while an analyst may be triaging it.

The by-status index (status, updated_at) lists the cases of a status most recently touched first, and feeds the
case metrics (a case created or closed in a window was updated in it). AlertsTable's by-case index (case_id,
created_at; sparse: only alerts with a case carry case_id) lists a case's alerts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from shopwatch.cases.model import Case
from shopwatch.domain.alert import Alert, AlertStatus
from shopwatch.domain.clock import to_iso
from shopwatch.domain.severity import Severity
from shopwatch.pagination import Cursor
from shopwatch.storage.aws import client
from shopwatch.storage.batch_reads import get_many
from shopwatch.storage.items import from_attributes, to_attributes
from shopwatch.storage.newest_first import IndexQuery

EARLIEST = "2000-01-01T00:00:00Z"
LATEST = "9999-12-31T23:59:59Z"


class CaseRepository:
    def __init__(self, table_name: str, alerts_table_name: str) -> None:
        self.table_name = table_name
        self.alerts_table_name = alerts_table_name

    def get_many(self, case_ids: list[str]) -> dict[str, Case]:
        items = get_many(self.table_name, [{"case_id": {"S": c}} for c in case_ids])
        return {item["case_id"]: Case.from_item(item) for item in items}

    def get(self, case_id: str) -> Case | None:
        response = client("dynamodb").get_item(
            TableName=self.table_name, Key={"case_id": {"S": case_id}}, ConsistentRead=True
        )
        return Case.from_item(from_attributes(response["Item"])) if "Item" in response else None

    def save_action(self, case: Case) -> dict[str, Any]:
        """A Put of `case` that succeeds only over the version it was derived from (or over nothing for v1)."""
        action: dict[str, Any] = {"TableName": self.table_name, "Item": to_attributes(case.to_item())}
        if case.version == 1:
            action["ConditionExpression"] = "attribute_not_exists(case_id)"
        else:
            action["ConditionExpression"] = "version = :expected"
            action["ExpressionAttributeValues"] = {":expected": {"N": str(case.version - 1)}}
        return {"Put": action}

    def save(self, case: Case) -> bool:
        """Write `case` over the version it came from; False when someone else wrote in between."""
        try:
            client("dynamodb").put_item(**self.save_action(case)["Put"])
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def fold(self, case_id: str, into: str) -> None:
        """Mark a customer case as folded into a ring case, if it exists (idempotent: the same value again).
        Moves `version`, so a writer holding the previous one re-reads instead of dropping the mark."""
        try:
            client("dynamodb").update_item(
                TableName=self.table_name,
                Key={"case_id": {"S": case_id}},
                UpdateExpression="SET folded_into = :into ADD version :one",
                ConditionExpression="attribute_exists(case_id) AND attribute_not_exists(folded_into)",
                ExpressionAttributeValues={":into": {"S": into}, ":one": {"N": "1"}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise

    def _query(self, min_severity: Severity | None, low: str = EARLIEST) -> IndexQuery:
        conditions, values = ["attribute_not_exists(folded_into)"], {}
        if min_severity is not None:
            conditions.append("severity_rank >= :rank")
            values[":rank"] = {"N": str(min_severity.rank)}
        return IndexQuery(
            table_name=self.table_name,
            index_name="by-status",
            partition_attribute="status",
            sort_attribute="updated_at",
            id_attribute="case_id",
            low=low,
            high=LATEST,
            filter_expression=" AND ".join(conditions),
            values=values,
        )

    def page(
        self, statuses: list[AlertStatus], min_severity: Severity | None, after: Cursor | None, limit: int
    ) -> tuple[list[Case], Cursor | None]:
        """Cases of `statuses` (not folded into another), most recently updated first."""
        items, cursor = self._query(min_severity).page([s.value for s in statuses], after, limit)
        return [Case.from_item(i) for i in items], cursor

    def updated_since(self, since: datetime) -> list[Case]:
        """Every case updated at or after `since`, of any status (what the case metrics are computed over)."""
        query = self._query(None, low=to_iso(since))
        return [Case.from_item(i) for i in query.all([s.value for s in AlertStatus])]

    def alerts_of(self, case_id: str) -> list[Alert]:
        """The alerts of one case, oldest first (AlertsTable's by-case index)."""
        kwargs: dict[str, Any] = {
            "TableName": self.alerts_table_name,
            "IndexName": "by-case",
            "KeyConditionExpression": "case_id = :case",
            "ExpressionAttributeValues": {":case": {"S": case_id}},
        }
        alerts: list[Alert] = []
        while True:
            response = client("dynamodb").query(**kwargs)
            alerts.extend(Alert.from_item(from_attributes(i)) for i in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return alerts
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
