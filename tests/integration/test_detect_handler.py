"""DetectFunction on moto: findings become alerts, state is learned, and redelivery, replay and retries after
partial failure leave alerts, profiles and statistics exactly as after one delivery."""

from __future__ import annotations

import collections
import contextlib
import copy
import json
import sys
from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from shopwatch_model import DEFAULT_ARTIFACT, ModelArtifact

from infra.local.resources import create_resources
from shopwatch.detectors.history import CatalogEntry
from shopwatch.domain.clock import to_iso, utcnow
from shopwatch.domain.severity import Severity
from shopwatch.storage.state import StateRepository, applied_token
from shopwatch.storage.unit_of_work import write_atomically
from tests.conftest import Stack, load_event

DEFAULT_MODEL = ModelArtifact.load(DEFAULT_ARTIFACT)

# risk_order ends in created_at, so it is as volatile
VOLATILE = {"processed_at", "created_at", "updated_at", "expires_at", "at", "risk_order"}


def normalized(items: list[dict]) -> list[dict]:
    """Table contents without wall-clock fields, in a stable order, for comparing two runs."""

    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in VOLATILE}
        if isinstance(value, list):
            return [strip(v) for v in value]
        if isinstance(value, str) and value.startswith("[{"):
            return strip(json.loads(value))
        return value

    return sorted((strip(i) for i in items), key=_canonical)


def _canonical(value) -> str:
    """A text that is the same for equal items: sets written as their sorted members. (`str` of a set follows
    its iteration order, which for equal sets differs with the order members were added, e.g. by a retry.)"""

    def plain(v):
        if isinstance(v, set | frozenset):
            return {"<set>": sorted(plain(m) for m in v)}
        return str(v)

    return json.dumps(value, sort_keys=True, default=plain)


def test_equal_tables_normalize_equal_whatever_order_their_sets_were_built_in():
    """Regression: the snapshots that the exactly-once tests compare were sorted by `str` of each item, and
    equal sets can print differently (0 and 8 share a hash slot: {0, 8} built 0-then-8 prints "{0, 8}",
    built 8-then-0 prints "{8, 0}"). A redelivery that added an entity's members in another order could then
    sort two equal tables differently and fail the comparison. Also: a different member still tells them apart."""
    zero, eight = Decimal(0), Decimal(8)
    first = [{"pk": "x", "L": {zero, eight}}, {"pk": "y", "L": {eight, zero}}]  # each set built in that order
    second = [{"pk": "x", "L": {eight, zero}}, {"pk": "y", "L": {zero, eight}}]
    old_key = lambda i: json.dumps(i, sort_keys=True, default=str)  # noqa: E731 - the sort key before the fix
    assert sorted(first, key=old_key) != sorted(second, key=old_key)  # the premise: it sorted them differently
    assert normalized(first) == normalized(second)
    assert normalized(first) != normalized([{"pk": "x", "L": {zero, eight}}, {"pk": "y", "L": {zero}}])


def snapshot(stack: Stack) -> tuple[list[dict], list[dict]]:
    return normalized(stack.scan("StateTable")), normalized(stack.scan("AlertsTable"))


def ingest_and_read(stack: Stack, transactions: list[dict]) -> dict:
    event = load_event("ingest_post_transactions.json")
    event["body"] = json.dumps({"transactions": transactions})
    assert stack.handler("IngestFunction")(event)["statusCode"] == 202
    return stack.stream_event(stack.cursor("TransactionsTable"), "DetectFunction")


def mixed_batch() -> list[dict]:
    """A batch with something for every detector: history, a burst, card testing, a new country, a big basket,
    a deep discount and a basket of more distinct SKUs than one DynamoDB transaction holds."""
    base = utcnow() - timedelta(hours=3)

    def at(seconds: float) -> str:
        return to_iso(base + timedelta(seconds=seconds))

    history = [
        {"transaction_id": f"h{i}", "customer_id": "alice", "timestamp": at(900 * i), "country": "GB", "currency": "GBP",
         "items": [{"sku": "MUG", "quantity": 2, "unit_price": "8.00"}]}
        for i in range(6)
    ]  # fmt: skip
    burst = [
        {"transaction_id": f"bot{i}", "customer_id": "bot", "timestamp": at(6000 + i), "amount": "1.00"}
        for i in range(6)
    ]
    cards = [
        {
            "transaction_id": f"card{i}",
            "customer_id": "tester",
            "timestamp": at(6100 + i),
            "amount": "1.00",
            "status": "denied",
        }
        for i in range(5)
    ]
    odd = [
        {"transaction_id": "abroad", "customer_id": "alice", "timestamp": at(6200), "country": "BR", "currency": "GBP",
         "items": [{"sku": "MUG", "quantity": 40, "unit_price": "1.00"}]},
        {"transaction_id": "laptop", "customer_id": "carol", "timestamp": at(6210), "currency": "INR",
         "items": [{"sku": "LAPTOP", "quantity": 1, "unit_price": "500.00"}]},
        {"transaction_id": "wholesale", "customer_id": "dave", "timestamp": at(6220), "currency": "USD",
         "items": [{"sku": f"S{i}", "quantity": 1, "unit_price": "2.00"} for i in range(250)]},
    ]  # fmt: skip
    # a ring: three accounts opened moments before buying, on one device and card, from one network
    ring = [
        {"transaction_id": f"ring{i}", "customer_id": f"fresh{i}", "timestamp": at(6300 + 5 * i), "amount": "80.00",
         "account_created_at": at(6290 + 5 * i), "device_id": "DEV-RING", "card_fingerprint": "fp-ring",
         "ip": f"203.0.113.{10 + i}", "email": f"Fresh{i}@Example.com", "country": "GB", "billing_country": "GB",
         "shipping_country": "NG" if i == 2 else "GB"}
        for i in range(3)
    ]  # fmt: skip
    return history + burst + cards + odd + ring


@pytest.fixture
def catalog(stack):
    StateRepository(stack.table("StateTable")).put_catalog_entry(
        CatalogEntry("LAPTOP", Decimal("50000.00"), "INR", "Laptop")
    )


@pytest.fixture
def reference(stack, catalog):
    """The same batch delivered once, cleanly, to a second set of tables: what every other run must equal."""
    other = Stack(create_resources(stack.session, prefix="reference"), stack.monkeypatch)
    StateRepository(other.table("StateTable")).put_catalog_entry(
        CatalogEntry("LAPTOP", Decimal("50000.00"), "INR", "Laptop")
    )
    return other


def run_once(stack: Stack, event: dict) -> tuple[list[dict], list[dict]]:
    assert stack.handler("DetectFunction")(event) == {"batchItemFailures": []}
    return snapshot(stack)


def test_the_sample_stream_event_raises_a_critical_price_alert(stack, catalog):
    StateRepository(stack.table("StateTable")).put_catalog_entry(
        CatalogEntry("LAPTOP-15", Decimal("50000.00"), "INR", "Laptop")
    )
    assert stack.handler("DetectFunction")(load_event("detect_stream_insert.json")) == {"batchItemFailures": []}
    (alert,) = stack.scan("AlertsTable")
    assert alert["severity"] == "critical"
    assert alert["transaction_ids"] == ["921"]
    profile = StateRepository(stack.table("StateTable")).get_profile_item("1")
    assert (profile["transactions"], profile["approved"], str(profile["amount_sum"])) == (1, 1, "500.00")
    assert profile["countries"] == {"IN"}


RULE_ALERTS = {
    ("bot", "velocity"),
    ("tester", "velocity"),
    ("tester", "failed_payment"),
    ("alice", "geo"),
    ("alice", "quantity"),
    ("alice", "price"),
    ("carol", "price"),
}
RING = ("fresh0", "fresh1", "fresh2")


def ring_alerts_hold(alerts: dict[tuple[str, str], dict]) -> None:
    """The ring, whatever order the stream delivered its three purchases in (entity features are point in
    time: whichever account came first saw nobody else on the device): each account bought seconds after
    signing up; the two that came after the first share its device and card, and those whose minute held
    another's purchase fired with it; the one shipping abroad has countries that disagree."""
    mine = {(c, d) for c, d in alerts if c in RING}
    assert {c for c, d in mine if d == "new_account"} == set(RING)
    assert len({c for c, d in mine if d == "shared_identity"}) == 2
    # a window ends at its purchase: an earlier purchase delivered after a later one does not count the later
    assert 1 <= len({c for c, d in mine if d == "entity_velocity"}) <= 2
    assert {c for c, d in mine if d == "country_mismatch"} == {"fresh2"}
    assert mine <= {
        (c, d) for c in RING for d in ("new_account", "shared_identity", "entity_velocity", "country_mismatch")
    }
    # the third new account on one device: a burst, and with its shared card the risk band lifts it further
    assert max(Severity.parse(alerts[(c, "new_account")]["severity"]) for c in RING) >= Severity.HIGH


