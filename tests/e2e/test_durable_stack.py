"""Real `shopwatch up` processes keep their data: killed with SIGKILL in the middle of traffic and restarted on
the same port at once, the stack has every transaction acknowledged at least a second before the kill, finishes
processing them, and has every alert, triage change and outbox message exactly once; a SIGTERM restart gives back
exactly what was there; `--reset` starts empty. (durable_state's design: infra/local/durable_state.py.)"""

from __future__ import annotations

import json
import signal
import threading
import time
from collections import Counter
from typing import Any

import boto3
from botocore.config import Config

from infra.client import ShopwatchClient
from infra.local.stack import free_port
from infra.simulate.shop import build_shop
from infra.simulate.traffic import DEFAULT_KINDS, TrafficPlanner
from shopwatch.domain.clock import utcnow
from tests.e2e.up_process import Up


def dynamodb(state: dict[str, Any]) -> Any:
    return boto3.client(
        "dynamodb", endpoint_url=state["aws_endpoint"], region_name="us-east-1", aws_access_key_id="local",
        aws_secret_access_key="local", config=Config(retries={"max_attempts": 5}),
    )  # fmt: skip


def scan(state: dict[str, Any], logical: str) -> list[dict[str, Any]]:
    client, items, start = dynamodb(state), [], {}
    while True:
        page = client.scan(TableName=state["tables"][logical], **start)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}


def judged(state: dict[str, Any]) -> set[str]:
    """Transactions with DetectFunction's marker: fully processed."""
    return {
        i["pk"]["S"].removeprefix("TXN#")
        for i in scan(state, "StateTable")
        if i["pk"]["S"].startswith("TXN#") and i["sk"]["S"] == "DETECT#0"
    }


def outbox(up: Up) -> list[dict[str, Any]]:
    path = up.directory / "outbox.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def wait_until_processed(up: Up, ids: set[str], timeout: float = 45.0) -> set[str]:
    """Wait until every one of `ids` is judged and the outbox has stopped growing; the judged ones."""
    deadline = time.monotonic() + timeout
    done: set[str] = set()
    while time.monotonic() < deadline:
        done = judged(up.state)
        if ids <= done:
            break
        time.sleep(0.5)
    last, steady_since = -1, time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - steady_since < 2.0:  # notifications follow alerts
        count = len(outbox(up))
        if count != last:
            last, steady_since = count, time.monotonic()
        time.sleep(0.25)
    return done


def traffic(seed: int, customers: int = 240) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A shop's history (so detectors know habits) and live traffic with every kind of injected anomaly."""
    planner = TrafficPlanner(build_shop(seed, customers), seed, utcnow())
    warmup = [p.transaction for p in planner.warmup()]
    rate = (customers - 1) / 75  # the most the planner allows: each customer buys at most every 60 s (x1.25)
    live = [p.transaction for p in planner.plan(rate, 900 / rate, anomaly_rate=0.1, kinds=DEFAULT_KINDS).live]
    return warmup, live


