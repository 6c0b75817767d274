"""`shopwatch benchmark retrain-fraud|retrain-retail`: the shop's own model, trained by TrainFunction inside the
local stack on what the stack stored, then judged on the traffic that came after it (issue 17's targets).

Both go the way a shop and its admin would: transactions through POST /transactions, labels through
POST /transactions/{id}/label, training through POST /models/train (ApiFunction invokes TrainFunction), and
`POST /models/{version}/promote` as the stack's admin. DetectFunction picks the models up from the ModelBucket
(the refresh interval is 1 s here, 60 s by default).

- Fraud_Data: the earlier half (by purchase time) goes in, its frauds come back as chargebacks, TrainFunction
  trains on it and its model becomes the challenger. The later half goes in: the champion (the layer's default
  with the hand-set risk) decides, the challenger scores every transaction in shadow. Both risk scores are on
  each transaction's marker; ROC AUC of each on the later half's labels. Target: the retrained model at least
  as good as the hand-set score, never worse by more than 0.01.
- Online Retail: the first six months go in, TrainFunction trains on them (no labels: the forest and the
  autoencoder, on the shop's own GBP amounts), the admin promotes it. The later invoices go in with amount and
  basket outliers injected (`injection.MODEL_KINDS`). Targets: at most 0.5% of the later real invoices paged by
  the model (its finding at medium+ on the transaction's marker), at least 90% of the injected outliers
  judged medium+ by it (a rule's finding may have opened the alert: one alert per transaction).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.table import Table

from infra.benchmarks.common import drain
from infra.benchmarks.fraud_data import purchases
from infra.benchmarks.injection import MODEL_KINDS, Injector
from infra.client import ShopwatchClient
from infra.local import lambda_invoke
from infra.local.readers import all_alerts
from infra.local.stack import LocalStack, free_port, read_state
from infra.replay import online_retail_transactions, post_in_order
from shopwatch.analytics.ranking import roc_auc
from shopwatch.detectors.model import ModelScore
from shopwatch.domain.severity import Severity
from shopwatch.storage.batch_reads import get_many
from shopwatch.storage.state import StateRepository

MAX_WORSE = 0.01
MAX_MODEL_PAGED = 0.005
MIN_RECALL = 0.90
SPLIT = datetime(2011, 6, 1, tzinfo=UTC)  # Online Retail: its first six months (2010-12-01 .. 2011-05-31)
PARAMETERS = {"ModelRefreshSeconds": "1", "TrainPeriodDays": "400"}  # the whole earlier part, at once


def _admin(stack: LocalStack) -> ShopwatchClient:
    return ShopwatchClient.for_local_stack(read_state(stack.state_dir))


def _train(stack: LocalStack, admin: ShopwatchClient) -> dict[str, Any]:
    """POST /models/train, wait for TrainFunction, and return the new challenger's GET /models entry."""
    status, body = admin.request("POST", "/models/train")
    if status != 202:
        raise RuntimeError(f"POST /models/train answered {status}: {body}")
    if not lambda_invoke.wait(1800) or lambda_invoke.failures:
        raise RuntimeError(f"TrainFunction failed: {lambda_invoke.failures}")
    status, listed = admin.request("GET", "/models")
    challenger = next(m for m in listed["models"] if m["version"] == listed["challenger"])
    time.sleep(2.5)  # DetectFunction's next batch is past its refresh interval (1 s here)
    return challenger


def _model_scores(stack: LocalStack, ids: list[str]) -> dict[str, dict[str, ModelScore]]:
    """transaction id -> role -> its model score, from the detection markers."""
    keys = [{"pk": {"S": f"TXN#{t}"}, "sk": {"S": "DETECT#0"}} for t in ids]
    out: dict[str, dict[str, ModelScore]] = {}
    for marker in get_many(stack.table("StateTable"), keys):
        scores = [ModelScore.from_dict(m) for m in json.loads(marker.get("models", "[]"))]
        out[marker["pk"].removeprefix("TXN#")] = {s.role: s for s in scores}
    return out


