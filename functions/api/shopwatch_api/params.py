"""The query and path parameters of ApiFunction's routes, each with every rule the server applies to it stated
in its own schema (issue 15: the schema is the server).

Why here and not inline in the routes: a rule that lives in two places (a `Query(max_length=...)` and a check
deeper down) drifts, and /openapi.json then promises what the server refuses. Each type below is the one place
its rule is written; the route only names it.

What no schema can state is settled here too, by making the server follow the schema:
- a time filter outside what is stored (before 2000, or so far ahead a datetime cannot hold it) matches the
  same alerts as the nearest storable time, instead of failing;
- `since` after `until` is an empty window: nothing matches, which is an answer, not an error.
Only `next_token` keeps a rule that is not syntax: it must be a token the previous page gave (`x-issued-by`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from shopwatch.detectors.findings import DETECTOR_LABELS
from shopwatch.domain.clock import parse_rfc3339
from shopwatch.errors import ValidationFailed
from shopwatch.pagination import MAX_TOKEN_LENGTH
from shopwatch_api.models import NO_DOT_SEGMENT, ONE_LINE

EARLIEST_FILTER = datetime(2000, 1, 1, tzinfo=UTC)  # nothing is stored before: ingest refuses older timestamps
LATEST_FILTER = datetime(9999, 12, 30, tzinfo=UTC)  # a day short of datetime.max, so window arithmetic never overflows

# members from the detectors' table, so a new detector is a filter value at once (mypy cannot list them)
DetectorName = StrEnum("DetectorName", {name: name for name in DETECTOR_LABELS})  # type: ignore[misc]
DetectorName.__doc__ = "The detectors that raise alerts."

DATE_TIME = {"format": "date-time"}
TOKEN = {
    "pattern": r"^[A-Za-z0-9_-]+$",
    "x-issued-by": "the next_token of the previous page of this list, with the same filters; any other is a 400",
}

Hours = Annotated[int, Query(ge=1, le=720, description="the window: this many hours up to now")]
Days = Annotated[int, Query(ge=1, le=366, description="the window: this many days up to now")]
Limit = Annotated[int, Query(ge=1, le=100, description="at most this many per page")]
PageToken = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=MAX_TOKEN_LENGTH,
        description="opaque: the next_token of the previous page, with the same filters",
        json_schema_extra=TOKEN,
    ),
]
DetectorFilter = Annotated[DetectorName | None, Query(description="only this detector's alerts")]


def moment_query(description: str) -> Query:
    return Query(description=f"RFC 3339 date-time with an offset; {description}", json_schema_extra=DATE_TIME)


AlertId = Annotated[str, Path(min_length=1, max_length=64)]
TransactionId = Annotated[str, Path(min_length=1, max_length=128)]
CustomerId = Annotated[str, Path(min_length=1, max_length=128)]
Sku = Annotated[str, Path(min_length=1, max_length=64, pattern=ONE_LINE, json_schema_extra=NO_DOT_SEGMENT)]


def filter_moment(name: str, text: str | None) -> datetime | None:
    """A time filter as an aware UTC datetime within what can be stored; a 400 when it is not RFC 3339."""
    if text is None:
        return None
    try:
        moment = parse_rfc3339(text)
    except ValueError as exc:
        raise ValidationFailed(f"{name} {exc}", {"field": name, "value": text}) from None
    return min(max(moment, EARLIEST_FILTER), LATEST_FILTER)
