"""Lambda's event filtering as the local harness applies it (the same patterns the template declares)."""

from __future__ import annotations

import pytest

from infra.local.stream_events import passes_filters

INSERT = {"eventName": "INSERT", "dynamodb": {"NewImage": {"last_change": {"S": "created"}, "amount": {"N": "12"}}}}
MODIFY = {"eventName": "MODIFY", "dynamodb": {"NewImage": {"last_change": {"S": "occurrence"}}}}
ESCALATED = {"eventName": "MODIFY", "dynamodb": {"NewImage": {"last_change": {"S": "escalated"}}}}
ESCALATION = {"eventName": ["MODIFY"], "dynamodb": {"NewImage": {"last_change": {"S": ["escalated"]}}}}


def test_no_patterns_pass_everything():
    assert passes_filters(MODIFY, [])


def test_any_matching_pattern_passes_the_record():
    patterns = [{"eventName": ["INSERT"]}, ESCALATION]
    assert [passes_filters(r, patterns) for r in (INSERT, MODIFY, ESCALATED)] == [True, False, True]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"eventName": [{"anything-but": ["REMOVE"]}]}, True),
        ({"eventName": [{"prefix": "INS"}]}, True),
        ({"dynamodb": {"NewImage": {"amount": {"N": [{"numeric": [">", 10, "<=", 12]}]}}}}, True),
        ({"dynamodb": {"NewImage": {"amount": {"N": [{"numeric": [">", 12]}]}}}}, False),
        ({"dynamodb": {"OldImage": [{"exists": False}]}}, True),
        ({"dynamodb": {"NewImage": [{"exists": True}]}}, True),
        ({"eventName": ["REMOVE"]}, False),
    ],
)
def test_content_filtering_operators(pattern, expected):
    assert passes_filters(INSERT, [pattern]) is expected