def test_every_detector_fires_on_the_mixed_batch(stack, catalog):
    event = ingest_and_read(stack, mixed_batch())
    assert stack.handler("DetectFunction", MODEL_ARTIFACT="off")(event) == {"batchItemFailures": []}
    alerts = {(a["customer_id"], a["detector"]): a for a in stack.scan("AlertsTable")}
    assert {k for k in alerts if k[0] not in RING} == RULE_ALERTS
    ring_alerts_hold(alerts)
    assert alerts[("bot", "velocity")]["occurrences"] == 2
    assert alerts[("tester", "failed_payment")]["occurrences"] == 3  # from the third of five failures
    assert alerts[("tester", "failed_payment")]["severity"] == "medium"  # five page; card testing is velocity's
    assert alerts[("tester", "velocity")]["severity"] == "high"
    assert alerts[("carol", "price")]["severity"] == "critical"
    assert any(
        "3 accounts" in alerts[(c, "shared_identity")]["summary"] for c in RING if (c, "shared_identity") in alerts
    )


def test_entity_items_hold_windowed_counts_links_and_a_ttl(stack, catalog):
    run_once(stack, ingest_and_read(stack, mixed_batch()))
    items = {(i["pk"], i["sk"]): i for i in stack.scan("StateTable")}
    device = items[("ENT#device#DEV-RING", "AGG")]
    assert device["transactions"] == 3 and device["approved_amount"] == Decimal("240.00")
    linked = set().union(*(v for k, v in device.items() if k.startswith("Lah")))
    assert linked == {"fresh0", "fresh1", "fresh2"}
    assert device["expires_at"] > 0
    assert items[("ENT#email#fresh1@example.com", "AGG")]["transactions"] == 1  # matched case-insensitively
    assert items[("ENT#ipnet#203.0.113.0/24", "AGG")]["transactions"] == 3
    account = items[("CUST#fresh1", "PROFILE")]  # the account's buckets and links ride on its profile
    assert set().union(*(v for k, v in account.items() if k.startswith("Lvd"))) == {"DEV-RING"}
    assert account["transactions"] == 1 and ("ENT#customer#fresh1", "AGG") not in items
    # written outside the transaction, each with the ring purchases' tokens; the markers say so
    tokens = set().union(*(v for k, v in device.items() if k.startswith("T")))
    assert tokens == {applied_token(f"ring{i}") for i in range(3)}
    assert items[("TXN#ring0", "DETECT#0")]["entities_outside"] == "cvein"  # card, device, e-mail, IP, network


def test_recent_activity_of_an_old_transaction_lives_a_day_from_when_it_was_processed(stack, catalog):
    """A replay of last year's orders must not write recent-activity items that TTL removes at once."""
    old = {"transaction_id": "old-1", "customer_id": "replayed", "timestamp": "2011-03-01T10:00:00Z",
           "amount": "10.00", "currency": "GBP", "items": [{"sku": "A", "quantity": 1, "unit_price": "10.00"}]}  # fmt: skip
    before = utcnow()
    run_once(stack, ingest_and_read(stack, [old]))
    (recent,) = [i for i in stack.scan("StateTable") if i["pk"] == "RECENT#replayed"]
    assert recent["expires_at"] >= int((before + timedelta(days=1)).timestamp())


def _crash_once_after(calls: int):
    """StateRepository.apply_guarded that dies once, on its `calls`-th call, before writing (a crash between
    the transaction and the entity writes after it)."""
    real = StateRepository.apply_guarded
    count = {"n": 0}

    def apply(self, update, tx, tokens, now):
        count["n"] += 1
        if count["n"] == calls:
            raise RuntimeError("container died between the transaction and the entity writes")
        return real(self, update, tx, tokens, now)

    return apply, count


