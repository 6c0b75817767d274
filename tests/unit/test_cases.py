"""Cases, pure: which entity anchors a transaction's case, that its id is deterministic, how alerts grow a
case (each alert and transaction counted once), the lifecycle, and the time-to-action figures."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from shopwatch.cases.metrics import Durations, case_metrics
from shopwatch.cases.model import (
    Anchor,
    add_case_note,
    assign_case,
    case_id_for,
    change_case_status,
    choose_anchor,
    grow_case,
)
from shopwatch.detectors.entities import NO_HISTORY, EntityHistory, EntityKey, apply_update, plan_updates
from shopwatch.domain.alert import AlertStatus
from shopwatch.domain.transaction import Transaction
from shopwatch.errors import Conflict
from tests.builders import T0, stored_alert, tx

FAILED = frozenset({"failed", "denied"})


def on(transaction: Transaction, **identity: str) -> Transaction:
    return replace(transaction, **identity)


def seen(*transactions: Transaction) -> dict[EntityKey, EntityHistory]:
    """The entity histories after these transactions, built by the very update plan DetectFunction writes."""
    entities: dict[EntityKey, EntityHistory] = {}
    for t in transactions:
        for update in plan_updates(t, entities, FAILED):
            entities[update.key] = apply_update(entities.get(update.key, NO_HISTORY), update)
    return entities


def test_a_customer_alone_on_their_device_anchors_their_own_case():
    purchase = on(tx("t1", "alice"), device_id="DEV-1", card_fingerprint="fp-1")
    assert choose_anchor(purchase, seen()) == Anchor("customer", "alice", frozenset({"alice"}))


def test_a_device_another_account_used_anchors_a_ring_case_naming_both_accounts():
    before = seen(on(tx("t1", "alice"), device_id="DEV-1"))
    anchor = choose_anchor(on(tx("t2", "bob", at=T0 + timedelta(minutes=1)), device_id="DEV-1"), before)
    assert anchor == Anchor("device", "DEV-1", frozenset({"alice", "bob"}))


def test_the_entity_linking_the_most_accounts_wins_and_ties_go_to_the_device():
    before = seen(
        on(tx("t1", "a"), device_id="DEV", card_fingerprint="CARD", email="x@example.com"),
        on(tx("t2", "b"), device_id="DEV", card_fingerprint="CARD"),
        on(tx("t3", "c"), email="x@example.com"),
        on(tx("t4", "d"), email="x@example.com"),
    )
    later = T0 + timedelta(minutes=5)
    # e-mail: a, c, d (+ e) beats device and card: a, b (+ e)
    both = on(tx("t5", "e", at=later), device_id="DEV", card_fingerprint="CARD", email="x@example.com")
    assert choose_anchor(both, before).kind == "email"
    # device and card tie: the device anchors
    tied = on(tx("t6", "f", at=later), device_id="DEV", card_fingerprint="CARD")
    assert choose_anchor(tied, before) == Anchor("device", "DEV", frozenset({"a", "b", "f"}))


def test_an_ip_network_never_anchors_a_case():
    before = seen(on(tx("t1", "a"), ip="198.51.100.7"))
    anchor = choose_anchor(on(tx("t2", "b"), ip="198.51.100.8"), before)  # same /24, other address
    assert anchor.kind == "customer"


def test_the_case_id_is_deterministic_in_anchor_and_window_and_differs_otherwise():
    assert case_id_for("device", "DEV-1", T0) == case_id_for("device", "DEV-1", T0)
    others = {case_id_for("device", "DEV-2", T0), case_id_for("card", "DEV-1", T0)}
    others.add(case_id_for("device", "DEV-1", T0 + timedelta(days=7)))
    assert case_id_for("device", "DEV-1", T0) not in others
    assert case_id_for("device", "DEV-1", T0).startswith("cs_") and len(case_id_for("customer", "x", T0)) == 27


def test_a_case_counts_each_alert_and_transaction_once_and_keeps_the_worst_severity():
    anchor = Anchor("device", "DEV-1", frozenset({"a", "b"}))
    first, second = stored_alert("a", severity="medium"), stored_alert("b", severity="critical", minute=1)
    case = grow_case(None, "cs_x", anchor, T0, first, True, True, ["device:DEV-1"], T0)
    assert case.version == 1 and case.alert_count == 1 and case.transaction_count == 1
    case = grow_case(case, "cs_x", anchor, T0, second, True, True, ["device:DEV-1"], T0 + timedelta(minutes=1))
    grown = grow_case(case, "cs_x", anchor, T0, replace(second, occurrences=2), False, False, [], T0)
    assert (grown.alert_count, grown.transaction_count, grown.severity.value) == (2, 2, "critical")
    assert grown.customer_ids == ("a", "b") and grown.entities == ("device:DEV-1",)


def test_a_new_alert_reopens_a_dismissed_case_but_not_a_confirmed_one():
    anchor = Anchor("customer", "a", frozenset({"a"}))
    case = grow_case(None, "cs_x", anchor, T0, stored_alert("a"), True, True, [], T0)
    dismissed = change_case_status(case, AlertStatus.FALSE_POSITIVE, "maria", T0)
    confirmed = change_case_status(case, AlertStatus.CONFIRMED_FRAUD, "maria", T0)
    new = stored_alert("a", minute=90, detector="velocity")
    assert grow_case(dismissed, "cs_x", anchor, T0, new, True, True, [], T0).status is AlertStatus.OPEN
    assert grow_case(confirmed, "cs_x", anchor, T0, new, True, True, [], T0).status is AlertStatus.CONFIRMED_FRAUD


def test_the_first_analyst_change_starts_the_clock_once_and_closing_records_when():
    case = grow_case(None, "cs_x", Anchor("customer", "a", frozenset({"a"})), T0, stored_alert("a"), True, True, [], T0)
    assigned = assign_case(case, "maria", "maria", T0 + timedelta(minutes=3))
    noted = add_case_note(assigned, "looking", "maria", T0 + timedelta(minutes=4))
    closed = change_case_status(noted, AlertStatus.RESOLVED, "maria", T0 + timedelta(hours=2))
    assert closed.first_action_at == T0 + timedelta(minutes=3) and closed.closed_at == T0 + timedelta(hours=2)
    assert [h["what"] for h in closed.history][1:] == ["assigned to maria", "note", "status open → resolved"]
    reopened = change_case_status(closed, AlertStatus.INVESTIGATING, "maria", T0 + timedelta(hours=3))
    assert reopened.closed_at is None


def test_an_illegal_move_is_a_conflict_naming_the_allowed_ones():
    case = grow_case(None, "cs_x", Anchor("customer", "a", frozenset({"a"})), T0, stored_alert("a"), True, True, [], T0)
    confirmed = change_case_status(case, AlertStatus.CONFIRMED_FRAUD, "maria", T0)
    with pytest.raises(Conflict) as refused:
        change_case_status(confirmed, AlertStatus.FALSE_POSITIVE, "maria", T0)
    assert refused.value.details["allowed"] == ["resolved"]


def test_durations_give_the_median_and_the_nearest_rank_p90():
    assert Durations.of([]) == Durations(0, None, None)
    assert Durations.of([30, 10, 20]) == Durations(3, 20, 30)
    assert Durations.of([float(s) for s in range(1, 11)]) == Durations(10, 5.5, 9)


def test_case_metrics_count_first_actions_of_cases_created_and_closes_of_cases_closed_in_the_window():
    base = grow_case(None, "cs_x", Anchor("customer", "a", frozenset({"a"})), T0, stored_alert("a"), True, True, [], T0)
    acted = assign_case(base, "maria", "maria", T0 + timedelta(minutes=10))
    closed = change_case_status(acted, AlertStatus.RESOLVED, "maria", T0 + timedelta(minutes=40))
    old = replace(closed, case_id="cs_old", created_at=T0 - timedelta(days=2), first_action_at=T0 - timedelta(days=1))
    figures = case_metrics([base, closed, old], T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    assert (figures.opened, figures.closed) == (2, 2)
    assert figures.time_to_first_action == Durations(1, 600, 600)
    assert figures.time_to_close == Durations(2, (2400 + 2 * 86400 + 2400) / 2, 2 * 86400 + 2400)
