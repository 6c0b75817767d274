"""Per-transaction detection with exactly-once state and alert updates.

For each transaction of a stream batch:
1. if its marker exists, it was fully applied before (a redelivery or replay): nothing changes;
2. otherwise the detectors run on the state as it stands, and one DynamoDB transaction writes the marker (on
   the condition that it does not exist), the profile counters, the recent-activity item, the alerts (each on
   the condition that its version did not move) and the SKU statistics. All or nothing.
A basket with more distinct SKUs than one transaction holds continues in further parts, each guarded by its
own marker, so a crash between parts resumes where it stopped.
3. entity aggregates: the account's ride on its profile update (inside); every other entity's update is a plain
   conditional UpdateItem after the transaction, idempotent by the transaction's token on the item (half the
   write units), unless its tokens would cost more than the transaction's second unit (a busy item: then it
   goes inside). The marker names the entities written outside; a redelivery writes those whose item lacks the
   token, so a crash between the transaction and these writes loses nothing and counts nothing twice.

The batch's state is read once up front (BatchGetItem, one Query per customer) and kept in step in memory.
Every transaction of the batch counts as recent activity from the start, so the velocity and failure windows
are judged by timestamps, whatever order the stream's shards deliver the records in.

The model scores the whole batch in one vectorized call. A transaction's features depend on the state the
transactions before it leave, so `load` first plays the batch through a copy of that state (what `process`
will learn, in the same order) and scores every row at once; `process` recomputes the features from the real
state (cheap) and uses the planned verdict when they are equal, or scores the row alone when they are not
(a record that failed or was applied concurrently changed the state the plan assumed). Same verdict either
way; the per-row call is the exception.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

from shopwatch.cases.model import Case
from shopwatch.cases.writer import CaseWriter, TransactionCases
from shopwatch.config import DetectionSettings
from shopwatch.detectors import model as model_detector
from shopwatch.detectors.entities import (
    NO_HISTORY,
    EntityHistory,
    EntityKey,
    EntityUpdate,
    apply_update,
    entity_keys,
    keys_of,
    plan_updates,
)
from shopwatch.detectors.features import transaction_features
from shopwatch.detectors.findings import Finding
from shopwatch.detectors.history import (
    NO_CUSTOMER,
    NO_SKU,
    CatalogEntry,
    CustomerDelta,
    CustomerHistory,
    DetectionInput,
    RecentTransaction,
    SkuDelta,
    SkuHistory,
    apply_customer_delta,
    apply_sku_delta,
    customer_delta,
    sku_deltas,
)
from shopwatch.detectors.model import NO_MODELS, ModelScore, ModelVerdict, ServingModels, TransactionModel
from shopwatch.detectors.registry import run_detectors
from shopwatch.detectors.risk_inputs import context_inputs
from shopwatch.detectors.scoring import Assessment, assess
from shopwatch.detectors.signals import risk_signals
from shopwatch.domain.alert import Alert, add_occurrence, alert_id_for, open_alert
from shopwatch.domain.clock import floor_window, utcnow
from shopwatch.domain.transaction import Transaction
from shopwatch.rules.definitions import MAX_SCORE
from shopwatch.rules.findings import verdict_findings
from shopwatch.storage.alerts import AlertRepository
from shopwatch.storage.rule_matches import RecordedMatch, RuleMatchRepository
from shopwatch.storage.state import NO_TOKENS, AppliedTokens, Marker, StateRepository, write_outside
from shopwatch.storage.unit_of_work import TransactionRefused, UnitOfWork

if TYPE_CHECKING:  # CEL ships in RulesLayer: functions without rules (TrainFunction's replay) never import it
    from shopwatch.rules.engine import RuleEngine, RuleVerdict

logger = Logger(child=True)

# marker + profile + recent + 5 entities + at most 10 alerts + their cases (10 at most) + 70 SKUs: under 100 actions
FIRST_PART_SKUS = 70
LATER_PART_SKUS = 99  # marker + 99 SKUs
MAX_WRITE_ATTEMPTS = 5


def alerting_findings(rule_findings: list[Finding], model_finding: Finding | None) -> list[Finding]:
    """The findings that open or grow an alert: the rules', or the model's when no rule spoke. Beside a rule
    the model adds to the risk score (and is kept on the marker) but opens no second alert."""
    return list(rule_findings) or ([model_finding] if model_finding else [])


def alerting_detectors(findings: tuple[Finding, ...] | list[Finding]) -> list[str]:
    """The detectors whose findings went to alerts, from a transaction's findings (the model's last)."""
    rules = [f for f in findings if f.detector != "model"]
    return [f.detector for f in (rules or findings)]


def split_parts(deltas: list[SkuDelta]) -> list[list[SkuDelta]]:
    parts = [deltas[:FIRST_PART_SKUS]]
    rest = deltas[FIRST_PART_SKUS:]
    while rest:
        parts.append(rest[:LATER_PART_SKUS])
        rest = rest[LATER_PART_SKUS:]
    return parts


# A transaction's customer and SKU deltas, by the identity of the Transaction (kept with them, so that the id
# cannot be reused by another while the entry lives), with the failed statuses they were computed for.
Derived = dict[int, tuple[Transaction, frozenset[str], CustomerDelta, list[SkuDelta]]]


def derive(memo: Derived, tx: Transaction, failed_statuses: frozenset[str]) -> tuple[CustomerDelta, list[SkuDelta]]:
    """`customer_delta` and `sku_deltas` of `tx`, computed once per batch: the batch's read, the model's plan
    and `process` each need them, and they are pure in the transaction. Read only: they are shared."""
    known = memo.get(id(tx))
    if known is None or known[0] is not tx or known[1] != failed_statuses:
        known = (tx, failed_statuses, customer_delta(tx, failed_statuses), sku_deltas(tx))
        memo[id(tx)] = known
    return known[2], known[3]


@dataclass(frozen=True)
class Outcome:
    transaction_id: str
    findings: tuple[Finding, ...]
    risk_score: Decimal
    alert_ids: tuple[str, ...]
    replayed: bool = False
    models: tuple[ModelScore, ...] = ()  # the champion's and challenger's scores (on the marker too)


@dataclass
class BatchState:
    """What a batch of transactions reads, kept in step with what it writes."""

    markers: dict[tuple[str, int], Marker]
    profiles: dict[str, CustomerHistory]
    skus: dict[tuple[str, str], SkuHistory]
    catalog: dict[str, CatalogEntry]
    recent: dict[str, list[RecentTransaction]]
    entities: dict[EntityKey, EntityHistory] = field(default_factory=dict)
    tokens: dict[EntityKey, AppliedTokens] = field(default_factory=dict)  # applied tokens of entity items
    alerts: dict[str, Alert | None] = field(default_factory=dict)
    cases: dict[str, Case | None] = field(default_factory=dict)  # the cases read or written by this batch
    serving: ServingModels = NO_MODELS  # the champion and challenger this batch is scored with (one source read)
    model_plan: dict[str, tuple[tuple[float, ...], ModelVerdict]] = field(default_factory=dict)
    shadow_plan: dict[str, tuple[tuple[float, ...], ModelVerdict]] = field(default_factory=dict)
    derived: Derived = field(default_factory=dict, repr=False, compare=False)  # see `derive`
    rules: RuleEngine | None = None  # the analysts' published rules and lists (one cache read per batch)

    @classmethod
    def empty(cls) -> BatchState:
        """No history at all: where an offline replay of a data set starts."""
        return cls(markers={}, profiles={}, skus={}, catalog={}, recent={})

    def input_for(self, tx: Transaction) -> DetectionInput:
        """What the detectors see for `tx`: the state as it stands before `tx` is learned."""
        return DetectionInput(
            tx=tx,
            customer=self.profiles.get(tx.customer_id, NO_CUSTOMER),
            skus={i.sku: self.skus.get((i.sku, tx.currency), NO_SKU) for i in tx.items},
            catalog={i.sku: self.catalog[i.sku] for i in tx.items if i.sku in self.catalog},
            recent=tuple(self.recent.get(tx.customer_id, ())),
            entities=self.entities,
        )

    def deltas_of(self, tx: Transaction, failed_statuses: frozenset[str]) -> tuple[CustomerDelta, list[SkuDelta]]:
        return derive(self.derived, tx, failed_statuses)

    def learn_customer(self, tx: Transaction, delta: CustomerDelta) -> None:
        """Keep the profile and recent activity in step with what was written for `tx`."""
        self.profiles[tx.customer_id] = apply_customer_delta(self.profiles.get(tx.customer_id, NO_CUSTOMER), delta)
        known = self.recent.setdefault(tx.customer_id, [])
        for r in known:
            if r.transaction_id == tx.transaction_id:
                break
        else:
            known.append(RecentTransaction(tx.transaction_id, tx.timestamp, tx.status))

    def learn_entities(self, updates: list[EntityUpdate]) -> None:
        for update in updates:
            self.entities[update.key] = apply_update(self.entities.get(update.key, NO_HISTORY), update)

    def learn_skus(self, deltas: list[SkuDelta]) -> None:
        for d in deltas:
            self.skus[(d.sku, d.currency)] = apply_sku_delta(self.skus.get((d.sku, d.currency), NO_SKU), d)

    def learn(self, tx: Transaction, failed_statuses: frozenset[str]) -> None:
        """Everything `DetectionService.process` learns from a transaction it applies, in one step."""
        self.learn_customer(tx, customer_delta(tx, failed_statuses))
        self.learn_entities(plan_updates(tx, self.entities, failed_statuses))
        self.learn_skus(sku_deltas(tx))

    def history_copy(self) -> BatchState:
        """A copy whose profiles, SKU statistics and recent activity can be learned into without touching these
        (records are immutable; the per-customer recent lists are copied). Entities are shared, not copied."""
        return BatchState(
            markers={},
            profiles=dict(self.profiles),
            skus=dict(self.skus),
            catalog=self.catalog,
            recent={customer: list(known) for customer, known in self.recent.items()},
            entities=self.entities,  # read only: the model's plan learns no entity
            derived=self.derived,  # pure in each transaction: shared
        )


Plan = dict[str, tuple[tuple[float, ...], ModelVerdict]]  # transaction id -> (features, verdict)


def _scored(model: TransactionModel, rows: dict[str, tuple[str, tuple[float, ...]]]) -> Plan:
    """The rows in `model`'s currencies, scored in one call."""
    mine = [(tid, currency, features) for tid, (currency, features) in rows.items() if currency in model.currencies]
    verdicts = model.verdicts([f for _, _, f in mine], [c for _, c, _ in mine]) if mine else []
    return {tid: (features, v) for (tid, _, features), v in zip(mine, verdicts, strict=True)}