@pytest.mark.parametrize("calls", [1, 7, 15])  # of the ring's 3 × 5 entity writes
def test_a_crash_between_the_transaction_and_the_entity_writes_loses_nothing(stack, reference, monkeypatch, calls):
    """The record's transaction committed (marker, profile, alerts); some of its entity writes did not. Lambda
    retries from it: the entities whose items lack its token are written, the others are not written twice,
    and a full replay changes nothing. As after any partial failure, the records after the failed one were
    judged before all of it was learned (so their findings may differ); every counter, bucket, link and marker
    ends exactly as after one clean delivery."""
    event = ingest_and_read(stack, mixed_batch())
    expected = run_once(reference, copy.deepcopy(event))
    handler = stack.handler("DetectFunction")
    apply, count = _crash_once_after(calls)
    monkeypatch.setattr(StateRepository, "apply_guarded", apply)
    failed = [f["itemIdentifier"] for f in handler(copy.deepcopy(event))["batchItemFailures"]]
    assert count["n"] >= calls and len(failed) == 1
    lowest = int(failed[0])
    retry = {"Records": [r for r in event["Records"] if int(r["dynamodb"]["SequenceNumber"]) >= lowest]}
    assert handler(retry) == {"batchItemFailures": []}
    after_retry = snapshot(stack)
    assert counters(after_retry) == counters(expected)
    assert markers(after_retry) == markers(expected)
    assert counted_at_most_once(after_retry, expected)
    for alert in after_retry[1]:  # no transaction counted twice in an alert
        assert alert["occurrences"] == len(alert["transaction_ids"]) == len(set(alert["transaction_ids"]))
    assert handler(copy.deepcopy(event)) == {"batchItemFailures": []}
    assert snapshot(stack) == after_retry


def test_an_entity_write_whose_answer_was_lost_is_not_applied_twice(stack, reference, monkeypatch):
    """DynamoDB applied the update but answered 500 (InternalServerError): the retry finds the token and stops."""
    from botocore.exceptions import ClientError

    from shopwatch.storage import state as state_module

    event = ingest_and_read(stack, mixed_batch())
    expected = run_once(reference, copy.deepcopy(event))
    real_client = state_module.client
    lost = {"n": 0}

    class LosingAnswers:
        def __init__(self, dynamodb):
            self.dynamodb = dynamodb

        def update_item(self, **request):
            self.dynamodb.update_item(**request)
            if lost["n"] < 5:
                lost["n"] += 1
                raise ClientError({"Error": {"Code": "InternalServerError", "Message": "lost"}}, "UpdateItem")

        def __getattr__(self, name):
            return getattr(self.dynamodb, name)

    monkeypatch.setattr(state_module, "client", lambda service: LosingAnswers(real_client(service)))
    assert stack.handler("DetectFunction")(copy.deepcopy(event)) == {"batchItemFailures": []}
    assert lost["n"] == 5
    assert snapshot(stack) == expected


def test_the_model_alerts_only_on_transactions_no_rule_flagged(stack, catalog):
    """With the default model on, the rules raise the same alerts; the model adds its own only where they were
    silent (the 250-line basket, in the USD the default model learned), and its findings are kept on markers."""
    run_once(stack, ingest_and_read(stack, mixed_batch()))
    alerts = stack.scan("AlertsTable")
    rules = {(a["customer_id"], a["detector"]): a for a in alerts if a["detector"] != "model"}
    assert {k for k in rules if k[0] not in RING} == RULE_ALERTS
    ring_alerts_hold(rules)
    by_rules = {t for a in alerts if a["detector"] != "model" for t in a["transaction_ids"]}
    model_alerts = [a for a in alerts if a["detector"] == "model"]
    assert model_alerts, "the 250-line basket is beyond anything the default model saw"
    for alert in model_alerts:
        assert not by_rules & set(alert["transaction_ids"])
        assert alert["model_version"].endswith(DEFAULT_MODEL.info["data_hash"][:8])
        assert any(r["code"].startswith("model_") for r in alert["reasons"])
    wholesale = next(i for i in stack.scan("StateTable") if i["pk"] == "TXN#wholesale" and i["sk"] == "DETECT#0")
    assert "model" in {f["detector"] for f in json.loads(wholesale["findings"])}


