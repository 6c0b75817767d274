"""Entity aggregates (pure) and the detectors that read them: windows, capped links, stale buckets, and each
detector judging a first purchase with nothing but the entity's history and the account's age."""

from __future__ import annotations

import ipaddress
import random
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from shopwatch.config import DetectionSettings
from shopwatch.detectors import country_mismatch, entity_velocity, new_account, shared_identity
from shopwatch.detectors.entities import (
    LINK_CAP,
    NO_HISTORY,
    EntityHistory,
    EntityKey,
    apply_update,
    entity_keys,
    entity_views,
    ip_network,
    plan_updates,
)
from shopwatch.detectors.history import CustomerHistory, DetectionInput
from shopwatch.detectors.scoring import assess
from shopwatch.detectors.signals import risk_signals
from tests.builders import T0, tx

SETTINGS = DetectionSettings()
FAILED = SETTINGS.failed_statuses


def signed(transaction, **fields):
    return replace(transaction, **fields)


def learned(transactions) -> dict[EntityKey, EntityHistory]:
    histories: dict[EntityKey, EntityHistory] = {}
    for t in transactions:
        for update in plan_updates(t, histories, FAILED):
            histories[update.key] = apply_update(histories.get(update.key, EntityHistory()), update)
    return histories


def data_for(transaction, histories) -> DetectionInput:
    return DetectionInput(transaction, CustomerHistory(), {}, {}, (), histories)


def on_device(tid, customer, seconds, **fields):
    return signed(tx(tid, customer, at=T0 + timedelta(seconds=seconds), amount="20.00"), device_id="D1", **fields)


def test_keys_cover_every_entity_sent_and_normalise_email_and_network():
    t = signed(tx(), email=" Bob@Example.COM", ip="2001:db8::1", device_id="D", card_bin="411111")
    keys = entity_keys(t)
    assert keys["email"].value == "bob@example.com"
    assert keys["ipnet"].value == "2001:db8::/64"
    assert keys["card"].value == "411111/c1"  # a BIN alone is shared by millions: it is kept per account


def test_an_addresss_network_is_the_one_ipaddress_gives():
    rng = random.Random(7)
    addresses = [str(ipaddress.IPv4Address(rng.getrandbits(32))) for _ in range(300)]
    addresses += [str(ipaddress.IPv6Address(rng.getrandbits(128))) for _ in range(300)]
    edges = ["255.255.255.255", "::", "::1", "::ffff:192.0.2.1", "fe80::1%eth0", "2001:db8::1"]
    addresses += ["0.0.0.0", *edges]  # noqa: S104 - an address to parse; nothing binds
    for address in addresses:
        prefix = 24 if ipaddress.ip_address(address).version == 4 else 64
        assert ip_network(address) == str(ipaddress.ip_network(f"{address}/{prefix}", strict=False)), address


def test_cached_keys_follow_each_transactions_identifiers_and_cannot_be_changed_by_a_caller():
    first = signed(tx("t1", "a"), email="x@example.com", ip="10.0.0.1", device_id="D1")
    keys = entity_keys(first)
    keys["device"] = EntityKey("device", "tampered")
    del keys["email"]
    assert entity_keys(first)["device"] == EntityKey("device", "D1")
    assert entity_keys(first)["email"] == EntityKey("email", "x@example.com")
    other = signed(first, customer_id="b", ip="10.0.1.1", device_id=None, card_fingerprint="fp")
    assert entity_keys(other) == {
        "customer": EntityKey("customer", "b"),
        "email": EntityKey("email", "x@example.com"),
        "ip": EntityKey("ip", "10.0.1.1"),
        "ipnet": EntityKey("ipnet", "10.0.1.0/24"),
        "card": EntityKey("card", "fp"),
    }


def test_an_inputs_views_are_those_of_its_transaction_and_state():
    history = learned([on_device(f"t{i}", f"acct{i}", i) for i in range(3)])
    data = data_for(on_device("t9", "acct9", 5), history)
    assert dict(data.views) == entity_views(data.tx, history)
    assert data.views["device"].accounts("1h") == {"acct0", "acct1", "acct2", "acct9"}
    assert data_for(on_device("t9", "acct9", 5), {}).views["device"].accounts("1h") == {"acct9"}


