"""Tables people read in a terminal: evaluation results, alerts, notifications."""

from __future__ import annotations

import sys
from typing import Any

from rich.console import Console
from rich.table import Table

from infra.evaluate import Evaluation
from shopwatch.domain.alert import Alert

# a terminal sets its own width; logs (CI, redirected output) get a width that fits the tables
console = Console() if sys.stdout.isatty() else Console(width=160)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def _seconds(value: float | None) -> str:
    return "none" if value is None else f"{value:.2f} s"


def evaluation_table(result: Evaluation) -> Table:
    table = Table(title="What was caught (alerts at medium severity and above)")
    for column in ("anomaly kind", "injected", "caught", "recall", "precision", "F1", "missed"):
        table.add_column(column, justify="left" if column in ("anomaly kind", "missed") else "right")
    for score in result.kinds.values():
        scores = score.scores_json()
        table.add_row(
            score.kind,
            str(score.injected),
            str(score.caught),
            _pct(scores["recall"]),
            _pct(scores["precision"]),
            _pct(scores["f1"]),
            ", ".join(score.missed) or "-",
        )
    table.add_section()
    overall = result.scores_json()
    table.add_row("overall", str(sum(k.injected for k in result.kinds.values())), str(sum(k.caught for k in result.kinds.values())),
                  _pct(overall["recall"]), _pct(overall["precision"]), _pct(overall["f1"]), "-")  # fmt: skip
    p50, p95 = result.latency(0.5), result.latency(0.95)
    latency = (
        f"Ingest→alert p50 {_seconds(p50)}, p95 {_seconds(p95)}."
        if result.latencies
        else "Ingest→alert latency: none measured (no injected transaction was caught)."
    )
    table.caption = (
        f"{result.alerts_considered} alerts considered: {result.true_alerts} on injected anomalies, {result.false_alerts} on normal traffic; "
        f"{result.informational_alerts} low (informational) alerts. {latency} n/a: not defined (no alerts, or nothing injected)."
    )
    if result.window_latencies:
        caught = ", ".join(f"{a} after {s:.0f} s" for a, s in sorted(result.window_latencies.items()))
        table.caption += f" Outages and failure spikes caught (from their start): {caught}."
    return table


def alerts_table(alerts: list[Alert], limit: int = 20) -> Table:
    table = Table(title=f"Recent alerts ({len(alerts)} in all)")
    for column in ("updated", "severity", "detector", "customer", "risk", "n", "summary"):
        table.add_column(column, overflow="fold")
    for alert in sorted(alerts, key=lambda a: a.updated_at, reverse=True)[:limit]:
        table.add_row(alert.updated_at.strftime("%H:%M:%S"), alert.severity.value, alert.detector, alert.customer_id or alert.subject,
                      str(alert.risk_score), str(alert.occurrences), alert.summary)  # fmt: skip
    return table


def outbox_table(deliveries: list[dict[str, Any]], limit: int = 15) -> Table:
    table = Table(title=f"Notifications sent ({len(deliveries)} deliveries)")
    for column in ("at", "to", "severity", "message"):
        table.add_column(column, overflow="fold")
    for delivery in deliveries[-limit:]:
        text = delivery["subject"] if delivery["protocol"] == "email" else delivery["body"]
        table.add_row(
            delivery["at"][11:19],
            f"{delivery['protocol']} {delivery['endpoint']}",
            delivery["attributes"].get("severity", ""),
            text,
        )
    return table


def simple_table(title: str, columns: list[str], rows: list[list[str]]) -> Table:
    table = Table(title=title)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*row)
    return table
