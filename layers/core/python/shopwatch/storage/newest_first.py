"""Reading GSI partitions newest first, merged, one page at a time.

Why a merge: "every alert, newest first" spans the five partitions of the by-status index, and DynamoDB
orders only within a partition. Each partition is read backwards from the cursor; ties on the sort value
(alerts written in one transaction share `created_at`) are read to the end, so a page boundary inside a
tie neither repeats nor skips an item.

The same merge reads oldest first (`ascending`) for an index whose sort key is built to be read forwards:
the alert queue's by-risk index, whose key puts the highest risk, then the longest waiting, first.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from shopwatch.pagination import Cursor
from shopwatch.storage.aws import client
from shopwatch.storage.items import from_attributes


@dataclass(frozen=True)
class IndexQuery:
    """Items of one GSI whose sort attribute lies in [low, high], optionally filtered server-side."""

    table_name: str
    index_name: str
    partition_attribute: str
    sort_attribute: str
    id_attribute: str
    low: str
    high: str
    filter_expression: str | None = None
    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    ascending: bool = False

    def _pages(self, partition: str, low: str, high: str, page_size: int | None) -> Iterator[list[dict[str, Any]]]:
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": self.index_name,
            "KeyConditionExpression": "#pk = :pk AND #sk BETWEEN :low AND :high",
            "ExpressionAttributeNames": {"#pk": self.partition_attribute, "#sk": self.sort_attribute} | self.names,
            "ExpressionAttributeValues": {":pk": {"S": partition}, ":low": {"S": low}, ":high": {"S": high}}
            | self.values,
            "ScanIndexForward": self.ascending,
        }
        if self.filter_expression:
            kwargs["FilterExpression"] = self.filter_expression
        if page_size:
            kwargs["Limit"] = page_size
        while True:
            response = client("dynamodb").query(**kwargs)
            yield [from_attributes(i) for i in response.get("Items", [])]
            if "LastEvaluatedKey" not in response:
                return
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def _position(self, item: dict[str, Any]) -> Cursor:
        return Cursor(item[self.sort_attribute], item[self.id_attribute])

    def all(self, partitions: list[str]) -> Iterator[dict[str, Any]]:
        """Every matching item of every partition (for counts over a window), in no particular order."""
        for partition in partitions:
            for page in self._pages(partition, self.low, self.high, None):
                yield from page

    def page(
        self, partitions: list[str], after: Cursor | None, limit: int
    ) -> tuple[list[dict[str, Any]], Cursor | None]:
        """Up to `limit` items past `after` in the list's order (newest first, or ascending), and the cursor of
        the next page (None at the end)."""
        low, high = self.low, self.high
        if after is not None:
            low, high = (max(low, after.sort_value), high) if self.ascending else (low, min(high, after.sort_value))
        if low > high:
            return [], None
        found: list[dict[str, Any]] = []
        more = False
        for partition in partitions:
            taken: list[dict[str, Any]] = []
            exhausted = True
            for batch in self._pages(partition, low, high, limit + 1):
                taken.extend(i for i in batch if after is None or self._past(i, after))
                boundary = taken[limit - 1][self.sort_attribute] if len(taken) >= limit else None
                if boundary is not None and any(self._beyond(i[self.sort_attribute], boundary) for i in taken):
                    exhausted = False
                    break
            more = more or not exhausted
            found.extend(taken)
        found.sort(key=self._position, reverse=not self.ascending)
        page = found[:limit]
        if len(found) > limit or (more and page):
            return page, self._position(page[-1])
        return page, None

    def _past(self, item: dict[str, Any], after: Cursor) -> bool:
        return self._position(item) > after if self.ascending else self._position(item) < after

    def _beyond(self, value: str, boundary: str) -> bool:
        return value > boundary if self.ascending else value < boundary
