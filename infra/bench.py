"""`make bench`: figures for the local stack, printed with their targets and ratios.

1. Sustained throughput: transactions offered over HTTP at stepped rates by 8 client threads, with every
   stream consumer running; per step the achieved ingest rate, how long detection took to clear its backlog
   after the load stopped, and ingest→detection latency (p50/p95/p99: receipt to the commit that writes the
   transaction's alerts). A step is sustained when the stack accepted at least 95% of the offered rate,
   detected every accepted transaction, and cleared its backlog within 2 s of the end: detection kept pace
   instead of falling behind. The sustained rate is that step's ingest rate; the targets (issue 20) are
   300/s sustained with a p95 of at most 1 s there. The traffic is
   normal: each account has its own device, e-mail and IP (new ones each step), so entity aggregates are written
   for every transaction but no detector fires; one IP for 20 accounts, as once here, made 77% of the load
   alerts and measured an alert storm instead.
2. The Online Retail replay from ../shared/data (skipped when absent): wall time, throughput, alerts raised.
   Then the same invoices with anomalies injected (`shopwatch benchmark retail --inject`): the share of real
   invoices that page an analyst or raise any alert, e-mails and SMS sent, recall per injected kind.
3. The windowed detectors' core on the NAB corpus (`shopwatch nab`; skipped when ../shared is absent).
4. The model layer (infra/bench_model.py): numpy scorer against scikit-learn, cold start, the model detector's
   recall on simulated outliers, training time and seed 001's figures on Online Retail.
5. Rules as data (infra/benchmarks/rules_*.py): 100 rules over 10,000 transactions as DetectFunction evaluates
   them (target 0.05 ms per rule per transaction), each rule's own cost, RulesLayer's cold start, and what the
   checkout decision (50 active decision rules, six lists) adds to POST /transactions on the local stack
   (target: at most 25 ms at p99), interleaved with the same requests without it.
Benchmarks print figures; tests never check wall-clock time.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
import uuid
from collections import Counter
from datetime import timedelta

from rich.table import Table

from infra.client import ApiError, ShopwatchClient
from infra.local.readers import all_alerts, detection_latencies
from infra.local.stack import LocalStack, free_port
from infra.replay import replay
from infra.report import console
from infra.template import ROOT
from shopwatch.domain.clock import to_iso, utcnow

TARGET_RATE = 300.0
TARGET_P95 = 1.0
BACKLOG_LIMIT = 2.0  # seconds after the load stops within which the backlog must clear for "sustained"
RETAIL = ROOT.parent / "shared" / "data" / "online_retail" / "online_retail.csv.gz"
FRAUD_DATA = ROOT.parent / "shared" / "data" / "fraud_ecommerce" / "fraud_data_dev.csv"
NAB = ROOT.parent / "shared" / "data" / "nab"


def _quantile(values: list[float], q: float) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1]
        if len(values) > 1
        else (values[0] if values else float("nan"))
    )


def _offer(
    client: ShopwatchClient, rate: float, seconds: float, batch: int, run: str
) -> tuple[list[str], float, Counter[str]]:
    """Offer `rate` transactions/s for `seconds` from a bounded pool of client threads; returns the accepted ids,
    the send time and the errors (requests that failed after the client's retries, transactions rejected)."""
    ids: list[str] = []
    errors: Counter[str] = Counter()
    lock = threading.Lock()
    threads = 8
    per_thread = rate / threads
    started = time.monotonic()

    def worker(n: int) -> None:
        sent = 0
        while (elapsed := time.monotonic() - started) < seconds:
            due = int(elapsed * per_thread) - sent
            if due < batch:
                time.sleep(max(0.0, (sent + batch) / per_thread - elapsed))
                continue
            now = to_iso(utcnow() - timedelta(seconds=1))
            txs = [
                {"transaction_id": f"{run}-{n}-{sent + i}", "customer_id": f"{run}-c{n}-{(sent + i) % 5000}", "timestamp": now,
                 "amount": "25.00", "items": [{"sku": f"SKU-{(sent + i) % 40}", "quantity": 1, "unit_price": "25.00"}],
                 "device_id": f"dev-{run}-{n}-{(sent + i) % 5000}", "email": f"c{n}-{(sent + i) % 5000}@{run}.bench.example",
                 "ip": f"2001:db8:{run[:4]}:{n}::{(sent + i) % 5000 + 1:x}"}
                for i in range(due)
            ]  # fmt: skip
            try:
                result = client.post_transactions(txs)
            except ApiError as exc:
                with lock:
                    errors[f"HTTP {exc.status}"] += 1
            else:
                with lock:
                    ids.extend(result["accepted"])
                    errors["rejected"] += len(result["rejected"])
            sent += due

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return ids, time.monotonic() - started, errors


def throughput(rates: list[float], seconds: float) -> Table:
    table = Table(title=f"Sustained load through HTTP ingest, every consumer running ({seconds:.0f} s per step)")
    for column in ("offered/s", "ingested/s", "errors", "detected", "backlog cleared after", "p50 s", "p95 s",
                   "p99 s", "CPU ms/tx", "sustained"):  # fmt: skip
        table.add_column(column, justify="right")
    with LocalStack(port=free_port(), state_dir=ROOT / ".shopwatch" / "bench") as stack:
        client = ShopwatchClient(stack.url, stack.api_key)
        state = {"tables": stack.resources.tables, "aws_endpoint": stack.aws_endpoint}
        best, best_p95 = 0.0, float("nan")
        for rate in rates:
            run = uuid.uuid4().hex[:6]
            t0, cpu0 = time.monotonic(), time.process_time()
            ids, sent_for, errors = _offer(client, rate, seconds, batch=max(1, int(rate / 40)), run=run)
            stack.wait_until_idle(timeout=600, settle=0.5)
            lag = time.monotonic() - t0 - sent_for - 0.5  # the settle period is not backlog
            # the process's CPU (every thread: clients, API, functions, moto) per accepted transaction: the stack
            # is bound by one GIL, so this is what sets its ceiling, and unlike a rate it barely moves with load
            cpu_per_tx = (time.process_time() - cpu0) / max(1, len(ids)) * 1000
            ingested = len(ids) / sent_for
            latencies = list(detection_latencies(state, ids).values())
            p95 = _quantile(latencies, 0.95)
            failed = sum(errors.values())
            sustained = ingested >= 0.95 * rate and len(latencies) == len(ids) and lag <= BACKLOG_LIMIT and not failed
            best = max(best, ingested) if sustained else best
            best_p95 = p95 if sustained and best == ingested else best_p95
            table.add_row(f"{rate:g}", f"{ingested:.0f}", str(failed) if not failed else str(dict(errors)),
                          f"{len(latencies)}/{len(ids)}", f"{lag:.1f} s", f"{_quantile(latencies, 0.5):.2f}",
                          f"{p95:.2f}", f"{_quantile(latencies, 0.99):.2f}", f"{cpu_per_tx:.2f}",
                          "yes" if sustained else "no")  # fmt: skip
        table.caption = (
            f"highest sustained rate {best:.0f}/s; target {TARGET_RATE:.0f}/s (ratio {best / TARGET_RATE:.2f}); "
            f"p95 there {best_p95:.2f} s, target {TARGET_P95:.0f} s (ratio {best_p95 / TARGET_P95:.2f})"
        )
    return table


def retail_replay(limit: int | None) -> Table:
    table = Table(title="Online Retail replay through the local stack (../shared/data)")
    for column in (
        "invoices sent",
        "accepted",
        "rejected",
        "ingest wall s",
        "detection done s",
        "transactions/s",
        "alerts",
        "by detector",
    ):
        table.add_column(column)
    with LocalStack(port=free_port(), state_dir=ROOT / ".shopwatch" / "bench") as stack:
        started = time.monotonic()
        result = replay(RETAIL, stack.url, stack.api_key, limit=limit)
        ingest_wall = time.monotonic() - started
        stack.wait_until_idle(timeout=7200, settle=1.0)
        done = time.monotonic() - started
        alerts = all_alerts({"tables": stack.resources.tables})
        by_detector = Counter(f"{a.detector}:{a.severity.value}" for a in alerts)
        table.add_row(str(result.sent), str(result.accepted), str(result.rejected), f"{ingest_wall:.0f}", f"{done:.0f}",
                      f"{result.sent / done:.1f}", str(len(alerts)), ", ".join(f"{k} {v}" for k, v in sorted(by_detector.items())))  # fmt: skip
        table.caption = "rejected, e.g.: " + "; ".join(result.rejection_examples[:3])
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make bench")
    parser.add_argument("--rates", default="100,200,300,400", help="offered transactions/s per step")
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds per step")
    parser.add_argument("--replay-limit", type=int, help="replay only this many invoices (default: all 25,900)")
    parser.add_argument("--no-replay", action="store_true")
    parser.add_argument("--no-retail-benchmark", action="store_true", help="skip Online Retail with injected anomalies")
    parser.add_argument("--no-load", action="store_true", help="skip the stepped load (replay only)")
    parser.add_argument("--no-model", action="store_true", help="skip the model scorer and training figures")
    parser.add_argument("--no-nab", action="store_true", help="skip the NAB benchmark of the windowed detectors")
    parser.add_argument("--no-fraud-data", action="store_true", help="skip the labelled Fraud_Data benchmark")
    parser.add_argument(
        "--no-rules", action="store_true", help="skip the rules benchmarks (evaluation, cold start, checkout)"
    )
    args = parser.parse_args(argv)
    if not args.no_rules:
        from infra.benchmarks import rules_cold_start, rules_eval, rules_ingest

        console.print(rules_eval.table(rules_eval.run()))
        console.print(rules_eval.costs_table(rules_eval.rule_costs()))
        console.print(rules_cold_start.cold_start_table())
        checkout = rules_ingest.run()
        console.print(rules_ingest.table(checkout))
        console.print(rules_ingest.decide_table(checkout))
        console.print(rules_ingest.table(checkout, alone=True))
    if not args.no_model:
        from infra import bench_model

        console.print(bench_model.scoring_table())
        console.print(bench_model.cold_start_table())
        console.print(bench_model.evaluation_table())
        for table in bench_model.training_tables():
            console.print(table)
    if not args.no_nab:
        if NAB.exists():
            from infra.nab.run import run as run_nab

            console.print(run_nab(NAB, ROOT / ".shopwatch" / "nab")[1])
        else:
            console.print(f"NAB skipped: {NAB} is not here (it lives in ../shared beside the clone)")
    if not args.no_fraud_data:
        if FRAUD_DATA.exists():
            from infra.benchmarks import fraud_data

            for table in fraud_data.tables(fraud_data.run(FRAUD_DATA, state_dir=ROOT / ".shopwatch" / "bench")):
                console.print(table)
        else:
            console.print(f"Fraud_Data skipped: {FRAUD_DATA} is not here (it lives in ../shared beside the clone)")
    if not args.no_load:
        console.print(throughput([float(r) for r in args.rates.split(",")], args.seconds))
    if args.no_replay:
        return 0
    if not RETAIL.exists():
        console.print(f"Online Retail replay skipped: {RETAIL} is not here (it lives in ../shared beside the clone)")
        return 0
    console.print(retail_replay(args.replay_limit))
    if not args.no_retail_benchmark:
        from infra.benchmarks import retail

        result = retail.run(RETAIL, limit=args.replay_limit, state_dir=ROOT / ".shopwatch" / "bench")
        console.print(retail.quiet_table(result))
        console.print(retail.recall_table(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
