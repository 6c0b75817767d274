"""Reading a running local stack's tables and outbox, for the CLI (evaluate, alerts) and the benchmarks."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from shopwatch.domain.alert import Alert
from shopwatch.domain.clock import parse_iso
from shopwatch.storage.alerts import AlertRepository
from shopwatch.storage.aws import reset_clients
from shopwatch.storage.batch_reads import get_many


def point_at(state: dict[str, Any]) -> None:
    """Make the shopwatch repositories talk to the stack's moto server."""
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": state["aws_endpoint"],
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "local"),
            "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
            "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        }
    )
    reset_clients()


def all_alerts(state: dict[str, Any]) -> list[Alert]:
    return AlertRepository(state["tables"]["AlertsTable"]).scan_all()


def detection_latencies(state: dict[str, Any], transaction_ids: list[str]) -> dict[str, float]:
    """Seconds from a transaction's receipt (ingest) to the commit of its detection (and its alerts)."""
    received = {
        i["transaction_id"]: parse_iso(i["received_at"])
        for i in get_many(state["tables"]["TransactionsTable"], [{"transaction_id": {"S": t}} for t in transaction_ids])
    }
    markers = get_many(
        state["tables"]["StateTable"], [{"pk": {"S": f"TXN#{t}"}, "sk": {"S": "DETECT#0"}} for t in transaction_ids]
    )
    return {
        m["pk"].removeprefix("TXN#"): (
            parse_iso(m["processed_at"]) - received[m["pk"].removeprefix("TXN#")]
        ).total_seconds()
        for m in markers
        if m["pk"].removeprefix("TXN#") in received
    }


def verdict_times(state: dict[str, Any], transaction_ids: list[str]) -> dict[str, datetime]:
    """When each judged transaction among these was judged: its detection marker's processed_at."""
    markers = get_many(
        state["tables"]["StateTable"], [{"pk": {"S": f"TXN#{t}"}, "sk": {"S": "DETECT#0"}} for t in transaction_ids]
    )
    return {m["pk"].removeprefix("TXN#"): parse_iso(m["processed_at"]) for m in markers}


def outbox(state: dict[str, Any]) -> list[dict[str, Any]]:
    path = Path(state["outbox"])
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []
