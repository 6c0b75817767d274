"""The one stored time format, whichever way a time reaches it (to_iso caches UTC times)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from shopwatch.domain.clock import to_iso


def test_every_instant_has_its_own_text_whether_cached_or_not():
    t = datetime(2025, 9, 16, 16, 31, 5, 123456, tzinfo=UTC)
    assert to_iso(t) == "2025-09-16T16:31:05.123456Z"
    assert to_iso(t) == "2025-09-16T16:31:05.123456Z"  # again, from the cache
    assert to_iso(t + timedelta(microseconds=1)) == "2025-09-16T16:31:05.123457Z"
    assert to_iso(t.astimezone(timezone(timedelta(hours=2)))) == "2025-09-16T16:31:05.123456Z"


def test_a_repeated_hour_in_a_zone_gives_two_instants():
    # equal as datetimes (same zone: compared wall time), an hour apart as instants
    first = datetime(2025, 11, 2, 1, 30, tzinfo=ZoneInfo("America/New_York"))
    second = first.replace(fold=1)
    assert first == second
    assert (to_iso(first), to_iso(second)) == ("2025-11-02T05:30:00.000000Z", "2025-11-02T06:30:00.000000Z")


def test_a_naive_time_is_refused():
    with pytest.raises(ValueError, match="naive"):
        to_iso(datetime(2025, 9, 16, 16, 31))
