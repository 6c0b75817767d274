"""Timezone-aware UTC times and their one storage format.

Why a fixed-width format: DynamoDB sort keys and GSI ranges compare strings, so every stored time is
`YYYY-MM-DDTHH:MM:SS.ffffffZ` and sorts in time order.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

_RFC3339 = re.compile(r"^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: every Shopwatch time is timezone-aware UTC")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_rfc3339(text: str) -> datetime:
    """Parse an RFC 3339 timestamp with an offset (Z or ±HH:MM) into aware UTC; anything else is an error."""
    match = _RFC3339.match(text)
    if not match:
        raise ValueError("must be an RFC 3339 timestamp with an offset, e.g. 2025-09-16T16:31:05Z")
    date, time, fraction, offset = match.groups()
    fraction = (fraction or ".0")[:7].ljust(7, "0")  # datetime keeps microseconds
    offset = "+00:00" if offset in ("Z", "z") else offset
    try:
        return datetime.fromisoformat(f"{date}T{time}{fraction}{offset}").astimezone(UTC)
    except ValueError as exc:
        raise ValueError(f"is not a valid date and time: {exc}") from None


def parse_iso(text: str) -> datetime:
    """Parse a stored time (our own format, or any RFC 3339 time)."""
    return parse_rfc3339(text)


def epoch_seconds(moment: datetime) -> int:
    return int(moment.timestamp())


def floor_window(moment: datetime, seconds: int) -> datetime:
    """The start of the fixed window of `seconds` that contains `moment` (windows are aligned to the epoch)."""
    start = int(moment.timestamp()) // seconds * seconds
    return datetime.fromtimestamp(start, UTC)
