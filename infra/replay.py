"""`shopwatch replay FILE`: a JSONL file of transactions, or the UCI Online Retail CSV(.gz), through the API.

Online Retail: one invoice is one transaction with its line items; `C` invoices are reversed (their
quantities are negative: returns); a missing CustomerID becomes a stable guest id per invoice; country names
are kept (mapped to codes by the API; names it does not know, such as "Unspecified" or "European
Community", are left out). `--speed 0` sends as fast as possible, `--speed N` plays N seconds of the data's
time per second.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import itertools
import json
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress

from infra.client import ShopwatchClient
from shopwatch.domain.geography import normalize_country

MAX_REQUEST_BYTES = 1_000_000
MAX_REQUEST_TRANSACTIONS = 200


@dataclass
class ReplayResult:
    sent: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    seconds: float = 0.0
    rejection_examples: list[str] = field(default_factory=list)
    accepted_ids: list[str] = field(default_factory=list)

    def summary(self) -> str:
        rate = self.sent / self.seconds if self.seconds else 0.0
        lines = [
            f"replayed {self.sent} transactions in {self.seconds:.1f} s ({rate:.0f}/s): "
            f"{self.accepted} accepted, {self.duplicates} duplicates, {self.rejected} rejected"
        ]
        lines += [f"  rejected: {e}" for e in self.rejection_examples]
        return "\n".join(lines)


def _open_text(path: Path) -> io.TextIOBase:
    raw = path.open("rb")
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.GzipFile(fileobj=raw), encoding="utf-8", newline="")
    return io.TextIOWrapper(raw, encoding="utf-8", newline="")


def online_retail_transactions(path: Path) -> Iterator[dict[str, Any]]:
    """Invoices in file order (which is time order), each as one transaction."""
    with _open_text(path) as handle:
        current: str | None = None
        rows: list[dict[str, str]] = []
        for row in csv.DictReader(handle):
            if row["InvoiceNo"] != current and rows:
                yield invoice_transaction(rows)
                rows = []
            current = row["InvoiceNo"]
            rows.append(row)
        if rows:
            yield invoice_transaction(rows)


def invoice_transaction(rows: list[dict[str, str]]) -> dict[str, Any]:
    """One Online Retail invoice's rows as one transaction (replay and training share it)."""
    first = rows[0]
    invoice = first["InvoiceNo"]
    customer = first["CustomerID"].strip()
    moment = datetime.fromisoformat(first["InvoiceDate"]).replace(tzinfo=UTC)
    transaction: dict[str, Any] = {
        "transaction_id": f"OR-{invoice}",
        "customer_id": str(int(float(customer))) if customer else f"guest-{invoice}",
        "timestamp": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "status": "reversed" if invoice.startswith("C") else "approved",
        "currency": "GBP",
        "channel": "online-retail",
        "items": [
            {
                "sku": r["StockCode"],
                "name": r["Description"] or r["StockCode"],
                "quantity": int(r["Quantity"]),
                "unit_price": r["UnitPrice"],
            }
            for r in rows
        ],
    }
    with contextlib.suppress(ValueError):  # "Unspecified", "European Community": no country, by design
        transaction["country"] = normalize_country(first["Country"])
    return transaction


def jsonl_transactions(path: Path) -> Iterator[dict[str, Any]]:
    with _open_text(path) as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def replay(
    path: Path,
    url: str,
    api_key: str,
    *,
    speed: float = 0.0,
    file_format: str = "auto",
    limit: int | None = None,
    show_progress: bool = True,
) -> ReplayResult:
    kind = file_format if file_format != "auto" else ("jsonl" if ".jsonl" in path.name else "online-retail")
    source = online_retail_transactions(path) if kind == "online-retail" else jsonl_transactions(path)
    if limit is not None:
        source = itertools.islice(source, limit)
    return post_in_order(
        source, url, api_key, speed=speed, label=f"replaying {path.name}", total=limit, show_progress=show_progress
    )


def post_in_order(
    source: Iterable[dict[str, Any]],
    url: str,
    api_key: str,
    *,
    speed: float = 0.0,
    label: str = "posting",
    total: int | None = None,
    show_progress: bool = True,
) -> ReplayResult:
    """POST transactions in the order given, in requests of at most 200 transactions or 1 MB (replay and the
    benchmarks share it); `speed` as for `replay`."""
    client = ShopwatchClient(url, api_key)
    result = ReplayResult()
    started = time.monotonic()
    first_event: datetime | None = None
    batch: list[dict[str, Any]] = []
    size = 0

    def flush() -> None:
        nonlocal batch, size
        if not batch:
            return
        response = client.post_transactions(batch)
        result.sent += len(batch)
        result.accepted += len(response["accepted"])
        result.accepted_ids.extend(response["accepted"])
        result.duplicates += len(response["duplicates"])
        result.rejected += len(response["rejected"])
        for rejected in response["rejected"][: max(0, 5 - len(result.rejection_examples))]:
            errors = "; ".join(f"{e['field']}: {e['message']}" for e in rejected["errors"][:2])
            result.rejection_examples.append(f"{rejected['transaction_id']}: {errors}")
        batch, size = [], 0

    with Progress(disable=not show_progress, console=Console(file=sys.stderr)) as progress:  # stdout: the summary
        task = progress.add_task(label, total=total)
        for transaction in source:
            if speed > 0:
                moment = datetime.fromisoformat(transaction["timestamp"].replace("Z", "+00:00"))
                first_event = first_event or moment
                due = (moment - first_event).total_seconds() / speed
                wait = due - (time.monotonic() - started)
                if wait > 0:
                    flush()
                    time.sleep(wait)
            encoded = len(json.dumps(transaction))
            if batch and (size + encoded > MAX_REQUEST_BYTES or len(batch) >= MAX_REQUEST_TRANSACTIONS):
                flush()
            batch.append(transaction)
            size += encoded
            progress.advance(task)
        flush()
    result.seconds = time.monotonic() - started
    return result