class DetectionService:
    def __init__(
        self,
        state: StateRepository,
        alerts: AlertRepository,
        settings: DetectionSettings,
        clock: Callable[[], datetime] = utcnow,
        model: TransactionModel | None = None,
        models: Callable[[], ServingModels] | None = None,
        rules: Callable[[], RuleEngine] | None = None,
        cases: CaseWriter | None = None,
    ) -> None:
        """`models`: asked once per batch for the champion and challenger (DetectFunction: a ModelSource);
        `model`, for tests and offline tools: one fixed champion and no challenger. `rules`: asked once per
        batch for the analysts' published rules and lists (DetectFunction: PublishedRules.engine). `cases`: where
        alerts are grouped into cases (DetectFunction; offline tools have none)."""
        if model is not None and models is not None:
            raise ValueError("give the models' source or one model, not both")
        self.state = state
        self.alerts = alerts
        self.settings = settings
        self.clock = clock
        fixed = ServingModels(model, None)
        self.models = models or (lambda: fixed)
        self.rules = rules
        self.cases = cases
        self.rule_matches = RuleMatchRepository(state.table_name)

    def load(self, transactions: list[Transaction]) -> BatchState:
        derived: Derived = {}
        failed = self.settings.failed_statuses
        parts = {tx.transaction_id: len(split_parts(derive(derived, tx, failed)[1])) for tx in transactions}
        customers = sorted({tx.customer_id for tx in transactions})
        by_customer: dict[str, list[Transaction]] = {}
        for tx in transactions:
            by_customer.setdefault(tx.customer_id, []).append(tx)
        skus = sorted({(i.sku, tx.currency) for tx in transactions for i in tx.items})
        profiles, entities, tokens = self.state.get_customers_and_entities(customers, keys_of(transactions))
        lookback = timedelta(seconds=self._lookback_seconds())
        recent: dict[str, list[RecentTransaction]] = {}
        for customer in customers:
            mine = by_customer[customer]
            since, until = min(t.timestamp for t in mine) - lookback, max(t.timestamp for t in mine)
            last_seen = profiles[customer].last_seen
            # a customer whose last transaction is older than the window has no recent activity to read
            stored = [] if last_seen is None or last_seen < since else self.state.get_recent(customer, since, until)
            known = {r.transaction_id for r in stored}
            recent[customer] = stored + [
                RecentTransaction(t.transaction_id, t.timestamp, t.status)
                for t in mine
                if t.transaction_id not in known
            ]
        batch = BatchState(
            markers=self.state.get_markers(list(parts), parts),
            profiles=profiles,
            skus=self.state.get_sku_stats(skus),
            catalog=self.state.get_catalog(sorted({sku for sku, _ in skus})),
            recent=recent,
            entities=entities,
            tokens=tokens,
            derived=derived,
        )
        batch.serving = self.models()
        batch.rules = self.rules() if self.rules is not None else None
        batch.model_plan, batch.shadow_plan = self.plan_model(batch, transactions)
        return batch

    def plan_model(self, batch: BatchState, transactions: list[Transaction]) -> tuple[Plan, Plan]:
        """Every new transaction's features as `process` will see them, all scored in one call per model: the
        champion's plan and the challenger's (in shadow)."""
        champion, challenger = batch.serving.champion, batch.serving.challenger
        if champion is None and challenger is None:
            return {}, {}
        currencies = (champion.currencies if champion else frozenset()) | (
            challenger.currencies if challenger else frozenset()
        )
        trial = batch.history_copy()
        seen: set[str] = set()
        rows: dict[str, tuple[str, tuple[float, ...]]] = {}  # id -> (currency, features)
        for tx in transactions:
            if (tx.transaction_id, 0) in batch.markers or tx.transaction_id in seen:
                continue  # applied before: process() learns nothing from it
            seen.add(tx.transaction_id)
            if tx.currency in currencies:
                rows[tx.transaction_id] = (tx.currency, transaction_features(trial.input_for(tx)))
            # the features read the profile and the SKUs, no entity: planning entity updates here would cost
            # as much as the scoring saves (a feature that came to read one would only miss the plan, not err)
            delta, deltas = batch.deltas_of(tx, self.settings.failed_statuses)
            trial.learn_customer(tx, delta)
            trial.learn_skus(deltas)
        shadow: Plan = {}
        if challenger is not None:
            try:
                shadow = _scored(challenger, rows)
            except Exception:
                logger.exception("challenger could not score the batch", extra={"version": challenger.version})
        return (_scored(champion, rows) if champion is not None else {}), shadow

    def process(self, batch: BatchState, tx: Transaction) -> Outcome:
        delta, deltas = batch.deltas_of(tx, self.settings.failed_statuses)
        parts = split_parts(deltas)
        done = batch.markers.get((tx.transaction_id, 0))
        if done is not None:  # applied before; finish what a crash may have left (every step is idempotent)
            self._finish_outside(batch, tx, done.outside)
            self._record_rules(tx, done.rules)
            self._finish_parts(batch, tx, parts)
            return Outcome(tx.transaction_id, done.findings, done.risk_score, (), replayed=True)

        data = batch.input_for(tx)
        findings = run_detectors(data, self.settings)
        rule_findings = tuple(findings)
        verdict = self._model_verdict(batch, data)
        shadow = self._shadow_verdict(batch, data, verdict[0] if verdict else None)
        model_finding = model_detector.detect(tx, verdict[0], verdict[1]) if verdict else None
        alerting = alerting_findings(findings, model_finding)
        if model_finding is not None:
            findings.append(model_finding)
        context = context_inputs(data, rule_findings) if batch.serving.learns_risk else ()
        assessment = self._assess(batch.serving.champion, data, findings, alerting, verdict, context)
        ruled = self._judge_rules(batch, data, findings, verdict)
        if ruled is not None:
            added = verdict_findings(ruled, tx)
            if added:
                findings.extend(added)
                alerting.extend(added)
                assessment = self._assess(batch.serving.champion, data, findings, alerting, verdict, context)
            if ruled.score_added:
                risk = min(Decimal(MAX_SCORE), assessment.risk_score + ruled.score_added)
                assessment = replace(assessment, risk_score=risk)
            if ruled.allowed:  # an allow-listed entity: only high and critical alerts stay
                alerting = [f for f in alerting if not ruled.suppresses(assessment.severities[f.detector])]
        scores = [ModelScore.of("champion", verdict[1], float(assessment.risk_score))] if verdict else []
        if shadow is not None:
            scores.append(
                ModelScore.of("challenger", shadow, self._shadow_risk(batch, data, rule_findings, shadow, context))
            )
        entity_updates = plan_updates(tx, batch.entities, self.settings.failed_statuses)
        account = next(u for u in entity_updates if u.key.kind == "customer")
        others = [u for u in entity_updates if u.key.kind != "customer"]
        plain = [write_outside(batch.tokens.get(u.key, NO_TOKENS), u.added_bytes) for u in others]
        outside = [u for u, out in zip(others, plain, strict=True) if out]
        inside = [u for u, out in zip(others, plain, strict=True) if not out]
        marker = Marker(
            tx.transaction_id,
            0,
            tuple(findings),
            assessment.risk_score,
            tuple(u.key.kind for u in outside),
            tuple(scores),
            tuple((m.rule_id, m.version, m.mode.value) for m in ruled.matches) if ruled is not None else (),
        )
        grouping = self.cases.plan(tx, batch.entities) if self.cases is not None and alerting else None
        for _ in range(MAX_WRITE_ATTEMPTS):
            now = self.clock()
            alerts = [self._next_alert(batch, f, assessment, tx, now) for f in alerting]
            cases: list[Case] = []
            if grouping is not None and self.cases is not None:
                alerts, cases = self._grouped(self.cases, batch, grouping, alerts, now)
            unit = UnitOfWork()
            unit.add(("marker", 0), self.state.marker_action(marker, now))
            unit.add(
                ("profile", tx.customer_id),
                self.state.profile_action(
                    tx.customer_id, delta, tx.customer_name, now, self._seen(batch, tx), entity=account
                ),
            )
            unit.add(("recent", tx.transaction_id), self.state.recent_action(tx, now))
            for a in alerts:
                unit.add(("alert", a.alert_id), self.alerts.save_action(a))
            for c in cases:
                unit.add(("case", c.case_id), self.cases.save_action(c))  # type: ignore[union-attr]
            for u in inside:
                unit.add(
                    ("entity", u.key),
                    self.state.entity_action(u, now, batch.tokens.get(u.key, NO_TOKENS).stale(now, "")),
                )
            for d in parts[0]:
                unit.add(("sku", d.sku), self.state.sku_action(d, now))
            try:
                unit.commit()
                break
            except TransactionRefused as refused:
                if refused.refused_of("marker"):  # another delivery of this record won the race: it is applied, once
                    batch.markers.update(self.state.get_markers([tx.transaction_id], {tx.transaction_id: len(parts)}))
                    if (tx.transaction_id, 0) not in batch.markers:
                        raise RuntimeError(
                            f"marker of {tx.transaction_id} refused the write but cannot be read"
                        ) from refused
                    return self.process(batch, tx)
                stale = refused.refused_of("alert")
                stale_cases = refused.refused_of("case")
                if not stale and not stale_cases:
                    raise
                batch.alerts.update({a: None for a in stale})
                batch.alerts.update(self.alerts.get_many(stale))
                if stale_cases and self.cases is not None:
                    batch.cases.update(self.cases.read(stale_cases))
        else:
            raise RuntimeError(
                f"alerts of transaction {tx.transaction_id} kept changing under {MAX_WRITE_ATTEMPTS} attempts"
            )

        batch.markers[(tx.transaction_id, 0)] = marker
        batch.learn_customer(tx, delta)
        batch.learn_entities([account, *inside])
        for u in inside:
            tokens = batch.tokens.get(u.key, NO_TOKENS)
            batch.tokens[u.key] = AppliedTokens(tokens.tokens, tokens.item_bytes + u.added_bytes)
        for a in alerts:
            batch.alerts[a.alert_id] = a
        if grouping is not None and self.cases is not None:
            before = {c.case_id: batch.cases.get(c.case_id) for c in cases}
            batch.cases.update({c.case_id: c for c in cases})
            self.cases.fold(grouping, cases, before)
        batch.learn_skus(parts[0])
        self._write_outside(batch, tx, outside)
        self._record_rules(tx, marker.rules)
        self._finish_parts(batch, tx, parts)
        return Outcome(
            tx.transaction_id,
            tuple(findings),
            assessment.risk_score,
            tuple(a.alert_id for a in alerts),
            models=marker.models,
        )

    def _write_outside(self, batch: BatchState, tx: Transaction, updates: list[EntityUpdate]) -> None:
        """The entity updates planned outside the transaction, each applied once (by its token), and learned:
        a refused one was applied by an earlier attempt, so the item holds it either way."""
        now = self.clock()
        for update in updates:
            tokens = batch.tokens.get(update.key, NO_TOKENS)
            self.state.apply_guarded(update, tx, tokens, now)
            batch.learn_entities([update])
            batch.tokens[update.key] = tokens.with_token(tx, now, update.added_bytes + 8)

    def _finish_outside(self, batch: BatchState, tx: Transaction, kinds: tuple[str, ...]) -> None:
        """After a crash between the transaction and the entity writes after it: those whose item lacks the
        transaction's token, planned from the items as they stand."""
        if not kinds:
            return
        keys = entity_keys(tx)
        missing = {keys[k] for k in kinds if k in keys and not batch.tokens.get(keys[k], NO_TOKENS).holds(tx)}
        if missing:
            updates = plan_updates(tx, batch.entities, self.settings.failed_statuses)
            self._write_outside(batch, tx, [u for u in updates if u.key in missing])

    def _judge_rules(
        self,
        batch: BatchState,
        data: DetectionInput,
        findings: list[Finding],
        verdict: tuple[tuple[float, ...], ModelVerdict] | None,
    ) -> RuleVerdict | None:
        """The analysts' rules and lists on this transaction, with the detectors' findings and the model's
        anomaly (the risk before rules is what `scores.risk` reads)."""
        engine = batch.rules
        if engine is None or not (engine.rules or engine.lists):
            return None
        from shopwatch.rules.facts import facts_for, model_anomaly  # protobuf: only where an engine exists

        anomaly = model_anomaly(verdict[1].score, verdict[1].outlier_below) if verdict is not None else None
        signals = risk_signals(data, self.settings, verdict[1] if verdict else None)
        risk = assess(findings, self.settings, signals=signals).risk_score
        facts = facts_for(data.tx, data.views, findings, anomaly, float(risk), self.settings.failed_statuses)
        ruled = engine.evaluate(facts)
        for rule_id, message in ruled.errors:
            logger.warning("rule failed on a transaction", extra={"rule_id": rule_id, "error": message})
        return ruled

    def _record_rules(self, tx: Transaction, matches: tuple[tuple[str, int, str], ...]) -> None:
        """The matches, active and shadow, for GET /analytics/rules: idempotent puts after the transaction (a
        replay of the record writes the same items again, from its marker)."""
        if matches:
            recorded = [
                RecordedMatch(rule_id, version, mode, tx.transaction_id, tx.timestamp)
                for rule_id, version, mode in matches
            ]
            self.rule_matches.record(recorded, self.clock())

    # ---------------------------------------------------------------------------------------------------------
    def _model_verdict(self, batch: BatchState, data: DetectionInput) -> tuple[tuple[float, ...], ModelVerdict] | None:
        """The model's features and verdict: the planned verdict when the features match the plan, else scored
        alone; None when no model judges this currency."""
        model = batch.serving.champion
        if model is None or data.tx.currency not in model.currencies:
            return None
        features = transaction_features(data)
        planned = batch.model_plan.get(data.tx.transaction_id)
        if planned is not None and planned[0] == features:
            verdict = planned[1]
        else:
            verdict = model.verdicts([features], [data.tx.currency])[0]
        return features, verdict

    def _assess(
        self,
        model: TransactionModel | None,
        data: DetectionInput,
        findings: list[Finding],
        alerting: list[Finding],
        verdict: tuple[tuple[float, ...], ModelVerdict] | None,
        context: tuple[float, ...],
    ) -> Assessment:
        """The risk of `data` as `model` scores it: its learned combination when it has one, else the hand-set
        weights with its verdict's isolation among the signals."""
        signals = risk_signals(data, self.settings, verdict[1] if verdict else None)
        learned = None
        if verdict is not None and model is not None and context:
            learned = model.learned_risk(verdict[0], data.tx.currency, context, verdict[1])
        return assess(
            findings, self.settings, alerting={f.detector for f in alerting}, signals=signals, learned=learned
        )

    def _shadow_risk(
        self,
        batch: BatchState,
        data: DetectionInput,
        rule_findings: tuple[Finding, ...],
        shadow: ModelVerdict,
        context: tuple[float, ...],
    ) -> float | None:
        """The risk the challenger would have given (its own model finding, signals and combination); None if
        it fails: a challenger never fails a record."""
        challenger = batch.serving.challenger
        try:
            features = transaction_features(data)
            findings = list(rule_findings)
            model_finding = model_detector.detect(data.tx, features, shadow)
            alerting = alerting_findings(findings, model_finding)
            if model_finding is not None:
                findings.append(model_finding)
            return float(self._assess(challenger, data, findings, alerting, (features, shadow), context).risk_score)
        except Exception:
            logger.exception("challenger could not assess a transaction", extra={"version": shadow.version})
            return None

    def _shadow_verdict(
        self, batch: BatchState, data: DetectionInput, features: tuple[float, ...] | None
    ) -> ModelVerdict | None:
        """The challenger's verdict on the same features (planned, else scored alone); None when there is no
        challenger, it does not judge this currency, or it failed (logged: a challenger never fails a record)."""
        model = batch.serving.challenger
        if model is None or data.tx.currency not in model.currencies:
            return None
        try:
            features = features if features is not None else transaction_features(data)
            planned = batch.shadow_plan.get(data.tx.transaction_id)
            if planned is not None and planned[0] == features:
                return planned[1]
            return model.verdicts([features], [data.tx.currency])[0]
        except Exception:
            logger.exception("challenger could not score a transaction", extra={"version": model.version})
            return None

    def _lookback_seconds(self) -> int:
        s = self.settings
        return max(s.velocity_window_seconds, s.card_testing_window_seconds, s.failed_burst_window_seconds)

    @staticmethod
    def _seen(batch: BatchState, tx: Transaction) -> dict[str, datetime]:
        """Which of first_seen / last_seen this transaction moves, judged from the profile as read."""
        profile = batch.profiles.get(tx.customer_id, NO_CUSTOMER)
        moved = {}
        if profile.first_seen is None or tx.timestamp < profile.first_seen:
            moved["first_seen"] = tx.timestamp
        if profile.last_seen is None or tx.timestamp > profile.last_seen:
            moved["last_seen"] = tx.timestamp
        return moved

    def _next_alert(
        self, batch: BatchState, finding: Finding, assessment: Assessment, tx: Transaction, now: datetime
    ) -> Alert:
        severity = assessment.severities[finding.detector]
        window = self.settings.alert_group_window_seconds
        alert_id = alert_id_for(finding.detector, tx.customer_id, floor_window(tx.timestamp, window))
        if alert_id not in batch.alerts:
            found: dict[str, Alert | None] = {alert_id: None}  # None: no alert yet, open one
            found.update(self.alerts.get_many([alert_id]))
            batch.alerts.update(found)
        current = batch.alerts[alert_id]
        if current is None:
            return open_alert(finding, severity, assessment.risk_score, tx, window, now)
        return add_occurrence(current, finding, severity, assessment.risk_score, tx, now)

    @staticmethod
    def _grouped(
        writer: CaseWriter, batch: BatchState, grouping: TransactionCases, alerts: list[Alert], now: datetime
    ) -> tuple[list[Alert], list[Case]]:
        """The alerts with their case (a new alert gets the transaction's anchor case; a grown one keeps its own)
        and each case touched, grown once per alert and counting the transaction once."""
        wanted = {a.case_id for a in alerts if a.version > 1 and a.case_id} | {grouping.case_id}
        unknown = sorted(c for c in wanted if c not in batch.cases)
        if unknown:
            batch.cases.update(writer.read(unknown))
        return writer.group(grouping, alerts, batch.cases, now)

    def _finish_parts(self, batch: BatchState, tx: Transaction, parts: list[list[SkuDelta]]) -> None:
        for number, deltas in enumerate(parts[1:], start=1):
            if (tx.transaction_id, number) in batch.markers:
                continue
            now = self.clock()
            marker = Marker(tx.transaction_id, number)
            unit = UnitOfWork().add(("marker", number), self.state.marker_action(marker, now))
            for d in deltas:
                unit.add(("sku", d.sku), self.state.sku_action(d, now))
            try:
                unit.commit()
            except TransactionRefused as refused:
                if not refused.refused_of("marker"):
                    raise
            else:
                batch.learn_skus(deltas)
            batch.markers[(tx.transaction_id, number)] = marker