class Poster(threading.Thread):
    """Posts batches as fast as the API takes them, noting when each accepted id was acknowledged (202)."""

    def __init__(
        self, client: ShopwatchClient, transactions: list[dict[str, Any]], batch: int = 20, pause: float = 0.0
    ) -> None:
        super().__init__(daemon=True)
        self.client, self.transactions, self.batch, self.pause = client, transactions, batch, pause
        self.acked: dict[str, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        for start in range(0, len(self.transactions), self.batch):
            if self.stop.is_set():
                return
            try:
                result = self.client.post_transactions(self.transactions[start : start + self.batch])
            except Exception:  # noqa: BLE001 - the stack was killed under us: that is the test
                return
            now = time.monotonic()
            self.acked.update(dict.fromkeys(result["accepted"] + result["duplicates"], now))
            time.sleep(self.pause)


def messages_by_key(deliveries: list[dict[str, Any]]) -> Counter:
    return Counter((d["message_id"], d["subscription"]) for d in deliveries)


def test_sigkill_mid_traffic_keeps_every_acknowledged_transaction_and_repeats_nothing(stacks_env, started):
    port = free_port()
    first = Up(port, stacks_env)
    started.append(first)
    state = first.state
    client = ShopwatchClient(state["url"], state["api_key"], timeout=20, retries=0)
    client.sign_in(state["admin_user"], state["admin_password"])
    warmup, live = traffic(seed=11)
    head, tail = live[:200], live[200:]
    before = Poster(client, warmup + head, batch=50)
    before.run()
    assert len(before.acked) == len(warmup) + len(head)
    wait_until_processed(first, set(before.acked))
    status, page = client.request("GET", "/alerts?limit=100")
    assert status == 200 and page["alerts"], "the injected anomalies raised no alert: nothing to triage"
    triaged = page["alerts"][0]["alert_id"]
    status, _ = client.request("PATCH", f"/alerts/{triaged}", {"status": "investigating", "assignee": "ana"})
    assert status == 200
    status, _ = client.request("POST", f"/alerts/{triaged}/notes", {"text": "called the customer"})
    assert status in (200, 201)

    poster = Poster(ShopwatchClient(state["url"], state["api_key"], timeout=20, retries=0), tail, batch=20, pause=0.1)
    poster.start()  # at most 200 transactions/s: still posting when the kill comes
    deadline = time.monotonic() + 30
    while (
        len(poster.acked) < 100 or time.monotonic() - min(poster.acked.values()) < 1.5
    ) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert poster.is_alive(), "the traffic ended before the kill: post more, or kill sooner"
    first.process.send_signal(signal.SIGKILL)  # mid-traffic: requests, detection and notifications in flight
    killed_at = time.monotonic()
    first.process.wait()
    poster.join(timeout=30)
    acked = set(before.acked) | {i for i, at in poster.acked.items() if at <= killed_at - 1.0}
    assert len(acked) > len(before.acked), "nothing acknowledged a second before the kill: the test shows nothing"

    second = Up(port, stacks_env)  # at once, same port, same directory
    started.append(second)
    assert "restored" in second.printed, second.printed
    state2 = second.state
    assert (state2["api_key"], state2["admin_password"]) == (state["api_key"], state["admin_password"])
    assert state2["user_pool_id"] == state["user_pool_id"]
    assert client.request("GET", f"/alerts/{triaged}")[0] == 200  # the token issued before the kill still works

    stored = {i["transaction_id"]["S"] for i in scan(state2, "TransactionsTable")}
    assert acked <= stored, f"{len(acked - stored)} acknowledged transactions lost"
    done = wait_until_processed(second, stored)
    assert stored <= done, f"{len(stored - done)} stored transactions never processed after the restart"

    status, alert = client.request("GET", f"/alerts/{triaged}")
    assert status == 200 and alert["status"] == "investigating" and alert["assignee"] == "ana"
    assert [n["text"] for n in alert.get("notes", [])].count("called the customer") == 1

    deliveries = outbox(second)
    counts = messages_by_key(deliveries)
    assert deliveries and max(counts.values()) == 1, [k for k, n in counts.items() if n > 1]
    ledger = {
        i["message_id"]["S"] for i in scan(state2, "StateTable") if i["pk"]["S"].startswith("SENT#")
    }  # every message Notify recorded as sent ...
    alerts_topic = {d["message_id"] for d in deliveries if d["subscription"].startswith("Alert")}
    assert ledger == alerts_topic  # ... is out, once; and nothing is out that was not recorded
    events = Counter(
        (d["subject"] or d["body"], d["subscription"]) for d in deliveries if d["protocol"] == "email"
    )  # the same alert announced twice would repeat its subject for one subscription
    assert max(events.values()) == 1, [k for k, n in events.items() if n > 1]


def test_sigterm_restart_gives_back_exactly_what_was_there(stacks_env, started):
    port = free_port()
    first = Up(port, stacks_env)
    started.append(first)
    state = first.state
    client = ShopwatchClient(state["url"], state["api_key"], timeout=20)
    client.sign_in(state["admin_user"], state["admin_password"])
    warmup, live = traffic(seed=5, customers=200)
    Poster(client, warmup + live[:150], batch=50).run()
    wait_until_processed(first, {t["transaction_id"] for t in warmup + live[:150]})
    tables = {logical: scan(state, logical) for logical in ("TransactionsTable", "AlertsTable", "StateTable")}
    sent = outbox(first)
    first.stop()  # SIGTERM: the stack stops cleanly (one last commit and a snapshot)
    assert first.process.returncode == 0

    second = Up(port, stacks_env)
    started.append(second)
    state2 = second.state
    assert state2["api_key"] == state["api_key"] and state2["admin_password"] == state["admin_password"]
    # the schedule (WindowFunction, every minute) may add window alerts, cursors and their notifications
    # meanwhile; everything else is exactly as it was
    assert sorted(scan(state2, "TransactionsTable"), key=repr) == sorted(tables["TransactionsTable"], key=repr)
    alerts_after = {a["alert_id"]["S"]: a for a in scan(state2, "AlertsTable")}
    assert all(alerts_after.get(a["alert_id"]["S"]) == a for a in tables["AlertsTable"])
    stream_work = [i for i in tables["StateTable"] if i["pk"]["S"].startswith(("TXN#", "SENT#"))]
    state_after = {json.dumps(i, sort_keys=True) for i in scan(state2, "StateTable")}
    assert stream_work and all(json.dumps(i, sort_keys=True) in state_after for i in stream_work)
    assert outbox(second)[: len(sent)] == sent
    # the stream mappings resume after what they had handled: nothing is processed again
    markers = judged(state2)
    time.sleep(1.5)
    assert judged(state2) == markers
    assert sorted(scan(state2, "TransactionsTable"), key=repr) == sorted(tables["TransactionsTable"], key=repr)


def test_reset_starts_empty_with_a_new_key(stacks_env, started):
    port = free_port()
    first = Up(port, stacks_env)
    started.append(first)
    state = first.state
    client = ShopwatchClient(state["url"], state["api_key"], timeout=20)
    warmup, _ = traffic(seed=3, customers=40)
    Poster(client, warmup, batch=60).run()
    assert scan(state, "TransactionsTable")
    first.stop()

    kept = Up(port, stacks_env)  # without --reset: all there
    started.append(kept)
    assert len(scan(kept.state, "TransactionsTable")) == len(warmup)
    kept.stop()

    fresh = Up(port, stacks_env, "--reset")
    started.append(fresh)
    assert "started empty" in fresh.printed
    assert scan(fresh.state, "TransactionsTable") == [] and scan(fresh.state, "AlertsTable") == []
    assert fresh.state["api_key"] != state["api_key"]
    assert outbox(fresh) == []