@dataclass(frozen=True)
class FraudRetrain:
    earlier: int
    later: int
    later_frauds: int
    chargebacks: int
    challenger: dict[str, Any]
    handset_auc: float
    retrained_auc: float
    compared: int  # later transactions both scored
    seconds: float

    def targets_met(self) -> bool:
        return self.retrained_auc >= self.handset_auc - MAX_WORSE


def run_fraud(path: Path, *, state_dir: Path, limit: int | None = None) -> FraudRetrain:
    rows = purchases(path)[:limit]
    half = len(rows) // 2
    earlier, later = rows[:half], rows[half:]
    with LocalStack(port=free_port(), state_dir=state_dir, parameters=PARAMETERS, schedules_paused=True) as stack:
        started = time.monotonic()
        admin = _admin(stack)
        post_in_order((t for t, _ in earlier), stack.url, stack.api_key, label="earlier half", total=len(earlier))
        drain(stack)
        frauds = [t["transaction_id"] for t, label in earlier if label]
        shop = ShopwatchClient(stack.url, stack.api_key)
        for tid in frauds:  # as a payment provider reports them: fraud only
            shop.request("POST", f"/transactions/{tid}/label", {"label": "fraud", "source": "chargeback"})
        challenger = _train(stack, admin)
        post_in_order((t for t, _ in later), stack.url, stack.api_key, label="later half", total=len(later))
        drain(stack)
        scores = _model_scores(stack, [t["transaction_id"] for t, _ in later])
    labels = {t["transaction_id"]: label for t, label in later}
    both = [
        (labels[tid], by_role["champion"].risk_score, by_role["challenger"].risk_score)
        for tid, by_role in scores.items()
        if "champion" in by_role and "challenger" in by_role
        and by_role["champion"].risk_score is not None and by_role["challenger"].risk_score is not None
    ]  # fmt: skip
    y = [label for label, _, _ in both]
    return FraudRetrain(
        earlier=len(earlier),
        later=len(later),
        later_frauds=sum(labels.values()),
        chargebacks=len(frauds),
        challenger=challenger,
        handset_auc=roc_auc(y, [h for _, h, _ in both]),
        retrained_auc=roc_auc(y, [r for _, _, r in both]),
        compared=len(both),
        seconds=time.monotonic() - started,
    )


@dataclass(frozen=True)
class RetailRetrain:
    trained_on: int
    later_real: int
    model_paged: int
    any_paged: int
    injected: int
    caught: int
    missed: tuple[str, ...]
    challenger: dict[str, Any]
    seconds: float

    @property
    def model_paged_share(self) -> float:
        return self.model_paged / self.later_real if self.later_real else 0.0

    @property
    def recall(self) -> float:
        return self.caught / self.injected if self.injected else 0.0

    def targets_met(self) -> bool:
        return self.model_paged_share <= MAX_MODEL_PAGED and self.recall >= MIN_RECALL and self.injected > 0