def test_a_basket_larger_than_one_dynamodb_transaction_is_learned_whole(stack, catalog):
    run_once(stack, ingest_and_read(stack, mixed_batch()))
    stats = [i for i in stack.scan("StateTable") if i["pk"].startswith("SKU#S") and i["sk"] == "STATS"]
    assert len(stats) == 250
    markers = sorted(i["sk"] for i in stack.scan("StateTable") if i["pk"] == "TXN#wholesale")
    assert markers == ["DETECT#0", "DETECT#1", "DETECT#2"]


def test_the_same_batch_delivered_twice_changes_nothing_the_second_time(stack, reference):
    event = ingest_and_read(stack, mixed_batch())
    expected = run_once(reference, copy.deepcopy(event))
    assert run_once(stack, copy.deepcopy(event)) == expected
    assert run_once(stack, copy.deepcopy(event)) == expected


@pytest.mark.parametrize("model", ["off", "default"])
def test_a_batch_retried_after_a_partial_failure_ends_as_one_delivery(stack, reference, monkeypatch, model):
    """With the rules alone the retried batch ends exactly as one clean delivery. With the model, the records
    after a failed one were judged before it was learned (their customer's history lacked it), as happens
    whenever a customer's transactions land on different stream shards: the counters, SKU statistics and
    markers still end exactly as one delivery, each transaction judged once, and a replay changes nothing."""
    event = ingest_and_read(stack, mixed_batch())
    assert reference.handler("DetectFunction", MODEL_ARTIFACT=model)(copy.deepcopy(event)) == {"batchItemFailures": []}
    expected = snapshot(reference)

    handler = stack.handler("DetectFunction", MODEL_ARTIFACT=model)
    module = sys.modules["shopwatch_fn_detect_app"]
    failing = {"bot3", "abroad"}

    def flaky(actions, **kwargs):
        marker = actions[0]["Put"]["Item"]["pk"]["S"] if "Put" in actions[0] else ""
        if marker.removeprefix("TXN#") in failing:
            raise RuntimeError("injected DynamoDB failure")
        write_atomically(actions, **kwargs)

    monkeypatch.setattr(sys.modules["shopwatch.storage.unit_of_work"], "write_atomically", flaky)
    response = handler(copy.deepcopy(event))
    failed = [f["itemIdentifier"] for f in response["batchItemFailures"]]
    sequence = {r["dynamodb"]["SequenceNumber"]: r["dynamodb"]["Keys"]["transaction_id"]["S"] for r in event["Records"]}
    assert sorted(sequence[s] for s in failed) == ["abroad", "bot3"]

    # Lambda resumes from the lowest failed sequence number: that record and everything after it come again.
    monkeypatch.setattr(sys.modules["shopwatch.storage.unit_of_work"], "write_atomically", write_atomically)
    lowest = min(failed, key=int)
    retry = {"Records": [r for r in event["Records"] if int(r["dynamodb"]["SequenceNumber"]) >= int(lowest)]}
    assert module.lambda_handler(retry, _context()) == {"batchItemFailures": []}
    after_retry = snapshot(stack)
    if model == "off":
        assert after_retry == expected
    else:
        assert counters(after_retry) == counters(expected)
        assert markers(after_retry) == markers(expected)
        for alert in after_retry[1]:  # no transaction counted twice in an alert
            assert alert["occurrences"] == len(alert["transaction_ids"]) == len(set(alert["transaction_ids"]))

    # And a full replay of the stream after that changes nothing either.
    assert module.lambda_handler(copy.deepcopy(event), _context()) == {"batchItemFailures": []}
    assert snapshot(stack) == after_retry


