"""`shopwatch benchmark fraud-data FILE`: labelled e-commerce purchases (the public Fraud_Data set) through the
local stack, the way a shop would integrate Shopwatch.

Each row is one account's first purchase: the user is the customer, the purchase goes to POST /transactions in
time order with every field the contract carries (account_created_at from signup_time, device_id, the browser as
user agent; source, sex and age as metadata, stored and not interpreted), and the labels come back afterwards as
chargebacks (POST /transactions/{id}/label, fraud only, as payment providers report them). Once detection has
drained, every transaction's `risk_score` (from its detection marker, what GET /transactions/{id} shows) is
ranked against the labels (ROC AUC, PR AUC), and what paged (an alert at medium or above lists it) and what
raised any alert is scored as precision, recall and F1. Targets (issue 16, development part): ROC AUC ≥ 0.78;
F1 ≥ 0.70 at medium+ with precision ≥ 0.85.
"""

from __future__ import annotations

import csv
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
from rich.table import Table

from infra.benchmarks.common import PAGED, drain, severity_by_transaction
from infra.benchmarks.write_units import entity_units_per_transaction, scan
from infra.client import ShopwatchClient
from infra.local.readers import all_alerts
from infra.local.stack import LocalStack, free_port
from infra.replay import post_in_order
from shopwatch.domain.clock import to_iso
from shopwatch.domain.severity import Severity
from shopwatch.domain.transaction import Transaction
from shopwatch.storage.batch_reads import get_many

MIN_ROC_AUC = 0.78
MIN_F1 = 0.70
MIN_PRECISION = 0.85


def _time(text: str) -> datetime:
    """The file's `m/d/yy H:MM` (minute precision), read as UTC."""
    return datetime.strptime(text, "%m/%d/%y %H:%M").replace(tzinfo=UTC)


def purchases(path: Path) -> list[tuple[dict[str, Any], int]]:
    """(transaction, label) per row, in purchase-time order (ties by user id, so the order is stable)."""
    rows = []
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            bought = _time(row["purchase_time"])
            transaction = {
                "transaction_id": f"fd-{row['user_id']}",
                "customer_id": row["user_id"],
                "timestamp": to_iso(bought),
                "account_created_at": to_iso(min(_time(row["signup_time"]), bought)),
                "amount": str(Decimal(row["purchase_value"])),
                "currency": "USD",
                "device_id": row["device_id"],
                "user_agent": row["browser"],
                "metadata": {"source": row["source"], "sex": row["sex"], "age": int(row["age"])},
            }
            rows.append((bought, row["user_id"], transaction, int(row["class"])))
    rows.sort(key=lambda r: (r[0], r[1]))
    return [(t, label) for _, _, t, label in rows]


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Mann-Whitney U with average ranks for ties (equal scores count half)."""
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    start = 0
    while start < len(scores):
        end = start
        while end + 1 < len(scores) and sorted_scores[end + 1] == sorted_scores[start]:
            end += 1
        ranks[order[start : end + 1]] = (start + end) / 2 + 1
        start = end + 1
    positives = labels.sum()
    negatives = len(labels) - positives
    return float((ranks[labels == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def average_precision(labels: np.ndarray, scores: np.ndarray) -> float:
    """PR AUC as average precision over distinct thresholds (scikit-learn's definition)."""
    order = np.argsort(-scores, kind="mergesort")
    s, y = scores[order], labels[order]
    last_of_ties = np.r_[np.nonzero(np.diff(s))[0], len(s) - 1]
    true_pos = np.cumsum(y)[last_of_ties]
    precision = true_pos / (last_of_ties + 1)
    recall = true_pos / y.sum()
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


@dataclass(frozen=True)
class Cut:
    name: str
    flagged: int
    true_positives: int
    positives: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.flagged if self.flagged else 0.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.positives if self.positives else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True)
class FraudDataResult:
    transactions: int
    frauds: int
    accepted: int
    scored: int
    roc_auc: float
    pr_auc: float
    cuts: tuple[Cut, ...]
    detectors_on_frauds: Counter[str]
    detectors_on_normals: Counter[str]
    seconds: float
    entity_units: float = 0.0
    entity_units_by_kind: dict[str, float] | None = None

    def targets_met(self) -> bool:
        medium = self.cuts[0]
        return self.roc_auc >= MIN_ROC_AUC and medium.f1 >= MIN_F1 and medium.precision >= MIN_PRECISION


