"""Timezone-aware UTC times and their one storage format.

Why a fixed-width format: DynamoDB sort keys and GSI ranges compare strings, so every stored time is
`YYYY-MM-DDTHH:MM:SS.ffffffZ` and sorts in time order.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime

_RFC3339 = re.compile(
    r"^([0-9]{4}-[0-9]{2}-[0-9]{2})[Tt]([0-9]{2}:[0-9]{2}:[0-9]{2})(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$"
)


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: every Shopwatch time is timezone-aware UTC")
    if moment.tzinfo is UTC:
        return _utc_iso(moment)
    return moment.astimezone(UTC).strftime(_FORMAT)


_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


@functools.lru_cache(maxsize=4096)
def _utc_iso(moment: datetime) -> str:
    """Cached: a transaction's time is written several times (its recent-activity key, first/last seen on its
    profile and on each entity), and strftime is the dear part. UTC times only: two equal ones are one instant
    (times in a zone with a repeated hour compare equal across `fold` while being an hour apart)."""
    return moment.strftime(_FORMAT)


def parse_rfc3339(text: str) -> datetime:
    """Parse an RFC 3339 timestamp with an offset (Z or ±HH:MM) into aware UTC; anything else is an error.
    Exactly RFC 3339's `date-time` production (JSON Schema's `format: date-time`): "T" between date and time,
    not the space its note lets applications use, so the published format is the rule.

    A time whose UTC equivalent falls outside datetime's range (year 1 ahead of UTC, year 9999 behind it) becomes
    the nearest representable instant, so every caller's own range rule answers it, instead of an OverflowError."""
    match = _RFC3339.match(text)
    if not match:
        raise ValueError("must be an RFC 3339 timestamp with an offset, e.g. 2025-09-16T16:31:05Z")
    date, time, fraction, offset = match.groups()
    fraction = (fraction or ".0")[:7].ljust(7, "0")  # datetime keeps microseconds
    offset = "+00:00" if offset in ("Z", "z") else offset
    try:
        moment = datetime.fromisoformat(f"{date}T{time}{fraction}{offset}")
    except ValueError as exc:
        raise ValueError(f"is not a valid date and time: {exc}") from None
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 or 9999-12-31T23:00-05:00: valid, but not in UTC's datetime range
        return datetime.min.replace(tzinfo=UTC) if moment.year == 1 else datetime.max.replace(tzinfo=UTC)


def parse_iso(text: str) -> datetime:
    """Parse a stored time (our own format, or any RFC 3339 time)."""
    return parse_rfc3339(text)


def epoch_seconds(moment: datetime) -> int:
    return int(moment.timestamp())


def floor_window(moment: datetime, seconds: int) -> datetime:
    """The start of the fixed window of `seconds` that contains `moment` (windows are aligned to the epoch)."""
    start = int(moment.timestamp()) // seconds * seconds
    return datetime.fromtimestamp(start, UTC)