def test_the_shared_empty_history_stays_empty_when_entities_are_learned_from_it():
    history = learned([on_device(f"t{i}", f"acct{i}", i, ip="10.0.0.1", email="x@example.com") for i in range(3)])
    assert history[EntityKey("device", "D1")].transactions == 3
    assert EntityHistory() == NO_HISTORY and not NO_HISTORY.buckets and not NO_HISTORY.links


def test_windowed_counts_keep_to_their_windows():
    history = learned([on_device(f"t{i}", "a", i * 20) for i in range(5)])[EntityKey("device", "D1")]
    at = T0 + timedelta(seconds=100)
    assert history.total("c", "1m", at) == 3  # 40, 60, 80 s (bucket width 10 s)
    assert history.total("c", "1h", at) == 5
    assert history.total("a", "24h", at) == Decimal("100.00")
    assert history.total("c", "1h", at + timedelta(hours=2)) == 0


def test_buckets_past_their_window_are_removed_by_the_next_update():
    old = learned([on_device("t0", "a", 0)])
    later = on_device("t1", "a", 40 * 86400)
    (update,) = [u for u in plan_updates(later, old, FAILED) if u.key.kind == "device"]
    assert update.removes and all(name not in update.adds for name in update.removes)
    after = apply_update(old[EntityKey("device", "D1")], update)
    assert after.transactions == 2 and after.total("c", "30d", later.timestamp) == 1


def test_each_bucket_and_link_set_leaves_at_its_own_window_as_of_each_entitys_newest_time():
    first = learned([on_device("t0", "a", 0)])
    names = {*first[EntityKey("device", "D1")].buckets, *first[EntityKey("device", "D1")].links}
    for seconds, gone in (
        (30, set()),
        (2 * 3600, {n for n in names if n[1] == "s" or n.startswith("Lah")}),  # 1 minute; an hour's links
        (26 * 3600, {n for n in names if n[1] in "sh" or n.startswith("Lah")}),
        (40 * 86400, {n for n in names if not n.startswith("Lay")}),  # only the year's links stay
    ):
        (update,) = [u for u in plan_updates(on_device("t1", "b", seconds), first, FAILED) if u.key.kind == "device"]
        assert set(update.removes) == gone, seconds


def test_a_network_keeps_counters_and_no_links_while_its_ip_links_the_accounts():
    """Nothing reads which accounts used a network (sharing is judged per IP), so its busy item carries none."""
    ring = [signed(tx(f"t{i}", f"acct{i}", at=T0 + timedelta(seconds=i)), ip=f"203.0.113.{i + 1}") for i in range(3)]
    same_ip = [signed(tx(f"u{i}", f"user{i}", at=T0 + timedelta(seconds=i)), ip="198.51.100.7") for i in range(3)]
    histories = learned(ring + same_ip)
    network = histories[EntityKey("ipnet", "203.0.113.0/24")]
    assert network.transactions == 3 and network.total("c", "1h", T0 + timedelta(minutes=1)) == 3
    assert network.links == {}
    assert histories[EntityKey("ip", "198.51.100.7")].linked("customer", "30d", T0) == {"user0", "user1", "user2"}


def test_linked_accounts_are_capped():
    many = learned([on_device(f"t{i}", f"acct{i}", i) for i in range(LINK_CAP + 10)])
    assert len(many[EntityKey("device", "D1")].linked("customer", "30d", T0 + timedelta(minutes=1))) == LINK_CAP


def test_a_first_purchase_on_a_device_other_accounts_used_is_a_shared_identity():
    histories = learned([on_device("t0", "a", 0), on_device("t1", "b", 3600)])
    finding = shared_identity.detect(data_for(on_device("t2", "c", 7200), histories), SETTINGS)
    assert finding is not None and "3 accounts" in finding.reasons[0].message
    assert (
        shared_identity.detect(data_for(on_device("t3", "a", 7300), learned([on_device("t0", "a", 0)])), SETTINGS)
        is None
    )