def score(
    labels: dict[str, int], risk: dict[str, float], severities: dict[str, Severity], detectors: dict[str, set[str]]
) -> tuple[float, float, tuple[Cut, ...], Counter[str], Counter[str]]:
    ids = sorted(labels)
    y = np.array([labels[t] for t in ids])
    s = np.array([risk.get(t, 0.0) for t in ids])
    cuts = []
    for name, floor in (("medium+ (paged)", Severity.MEDIUM), ("low+ (any alert)", Severity.LOW)):
        flagged = [t for t in ids if t in severities and severities[t] >= floor]
        cuts.append(Cut(name, len(flagged), sum(labels[t] for t in flagged), int(y.sum())))
    on_frauds = Counter(d for t in ids if labels[t] for d in detectors.get(t, ()))
    on_normals = Counter(d for t in ids if not labels[t] for d in detectors.get(t, ()))
    return roc_auc(y, s), average_precision(y, s), tuple(cuts), on_frauds, on_normals


def _risk_scores(stack: LocalStack, ids: list[str]) -> dict[str, float]:
    keys = [{"pk": {"S": f"TXN#{t}"}, "sk": {"S": "DETECT#0"}} for t in ids]
    return {m["pk"].removeprefix("TXN#"): float(m["risk_score"]) for m in get_many(stack.table("StateTable"), keys)}


def _detectors(alerts: list) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for alert in alerts:
        for tid in alert.transaction_ids:
            found.setdefault(tid, set()).add(alert.detector)
    return found


def _chargebacks(stack: LocalStack, frauds: list[str]) -> None:
    client = ShopwatchClient(stack.url, stack.api_key)
    for tid in frauds:
        client.request("POST", f"/transactions/{tid}/label", {"label": "fraud"})


def run(path: Path, *, limit: int | None = None, state_dir: Path, chargebacks: bool = True) -> FraudDataResult:
    rows = purchases(path)[:limit]
    labels = {t["transaction_id"]: label for t, label in rows}
    source: Iterator[dict[str, Any]] = (t for t, _ in rows)
    with LocalStack(port=free_port(), state_dir=state_dir) as stack:
        started = time.monotonic()
        posted = post_in_order(source, stack.url, stack.api_key, label=f"posting {path.name}", total=len(rows))
        drain(stack)
        seconds = time.monotonic() - started
        if chargebacks:
            _chargebacks(stack, [t for t, label in labels.items() if label])
        alerts = all_alerts({"tables": stack.resources.tables})
        risk = _risk_scores(stack, list(labels))
        dynamodb = stack.client("dynamodb")
        stored = [Transaction.from_item(i) for i in scan(dynamodb, stack.table("TransactionsTable"))]
        units, units_by_kind = entity_units_per_transaction(stored, scan(dynamodb, stack.table("StateTable")))
    severities = severity_by_transaction(alerts)
    auc, pr_auc, cuts, on_frauds, on_normals = score(labels, risk, severities, _detectors(alerts))
    return FraudDataResult(
        transactions=len(rows),
        frauds=sum(labels.values()),
        accepted=posted.accepted,
        scored=len(risk),
        roc_auc=auc,
        pr_auc=pr_auc,
        cuts=cuts,
        detectors_on_frauds=on_frauds,
        detectors_on_normals=on_normals,
        seconds=seconds,
        entity_units=units,
        entity_units_by_kind=units_by_kind,
    )


def tables(result: FraudDataResult) -> list[Table]:
    ranking = Table(title="Fraud_Data (development part) through the local stack: risk_score ranking")
    for column in ("purchases", "frauds", "accepted", "scored", "ROC AUC", "target", "PR AUC", "base rate"):
        ranking.add_column(column, justify="right")
    ranking.add_row(str(result.transactions), str(result.frauds), str(result.accepted), str(result.scored),
                    f"{result.roc_auc:.3f}", f"≥ {MIN_ROC_AUC}", f"{result.pr_auc:.3f}",
                    f"{result.frauds / max(result.transactions, 1):.3f}")  # fmt: skip
    ranking.caption = (
        f"{result.seconds:.0f} s to post and drain. Entity items add at most {result.entity_units:.2f} DynamoDB "
        "write units per transaction ("
        + ", ".join(f"{k} {v:.2f}" for k, v in (result.entity_units_by_kind or {}).items())
        + "; plain writes 1 unit per KB, transactional 2, sized by their final size)"
    )
    cuts = Table(title="Fraud_Data: what alerts (an alert of that severity or above lists the purchase)")
    for column in ("cut", "flagged", "frauds flagged", "precision", "recall", "F1"):
        cuts.add_column(column, justify="right")
    for cut in result.cuts:
        cuts.add_row(cut.name, str(cut.flagged), str(cut.true_positives), f"{cut.precision:.3f}",
                     f"{cut.recall:.3f}", f"{cut.f1:.3f}")  # fmt: skip
    cuts.caption = (
        f"targets at {PAGED.value}+: F1 ≥ {MIN_F1}, precision ≥ {MIN_PRECISION}. Detectors on frauds: "
        + (", ".join(f"{d} {n}" for d, n in result.detectors_on_frauds.most_common()) or "none")
        + "; on normals: "
        + (", ".join(f"{d} {n}" for d, n in result.detectors_on_normals.most_common()) or "none")
    )
    return [ranking, cuts]
