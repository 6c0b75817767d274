"""What a backtest replays: a draft expression, or a saved rule's version resolved once (a job then replays
exactly what was asked, even if the rule changes meanwhile), and the refusals that store nothing: an unknown
rule or version (404), an expression the checker refuses, with each problem's position (400).

numpy-free on purpose: ApiFunction resolves and refuses here; the replay runs in BacktestFunction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from shopwatch.errors import NotFound, ShopwatchError
from shopwatch.rules.definitions import Rule, RuleList
from shopwatch.rules.expressions import ExpressionProblem, check


class ExpressionRefused(ShopwatchError):
    status, code = 400, "invalid_expression"

    @classmethod
    def of(cls, problems: Sequence[ExpressionProblem]) -> ExpressionRefused:
        return cls("the expression cannot be evaluated", {"problems": [p.to_json() for p in problems]})


class RuleBook(Protocol):
    """Where saved rules and the shop's lists are read (the rules API's repositories)."""

    def rule(self, rule_id: str, version: int | None) -> Rule | None:
        """That version of the rule (None: its current one); None when there is no such rule or version."""
        ...

    def lists(self, now: datetime) -> Sequence[RuleList]: ...


@dataclass(frozen=True)
class Target:
    """The expression a backtest replays, and the rule version it was read from (None for a draft)."""

    expression: str
    rule_id: str | None = None
    version: int | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"expression": self.expression}
        if self.rule_id is not None:
            out |= {"rule_id": self.rule_id, "version": self.version}
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Target:
        return cls(data["expression"], data.get("rule_id"), data.get("version"))


def resolve(rule_book: RuleBook, expression: str | None, rule_id: str | None, version: int | None) -> Target:
    """The checked target: NotFound for an unknown rule or version, ExpressionRefused for an expression the
    checker refuses (a saved one too: the variables may have changed since it was saved)."""
    if rule_id is not None:
        rule = rule_book.rule(rule_id, version)
        if rule is None:
            what = f"rule {rule_id}" + (f" version {version}" if version is not None else "")
            raise NotFound(f"no {what}", {"rule_id": rule_id, "version": version})
        target = Target(rule.expression, rule.rule_id, rule.version)
    elif expression is not None:
        target = Target(expression)
    else:
        raise ValueError("a backtest needs an expression or a rule id")
    problems = check(target.expression)
    if problems:
        raise ExpressionRefused.of(problems)
    return target
