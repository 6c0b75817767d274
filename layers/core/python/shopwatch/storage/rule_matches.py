"""Which transactions each rule matched, per day, active and shadow alike: what GET /analytics/rules counts and
joins with labels for a rule's precision, and what tells an analyst a shadow rule is ready to publish.

Layout (StateTable):
    RULEMATCH#<rule_id> / <YYYY-MM-DD>#<transaction_id>   mode, version, at; TTL RETENTION after the match

Why one item per match and no counter: DetectFunction writes these after its marker-guarded transaction, and a
Put of the same key and content is idempotent, so a retried or replayed record rewrites what it wrote instead
of counting twice (an ADD counter would need to go inside the transaction, whose 100 actions a rule-heavy shop
could exhaust). The marker keeps the matches, so a crash between the two writes is finished by the replay.
A day's count is a Query over that day's keys (projected to the key: a few hundred bytes per match).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from shopwatch.domain.clock import epoch_seconds, to_iso
from shopwatch.storage.aws import client
from shopwatch.storage.batch_writes import put_many
from shopwatch.storage.items import from_attributes

PREFIX = "RULEMATCH#"
RETENTION = timedelta(days=90)


@dataclass(frozen=True)
class RecordedMatch:
    rule_id: str
    version: int
    mode: str  # active or shadow
    transaction_id: str
    at: datetime  # the transaction's time: the day it is counted on

    @property
    def day(self) -> str:
        return self.at.date().isoformat()


class RuleMatchRepository:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def record(self, matches: Iterable[RecordedMatch], now: datetime) -> None:
        """Idempotent puts: the same match always writes the same item."""
        put_many(
            self.table_name,
            [
                {
                    "pk": f"{PREFIX}{m.rule_id}",
                    "sk": f"{m.day}#{m.transaction_id}",
                    "mode": m.mode,
                    "version": m.version,
                    "at": to_iso(m.at),
                    "expires_at": epoch_seconds(max(m.at, now) + RETENTION),
                }
                for m in matches
            ],
        )

    def matched(self, rule_id: str, since: date, until: date | None = None) -> Iterator[tuple[str, str, str]]:
        """(transaction_id, mode, day) of every recorded match from `since` to `until` (inclusive)."""
        last = (until or date.max).isoformat()
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :from AND :to",
            "ExpressionAttributeValues": {
                ":pk": {"S": f"{PREFIX}{rule_id}"},
                ":from": {"S": since.isoformat()},
                ":to": {"S": f"{last}#\uffff"},
            },
            "ProjectionExpression": "sk, #m",
            "ExpressionAttributeNames": {"#m": "mode"},
        }
        while True:
            response = client("dynamodb").query(**kwargs)
            for item in map(from_attributes, response.get("Items", [])):
                day, transaction_id = item["sk"].split("#", 1)
                yield transaction_id, item["mode"], day
            if "LastEvaluatedKey" not in response:
                return
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def per_day(self, rule_id: str, since: date, until: date | None = None) -> list[dict[str, Any]]:
        """[{day, mode, matches}] in day order."""
        counts = Counter((day, mode) for _, mode, day in self.matched(rule_id, since, until))
        return [{"day": d, "mode": m, "matches": n} for (d, m), n in sorted(counts.items())]
