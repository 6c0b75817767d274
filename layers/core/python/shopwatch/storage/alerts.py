"""AlertsTable: alerts keyed by their deterministic id, written with optimistic concurrency (`version`).

Every writer (detection, later triage) reads an alert, changes it, and writes it back on the condition that
nobody else wrote in between; a refused write is re-read and retried by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from botocore.exceptions import ClientError

from shopwatch.domain.alert import Alert, AlertStatus, risk_order
from shopwatch.domain.clock import to_iso
from shopwatch.domain.severity import Severity
from shopwatch.pagination import Cursor
from shopwatch.storage.aws import client, with_retries
from shopwatch.storage.batch_reads import get_many
from shopwatch.storage.items import from_attributes, to_attributes
from shopwatch.storage.newest_first import IndexQuery


class AlertOrder(StrEnum):
    """newest: created_at, newest first. risk: the analyst's queue, highest risk_score first, then oldest
    first among equal risk (the alert waiting longest), read from the by-risk index (status + risk_order)."""

    NEWEST = "newest"
    RISK = "risk"


RISK_ORDER_RANGE = ("0", "~")  # every risk_order ("00000#…" to "10000#…") sorts between these


@dataclass(frozen=True)
class AlertFilter:
    """The GET /alerts filters; created_at within [since, until]."""

    since: datetime
    until: datetime
    status: AlertStatus | None = None
    min_severity: Severity | None = None
    detector: str | None = None
    customer_id: str | None = None
    order: AlertOrder = AlertOrder.NEWEST


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

    def save(self, alert: Alert) -> bool:
        """Write `alert` over the version it came from; False when someone else wrote in between."""
        try:
            client("dynamodb").put_item(**self.save_action(alert)["Put"])
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def set_narrative(self, alert_id: str, text: str, model: str) -> None:
        """Add the model's explanation to an alert. It moves `version`, so a writer holding the previous
        version re-reads (and keeps the narrative) instead of overwriting it; `last_change` = narrative keeps
        the change away from NotifyFunction's stream filter."""
        client("dynamodb").update_item(
            TableName=self.table_name,
            Key={"alert_id": {"S": alert_id}},
            UpdateExpression="SET narrative = :text, narrative_model = :model, last_change = :change ADD version :one",
            ConditionExpression="attribute_exists(alert_id)",
            ExpressionAttributeValues={
                ":text": {"S": text},
                ":model": {"S": model},
                ":change": {"S": "narrative"},
                ":one": {"N": "1"},
            },
        )

    def _query(self, wanted: AlertFilter) -> tuple[IndexQuery, list[str]]:
        """The cheapest index for the filters: a customer's partition, one status, or all five statuses; by
        risk, the by-risk index's status partitions, the time window then a filter (its key starts with risk)."""
        conditions, names, values = [], {}, {}
        by_risk = wanted.order is AlertOrder.RISK and wanted.customer_id is None
        if wanted.min_severity is not None:
            conditions.append("severity_rank >= :rank")
            values[":rank"] = {"N": str(wanted.min_severity.rank)}
        if wanted.detector is not None:
            conditions.append("detector = :detector")
            values[":detector"] = {"S": wanted.detector}
        if wanted.customer_id is not None:
            index, partition_attribute, partitions = "by-customer", "customer_id", [wanted.customer_id]
            if wanted.status is not None:
                conditions.append("#status = :status")
                names["#status"] = "status"
                values[":status"] = {"S": wanted.status.value}
        else:
            index, partition_attribute = ("by-risk" if by_risk else "by-status"), "status"
            partitions = [wanted.status.value] if wanted.status else [s.value for s in AlertStatus]
        low, high = to_iso(wanted.since), to_iso(wanted.until)
        if by_risk:
            conditions.append("created_at BETWEEN :since AND :until")
            values |= {":since": {"S": low}, ":until": {"S": high}}
            low, high = RISK_ORDER_RANGE
        query = IndexQuery(
            table_name=self.table_name,
            index_name=index,
            partition_attribute=partition_attribute,
            sort_attribute="risk_order" if by_risk else "created_at",
            id_attribute="alert_id",
            low=low,
            high=high,
            filter_expression=" AND ".join(conditions) or None,
            names=names,
            values=values,
            ascending=by_risk,
        )
        return query, partitions

    def page(self, wanted: AlertFilter, after: Cursor | None, limit: int) -> tuple[list[Alert], Cursor | None]:
        query, partitions = self._query(wanted)
        if wanted.order is AlertOrder.RISK and wanted.customer_id is not None:
            return self._customer_by_risk(query, partitions, after, limit)
        items, cursor = query.page(partitions, after, limit)
        return [Alert.from_item(i) for i in items], cursor

    @staticmethod
    def _customer_by_risk(
        query: IndexQuery, partitions: list[str], after: Cursor | None, limit: int
    ) -> tuple[list[Alert], Cursor | None]:
        """One customer's alerts by risk: their partition of by-customer is read whole and sorted here (it
        holds one customer's alerts, not the shop's, so this stays small where the queue's would not)."""

        def position(a: Alert) -> Cursor:
            return Cursor(risk_order(a.risk_score, a.created_at), a.alert_id)

        ranked = sorted((Alert.from_item(i) for i in query.all(partitions)), key=position)
        rest = [a for a in ranked if after is None or position(a) > after]
        page = rest[:limit]
        return page, position(page[-1]) if len(rest) > limit else None

    def created_between(
        self, since: datetime, until: datetime, detector: str | None = None, status: AlertStatus | None = None
    ) -> list[Alert]:
        """Every alert created in [since, until], of one detector or status if given (counts, reports, digest)."""
        query, partitions = self._query(AlertFilter(since, until, status=status, detector=detector))
        return [Alert.from_item(i) for i in query.all(partitions)]

    def count_in_status(self, status: AlertStatus) -> int:
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": "by-status",
            "KeyConditionExpression": "#s = :s",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {":s": {"S": status.value}},
            "Select": "COUNT",
        }
        count = 0
        while True:
            response = client("dynamodb").query(**kwargs)
            count += response["Count"]
            if "LastEvaluatedKey" not in response:
                return count
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

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

    def with_feedback(self) -> list[Alert]:
        """Every alert an analyst gave feedback on (what training learns from): a filtered Scan, once a week."""
        alerts: list[Alert] = []
        kwargs: dict[str, Any] = {"TableName": self.table_name, "FilterExpression": "attribute_exists(feedback)"}
        while True:
            response = with_retries(lambda: client("dynamodb").scan(**kwargs))
            alerts.extend(Alert.from_item(from_attributes(i)) for i in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return alerts
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
