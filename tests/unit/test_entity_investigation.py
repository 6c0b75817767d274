"""An entity's page from what detection keeps: the key a typed value stands for, its links (capped), the link
graph two steps out (bounded), its transactions among its accounts' and their alerts. The entity histories are
built by the same update plan DetectFunction writes; the repositories are in-memory stand-ins."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from shopwatch.detectors.entities import LINK_CAP, NO_HISTORY, EntityKey, apply_update, plan_updates
from shopwatch.errors import NotFound, ValidationFailed
from shopwatch.investigation.entities import GRAPH_NODES, EntityInvestigation, entity_key, list_targets
from tests.builders import T0, stored_alert, tx

FAILED = frozenset({"failed", "denied"})


class Known:
    """StateRepository's entity reads, CustomerRepository's transactions and AlertRepository's pages, over
    transactions learned as DetectFunction learns them."""

    def __init__(self, transactions) -> None:
        self.histories: dict[EntityKey, object] = {}
        self.transactions = list(transactions)
        self.alerts = []
        for t in self.transactions:
            for update in plan_updates(t, self.histories, FAILED):
                self.histories[update.key] = apply_update(self.histories.get(update.key, NO_HISTORY), update)

    def get_entities(self, keys):
        return {k: self.histories.get(k, NO_HISTORY) for k in keys}

    def recent_transactions(self, customer_id, limit):
        mine = [t for t in self.transactions if t.customer_id == customer_id]
        return sorted(mine, key=lambda t: t.timestamp, reverse=True)[:limit]

    def page(self, wanted, after, limit):
        return [a for a in self.alerts if a.customer_id == wanted.customer_id][:limit], None


def on_device(n: int, device: str = "dev-1", **changes):
    return replace(
        tx(f"t{n}", f"acct-{n}", at=T0 + timedelta(minutes=n), amount="20.00"),
        device_id=device, email=f"User{n}@Example.com", ip=f"198.51.100.{n}", card_fingerprint=f"fp-{n}", **changes,
    )  # fmt: skip


def investigate(known: Known) -> EntityInvestigation:
    return EntityInvestigation(known, known, known, clock=lambda: T0 + timedelta(hours=1))  # type: ignore[arg-type]


def test_a_kind_without_a_page_or_a_value_with_control_characters_is_refused():
    with pytest.raises(ValidationFailed):
        entity_key("ipnet", "198.51.100.0/24")
    for bad in ("", "   ", "a\nb", "x" * 255):
        with pytest.raises(ValidationFailed):
            entity_key("device", bad)


def test_an_email_is_matched_in_any_case_and_other_values_as_sent():
    assert entity_key("email", " Bad@Example.COM ") == EntityKey("email", "bad@example.com")
    assert entity_key("device", "Dev-1") == EntityKey("device", "Dev-1")


def test_a_card_is_listed_by_fingerprint_or_by_its_bin_when_it_has_none():
    assert [(t.list_kind, t.value) for t in list_targets(EntityKey("card", "fp-9"))] == [("card_fingerprint", "fp-9")]
    assert [(t.list_kind, t.value) for t in list_targets(EntityKey("card", "411111/c/1"))] == [("card_bin", "411111")]


def test_a_shared_device_names_its_accounts_and_the_graph_shows_what_they_use():
    known = Known([on_device(n) for n in range(3)] + [on_device(9, device="dev-other")])
    profile = investigate(known).get("device", "dev-1")
    assert [(g.kind, g.values, g.at_least) for g in profile.linked] == [
        ("customer", ("acct-0", "acct-1", "acct-2"), False)
    ]
    assert profile.transactions == 3 and profile.first_seen == T0
    assert [t.transaction_id for t in profile.recent_transactions] == ["t2", "t1", "t0"]
    nodes = [(n.kind, n.value) for n in profile.graph.nodes]
    assert nodes[0] == ("device", "dev-1") and ("email", "user1@example.com") in nodes and ("card", "fp-2") in nodes
    assert ("customer", "acct-9") not in nodes  # the other device's account is no part of this ring
    assert all(0 <= a < b < len(nodes) for a, b in profile.graph.edges) and profile.graph.omitted == 0


def test_an_account_links_to_its_entities_and_through_them_to_the_ring():
    known = Known([on_device(n) for n in range(3)])
    profile = investigate(known).get("customer", "acct-0")
    assert {g.kind: g.values for g in profile.linked} == {
        "email": ("user0@example.com",), "device": ("dev-1",), "ip": ("198.51.100.0",), "card": ("fp-0",)
    }  # fmt: skip
    assert {("customer", "acct-1"), ("customer", "acct-2")} <= {(n.kind, n.value) for n in profile.graph.nodes}


def test_a_busy_device_says_at_least_and_its_graph_stops_at_its_cap():
    known = Known([on_device(n) for n in range(LINK_CAP + 5)])
    profile = investigate(known).get("device", "dev-1")
    (accounts,) = profile.linked
    assert len(accounts.values) == LINK_CAP and accounts.at_least
    assert len(profile.graph.nodes) == GRAPH_NODES and profile.graph.omitted > 0


def test_a_shared_entitys_alerts_are_those_that_cover_its_transactions():
    known = Known([on_device(0), on_device(1)])
    covering = stored_alert("acct-0", transaction_id="t0")
    elsewhere = stored_alert("acct-1", minute=5, transaction_id="t-not-on-the-device")
    known.alerts = [covering, elsewhere]
    assert [a.alert_id for a in investigate(known).get("device", "dev-1").alerts] == [covering.alert_id]
    assert [a.alert_id for a in investigate(known).get("customer", "acct-1").alerts] == [elsewhere.alert_id]


def test_an_entity_never_seen_is_not_found():
    with pytest.raises(NotFound):
        investigate(Known([on_device(0)])).get("ip", "203.0.113.1")
