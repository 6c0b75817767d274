"""Figures for the local stack's durable state (durable_state): restart time, disk and memory, journal cost.

`python -m infra.durability_bench restart --transactions 200000`:
1. A `load` child process runs a durable local stack, sends `--seed` simulated transactions (history and live
   traffic with injected anomalies) through the API and waits until every consumer is idle: real items in every
   table (transactions with verdicts, alerts, markers, entity aggregates), real stream records and
   notifications. It then halts the stream consumers and bulk-loads copies of every seed item (transaction and
   alert ids suffixed, so each copy is another transaction; customers shared) through moto's PutItem, that is
   through the same persistence path as any write (dirty keys, group commits, compaction) until the
   TransactionsTable holds `--transactions` items. It prints its RSS and the disk used, and waits.
2. The parent kills it with SIGKILL (no clean stop, no final snapshot: the journal's tail is replayed).
3. `shopwatch up --state-dir` on that directory: the time until it serves, and what it says it restored;
   then a SIGTERM (clean stop, snapshot) and a second start: the time from a snapshot alone.

`python -m infra.durability_bench throughput`: the load bench (`python -m infra.bench --rates 150 --seconds 20
--no-replay --no-retail-benchmark --no-model --no-nab --no-fraud-data`) run without and then with persistence
(SHOPWATCH_DURABLE=0/1, its state directory emptied first), alternating for `--rounds` pairs, outputs printed.

`python -m infra.durability_bench cost`: process CPU and RSS growth for the same 2,400 simulated transactions,
without and with persistence, alternating.

Benchmarks print figures; no test checks them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from infra.template import ROOT

BENCH_ARGS = ["--rates", "150", "--seconds", "20", "--no-replay", "--no-retail-benchmark", "--no-model", "--no-nab",
              "--no-fraud-data"]  # fmt: skip
_TXN = re.compile(r"\bT(\d{7})\b")


def _rss_mb(pid: int | str = "self") -> tuple[float, float]:
    """(VmRSS, VmHWM) in MB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def _disk_mb(directory: Path) -> float:
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file()) / 1e6


def _load(args: argparse.Namespace) -> int:
    from infra.client import ShopwatchClient
    from infra.local import stream_retention
    from infra.local.stack import LocalStack, free_port
    from infra.simulate.shop import build_shop
    from infra.simulate.traffic import DEFAULT_KINDS, TrafficPlanner
    from shopwatch.domain.clock import utcnow

    state_dir = Path(args.state_dir)
    stack = LocalStack(port=free_port(), state_dir=state_dir, durable=True, reset=True, schedules_paused=True)
    stack.start()
    client = ShopwatchClient(stack.url, stack.api_key, timeout=60)
    customers = 400
    planner = TrafficPlanner(build_shop(7, customers), 7, utcnow())
    transactions = [p.transaction for p in planner.warmup()]
    rate = (customers - 1) / 75
    live = planner.plan(rate, max(60.0, (args.seed - len(transactions)) / rate), 0.05, DEFAULT_KINDS).live
    transactions = (transactions + [p.transaction for p in live])[: args.seed]
    for start in range(0, len(transactions), 100):
        client.post_transactions(transactions[start : start + 100])
    if not stack.wait_until_idle(timeout=600):
        raise SystemExit("the seed traffic was not processed in 10 minutes")
    for poller in stack.pollers:  # the copies are stored, not processed
        poller.halt.set()
    for poller in stack.pollers:
        poller.join(timeout=60)
    backend = stack.durable_state.backends.dynamodb
    seed_items = {
        name: [item.to_json()["Attributes"] for item in _items(table)] for name, table in backend.tables.items()
    }
    transactions_table = stack.resources.tables["TransactionsTable"]
    alerts_table = stack.resources.tables["AlertsTable"]
    seed_count = len(seed_items[transactions_table])
    print(json.dumps({"seed": {name: len(items) for name, items in seed_items.items()}}), flush=True)
    started = time.perf_counter()
    copy = 0
    while len(backend.tables[transactions_table].items) < args.transactions:
        copy += 1
        wanted = args.transactions - len(backend.tables[transactions_table].items)
        for name, items in seed_items.items():
            for attributes in items:
                text = json.dumps(attributes)
                if not _TXN.search(text) and name != alerts_table:
                    continue  # an entity aggregate or budget: one per customer, device, SKU, shared by the copies
                text = _TXN.sub(lambda m, c=copy: f"T{m.group(1)}c{c}", text)
                cloned = json.loads(text)
                if name == alerts_table:
                    cloned["alert_id"] = {"S": f"{attributes['alert_id']['S']}c{copy}"}
                backend.put_item(name, cloned)
                if name == transactions_table:
                    wanted -= 1
                    if wanted <= 0:
                        break
    loaded = time.perf_counter() - started
    for poller in stack.pollers:  # as if every copy had been processed: the restart measures loading, not work
        for name, table in backend.tables.items():
            shard = table.stream_shard
            if shard is not None and stack.resources.stream_arns.get(_logical(stack, name)) == poller.source.stream_arn:
                last = stream_retention.first_sequence_number(shard) + len(shard.items) - 1
                poller.checkpoints[shard.id] = str(last)
    stack.durable_state.commit()
    while stack.durable_state._compacting():
        time.sleep(0.2)
    rss, peak = _rss_mb()
    print(json.dumps({
        "transactions": len(backend.tables[transactions_table].items),
        "items": {name: sum(1 for _ in _items(table)) for name, table in backend.tables.items()},
        "stream_records": {n: len(t.stream_shard.items) for n, t in backend.tables.items() if t.stream_shard},
        "seed_transactions": seed_count, "load_seconds": round(loaded, 1), "rss_mb": round(rss), "peak_rss_mb": round(peak),
        "disk_mb": round(_disk_mb(state_dir / "data"), 1), "snapshots": stack.durable_state.snapshots,
        "commits": stack.durable_state.commits, "url": stack.url,
    }), flush=True)  # fmt: skip
    print("LOADED", flush=True)
    time.sleep(3600)  # until killed
    return 0


