"""`python -m infra.benchmarks.memory --transactions N`: the local stack's RSS as traffic flows through it.

Issue 20: the stack grew ~20 KB per transaction without plateau, because moto kept every stream record, every
shard iterator and every expired item. This drives the simulator's ordinary shop traffic
(infra/simulate TrafficPlanner.recent: customers at human pace, their baskets and identities, on a shop clock
that starts two hours back so no timestamp is in the future) through the stack's HTTP API from a few client threads, as fast as the stack takes it, and at
every checkpoint waits for detection to drain, runs one housekeeping pass (TTL sweep, stream trim) and
prints: RSS, what moto holds (items per table, stream records kept, shard iterators held), and RSS per
transaction since the first checkpoint. Memory should follow the columns of data kept, not the count sent.

The stack runs in this process (its RSS is what is read, from /proc/self/status); so do the client threads,
which keep nothing but counters. A short `--retention` (seconds of stream records kept) shows trimming at
work within a run that lasts less than the default hour.
"""

from __future__ import annotations

import argparse
import gc
import os
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from rich.table import Table

from infra.client import ShopwatchClient
from infra.local import stream_retention
from infra.local.stack import LocalStack, free_port
from infra.report import console
from infra.simulate.shop import build_shop
from infra.simulate.traffic import TrafficPlanner
from infra.template import ROOT
from shopwatch.domain.clock import utcnow

RATE = 150.0  # transactions per second of shop time; customers buy at human pace (30-60 s apart)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status (Linux only)")


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def held(stack: LocalStack) -> dict[str, int]:
    """What moto holds: items per table, stream records kept, shard iterators."""
    backend = stack.housekeeping.dynamodb
    counts: dict[str, int] = {}
    records = 0
    for logical, name in stack.resources.tables.items():
        table = backend.tables[name]
        if table.range_key_attr is None:
            counts[logical] = len(table.items)
        else:
            counts[logical] = sum(len(p) for p in list(table.items.values()))
        if table.stream_shard is not None:
            records += len(table.stream_shard.items)
    counts["stream records"] = records
    counts["shard iterators"] = len(stack.housekeeping.streams.shard_iterators)
    return counts


def _send(client: ShopwatchClient, batches: list[list[dict[str, Any]]], totals: dict[str, int], lock: Any) -> None:
    while True:
        with lock:
            if not batches:
                return
            batch = batches.pop()
        result = client.post_transactions(batch)
        with lock:
            totals["accepted"] += len(result["accepted"])
            totals["rejected"] += len(result["rejected"]) + len(result.get("duplicates", []))


def run(transactions: int, checkpoint: int, retention: float, threads: int, seed: int, customers: int) -> Table:
    table = Table(title=f"Local stack RSS under simulated traffic (stream retention {retention:g} s)")
    columns = ("sent", "accepted", "RSS MB", "KB/tx since first", "Transactions", "Alerts", "State",
               "stream records", "shard iterators", "ttl deleted", "trimmed", "load avg", "s")  # fmt: skip
    for column in columns:
        table.add_column(column, justify="right")
    shop = build_shop(seed, customers)
    # The shop's clock starts two hours back and runs at RATE while the stack takes what it can: timestamps
    # stay in the past (ingest refuses the future) and recent enough that TTLs are the product's own.
    shop_start = utcnow() - timedelta(hours=2)
    planner = TrafficPlanner(shop, seed, shop_start)
    shop_seconds = 0.0
    with LocalStack(
        port=free_port(),
        state_dir=ROOT / ".shopwatch" / "bench-memory",
        stream_retention_seconds=retention,
        housekeeping_interval=3600.0,  # passes run at the checkpoints here, for figures read after them
    ) as stack:
        client = ShopwatchClient(stack.url, stack.api_key)
        totals = {"accepted": 0, "rejected": 0}
        lock = threading.Lock()
        sent, first, started = 0, None, time.monotonic()
        while sent < transactions:
            size = min(checkpoint, transactions - sent)
            span = size / RATE
            since = shop_start + timedelta(seconds=shop_seconds)
            planned = planner.recent(RATE, since, since + timedelta(seconds=span))
            # recent() counts each call's offsets from its own end: shift who is busy until when to the next
            # span's frame, so customers keep their human pace across chunks
            planner.next_free = {c: t - span for c, t in planner.next_free.items()}
            shop_seconds += span
            txs = [p.transaction for p in planned]
            batches = [txs[i : i + 25] for i in range(0, len(txs), 25)]
            pool = [threading.Thread(target=_send, args=(client, batches, totals, lock)) for _ in range(threads)]
            for t in pool:
                t.start()
            for t in pool:
                t.join()
            sent += len(txs)
            if not stack.wait_until_idle(timeout=3600, settle=1.0):
                raise TimeoutError("detection did not drain within an hour")
            stack.housekeeping.run_once()
            gc.collect()
            rss = rss_mb()
            first = first or (sent, rss)
            per_tx = (rss - first[1]) * 1024 / (sent - first[0]) if sent > first[0] else float("nan")
            counts = held(stack)
            row = (f"{sent:,}", f"{totals['accepted']:,}", f"{rss:.0f}", f"{per_tx:.2f}",
                   f"{counts.get('TransactionsTable', 0):,}", f"{counts.get('AlertsTable', 0):,}",
                   f"{counts.get('StateTable', 0):,}", f"{counts['stream records']:,}",
                   f"{counts['shard iterators']:,}", f"{stack.housekeeping.sweeper.totals.deleted:,}",
                   f"{stack.housekeeping.trimmed:,}", load_average(), f"{time.monotonic() - started:.0f}")  # fmt: skip
            table.add_row(*row)
            console.print(" | ".join(row))
    table.caption = f"pid {os.getpid()}, {os.cpu_count()} CPUs; rows after drain + one housekeeping pass + gc"
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--transactions", type=int, default=100_000)
    parser.add_argument("--checkpoint", type=int, default=10_000, help="print a row every N transactions")
    parser.add_argument("--retention", type=float, default=stream_retention.DEFAULT_RETENTION,
                        help="seconds of stream records kept (24 h at most)")  # fmt: skip
    parser.add_argument("--threads", type=int, default=4, help="client threads posting batches of 25")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--customers", type=int, default=12_000, help="at least 150 x 60 x 1.25 for human pace")
    args = parser.parse_args(argv)
    console.print(f"load average before: {load_average()}")
    console.print(run(args.transactions, args.checkpoint, args.retention, args.threads, args.seed, args.customers))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
