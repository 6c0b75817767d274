"""Per model version and UTC day: how many transactions it scored, how many it called outliers, and a histogram
of its scores. What GET /analytics/models needs besides the labelled transactions: the paging budget is a share
of *all* scored transactions (its threshold comes from the histogram), and alerts per day count them all.

    MODELSTATS#<version> / <YYYY-MM-DD>   scored, outliers, h<k>: scores with floor(-score * BINS) = k
                                          (Isolation Forest scores lie in [-1, 0]; k = BINS is a score of -1)

One ADD update per version and day per DetectFunction batch, after the batch's records were applied (counted
from their outcomes, never from a replayed record). A crash between the records and this update loses that
batch's counts (a little less counted), never counts one twice.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from shopwatch.detectors.model import ModelScore
from shopwatch.domain.clock import epoch_seconds
from shopwatch.storage.aws import client
from shopwatch.storage.items import from_attributes

BINS = 100  # score resolution 0.01: the forest's scores of one shop spread over ~0.3 of its range
RETENTION = timedelta(days=400)


def score_bin(score: float) -> int:
    return min(BINS, max(0, math.floor(-score * BINS)))


@dataclass
class DayStats:
    scored: int = 0
    outliers: int = 0
    bins: Counter[int] = field(default_factory=Counter)


class ModelStatsRepository:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def add(self, scored: Iterable[tuple[date, ModelScore]], now: datetime) -> int:
        """Count each (day, score); one update per version and day. Returns the updates made."""
        totals: dict[tuple[str, date], DayStats] = {}
        for day, score in scored:
            stats = totals.setdefault((score.version, day), DayStats())
            stats.scored += 1
            stats.outliers += int(score.outlier)
            stats.bins[score_bin(score.score)] += 1
        for (version, day), stats in sorted(totals.items()):
            names = {"#s": "scored", "#o": "outliers"} | {f"#h{k}": f"h{k}" for k in stats.bins}
            values = {":s": {"N": str(stats.scored)}, ":o": {"N": str(stats.outliers)}}
            values |= {f":h{k}": {"N": str(n)} for k, n in stats.bins.items()}
            values[":e"] = {"N": str(epoch_seconds(now + RETENTION))}
            adds = ", ".join(["#s :s", "#o :o", *(f"#h{k} :h{k}" for k in stats.bins)])
            client("dynamodb").update_item(
                TableName=self.table_name,
                Key={"pk": {"S": f"MODELSTATS#{version}"}, "sk": {"S": day.isoformat()}},
                UpdateExpression=f"ADD {adds} SET expires_at = :e",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        return len(totals)

    def days(self, version: str, since: date, until: date) -> dict[date, DayStats]:
        """The version's days in [since, until] that have counts."""
        found: dict[date, DayStats] = {}
        kwargs = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :since AND :until",
            "ExpressionAttributeValues": {
                ":pk": {"S": f"MODELSTATS#{version}"},
                ":since": {"S": since.isoformat()},
                ":until": {"S": until.isoformat()},
            },
        }
        while True:
            response = client("dynamodb").query(**kwargs)
            for item in map(from_attributes, response.get("Items", [])):
                bins = Counter({int(k[1:]): int(v) for k, v in item.items() if k[:1] == "h" and k[1:].isdigit()})
                found[date.fromisoformat(item["sk"])] = DayStats(int(item["scored"]), int(item["outliers"]), bins)
            if "LastEvaluatedKey" not in response:
                return found
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
