"""A rule's expression as the backtest asks it: compiled and evaluated by the engine production runs
(`rules.engine.RuleEngine.evaluate_one`, with the shop's lists), on the facts built the same way
(`rules.facts.facts_for`), so a backtest cannot judge a rule differently from DetectFunction.

Which variables the expression names decides what the replay computes for it: entity views for `account` and
`entities`, the detectors for `findings`, the stored markers for `scores`. The test is textual and errs one
way only: a name that appears in a string literal costs time, never a wrong answer (a variable the
expression does not name cannot change its value).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime

from shopwatch.detectors.entities import EntityView
from shopwatch.detectors.findings import Finding
from shopwatch.domain.transaction import Transaction
from shopwatch.rules.definitions import RuleList
from shopwatch.rules.engine import RuleEngine
from shopwatch.rules.expressions import compile_expression
from shopwatch.rules.facts import facts_for


def _names(expression: str, *names: str) -> bool:
    return any(re.search(rf"\b{name}\b", expression) for name in names)


class ExpressionMatcher:
    def __init__(
        self, expression: str, lists: Sequence[RuleList], now: datetime, failed_statuses: frozenset[str]
    ) -> None:
        """Raises InvalidExpression (with each problem's position) for an expression that cannot be saved."""
        self.compiled = compile_expression(expression)
        self.engine = RuleEngine((), lists, now)
        self.failed_statuses = failed_statuses
        self.needs_views = _names(expression, "account", "entities")
        self.needs_findings = _names(expression, "findings")
        self.needs_scores = _names(expression, "scores")

    def matches(
        self,
        tx: Transaction,
        views: Mapping[str, EntityView],
        findings: Sequence[Finding],
        model_score: float | None,
        risk_score: float | None,
    ) -> bool:
        facts = facts_for(
            tx, views if self.needs_views else None, findings, model_score, risk_score, self.failed_statuses
        )
        return self.engine.evaluate_one(self.compiled, facts)
