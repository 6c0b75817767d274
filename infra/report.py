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


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def evaluation_table(result: Evaluation) -> Table:
    table = Table(title="What was caught (alerts at medium severity and above)")
    for column in ("anomaly kind", "injected", "caught", "recall", "precision", "F1", "missed"):
        table.add_column(column, justify="left" if column in ("anomaly kind", "missed") else "right")
    for score in result.kinds.values():
        table.add_row(
            score.kind,
            str(score.injected),
            str(score.caught),
            _pct(score.recall),
            _pct(score.precision),
            _pct(score.f1),
            ", ".join(score.missed) or "-",
        )
    table.add_section()
    table.add_row("overall", str(sum(k.injected for k in result.kinds.values())), str(sum(k.caught for k in result.kinds.values())),
                  _pct(result.recall), _pct(result.precision), _pct(result.f1), "-")  # fmt: skip
    p50, p95 = result.latency(0.5), result.latency(0.95)
    table.caption = (
        f"{result.alerts_considered} alerts considered: {result.true_alerts} on injected anomalies, {result.false_alerts} on normal traffic; "
        f"{result.informational_alerts} low (informational) alerts. Ingest→alert p50 {p50 if p50 is None else f'{p50:.2f}'} s, "
        f"p95 {p95 if p95 is None else f'{p95:.2f}'} s."
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