def test_a_purchase_seconds_after_sign_up_is_medium_and_an_hour_later_only_low():
    instant = on_device("t0", "a", 0, account_created_at=T0 - timedelta(seconds=20))
    assert new_account.detect(data_for(instant, {}), SETTINGS).severity.value == "medium"
    later = on_device("t0", "a", 0, account_created_at=T0 - timedelta(minutes=30))
    assert new_account.detect(data_for(later, {}), SETTINGS).severity.value == "low"
    old = on_device("t0", "a", 0, account_created_at=T0 - timedelta(days=30))
    assert new_account.detect(data_for(old, {}), SETTINGS) is None


def test_a_burst_of_new_accounts_on_one_device_is_high():
    ring = [
        on_device(f"t{i}", f"n{i}", 60 * i, account_created_at=T0 + timedelta(seconds=60 * i - 30)) for i in range(3)
    ]
    finding = new_account.detect(data_for(ring[2], learned(ring[:2])), SETTINGS)
    assert finding.severity.value == "high" and "new_account_burst" in {r.code for r in finding.reasons}


def test_two_accounts_on_one_device_within_a_minute_are_a_ring():
    first, second = on_device("t0", "a", 0), on_device("t1", "b", 15)
    finding = entity_velocity.detect(data_for(second, learned([first])), SETTINGS)
    assert finding is not None and finding.reasons[0].code == "ring_device"
    one_account = on_device("t1", "a", 15)
    assert entity_velocity.detect(data_for(one_account, learned([first])), SETTINGS) is None
    apart = on_device("t1", "b", 600)
    assert entity_velocity.detect(data_for(apart, learned([first])), SETTINGS) is None


def test_card_testing_spread_over_accounts_is_caught_on_the_card():
    attempts = [
        signed(tx(f"t{i}", f"acct{i % 3}", at=T0 + timedelta(minutes=i), amount="1.00", status="denied"),
               card_fingerprint="fp")
        for i in range(5)
    ]  # fmt: skip
    finding = entity_velocity.detect(data_for(attempts[4], learned(attempts[:4])), SETTINGS)
    assert "failures_card" in {r.code for r in finding.reasons}
    alone = [replace(a, customer_id="acct0") for a in attempts]  # one account: the velocity detector's case
    assert entity_velocity.detect(data_for(alone[4], learned(alone[:4])), SETTINGS) is None


def test_countries_that_disagree_are_low_and_three_different_ones_medium():
    assert country_mismatch.detect(data_for(signed(tx(country="GB"), shipping_country="GB"), {}), SETTINGS) is None
    two = signed(tx(country="GB"), billing_country="US")
    assert country_mismatch.detect(data_for(two, {}), SETTINGS).severity.value == "low"
    three = signed(tx(country="GB"), billing_country="US", shipping_country="NG")
    assert country_mismatch.detect(data_for(three, {}), SETTINGS).severity.value == "medium"


def test_the_risk_score_ranks_transactions_no_rule_fires_on():
    young = on_device("t0", "a", 0, account_created_at=T0 - timedelta(days=2))
    old = on_device("t1", "b", 0, account_created_at=T0 - timedelta(days=200))
    scores = [
        assess([], SETTINGS, signals=risk_signals(data_for(t, {}), SETTINGS, None)).risk_score for t in (young, old)
    ]
    assert scores[0] > scores[1] >= 0
    assert scores[0] < SETTINGS.risk_thresholds[min(SETTINGS.risk_thresholds)]  # signals alone never page


def test_views_count_the_transaction_being_judged():
    view = entity_views(on_device("t0", "a", 0), {})["device"]
    assert (view.transactions("1m"), len(view.accounts("1h"))) == (1, 1)


def test_two_accounts_behind_one_ip_buying_in_the_same_minute_are_no_ring():
    first = signed(tx("t0", "a", at=T0, amount="5.00"), ip="203.0.113.7")
    second = signed(tx("t1", "b", at=T0 + timedelta(seconds=10), amount="5.00"), ip="203.0.113.7")
    assert entity_velocity.detect(data_for(second, learned([first])), SETTINGS) is None