def test_a_record_throttled_past_the_sdk_retries_is_processed_again_in_place(stack, reference, monkeypatch):
    """DynamoDB throttling that outlasted the SDK's retries, on a record's transaction and on an entity write
    after it: the handler processes the record again itself rather than spend the shard's retry budget, and
    the tables end exactly as after one clean delivery (bar the model's score counts, at most once). A throttle
    on every attempt still fails the record."""
    from botocore.exceptions import ClientError

    event = ingest_and_read(stack, mixed_batch())
    expected = run_once(reference, copy.deepcopy(event))
    handler = stack.handler("DetectFunction")
    module = sys.modules["shopwatch_fn_detect_app"]
    monkeypatch.setattr(sys.modules["shopwatch.storage.aws"].time, "sleep", lambda seconds: None)
    throttled = {"bot3": 0, "abroad": 0}
    limit = {"n": 2}

    def throttle():
        return ClientError(
            {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "throttled"}},
            "TransactWriteItems",
        )

    def flaky(actions, **kwargs):
        marker = actions[0]["Put"]["Item"]["pk"]["S"].removeprefix("TXN#") if "Put" in actions[0] else ""
        if marker in throttled and throttled[marker] < limit["n"]:
            throttled[marker] += 1
            raise throttle()
        write_atomically(actions, **kwargs)

    real_apply, applies = StateRepository.apply_guarded, {"n": 0}

    def apply(self, update, tx, tokens, now):  # the ring's first entity write after its transaction committed
        if tx.transaction_id == "ring1" and applies["n"] == 0:
            applies["n"] += 1
            raise throttle()
        return real_apply(self, update, tx, tokens, now)

    monkeypatch.setattr(sys.modules["shopwatch.storage.unit_of_work"], "write_atomically", flaky)
    monkeypatch.setattr(StateRepository, "apply_guarded", apply)
    assert handler(copy.deepcopy(event)) == {"batchItemFailures": []}
    assert throttled == {"bot3": 2, "abroad": 2} and applies["n"] == 1
    after = snapshot(stack)  # ring1 committed before its throttle: processed again, it is a replay (not scored)
    assert exact(after) == exact(expected)
    assert counted_at_most_once(after, expected)

    limit["n"] = module.RECORD_ATTEMPTS  # every attempt throttled: the record fails, Lambda retries it
    again = ingest_and_read(stack, [{**mixed_batch()[0], "transaction_id": "bot3-again"}])
    throttled["bot3-again"] = 0
    failed = handler(copy.deepcopy(again))["batchItemFailures"]
    assert len(failed) == 1 and throttled["bot3-again"] == module.RECORD_ATTEMPTS


def counters(snap: tuple[list[dict], list[dict]]) -> list[dict]:
    """Profiles, recent activity and SKU statistics: what must be exact whatever order records are applied in."""
    return [i for i in snap[0] if not i["pk"].startswith(("TXN#", MODEL_COUNTS))]


MODEL_COUNTS = "MODELSTATS#"  # per-model score counts: at most once (storage/model_stats.py), not exact


def exact(snap: tuple[list[dict], list[dict]]) -> tuple[list[dict], list[dict]]:
    """The snapshot without the model score counts: a record that failed after its marker was written is
    replayed, not counted, so a crash may leave them short; never over (`counted_at_most_once`)."""
    return [i for i in snap[0] if not i["pk"].startswith(MODEL_COUNTS)], snap[1]


def counted_at_most_once(snap: tuple[list[dict], list[dict]], reference: tuple[list[dict], list[dict]]) -> bool:
    def scored(s):
        return {(i["pk"], i["sk"]): i["scored"] for i in s[0] if i["pk"].startswith(MODEL_COUNTS)}

    mine, full = scored(snap), scored(reference)
    return bool(full) and set(mine) <= set(full) and all(mine[k] <= full[k] for k in mine)


def markers(snap: tuple[list[dict], list[dict]]) -> list[tuple[str, str]]:
    return sorted((i["pk"], i["sk"]) for i in snap[0] if i["pk"].startswith("TXN#"))


def test_a_crash_between_basket_parts_resumes_without_double_counting(stack, reference, monkeypatch):
    event = ingest_and_read(stack, mixed_batch())
    expected = run_once(reference, copy.deepcopy(event))
    handler = stack.handler("DetectFunction")
    calls = {"n": 0}

    def crash_on_second_part(actions, **kwargs):
        if actions[0].get("Put", {}).get("Item", {}).get("sk", {}).get("S") == "DETECT#2" and calls["n"] == 0:
            calls["n"] += 1
            raise RuntimeError("container died")
        write_atomically(actions, **kwargs)

    monkeypatch.setattr(sys.modules["shopwatch.storage.unit_of_work"], "write_atomically", crash_on_second_part)
    assert len(handler(copy.deepcopy(event))["batchItemFailures"]) == 1
    assert handler(copy.deepcopy(event)) == {"batchItemFailures": []}
    assert exact(snapshot(stack)) == exact(expected)
    assert counted_at_most_once(snapshot(stack), expected)


