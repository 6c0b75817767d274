"""The `shopwatch` command line: up, simulate, replay, evaluate, alerts, demo, train, nab, benchmark, dlq, catalog,
users, model."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

from infra.catalog import CatalogFileError, load_catalog
from infra.template import ROOT

SIMULATED = "simulated"  # `train --data simulated`: the simulated shop's normal traffic
DEFAULT_ARTIFACT = ROOT / "layers" / "model" / "python" / "shopwatch_model" / "default"  # shopwatch_model's


def _catalog_load(args: argparse.Namespace) -> int:
    if args.endpoint_url:
        os.environ["AWS_ENDPOINT_URL"] = args.endpoint_url
    try:
        count = load_catalog(Path(args.file), args.table, args.currency)
    except CatalogFileError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"loaded {count} catalog prices into {args.table}")
    return 0


def _up(args: argparse.Namespace) -> int:
    from infra.local.stack import LocalStack, PortInUse
    from infra.local.stack_files import StackRunning
    from infra.report import console

    stack = LocalStack(
        port=args.port,
        api_key=args.api_key,
        admin_password=args.admin_password,
        state_dir=args.state_dir,
        reset=args.reset,
        durable=os.environ.get("SHOPWATCH_DURABLE", "1") != "0",  # kept across restarts unless turned off
    )
    try:
        stack.start()
    except (PortInUse, StackRunning) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for note in stack.state_notes:
        print(f"note: {note}", file=sys.stderr)
    kept = stack.restored
    if args.reset:
        console.print(f"--reset: started empty (the kept data in {stack.state_dir}/data was deleted)")
    elif not kept.empty:
        console.print(
            f"restored {kept.items:,} items, {kept.stream_records:,} stream records and {kept.notifications:,} "
            f"notifications from {stack.state_dir}/data in {kept.seconds:.1f} s"
            + ("; a torn last write (the process was killed mid-write) was dropped" if kept.torn_tail else "")
        )
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    console.print(f"Shopwatch is running at [bold]{stack.url}[/bold]")
    console.print(f"  API key:       {stack.api_key}   (header x-api-key; the shop's routes only)")
    console.print(f"  sign in:       user admin, password {stack.admin_password}   (group admins)")
    console.print(f"  dashboard:     {stack.url}/   (sign in there)   API docs: {stack.url}/openapi.json")
    console.print(f"  AWS endpoint:  {stack.aws_endpoint}   (moto: DynamoDB, Streams, SNS, SQS)")
    console.print(
        f"  files:         {stack.state_dir}/   (data/: tables, streams, users, outbox; kept across restarts, "
        "`up --reset` starts empty)"
    )
    console.print(f"  sam local:     --env-vars {stack.state_dir / 'env.json'}")
    console.print(
        f"  outbox:        {stack.state_dir / 'outbox.jsonl'}   function logs: {stack.state_dir / 'functions.log'}"
    )
    console.print("Try: .venv/bin/shopwatch simulate   and   .venv/bin/shopwatch alerts --follow.  Ctrl-C stops.")
    sys.stdout.flush()  # whoever reads this through a pipe (a log, a supervisor, a test) sees it now
    try:
        while not stopped.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
        console.print("stopped")
    return 0


def _local_state(args: argparse.Namespace) -> dict:
    """The running local stack this command talks to (--port, SHOPWATCH_STATE_DIR, or the only one running),
    said on stderr, with any stale stack.json found and removed on the way."""
    from infra.local.stack_files import find

    found, notes = find(getattr(args, "port", None))
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"using {found.describe()}", file=sys.stderr)
    return found.state


def _users(args: argparse.Namespace) -> int:
    import boto3

    from infra.report import console
    from infra.users import UserDirectory, UserError, pool_of_deployed_stack

    if args.stack_name:
        pool_id = pool_of_deployed_stack(boto3.client("cloudformation"), args.stack_name)
    else:
        from infra.local.readers import point_at

        state = _local_state(args)
        point_at(state)  # moto's server, through AWS_ENDPOINT_URL
        pool_id = state["user_pool_id"]
    directory = UserDirectory(boto3.client("cognito-idp"), pool_id)
    try:
        if args.users_command == "add":
            password = directory.add(args.name, args.group, args.password)
            console.print(f"added {args.name} to {args.group}; password: {password}")
        elif args.users_command == "reset-password":
            console.print(f"new password for {args.name}: {directory.reset_password(args.name, args.password)}")
        elif args.users_command == "remove":
            directory.remove(args.name)
            console.print(f"removed {args.name}")
        else:
            for user in directory.list():
                state_text = user.status if user.enabled else "disabled"
                console.print(f"{user.name:<32} {','.join(user.groups) or '-':<20} {state_text}")
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _model(args: argparse.Namespace) -> int:
    from infra.model_commands import run

    return run(args, lambda: _local_state(args))


def _rules(args: argparse.Namespace) -> int:
    from infra.rules_commands import run

    return run(args, lambda: _local_state(args))


def _state_or_args(args: argparse.Namespace) -> tuple[str, str, dict | None]:
    """--url and --api-key when both are given (a deployed stack, or a local one named by hand), else the
    running local stack's; the local stack's state too when the URL is its."""
    if not (args.url and args.api_key):
        state = _local_state(args)
        return (
            args.url or state["url"],
            args.api_key or state["api_key"],
            state if args.url in (None, state["url"]) else None,
        )
    from infra.local.stack_files import find

    try:
        found, _notes = find(getattr(args, "port", None))
    except FileNotFoundError:
        return args.url, args.api_key, None
    return args.url, args.api_key, found.state if found.state["url"] == args.url else None


def _publish_rule_set(args: argparse.Namespace, url: str, key: str, state: dict | None) -> None:
    """`simulate --rules FILE`: the run's rules and lists, published as an admin before any traffic (the local
    stack's admin, or --user/--password for another stack); the functions take them up within a minute
    (RulesRefreshSeconds), so the run waits that long."""
    from infra.client import ShopwatchClient
    from infra.report import console
    from infra.simulate.rule_set import RuleSet, publish

    client = ShopwatchClient(url, key)
    if args.user and args.password:
        client.sign_in(args.user, args.password)
    elif state is not None:
        client.sign_in(state["admin_user"], state["admin_password"])
    else:
        raise SystemExit("--rules on a stack other than the local one needs --user and --password (an admin)")
    for line in publish(client, RuleSet.read(Path(args.rules))):
        console.print(f"published {line}")
    console.print(f"waiting {args.rules_wait:g} s for the functions to read them (RulesRefreshSeconds)")
    time.sleep(args.rules_wait)


def _simulate(args: argparse.Namespace) -> int:
    from infra.local.readers import point_at
    from infra.report import console
    from infra.simulate.runner import run_simulation
    from infra.simulate.shop import Shop
    from infra.simulate.traffic import DEFAULT_KINDS
    from shopwatch.detectors.history import CatalogEntry
    from shopwatch.storage.state import StateRepository

    url, key, state = _state_or_args(args)

    def load(shop: Shop) -> None:
        if state is None:
            console.print(
                "note: not the local stack; load the catalog with `shopwatch catalog load` for price checks against it"
            )
            return
        point_at(state)
        repository = StateRepository(state["tables"]["StateTable"])
        for product in shop.products:
            repository.put_catalog_entry(CatalogEntry(product.sku, product.price, shop.currency, product.name))

    def wait_for_detection(ids: list[str]) -> None:
        if state is None:
            time.sleep(10)  # a deployed stack: give the stream consumers a moment
            return
        from infra.local.readers import detection_latencies

        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and ids[-1] not in detection_latencies(state, ids[-1:]):
            time.sleep(0.5)

    if args.rules:
        _publish_rule_set(args, url, key, state)
    kinds = tuple(args.kinds.split(",")) if args.kinds else DEFAULT_KINDS
    windows = _window_anomalies(args)
    report = run_simulation(url, key, rate=args.rate, duration=args.duration, anomaly_rate=args.anomaly_rate, seed=args.seed,
                            kinds=kinds, truth_path=Path(args.truth), customers=args.customers, load_catalog=load,
                            after_warmup=wait_for_detection, recent_minutes=args.recent_minutes, windows=windows)  # fmt: skip
    console.print(
        f"sent {report.warmup_sent} history + {report.live_sent} live transactions in {report.seconds:.1f} s: "
        f"{report.accepted} accepted, {report.duplicates} duplicates, {report.rejected} rejected; "
        f"{report.anomalies} anomalies injected; ground truth in {report.truth_path}"
    )
    return 0


def _window_anomalies(args: argparse.Namespace) -> tuple:
    """--outage START:SECONDS and --failure-spike START:SECONDS, in seconds of live traffic."""
    from infra.simulate.traffic import WindowAnomaly

    found = []
    for kind, spec in (("outage", args.outage), ("failure_spike", args.failure_spike)):
        if spec is None:
            continue
        start, sep, seconds = spec.partition(":")
        try:
            found.append(WindowAnomaly(kind, float(start), float(seconds)))
        except ValueError:
            raise SystemExit(
                f"--{kind.replace('_', '-')} takes START:SECONDS (seconds of live traffic), got {spec!r}"
            ) from None
        if not sep or float(seconds) <= 0 or float(start) + float(seconds) > args.duration:
            raise SystemExit(
                f"--{kind.replace('_', '-')} {spec}: the window must lie inside the {args.duration:g} s of live traffic"
            )
    return tuple(found)


def _evaluate(args: argparse.Namespace) -> int:
    from infra.evaluate import evaluate, plain_notes, read_truth
    from infra.local.readers import all_alerts, detection_latencies, point_at
    from infra.report import console, evaluation_table
    from shopwatch.domain.severity import Severity

    state = _local_state(args)
    point_at(state)
    truth = read_truth(Path(args.truth))
    result = evaluate(
        truth,
        all_alerts(state),
        detection_latencies(state, [t for a in truth for t in a["transaction_ids"]]),
        Severity.parse(args.min_severity),
    )
    for note in plain_notes(result, Path(args.truth), args.min_severity):
        console.print(note)
    console.print(evaluation_table(result))
    Path(args.out).write_text(json.dumps(result.to_json(), indent=2))
    console.print(f"written {args.out}")
    return 0


def _alerts(args: argparse.Namespace) -> int:
    from infra.local.readers import all_alerts, outbox, point_at
    from infra.report import alerts_table, console, outbox_table

    state = _local_state(args)
    point_at(state)
    seen: tuple[int, int] = (-1, -1)
    while True:
        alerts, deliveries = all_alerts(state), outbox(state)
        if (len(alerts), len(deliveries)) != seen:
            console.print(alerts_table(alerts, args.limit))
            console.print(outbox_table(deliveries, args.limit))
            seen = (len(alerts), len(deliveries))
        if not args.follow:
            return 0
        time.sleep(2)


def _replay(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from infra.replay import replay
    from infra.report import console

    url, key, state = _state_or_args(args)
    if args.wait and state is None:
        print("error: --wait reads the local stack's detection markers; it needs the running local stack "
              f"(not {url})", file=sys.stderr)  # fmt: skip
        return 2
    started = datetime.now(UTC)
    result = replay(Path(args.file), url, key, speed=args.speed, file_format=args.format, limit=args.limit)
    console.print(result.summary())
    if not args.wait:
        return 0
    from infra.local.readers import point_at, verdict_times
    from infra.verdicts import throughput_lines, wait_until_judged

    point_at(state)
    judged = wait_until_judged(
        lambda ids: verdict_times(state, ids), result.accepted_ids, timeout=args.wait_timeout, show_progress=True
    )
    for line in throughput_lines(result.accepted, result.seconds, judged, started):
        console.print(line)
    return 1 if judged.timed_out else 0


def _benchmark_retail(args: argparse.Namespace) -> int:
    from infra.benchmarks import retail
    from infra.report import console

    result = retail.run(Path(args.file), limit=args.limit, inject=args.inject, every=args.every, warmup=args.warmup,
                        seed=args.seed, entity_fields=args.entity_fields, state_dir=Path(args.state_dir),
                        truth_path=Path(args.truth))  # fmt: skip
    console.print(retail.quiet_table(result))
    if args.inject:
        console.print(retail.recall_table(result))
    return 1 if args.check and not result.targets_met() else 0


def _benchmark_fraud_data(args: argparse.Namespace) -> int:
    from infra.benchmarks import fraud_data
    from infra.report import console

    result = fraud_data.run(Path(args.file), limit=args.limit, state_dir=Path(args.state_dir))
    for table in fraud_data.tables(result):
        console.print(table)
    return 1 if args.check and not result.targets_met() else 0


def _benchmark_model_parity(args: argparse.Namespace) -> int:
    from infra.benchmarks import model_parity
    from infra.report import console

    report = model_parity.run(fraud_file=Path(args.fraud_file), retail_file=Path(args.retail_file), seeds=args.seeds,
                              months=args.months, scale_rows=args.scale_rows, autoencoder=not args.forest_only)  # fmt: skip
    for line in report.skipped:
        console.print(line)
    if report.forest:
        console.print(model_parity.parity_table(report.forest))
    if report.autoencoder:
        console.print(model_parity.autoencoder_table(report.autoencoder))
    lines = model_parity.verdict_lines(report.forest) + model_parity.autoencoder_lines(report.autoencoder)
    for line in lines + [model_parity.scale_line(s) for s in report.at_scale]:
        console.print(line)
    return 1 if args.check and not report.passed() else 0


def _benchmark_rules_eval(args: argparse.Namespace) -> int:
    from infra.benchmarks import rules_cold_start, rules_eval
    from infra.report import console

    result = rules_eval.run(args.transactions, args.rounds)
    console.print(rules_eval.table(result))
    if args.costs:
        console.print(rules_eval.costs_table(rules_eval.rule_costs()))
    if args.cold_start:
        console.print(rules_cold_start.cold_start_table())
    met = result.per_rule_ms(min(result.full_seconds)) <= rules_eval.TARGET_MS_PER_RULE and not result.errors
    return 1 if args.check and not met else 0


def _benchmark_rules_ingest(args: argparse.Namespace) -> int:
    from infra.benchmarks import rules_ingest
    from infra.report import console

    result = rules_ingest.run(args.requests)  # raises when a 202 lacks its decision
    console.print(rules_ingest.table(result))
    console.print(rules_ingest.decide_table(result))
    console.print(rules_ingest.table(result, alone=True))
    met = result.target_met()
    return 1 if args.check and not met else 0


def _benchmark_retrain(args: argparse.Namespace) -> int:
    from infra.benchmarks import retrain
    from infra.report import console

    if args.which == "fraud":
        fraud = retrain.run_fraud(Path(args.file), state_dir=Path(args.state_dir), limit=args.limit)
        console.print(retrain.fraud_table(fraud))
        met = fraud.targets_met()
    else:
        retail = retrain.run_retail(Path(args.file), state_dir=Path(args.state_dir))
        console.print(retrain.retail_table(retail))
        met = retail.targets_met()
    return 1 if args.check and not met else 0


def _dlq_replay(args: argparse.Namespace) -> int:
    """Replay the dead-letter queue of the local stack, or with --stack-name of a deployed stack."""
    import boto3

    from infra.dead_letters import replay, stream_filters
    from infra.local.lambda_context import LocalLambdaContext
    from infra.local.lambda_loader import load_handler
    from infra.report import console, simple_table
    from infra.template import load_template

    template = load_template()
    if args.stack_name:  # a deployed stack: its queue from the outputs, the functions invoked in AWS
        outputs = boto3.client("cloudformation").describe_stacks(StackName=args.stack_name)["Stacks"][0]["Outputs"]
        queue_url = next(o["OutputValue"] for o in outputs if o["OutputKey"] == "StreamDeadLetterQueueUrl")
        session = boto3.Session()

        def invoke(_function: str, arn: str, event: dict) -> dict:
            answer = session.client("lambda").invoke(FunctionName=arn, Payload=json.dumps(event).encode())
            payload = json.loads(answer["Payload"].read() or b"{}")
            return (
                {"batchItemFailures": [{"itemIdentifier": "function error"}]} if "FunctionError" in answer else payload
            )

    else:  # the local stack: the same handlers run here, pointed at its moto server
        from infra.local.readers import point_at

        state = _local_state(args)
        point_at(state)  # AWS_ENDPOINT_URL: every client here, the handlers' too, talks to the stack's moto
        environments = json.loads((Path(state["outbox"]).parent / "env.json").read_text())
        session = boto3.Session(region_name="us-east-1")
        queue_url = state["queues"]["StreamDeadLetterQueue"]
        properties = template["Resources"]

        def invoke(function: str, _arn: str, event: dict) -> dict:
            os.environ.update(environments[function])
            handler = load_handler(properties[function]["Properties"]["CodeUri"], "app.lambda_handler")
            return handler(event, LocalLambdaContext(function))

    results = replay(
        session.client("sqs"),
        queue_url,
        session.client("dynamodbstreams"),
        invoke,
        stream_filters(template),
        only=args.function,
        dry_run=args.dry_run,
    )
    console.print(simple_table("dead letters", ["function", "records", "outcome"], [r.cells() for r in results]))
    return 1 if any(r.outcome in ("failed", "expired") for r in results) else 0


def _demo(args: argparse.Namespace) -> int:
    from infra.demo import run_demo

    return run_demo(args.duration, args.rate, args.anomaly_rate, args.seed, Path(args.out), check=args.check)


def _train(args: argparse.Namespace) -> int:
    from infra.report import console
    from infra.training.loading import load_jsonl, load_online_retail, validated_records
    from infra.training.report import training_tables
    from infra.training.train import TrainingOptions, export, train

    catalog = None
    if args.data == SIMULATED:
        from infra.training.simulated import normal_traffic

        records, shop = normal_traffic()
        transactions, cleaning = validated_records(records[: args.limit] if args.limit else records)
        catalog = shop.catalog()
    else:
        path = Path(args.data)
        if not path.exists():
            raise FileNotFoundError(f"no data at {path}")
        fmt = args.format
        if fmt == "auto":
            fmt = "jsonl" if path.name.endswith((".jsonl", ".jsonl.gz")) else "online-retail"
        loader = load_jsonl if fmt == "jsonl" else load_online_retail
        transactions, cleaning = loader(path, args.limit)
    result = train(transactions, TrainingOptions(seed=args.seed, trees=args.trees), catalog)
    out = export(result, Path(args.out))
    for table in training_tables(result, cleaning):
        console.print(table)
    console.print(f"artifact written to {out}")
    return 0


def _nab(args: argparse.Namespace) -> int:
    from infra.nab.run import run
    from infra.report import console

    root = Path(args.data)
    if not (root / "labels" / "combined_windows.json").exists():
        print(f"error: {root} is not the NAB corpus (no labels/combined_windows.json)", file=sys.stderr)
        return 2
    _, table = run(root, Path(args.out), workers=args.workers)
    console.print(table)
    console.print(f"results in NAB's layout under {Path(args.out) / 'shopwatch'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shopwatch", description="Shopwatch: anomaly and fraud detection for online shops"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", help="run the whole stack locally (moto + the same handlers) until Ctrl-C")
    up.add_argument("--port", type=int, default=3000)
    up.add_argument("--api-key", help="API key to require (default: the kept one, else a random one; printed)")
    up.add_argument(
        "--admin-password", help="password of the local user `admin` (default: the kept one, else generated; printed)"
    )
    up.add_argument(
        "--state-dir",
        type=Path,
        help="where this stack keeps its data and files (default: .shopwatch/stacks/<port>/; other commands find it with SHOPWATCH_STATE_DIR)",
    )
    up.add_argument(
        "--reset", action="store_true", help="delete the data, API key and password kept from earlier runs; start empty"
    )
    up.set_defaults(run=_up)

    def local(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--port", type=int, help="the local stack on this port (default: the only one running; several: required)"
        )

    def target(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--url", help="Shopwatch API URL (default: the running local stack)")
        sub.add_argument("--api-key", help="API key (default: the running local stack's)")
        local(sub)

    simulate = commands.add_parser("simulate", help="synthetic shop traffic with labelled anomalies")
    target(simulate)
    simulate.add_argument("--rate", type=float, default=10.0, help="live transactions per second (default 10)")
    simulate.add_argument("--duration", type=float, default=60.0, help="seconds of live traffic (default 60)")
    simulate.add_argument(
        "--anomaly-rate", type=float, default=0.03, help="share of live transactions that start an anomaly"
    )
    simulate.add_argument(
        "--kinds", help="comma-separated anomaly kinds (default: every kind a deployed detector serves)"
    )
    simulate.add_argument("--customers", type=int, default=800)
    simulate.add_argument("--seed", type=int, default=7)
    simulate.add_argument("--outage", metavar="START:SECONDS", help="no sales from START for SECONDS of live traffic")
    simulate.add_argument(
        "--failure-spike", metavar="START:SECONDS", help="40%% of payments failed or denied from START for SECONDS"
    )
    simulate.add_argument(
        "--recent-minutes", type=float, default=0.0,
        help="first send this many minutes of the shop's recent traffic (a baseline for the per-minute detectors)",
    )  # fmt: skip
    simulate.add_argument(
        "--truth", default=str(ROOT / ".shopwatch" / "truth.jsonl"), help="ground truth JSONL to write"
    )
    simulate.add_argument("--rules", metavar="FILE", help="publish this rule set (rules and lists, JSON) first")
    simulate.add_argument(
        "--rules-wait",
        type=float,
        default=61.0,
        help="seconds to wait after publishing (the stack's RulesRefreshSeconds + 1)",
    )
    simulate.add_argument("--user", help="an admin's user name, for --rules on a stack other than the local one")
    simulate.add_argument("--password", help="that admin's password")
    simulate.set_defaults(run=_simulate)

    replay_cmd = commands.add_parser("replay", help="replay a JSONL file or the Online Retail CSV(.gz)")
    target(replay_cmd)
    replay_cmd.add_argument("file")
    replay_cmd.add_argument("--format", choices=["auto", "jsonl", "online-retail"], default="auto")
    replay_cmd.add_argument(
        "--speed", type=float, default=0.0, help="0 = as fast as possible; N = N seconds of data per second"
    )
    replay_cmd.add_argument("--limit", type=int, help="replay at most this many transactions")
    replay_cmd.add_argument(
        "--wait", action="store_true",
        help="then wait until every accepted transaction is judged (local stack); print ingest and detection rates",
    )  # fmt: skip
    replay_cmd.add_argument(
        "--wait-timeout", type=float, default=120.0,
        help="with --wait: give up (exit 1) after this many seconds without a new verdict (default 120)",
    )  # fmt: skip
    replay_cmd.set_defaults(run=_replay)

    evaluate_cmd = commands.add_parser("evaluate", help="alerts against the simulator's ground truth")
    local(evaluate_cmd)
    evaluate_cmd.add_argument("--truth", default=str(ROOT / ".shopwatch" / "truth.jsonl"))
    evaluate_cmd.add_argument("--min-severity", default="medium")
    evaluate_cmd.add_argument("--out", default=str(ROOT / ".shopwatch" / "evaluation.json"))
    evaluate_cmd.set_defaults(run=_evaluate)

    alerts = commands.add_parser("alerts", help="recent alerts and notifications of the local stack")
    local(alerts)
    alerts.add_argument("--follow", action="store_true", help="keep watching")
    alerts.add_argument("--limit", type=int, default=20)
    alerts.set_defaults(run=_alerts)

    demo = commands.add_parser("demo", help="local stack + simulated traffic + evaluation, then stop")
    demo.add_argument(
        "--duration",
        type=float,
        default=300.0,
        help="seconds of live traffic; from 300 on it includes a failure spike and an outage",
    )
    demo.add_argument("--rate", type=float, default=10.0)
    demo.add_argument("--anomaly-rate", type=float, default=0.03)
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--out", default=str(ROOT / ".shopwatch" / "demo"))
    demo.add_argument("--check", action="store_true", help="exit 1 when a detection target is missed (CI)")
    demo.set_defaults(run=_demo)

    train_cmd = commands.add_parser("train", help="train the model layer's Isolation Forest and autoencoder")
    train_cmd.add_argument(
        "--data",
        required=True,
        help=f"the Online Retail CSV(.gz), a transactions JSONL, or {SIMULATED!r}: a week of the simulated shop's "
        "normal traffic (the committed default model)",
    )
    train_cmd.add_argument("--format", choices=["auto", "jsonl", "online-retail"], default="auto")
    train_cmd.add_argument("--limit", type=int, help="use at most this many transactions")
    train_cmd.add_argument("--seed", type=int, default=42)
    train_cmd.add_argument("--trees", type=int, default=200)
    train_cmd.add_argument(
        "--out", default=str(DEFAULT_ARTIFACT), help="artifact directory (default: the model ModelLayer ships)"
    )
    train_cmd.set_defaults(run=_train)

    nab = commands.add_parser("nab", help="the windowed detectors' core on the Numenta Anomaly Benchmark, scored")
    nab.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "nab"), help="the NAB corpus")
    nab.add_argument("--out", default=str(ROOT / ".shopwatch" / "nab"), help="results directory (NAB's layout)")
    nab.add_argument("--workers", type=int, default=2, help="processes streaming series in parallel")
    nab.set_defaults(run=_nab)

    benchmark = commands.add_parser("benchmark", help="detection benchmarks on real data through a local stack")
    benchmarks = benchmark.add_subparsers(dest="benchmark_command", required=True)
    retail = benchmarks.add_parser(
        "retail", help="UCI Online Retail invoices, with injected anomalies: what pages, what is caught"
    )
    retail.add_argument("file", help="online_retail.csv(.gz)")
    retail.add_argument("--inject", action="store_true", help="inject anomalies among the real invoices")
    retail.add_argument("--limit", type=int, help="real invoices to send (default: all 25,900)")
    retail.add_argument("--every", type=int, default=100, help="one anomaly per this many real invoices")
    retail.add_argument("--warmup", type=int, default=1000, help="real invoices before the first anomaly")
    retail.add_argument("--seed", type=int, default=16)
    retail.add_argument(
        "--entity-fields", action="store_true",
        help="give injected records account_created_at, user_agent, card and billing/shipping fields "
        "(only once the contract has them)",
    )  # fmt: skip
    retail.add_argument("--truth", default=str(ROOT / ".shopwatch" / "benchmark" / "retail-truth.jsonl"))
    retail.add_argument("--state-dir", default=str(ROOT / ".shopwatch" / "benchmark"), help="the local stack's")
    retail.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    retail.set_defaults(run=_benchmark_retail)
    fraud = benchmarks.add_parser(
        "fraud-data", help="labelled e-commerce purchases (Fraud_Data): how risk_score ranks, what pages"
    )
    fraud.add_argument("file", help="a Fraud_Data CSV (user_id, signup_time, purchase_time, ..., class)")
    fraud.add_argument("--limit", type=int, help="purchases to send, earliest first (default: all)")
    fraud.add_argument("--state-dir", default=str(ROOT / ".shopwatch" / "benchmark"), help="the local stack's")
    fraud.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    fraud.set_defaults(run=_benchmark_fraud_data)
    for which, data in (("fraud", "a Fraud_Data CSV"), ("retail", "the Online Retail CSV(.gz)")):
        retrained = benchmarks.add_parser(
            f"retrain-{which}", help=f"the shop's model retrained by TrainFunction in the local stack, on {data}"
        )
        retrained.add_argument("file", help=data)
        retrained.add_argument("--limit", type=int, help="purchases to send (fraud only; default: all)")
        retrained.add_argument("--state-dir", default=str(ROOT / ".shopwatch" / "benchmark"), help="the local stack's")
        retrained.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
        retrained.set_defaults(run=_benchmark_retrain, which=which)
    rules_eval = benchmarks.add_parser(
        "rules-eval", help="100 rules over 10,000 simulated transactions as DetectFunction evaluates them (µs per rule)"
    )
    rules_eval.add_argument("--transactions", type=int, default=10_000)
    rules_eval.add_argument("--rounds", type=int, default=3, help="interleaved rounds; the best is reported")
    rules_eval.add_argument("--costs", action="store_true", help="also each rule alone, costliest first")
    rules_eval.add_argument("--cold-start", action="store_true", help="also RulesLayer's import and first compile")
    rules_eval.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    rules_eval.set_defaults(run=_benchmark_rules_eval)
    rules_ingest = benchmarks.add_parser(
        "rules-ingest",
        help="POST /transactions with 50 decision rules and lists vs none, interleaved on the local stack (p50/p99)",
    )
    rules_ingest.add_argument("--requests", type=int, default=1000, help="requests of one transaction per variant")
    rules_ingest.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    rules_ingest.set_defaults(run=_benchmark_rules_ingest)
    parity = benchmarks.add_parser(
        "model-parity", help="the numpy Isolation Forest fit vs scikit-learn's: ROC AUC over seeds, fit time, memory"
    )
    parity.add_argument(
        "--fraud-file", default=str(ROOT.parent / "shared" / "data" / "fraud_ecommerce" / "fraud_data_dev.csv")
    )
    parity.add_argument(
        "--retail-file", default=str(ROOT.parent / "shared" / "data" / "online_retail" / "online_retail.csv.gz")
    )
    parity.add_argument("--seeds", type=int, default=5, help="seeds per implementation")
    parity.add_argument("--months", type=int, default=6, help="months of Online Retail invoices")
    parity.add_argument("--scale-rows", type=int, default=300_000, help="rows of the numpy fit at scale (0: skip)")
    parity.add_argument("--forest-only", action="store_true", help="leave the autoencoder out")
    parity.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parity.set_defaults(run=_benchmark_model_parity)

    dlq = commands.add_parser("dlq", help="the stream consumers' dead-letter queue")
    dlq_commands = dlq.add_subparsers(dest="dlq_command", required=True)
    dlq_replay = dlq_commands.add_parser(
        "replay", help="read each dead-lettered batch back from its stream and rerun it"
    )
    dlq_replay.add_argument("--function", help="only this consumer's batches (DetectFunction, AggregateFunction...)")
    dlq_replay.add_argument("--stack-name", help="a deployed stack (default: the running local stack)")
    local(dlq_replay)
    dlq_replay.add_argument("--dry-run", action="store_true", help="show what would be replayed, change nothing")
    dlq_replay.set_defaults(run=_dlq_replay)

    catalog = commands.add_parser("catalog", help="catalog prices for the price detector")
    catalog_commands = catalog.add_subparsers(dest="catalog_command", required=True)
    load = catalog_commands.add_parser("load", help="load catalog prices from a CSV (sku,price[,currency][,name])")
    load.add_argument("file")
    load.add_argument("--table", required=True, help="the StateTable name (stack output StateTableName)")
    load.add_argument("--currency", default="USD", help="currency of rows that name none (default USD)")
    load.add_argument("--endpoint-url", help="DynamoDB endpoint, e.g. the local stack's moto server")
    load.set_defaults(run=_catalog_load)

    users = commands.add_parser("users", help="people who sign in: the local stack's, or a deployed stack's")
    users.add_argument("--stack-name", help="a deployed stack (its UserPoolId output); default: the local stack")
    local(users)
    users_commands = users.add_subparsers(dest="users_command", required=True)
    add = users_commands.add_parser("add", help="create a user in a group; prints the password")
    add.add_argument("name")
    add.add_argument("--group", required=True, choices=["analysts", "admins"])
    add.add_argument("--password", help="default: generated (meets the pool's policy)")
    users_commands.add_parser("list", help="users, their groups and status")
    remove = users_commands.add_parser("remove", help="delete a user")
    remove.add_argument("name")
    reset = users_commands.add_parser("reset-password", help="set a new password; prints it")
    reset.add_argument("name")
    reset.add_argument("--password", help="default: generated")
    users.set_defaults(run=_users)

    from infra.model_commands import add_parser as add_model_parser

    add_model_parser(commands, local)
    commands.choices["model"].set_defaults(run=_model)
    from infra.rules_commands import add_parsers as add_rules_parsers

    add_rules_parsers(commands, local)
    commands.choices["rules"].set_defaults(run=_rules)
    commands.choices["lists"].set_defaults(run=_rules)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