def run_retail(path: Path, *, state_dir: Path, every: int = 100, seed: int = 16) -> RetailRetrain:
    invoices = list(online_retail_transactions(path))
    first = [t for t in invoices if t["timestamp"] < SPLIT.strftime("%Y-%m-%dT%H:%M:%SZ")]
    injector = Injector(every=every, warmup=len(first), seed=seed, kinds=MODEL_KINDS)
    stream = injector.inject(invoices)
    earlier = [next(stream) for _ in range(len(first))]  # the first six months, learned by the injector too
    with LocalStack(port=free_port(), state_dir=state_dir, parameters=PARAMETERS, schedules_paused=True) as stack:
        started = time.monotonic()
        admin = _admin(stack)
        posted = post_in_order(iter(earlier), stack.url, stack.api_key, label="first six months", total=len(earlier))
        drain(stack)
        challenger = _train(stack, admin)
        status, body = admin.request("POST", f"/models/{challenger['version']}/promote")
        if status != 200:
            raise RuntimeError(f"promote answered {status}: {body}")
        time.sleep(2.5)
        later = post_in_order(
            stream, stack.url, stack.api_key, label="later invoices", total=len(invoices) - len(first)
        )
        drain(stack)
        alerts = all_alerts({"tables": stack.resources.tables})
        later_ids = list(later.accepted_ids)
        markers = StateRepository(stack.table("StateTable")).get_markers(later_ids, {})
    injected = {t for anomaly in injector.truth for t in anomaly["transaction_ids"]}
    # the model's own verdict, on each transaction's marker: its finding is kept there also when a rule's
    # finding opened the alert (one alert per transaction, the rule's), so grouping does not hide what it said
    model_paged = {
        tid
        for (tid, _), marker in markers.items()
        for f in marker.findings
        if f.detector == "model" and f.severity >= Severity.MEDIUM
    }
    any_paged = {tid for alert in alerts if alert.severity >= Severity.MEDIUM for tid in alert.transaction_ids}
    earlier_ids = set(posted.accepted_ids)
    real_later = [t for t in later_ids if t not in injected and t not in earlier_ids]
    missed = tuple(a["anomaly_id"] for a in injector.truth if not set(a["transaction_ids"]) & model_paged)
    return RetailRetrain(
        trained_on=len(posted.accepted_ids),
        later_real=len(real_later),
        model_paged=sum(1 for t in real_later if t in model_paged),
        any_paged=sum(1 for t in real_later if t in any_paged),
        injected=len(injector.truth),
        caught=len(injector.truth) - len(missed),
        missed=missed,
        challenger=challenger,
        seconds=time.monotonic() - started,
    )


def fraud_table(result: FraudRetrain) -> Table:
    table = Table(title="Fraud_Data: the shop's retrained model against the hand-set risk, on the later half")
    for column in ("earlier / later", "chargebacks", "later frauds", "compared", "hand-set ROC AUC",
                   "retrained ROC AUC", "difference", "target"):  # fmt: skip
        table.add_column(column, justify="right")
    difference = result.retrained_auc - result.handset_auc
    table.add_row(f"{result.earlier:,} / {result.later:,}", f"{result.chargebacks:,}", f"{result.later_frauds:,}",
                  f"{result.compared:,}", f"{result.handset_auc:.3f}", f"{result.retrained_auc:.3f}",
                  f"{difference:+.3f}", f"≥ -{MAX_WORSE}")  # fmt: skip
    metadata = result.challenger.get("metadata") or {}
    learning = (metadata.get("learning") or {}).get("reason") or "-"
    table.caption = (
        f"Challenger {result.challenger['version']} in shadow beside the default champion; its risk score is "
        f"{metadata.get('risk_score', '-')}: {learning}. {result.seconds:.0f} s in all."
    )
    return table


def retail_table(result: RetailRetrain) -> Table:
    table = Table(title="Online Retail: the model trained on the first six months, on the later invoices")
    for column in ("trained on", "later real", "paged by the model", "target", "paged by anything",
                   "injected outliers", "caught by the model", "target"):  # fmt: skip
        table.add_column(column, justify="right")
    table.add_row(f"{result.trained_on:,}", f"{result.later_real:,}",
                  f"{result.model_paged} ({result.model_paged_share:.2%})", f"≤ {MAX_MODEL_PAGED:.1%}",
                  f"{result.any_paged} ({result.any_paged / max(result.later_real, 1):.2%})",
                  f"{result.injected}", f"{result.caught} ({result.recall:.0%})", f"≥ {MIN_RECALL:.0%}")  # fmt: skip
    table.caption = (
        f"Champion {result.challenger['version']} (promoted by the stack's admin). Missed: "
        + (", ".join(result.missed[:5]) or "none")
        + f". {result.seconds:.0f} s in all."
    )
    return table
