"""The analyst's actions on an alert, as pure functions: each returns the next version with who and when."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest

from shopwatch.domain.alert import ALLOWED_TRANSITIONS, AlertStatus
from shopwatch.domain.triage import MAX_NOTES, FeedbackLabel, add_note, change_status, give_feedback, outcome
from shopwatch.errors import Conflict, ValidationFailed
from shopwatch.pagination import Cursor, decode_token, encode_token, scope_of
from tests.builders import T0, stored_alert

LATER = T0 + timedelta(minutes=30)


def test_a_status_change_is_a_new_version_with_history_and_the_first_one_ends_the_time_to_triage():
    alert = stored_alert()
    moved = change_status(alert, AlertStatus.INVESTIGATING, "maria", LATER)
    assert (moved.version, moved.status, moved.triaged_at, moved.last_change) == (2, "investigating", LATER, "triage")
    assert moved.history[-1] == {"at": "2025-09-16T16:30:00.000000Z", "by": "maria", "action": "status",
                                 "from": "open", "to": "investigating"}  # fmt: skip
    settled = change_status(moved, AlertStatus.RESOLVED, "sam", LATER + timedelta(hours=1))
    assert settled.triaged_at == LATER


@pytest.mark.parametrize(
    ("start", "to"),
    [("open", "open"), ("investigating", "open"), ("resolved", "open"), ("false_positive", "confirmed_fraud")],
)
def test_illegal_moves_are_conflicts_that_name_the_allowed_ones(start, to):
    with pytest.raises(Conflict) as refused:
        change_status(stored_alert(status=start), AlertStatus(to), "x", LATER)
    assert refused.value.details["from"] == start


def test_an_analyst_can_take_a_resolved_alert_back_into_investigation():
    back = change_status(stored_alert(status="resolved"), AlertStatus.INVESTIGATING, "maria", LATER)
    assert back.status is AlertStatus.INVESTIGATING
    assert back.history[-1]["from"] == "resolved" and back.history[-1]["to"] == "investigating"


def test_feedback_settles_only_an_alert_still_open_or_investigating():
    fraud = give_feedback(stored_alert(), FeedbackLabel.FRAUD, "maria", LATER)
    assert fraud.status is AlertStatus.CONFIRMED_FRAUD and outcome(fraud) == "confirmed"
    resolved = give_feedback(stored_alert(status="resolved"), FeedbackLabel.LEGITIMATE, "maria", LATER)
    assert resolved.status is AlertStatus.RESOLVED and outcome(resolved) == "dismissed"
    assert outcome(stored_alert(status="false_positive")) == "dismissed" and outcome(stored_alert()) == "pending"


def test_notes_are_bounded_so_an_alert_stays_far_below_dynamodbs_item_limit():
    alert = stored_alert()
    for _ in range(MAX_NOTES):
        alert = add_note(alert, "x" * 1000, "maria", LATER)
    assert len(alert.to_item()["notes"]) == MAX_NOTES and len(str(alert.to_item())) < 350_000
    with pytest.raises(Conflict):
        add_note(alert, "one more", "maria", LATER)


def test_a_page_token_round_trips_only_with_its_own_filters():
    scope = scope_of(status="open", detector=None)
    token = encode_token(Cursor("2025-09-16T16:00:00.000000Z", "al_1"), scope)
    assert decode_token(token, scope) == Cursor("2025-09-16T16:00:00.000000Z", "al_1")
    for bad in ("", "!!!", token + "x", encode_token(Cursor("a", "b"), scope_of(status="resolved")), "e30"):
        with pytest.raises(ValidationFailed):
            decode_token(bad, scope)


def test_the_dashboard_offers_exactly_the_moves_the_api_allows():
    script = (Path(__file__).parents[2] / "functions/api/dashboard/dashboard.js").read_text()
    literal = re.search(r"const NEXT_STATUSES = (\{.*?\});", script, re.S).group(1)
    offered = json.loads(re.sub(r",\s*}", "}", re.sub(r"(\w+):", r'"\1":', literal)))
    assert {k: set(v) for k, v in offered.items()} == {s.value: set(ALLOWED_TRANSITIONS[s]) for s in AlertStatus}
