"""A rule's expression as the backtest asks it: compiled and evaluated by the engine production runs
(`rules.engine.RuleEngine.evaluate_one`, with the shop's lists), on the facts built the same way
(`rules.facts.facts_for`), so a backtest cannot judge a rule differently from DetectFunction.

Which variables the expression names decides what the replay computes for it: the entity kinds it names
(`entities.device`; the customer's for `account`), the detectors whose findings it selects (`findings.price`:
the price detector; every one for `findings` used whole), the stored markers for `scores` and for the model's
finding (`findings.model`: the replay does not re-score, DetectFunction's finding is on the marker). The test is textual and errs one way only: a name in a string literal costs time, never a wrong
answer (a variable or kind the expression does not name cannot change its value); `entities` used other than
as `entities.<kind>` takes every kind.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime

from shopwatch.detectors.entities import EntityView
from shopwatch.detectors.findings import Finding
from shopwatch.detectors.registry import DETECTORS_BY_NAME
from shopwatch.domain.transaction import Transaction
from shopwatch.rules.definitions import RuleList
from shopwatch.rules.engine import RuleEngine
from shopwatch.rules.expressions import compile_expression
from shopwatch.rules.facts import facts_for
from shopwatch.rules.reads import reads_of
from shopwatch.rules.variables import ENTITY_KINDS


def _names(expression: str, *names: str) -> bool:
    return any(re.search(rf"\b{name}\b", expression) for name in names)


def entity_kinds(expression: str) -> frozenset[str]:
    """The kinds of entity the expression reads."""
    named = re.findall(r"\bentities\s*\.\s*(\w+)", expression)
    kinds = set(ENTITY_KINDS) if len(named) < len(re.findall(r"\bentities\b", expression)) else set(named)
    if _names(expression, "account"):
        kinds.add("customer")  # the account's history and links are its customer entity's
    return frozenset(kinds & set(ENTITY_KINDS))


class ExpressionMatcher:
    def __init__(
        self, expression: str, lists: Sequence[RuleList], now: datetime, failed_statuses: frozenset[str]
    ) -> None:
        """Raises InvalidExpression (with each problem's position) for an expression that cannot be saved."""
        self.compiled = compile_expression(expression)
        self.reads = reads_of([expression])
        self.engine = RuleEngine((), lists, now)
        self.failed_statuses = failed_statuses
        self.entity_kinds = entity_kinds(expression)
        self.needs_findings = "findings" in self.reads.variables
        selected = self.reads.fields_of("findings")
        self.detectors: frozenset[str] | None = frozenset()  # the detectors to run (None: every one)
        if self.needs_findings:  # the model's finding is not a per-transaction detector's
            self.detectors = None if selected is None else frozenset(selected & DETECTORS_BY_NAME.keys())
        # the model's finding, as DetectFunction made it, is on the transaction's detection marker
        self.needs_model_finding = self.needs_findings and (selected is None or "model" in selected)
        self.needs_scores = "scores" in self.reads.variables

    def judge(
        self,
        tx: Transaction,
        views: Mapping[str, EntityView],
        findings: Sequence[Finding],
        model_score: float | None,
        risk_score: float | None,
    ) -> tuple[bool, str | None]:
        facts = facts_for(tx, views, findings, model_score, risk_score, self.failed_statuses)
        return self.engine.judge_one(self.compiled, facts, self.reads)
