"""Faults on the local stack, one per test: DynamoDB throttling and errors, SNS failures, handlers crashing
mid-batch, a poison record, every consumer killed and restarted mid-stream. After each: every accepted
transaction was processed exactly once or sits in the dead-letter queue, nothing was applied twice, and the
aggregates are exact (tests/faults/accounting.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal

import pytest

from infra.client import ShopwatchClient
from infra.local.faults import FaultInjector
from infra.local.stack import LocalStack, free_port
from shopwatch.detectors.history import CatalogEntry
from shopwatch.domain.clock import to_iso, utcnow
from shopwatch.storage.state import StateRepository
from tests.faults.accounting import Row, account
from tests.faults.conftest import ROWS

TRANSACTIONS = 400
BATCH = 20
CUSTOMERS = 40
STREAM_FUNCTIONS = ("DetectFunction", "AggregateFunction", "NotifyFunction")


def traffic(prefix: str) -> list[dict]:
    """A shop's minute: ordinary purchases, every 25th sold at a tenth of its catalog price (an alert and a
    message), every 10th failed; each names a device (seven, shared), an e-mail and an IP."""
    now = utcnow()
    sent = []
    for i in range(TRANSACTIONS):
        price = "10.00" if i % 25 else "1.00"
        sent.append(
            {
                "transaction_id": f"{prefix}-{i:04d}",
                "customer_id": f"{prefix}-c{i % CUSTOMERS}",
                "timestamp": to_iso(now - timedelta(seconds=TRANSACTIONS - i)),
                "status": "failed" if i % 10 == 3 else "approved",
                "currency": "USD",
                "items": [{"sku": "MUG", "quantity": 1, "unit_price": price}],
                # entities the accounting counts: devices shared across customers, an e-mail and an IP each
                "device_id": f"{prefix}-d{i % 7}",
                "email": f"{prefix}-c{i % CUSTOMERS}@faults.example",
                "ip": f"198.51.100.{i % CUSTOMERS % 250 + 1}",
            }
        )
    return sent


def send(client: ShopwatchClient, transactions: list[dict], during: Callable[[int], None] | None = None) -> set[str]:
    """Post in batches; a batch refused with 503 is resent whole (ingest is idempotent). What the API
    confirmed as stored (accepted now or a duplicate of an earlier attempt) is what must be accounted for."""
    stored: set[str] = set()
    for start in range(0, len(transactions), BATCH):
        if during:
            during(start)
        answer = client.post_transactions(transactions[start : start + BATCH])
        stored |= set(answer["accepted"]) | set(answer["duplicates"])
    return stored


@pytest.fixture
def stack(tmp_path) -> Iterator[LocalStack]:
    injector = FaultInjector().install()
    local = LocalStack(port=free_port(), state_dir=tmp_path, schedules_paused=True)
    local.start()
    local.faults = injector
    StateRepository(local.table("StateTable")).put_catalog_entry(CatalogEntry("MUG", Decimal("10.00"), "USD", "Mug"))
    yield local
    local.stop()
    injector.uninstall()


def settle(stack: LocalStack) -> None:
    """Let the consumers drain with the faults still on (they act on what is in flight), then without."""
    assert stack.wait_until_idle(timeout=300), "the consumers did not drain under the fault"
    stack.faults.enabled = False
    assert stack.wait_until_idle(timeout=120), "the consumers did not drain"


def record(row: Row) -> Row:
    ROWS.append(row)
    print(row)
    return row


def check(row: Row, expect_dlq: int = 0) -> None:
    assert row.lost == 0, row
    assert row.duplicated == 0, row
    assert row.in_dlq == expect_dlq, row
    assert row.processed + row.in_dlq == row.transactions, row


def client_for(stack: LocalStack) -> ShopwatchClient:
    return ShopwatchClient(stack.url, stack.api_key, retries=12)


def test_no_fault_is_the_baseline(stack):
    stored = send(client_for(stack), traffic("base"))
    settle(stack)
    check(record(account(stack, "none (baseline)", stored)))


def test_dynamodb_throttling_and_errors(stack):
    stack.faults.dynamodb_error_rate = 0.05
    stack.faults.enabled = True
    stored = send(client_for(stack), traffic("ddb"))
    settle(stack)
    injected = sum(stack.faults.injected.values())
    assert injected > 20, stack.faults.injected
    check(record(account(stack, "DynamoDB throttling, 5% of calls", stored, f"{injected} errors")))


def test_sns_publish_failures(stack):
    stack.faults.sns_error_rate = 0.25
    stack.faults.enabled = True
    stored = send(client_for(stack), traffic("sns"))
    settle(stack)
    injected = stack.faults.injected["sns.Publish"]
    assert injected >= 3, stack.faults.injected
    check(record(account(stack, "SNS publish fails, 25% of calls", stored, f"{injected} errors")))


def test_handlers_crashing_mid_batch(stack):
    """The first invocations of each stream function apply half their batch, then crash (a function error)."""
    crashes = {"n": 0}
    for name in STREAM_FUNCTIONS:
        function = stack.functions[name]
        real = function.handler

        def crashing(event, context, real=real, name=name):
            records = event["Records"]
            if len(records) > 1 and crashes["n"] < 12:
                crashes["n"] += 1
                real({**event, "Records": records[: len(records) // 2]}, context)
                raise RuntimeError(f"{name} crashed mid-batch (injected)")
            return real(event, context)

        function.handler = crashing
    stored = send(client_for(stack), traffic("crash"))
    settle(stack)
    assert crashes["n"] >= 3
    check(record(account(stack, "handlers crash mid-batch", stored, f"{crashes['n']} crashes")))


def test_a_poison_record_goes_to_the_dead_letter_queue_alone(stack):
    service = __import__("sys").modules["shopwatch_fn_detect_app"].service
    real = service.process

    def poisoned(batch, tx):
        if tx.transaction_id == "poison-0123":
            raise ValueError("this record can never be processed (injected)")
        return real(batch, tx)

    service.process = poisoned
    stored = send(client_for(stack), traffic("poison"))
    settle(stack)
    row = record(account(stack, "a poison record", stored, "1 record"))
    check(row, expect_dlq=1)


def test_every_consumer_killed_and_restarted_mid_stream(stack):
    restarts: list[threading.Thread] = []

    def restart_now_and_then(start: int) -> None:
        if start and start % 100 == 0:  # while earlier batches are still being processed
            restarts.append(threading.Thread(target=stack.restart_consumers))
            restarts[-1].start()

    stored = send(client_for(stack), traffic("restart"), during=restart_now_and_then)
    for restart in restarts:
        restart.join()
    settle(stack)
    assert len(restarts) >= 3
    check(record(account(stack, "consumers killed and restarted", stored, f"{len(restarts)} restarts")))


def test_the_accounting_waits_for_a_consumer_still_writing(stack):
    """AggregateFunction's last batch, arriving after a quiet spell, is held mid-invocation as a slow or
    throttled one is. The stack is not idle until that batch is written: an accounting read while it was in
    flight saw a transaction's bucket counts without its marker (lost 1, duplicated 1)."""
    function = stack.functions["AggregateFunction"]
    real, held, release = function.handler, threading.Event(), threading.Event()
    last = f"slow-{TRANSACTIONS - 1:04d}"

    def slow(event, context):
        if any(r["dynamodb"]["Keys"]["transaction_id"]["S"] == last for r in event["Records"]):
            held.set()
            release.wait(120)
        return real(event, context)

    function.handler = slow
    try:
        transactions = traffic("slow")
        stored = send(client_for(stack), transactions[:-1])
        assert stack.wait_until_idle(timeout=300), "the consumers did not drain"
        stored |= send(client_for(stack), transactions[-1:])
        assert held.wait(120), "the last batch never reached AggregateFunction"
        assert not stack.wait_until_idle(timeout=2), "idle while AggregateFunction was still writing"
    finally:
        release.set()
    settle(stack)
    check(record(account(stack, "a consumer still writing", stored, "1 held batch")))
