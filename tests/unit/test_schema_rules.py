"""The rules the server checks and the patterns /openapi.json publishes are one definition."""

from __future__ import annotations

import re
import sys
import unicodedata

from shopwatch.domain.clock import parse_rfc3339
from shopwatch.domain.input_rules import CONTROL_CLASS, has_control_characters


def test_the_published_control_class_is_exactly_what_the_server_refuses():
    published = re.compile(f"[{CONTROL_CLASS}]")
    for point in range(sys.maxunicode + 1):
        char = chr(point)
        expected = point < 0x20 or 0x7F <= point <= 0x9F or char in "\u2028\u2029"
        expected = expected or unicodedata.category(char) == "Cf"
        assert bool(published.match(char)) == expected == has_control_characters(char), hex(point)


def test_times_whose_utc_falls_outside_the_calendar_saturate_instead_of_overflowing():
    assert parse_rfc3339("0001-01-01T00:00:00+05:00").year == 1
    assert parse_rfc3339("9999-12-31T23:00:00-05:00").year == 9999
