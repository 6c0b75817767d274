"""Run a backtest: read the period (and its lookback), replay it through detection's offline path, judge each
of the period's transactions with the rule, count.

The replay is `training.replay.replay_steps`, TrainFunction's own walk over DetectFunction's state and
detectors, so a backtest sees each transaction as DetectFunction saw it: entity views and findings from the
state just before it, never after. The model's score, the model's finding and the risk score are what
DetectFunction stored on the transaction's detection marker (the model that served then, with its learned
combination): the replay does not re-score, and a transaction DetectFunction has not processed yet has none
of them (null to the rule, 0 for `findings.model`).

What the rule does not read is not computed (`Matcher`): entities of the kinds it names only, the detectors
whose findings it reads only (every kind of entity when one of them reads entities), markers only for one that
reads `scores` or the model's finding, and no replay at all for a rule of the transaction's own fields. A rule that fails on a transaction does not
match it, as in production, and is counted with its first error (`RuleEngine.judge_one`): a draft that fails on
a third of the period says so rather than looking rare.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from shopwatch.backtest.period import Period
from shopwatch.backtest.tally import BacktestResult, Tally
from shopwatch.config import DetectionSettings
from shopwatch.detectors.entities import EntityView
from shopwatch.detectors.findings import Finding
from shopwatch.detectors.model import DETECTOR as MODEL_DETECTOR
from shopwatch.detectors.registry import READ_ENTITIES
from shopwatch.domain.transaction import Transaction
from shopwatch.gc_pause import collector_paused
from shopwatch.storage.alerts import AlertRepository
from shopwatch.storage.labels import LabelRepository
from shopwatch.storage.state import Marker, StateRepository
from shopwatch.storage.transactions import TransactionRepository
from shopwatch.training.labels import merged_labels
from shopwatch.training.replay import replay_steps

MAX_REPLAYED = 300_000  # lookback and period together: what TrainFunction holds in the same memory
CHUNK = 5_000  # transactions judged between two progress reports (and one round of marker reads)


class Matcher(Protocol):
    """A rule as the backtest asks it: does it match this transaction, given what DetectFunction knew?"""

    entity_kinds: frozenset[str]  # the kinds of entity it reads ("customer" for the account)
    needs_findings: bool
    detectors: frozenset[str] | None  # the detectors whose findings it reads (None: every one)
    needs_model_finding: bool  # it reads the model's finding (DetectFunction's, on the marker)
    needs_scores: bool

    def judge(
        self,
        tx: Transaction,
        views: Mapping[str, EntityView],
        findings: Sequence[Finding],
        model_score: float | None,
        risk_score: float | None,
    ) -> tuple[bool, str | None]:
        """(matches, the evaluation's error or None)."""
        ...


@dataclass(frozen=True)
class Sources:
    transactions: TransactionRepository
    state: StateRepository
    labels: LabelRepository
    alerts: AlertRepository


Progress = Callable[[int, int], None]  # (transactions judged, transactions in the period)
Scores = Callable[[Marker | None], tuple[float | None, float | None]]  # (model anomaly, risk score): scores.py
NO_VIEWS: Mapping[str, EntityView] = {}


@collector_paused()  # the read and the walk build ~100,000 records and no cycles: shopwatch/gc_pause.py
def run_backtest(
    matcher: Matcher,
    period: Period,
    sources: Sources,
    settings: DetectionSettings,
    now: datetime,
    scores: Scores,
    progress: Progress | None = None,
) -> BacktestResult:
    """Raises TooManyTransactions when lookback and period hold more than MAX_REPLAYED transactions."""
    kinds = matcher.entity_kinds
    replayed = matcher.needs_findings or bool(kinds)  # else the transaction's own fields: nothing to replay
    first = period.history_since if replayed else period.since
    history = sources.transactions.between(first, period.until, MAX_REPLAYED)
    in_period = sum(period.holds(tx.timestamp) for tx in history)
    skus = sorted({item.sku for tx in history for item in tx.items}) if matcher.needs_findings else []
    catalog = sources.state.get_catalog(skus) if skus else {}  # the price detector's reference
    labels = merged_labels(sources.labels.all(), sources.alerts.with_feedback())
    # an alert listing a transaction of the period was opened at most one grouping window before it
    opened_since = period.since - timedelta(seconds=settings.alert_group_window_seconds)
    alerted = frozenset(t for a in sources.alerts.created_between(opened_since, now) for t in a.transaction_ids)
    tally = Tally(period, labels, alerted)
    pending: list[tuple[Transaction, Mapping[str, EntityView], list[Finding]]] = []

    read_markers = matcher.needs_scores or matcher.needs_model_finding

    def judge() -> None:
        markers = _markers(sources.state, [tx for tx, _, _ in pending]) if read_markers else {}
        for tx, views, findings in pending:
            marker = markers.get(tx.transaction_id)
            model_score, risk_score = scores(marker) if matcher.needs_scores else (None, None)
            if matcher.needs_model_finding and marker is not None:
                findings = findings + [f for f in marker.findings if f.detector == MODEL_DETECTOR]
            tally.add(tx, *matcher.judge(tx, views, findings, model_score, risk_score))
        pending.clear()
        if progress is not None:
            progress(tally.evaluated, in_period)

    if replayed:
        detectors = matcher.detectors
        every_kind = detectors is None or bool(detectors & READ_ENTITIES)
        steps = replay_steps(history, settings, catalog, detectors, entity_kinds=None if every_kind else kinds)
        judged = ((s.tx, _views(s.data.views, kinds), s.findings) for s in steps)
    else:
        judged = ((tx, NO_VIEWS, []) for tx in sorted(history, key=lambda t: (t.timestamp, t.transaction_id)))
    for tx, views, findings in judged:
        if tx.timestamp < period.since:
            continue  # the lookback: learned, not judged
        pending.append((tx, views, findings))
        if len(pending) == CHUNK:
            judge()
    judge()
    return tally.result()


def _views(views: Mapping[str, EntityView], kinds: frozenset[str]) -> Mapping[str, EntityView]:
    """The views of the kinds read, taken now: the state's entity map moves on with the next transaction."""
    return {kind: view for kind, view in views.items() if kind in kinds} if kinds else NO_VIEWS


def _markers(state: StateRepository, transactions: list[Transaction]) -> dict[str, Marker]:
    found = state.get_markers([tx.transaction_id for tx in transactions], {})
    return {tid: marker for (tid, part), marker in found.items() if part == 0}
