"""Where an entity update is written: plainly with its token while that costs no more than inside the
transaction, inside once an item's tokens would take it past the next KB; tokens expire after TOKEN_HOURS."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from botocore.exceptions import ClientError

from shopwatch.detectors.entities import plan_updates
from shopwatch.domain.transaction import Transaction
from shopwatch.storage import aws, state
from shopwatch.storage.state import TOKEN_HOURS, AppliedTokens, applied_token, token_attribute, write_outside

AT = datetime(2026, 1, 1, 12, 30, tzinfo=UTC)


def tokens_of(count: int, item_bytes: int) -> AppliedTokens:
    return AppliedTokens({token_attribute(AT): frozenset(f"{i:08d}" for i in range(count))}, item_bytes)


def test_a_new_or_quiet_entity_is_written_plainly():
    assert write_outside(AppliedTokens(), 60)
    assert write_outside(tokens_of(10, 400 + 10 * 8), 60)


def test_a_busy_entity_goes_inside_the_transaction():
    # 300 bytes of buckets and links and 150 tokens (1.2 KB): plain would cost 2 units, inside 2 as well, so
    # still plain; at 300 tokens (2.4 KB of tokens) plain costs 3 against 2 inside
    assert write_outside(tokens_of(150, 300 + 150 * 8), 60)
    assert not write_outside(tokens_of(300, 300 + 300 * 8), 60)


def test_a_token_names_its_transaction_in_the_hour_it_was_received():
    tx = Transaction("t1", "c1", AT, AT, "approved", Decimal(1), "USD")
    held = AppliedTokens({token_attribute(AT): frozenset({applied_token("t1")})}, 20)
    assert held.holds(tx) and len(applied_token("t1")) == 8
    later = Transaction("t1", "c1", AT, AT + timedelta(hours=1), "approved", Decimal(1), "USD")
    assert not held.holds(later)  # another hour's set: never the case for one record, received once


def test_token_sets_expire_after_token_hours_but_never_the_one_written():
    old = token_attribute(AT - timedelta(hours=TOKEN_HOURS))
    recent = token_attribute(AT - timedelta(hours=TOKEN_HOURS - 1))
    tokens = AppliedTokens({old: frozenset({"a"}), recent: frozenset({"b"})}, 40)
    assert tokens.stale(AT, keep=token_attribute(AT)) == frozenset({old})
    assert tokens.stale(AT, keep=old) == frozenset()


def _throttled_then_applied(failures: int):
    """A DynamoDB client whose UpdateItem is throttled `failures` times (as the fault suite injects it, before
    anything is applied), then applied."""
    calls: list[dict] = []

    class Client:
        def update_item(self, **request):
            calls.append(request)
            if len(calls) <= failures:
                error = {"Code": "ProvisionedThroughputExceededException", "Message": "throttled"}
                raise ClientError({"Error": error}, "UpdateItem")
            return {}

    return Client(), calls


def test_a_plain_entity_write_rides_out_throttling_as_the_other_storage_calls_do(monkeypatch):
    """The plain writes after the transaction retry transient errors with storage's with_retries (8 attempts),
    like the batch reads; under the fault suite's 5% throttling a record fails on its transaction long before
    one of these runs out (5 throttles in a row are absorbed here; 8 are not, and the record is retried)."""
    monkeypatch.setattr(aws.time, "sleep", lambda seconds: None)
    tx = Transaction("t1", "c1", AT, AT, "approved", Decimal(1), "USD", device_id="D")
    update = next(u for u in plan_updates(tx, {}, frozenset()) if u.key.kind == "device")
    repository = state.StateRepository("StateTable")
    fake, calls = _throttled_then_applied(5)
    monkeypatch.setattr(state, "client", lambda service: fake)
    assert repository.apply_guarded(update, tx, AppliedTokens(), AT)
    assert len(calls) == 6 and all(c == calls[0] for c in calls)  # the same conditional request each time
    fake, calls = _throttled_then_applied(8)
    monkeypatch.setattr(state, "client", lambda service: fake)
    with pytest.raises(ClientError, match="throttled"):
        repository.apply_guarded(update, tx, AppliedTokens(), AT)
    assert len(calls) == 8


def test_tokens_are_the_transactions_own_cached_or_not():
    first, again, other = applied_token("t1"), applied_token("t1"), applied_token("t2")
    assert first == again == "G6Yqx6zc" and other != first  # blake2b-48 of the id, base64


def test_every_clause_of_an_entity_write_has_its_own_placeholder():
    tx = Transaction("t1", "c1", AT, AT, "approved", Decimal(5), "USD", device_id="D1")
    (device,) = [u for u in plan_updates(tx, {}, frozenset()) if u.key.kind == "device"]
    wider = replace(device, removes=frozenset({"cs1", "ch2"}))
    for update in (device, wider, device):  # placeholders are cached per count: each request gets its own
        request = state.StateRepository("t").entity_action(update, AT)["Update"]
        names, values = request["ExpressionAttributeNames"], request["ExpressionAttributeValues"]
        expression = request["UpdateExpression"]
        assert [names[f"#e{i}"] for i in range(len(update.adds))] == list(update.adds)
        assert [values[f":e{i}"] for i in range(len(update.adds))] == [{"N": str(v)} for v in update.adds.values()]
        assert [names[f"#f{i}"] for i in range(len(update.link_adds))] == list(update.link_adds)
        assert [names[f"#g{i}"] for i in range(len(update.removes))] == sorted(update.removes)
        adds = [f"#{c}{i} :{c}{i}" for c, m in (("e", update.adds), ("f", update.link_adds)) for i in range(len(m))]
        assert expression.startswith(f"ADD {', '.join(adds)} SET expires_at = :expires")
        removed = [f"#g{i}" for i in range(len(update.removes))]
        assert expression.endswith(f" REMOVE {', '.join(removed)}") == bool(removed)


def test_a_token_set_is_named_by_the_hour_whatever_zone_the_time_is_in():
    hour = token_attribute(AT)
    assert hour == token_attribute(AT.astimezone(timezone(timedelta(hours=-5)))) == f"T{int(AT.timestamp()) // 3600}"
    assert token_attribute(AT + timedelta(minutes=29, seconds=59)) == hour
    assert token_attribute(AT + timedelta(minutes=30)) != hour


def test_what_an_update_adds_to_its_item_is_its_own():
    lone = Transaction("t1", "c1", AT, AT, "approved", Decimal(5), "USD", device_id="D1")
    linked = replace(lone, transaction_id="t2", customer_id="a-much-longer-customer-id")
    for tx in (lone, linked, lone):
        (device,) = [u for u in plan_updates(tx, {}, frozenset()) if u.key.kind == "device"]
        buckets = sum(len(n) + 2 for n in device.adds)
        links = sum(len(n) + sum(map(len, members)) for n, members in device.link_adds.items())
        assert device.added_bytes == buckets + links and links > len(tx.customer_id)