def test_an_unreadable_record_fails_alone_and_the_rest_flow_on(stack, catalog):
    event = ingest_and_read(stack, mixed_batch()[:3])
    poison = copy.deepcopy(event["Records"][1])
    poison["dynamodb"]["NewImage"] = {"transaction_id": {"S": "broken"}}
    poison["dynamodb"]["SequenceNumber"] = "99999999999999999999999"
    event["Records"].insert(1, poison)
    response = stack.handler("DetectFunction")(event)
    assert response == {"batchItemFailures": [{"itemIdentifier": "99999999999999999999999"}]}
    markers = {i["pk"] for i in stack.scan("StateTable") if i["pk"].startswith("TXN#")}
    assert markers == {"TXN#h0", "TXN#h1", "TXN#h2"}


@pytest.mark.parametrize("tracing", [True, False])
def test_each_record_has_its_own_xray_subsegment_while_tracing_is_on(stack, catalog, monkeypatch, tracing):
    event = ingest_and_read(stack, mixed_batch()[:3])
    handler = stack.handler("DetectFunction")
    tracer = sys.modules["shopwatch_fn_detect_app"].tracer
    opened = []

    @contextlib.contextmanager
    def in_subsegment(name: str, **kwargs):
        opened.append(name)
        yield mock.MagicMock()

    monkeypatch.setattr(tracer, "disabled", not tracing)
    monkeypatch.setattr(tracer.provider, "in_subsegment", in_subsegment)
    assert handler(event) == {"batchItemFailures": []}
    per_record = [name for name in opened if name.endswith("lambda_handler.locals.record_handler")]
    assert len(per_record) == (3 if tracing else 0)


def test_metrics_count_every_record_and_time_each_one(stack, catalog, capsys):
    batch = mixed_batch()
    event = ingest_and_read(stack, batch)
    capsys.readouterr()
    assert stack.handler("DetectFunction")(copy.deepcopy(event)) == {"batchItemFailures": []}
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    total = collections.Counter()
    for blob in emf:
        for name, values in blob.items():
            if name not in ("_aws", "service"):
                total[name] += sum(values) if name != "ScoringLatency" else len(values)
    markers = [json.loads(i["findings"]) for i in stack.scan("StateTable") if i["sk"] == "DETECT#0"]
    findings = collections.Counter(f"Findings_{f['detector']}" for m in markers for f in m)
    assert total["TransactionsScored"] == total["ScoringLatency"] == len(batch)
    assert {n: v for n, v in total.items() if n.startswith("Findings_")} == findings
    assert total["Alerts_velocity"] >= 1 and "TransactionsReplayed" not in total
    capsys.readouterr()
    assert stack.handler("DetectFunction")(copy.deepcopy(event)) == {"batchItemFailures": []}
    again = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert sum(sum(b.get("TransactionsReplayed", [])) for b in again) == len(batch)
    assert not any("TransactionsScored" in b or "ScoringLatency" in b for b in again)


def test_modify_and_remove_records_are_ignored(stack, catalog):
    event = ingest_and_read(stack, mixed_batch()[:1])
    event["Records"][0]["eventName"] = "MODIFY"
    assert stack.handler("DetectFunction")(event) == {"batchItemFailures": []}
    assert stack.scan("StateTable") == [i for i in stack.scan("StateTable") if i["sk"] == "CATALOG"]


def _context():
    from infra.local.lambda_context import LocalLambdaContext

    return LocalLambdaContext(function_name="DetectFunction")


def test_a_record_whose_marker_another_delivery_wrote_meanwhile_is_recognised_not_reapplied(
    stack, catalog, monkeypatch
):
    """Two deliveries of one record race: the loser's transaction is refused on the marker and changes nothing."""
    from shopwatch.detection.service import BatchState

    event = ingest_and_read(stack, mixed_batch()[:2])
    handler = stack.handler("DetectFunction")
    module = sys.modules["shopwatch_fn_detect_app"]
    real_load = module.service.load

    def stale_load(transactions) -> BatchState:
        batch = real_load(transactions)
        batch.markers.clear()  # as read before the other delivery committed
        return batch

    assert handler(copy.deepcopy(event)) == {"batchItemFailures": []}
    first = snapshot(stack)
    monkeypatch.setattr(module.service, "load", stale_load)
    assert handler(copy.deepcopy(event)) == {"batchItemFailures": []}
    assert snapshot(stack) == first