def _logical(stack: Any, table_name: str) -> str:
    return next(logical for logical, name in stack.resources.tables.items() if name == table_name)


def _items(table: Any) -> Any:
    for stored in list(table.items.values()):
        if table.range_key_attr is None:
            yield stored
        else:
            yield from list(stored.values())


def _up(state_dir: Path, port: int) -> tuple[subprocess.Popen[str], float, str]:
    """Start `shopwatch up` on the directory; (process, seconds until it serves, what it printed)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.cli", "up", "--port", str(port), "--state-dir", str(state_dir)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    printed = ""
    while "running at" not in printed:
        line = process.stdout.readline()  # type: ignore[union-attr]
        if not line:
            raise SystemExit(f"shopwatch up did not start: {printed}")
        printed += line
    return process, time.perf_counter() - started, printed


def _restart(args: argparse.Namespace) -> int:
    from infra.local.stack import free_port

    state_dir = Path(args.state_dir)
    load = subprocess.Popen(
        [sys.executable, "-m", "infra.durability_bench", "load", "--transactions", str(args.transactions),
         "--seed", str(args.seed), "--state-dir", str(state_dir)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    figures: dict[str, Any] = {}
    for line in load.stdout:  # type: ignore[union-attr]
        if line.startswith("{"):
            figures.update(json.loads(line))
            print(line.strip(), flush=True)
        if line.startswith("LOADED"):
            break
    else:
        raise SystemExit("the load process ended before loading")
    load.send_signal(signal.SIGKILL)
    load.wait()
    print(f"loaded {figures['transactions']:,} transactions in {figures['load_seconds']} s, then SIGKILL")
    per_100k = figures["disk_mb"] / figures["transactions"] * 100_000
    print(f"disk: {figures['disk_mb']} MB in {state_dir / 'data'} ({per_100k:.0f} MB per 100,000 transactions, "
          f"snapshot + journal tail); RSS of the loaded stack {figures['rss_mb']} MB (peak {figures['peak_rss_mb']} MB)")  # fmt: skip
    stack_dir = state_dir
    (stack_dir / "stack.json").unlink(missing_ok=True)
    port = free_port()
    process, seconds, printed = _up(stack_dir, port)
    rss, _ = _rss_mb(process.pid)
    restored = next((line for line in printed.splitlines() if line.startswith("restored")), "(nothing restored)")
    print(f"restart after SIGKILL: serving after {seconds:.1f} s; {restored}; RSS {rss:.0f} MB")
    process.send_signal(signal.SIGTERM)
    stopped = time.perf_counter()
    process.wait(timeout=600)
    print(f"clean stop (last commit + snapshot): {time.perf_counter() - stopped:.1f} s; disk "
          f"{_disk_mb(state_dir / 'data'):.1f} MB")  # fmt: skip
    process, seconds, printed = _up(stack_dir, port)
    restored = next((line for line in printed.splitlines() if line.startswith("restored")), "(nothing restored)")
    print(f"restart after a clean stop: serving after {seconds:.1f} s; {restored}")
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=600)
    return 0


def _throughput(args: argparse.Namespace) -> int:
    env = {k: v for k, v in os.environ.items() if k != "SHOPWATCH_DURABLE"}
    for durable in ("0", "1") * args.rounds:  # alternating: the machine's load drifts
        shutil.rmtree(ROOT / ".shopwatch" / "bench" / "data", ignore_errors=True)
        print(f"=== persistence {'on' if durable == '1' else 'off'} (SHOPWATCH_DURABLE={durable}); "
              f"load average {os.getloadavg()[0]:.2f} ===", flush=True)  # fmt: skip
        subprocess.run([sys.executable, "-m", "infra.bench", *BENCH_ARGS], cwd=ROOT, check=False,
                       env=env | {"SHOPWATCH_DURABLE": durable})  # fmt: skip
    shutil.rmtree(ROOT / ".shopwatch" / "bench" / "data", ignore_errors=True)
    return 0


def _cost_child(args: argparse.Namespace) -> int:
    """One in-process stack (durable or not) takes the same simulated history; CPU and RSS, as JSON."""
    import resource
    import tempfile

    from infra.client import ShopwatchClient
    from infra.local.stack import LocalStack, free_port
    from infra.simulate.shop import build_shop
    from infra.simulate.traffic import TrafficPlanner
    from shopwatch.domain.clock import utcnow

    with tempfile.TemporaryDirectory() as directory:
        stack = LocalStack(port=free_port(), state_dir=Path(directory), durable=args.durable == "1",
                           schedules_paused=True)  # fmt: skip
        stack.start()
        client = ShopwatchClient(stack.url, stack.api_key, timeout=60)
        transactions = [p.transaction for p in TrafficPlanner(build_shop(3, 800), 3, utcnow()).warmup()]
        rss_before, _ = _rss_mb()
        cpu = time.process_time()
        for start in range(0, len(transactions), 25):
            client.post_transactions(transactions[start : start + 25])
        stack.wait_until_idle(timeout=600)
        used = time.process_time() - cpu
        rss, _ = _rss_mb()
        kept = stack.durable_state
        print(json.dumps({"durable": args.durable, "transactions": len(transactions), "cpu_s": round(used, 2),
                          "cpu_ms_per_tx": round(used / len(transactions) * 1000, 2), "rss_growth_mb": round(rss - rss_before),
                          "commits": kept.commits if kept else 0, "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                          "journal_mb": round(kept.disk_bytes() / 1e6, 1) if kept else 0}))  # fmt: skip
        stack.stop()
    return 0


def _cost(args: argparse.Namespace) -> int:
    """The journal's CPU and memory: the same 2,400 simulated transactions through a stack without and with
    persistence, alternating, each in its own process (process CPU time while they are ingested and judged)."""
    print(f"load average {os.getloadavg()[0]:.2f}", flush=True)
    for durable in ("0", "1") * args.rounds:
        subprocess.run([sys.executable, "-m", "infra.durability_bench", "cost-child", durable], cwd=ROOT, check=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.durability_bench")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, run in (("restart", _restart), ("load", _load)):
        command = commands.add_parser(name)
        command.add_argument("--transactions", type=int, default=200_000)
        command.add_argument("--seed", type=int, default=3000, help="simulated transactions sent through the API")
        command.add_argument("--state-dir", default=str(ROOT / ".shopwatch" / "durability-bench"))
        command.set_defaults(run=run)
    throughput = commands.add_parser("throughput")
    throughput.add_argument("--rounds", type=int, default=1, help="off/on pairs, alternating")
    throughput.set_defaults(run=_throughput)
    cost = commands.add_parser("cost")
    cost.add_argument("--rounds", type=int, default=2)
    cost.set_defaults(run=_cost)
    child = commands.add_parser("cost-child")
    child.add_argument("durable", choices=("0", "1"))
    child.set_defaults(run=_cost_child)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    raise SystemExit(main())
