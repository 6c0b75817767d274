"""BacktestFunction's work on one target and period: the shop's current lists, the matcher, the replay."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from shopwatch.backtest.matcher import ExpressionMatcher
from shopwatch.backtest.period import Period
from shopwatch.backtest.service import Progress, Scores, Sources, run_backtest
from shopwatch.backtest.tally import BacktestResult
from shopwatch.backtest.target import ExpressionRefused, RuleBook, Target
from shopwatch.config import DetectionSettings
from shopwatch.rules.expressions import InvalidExpression


class Backtester:
    def __init__(
        self,
        sources: Sources,
        rule_book: RuleBook,
        scores: Scores,
        settings: DetectionSettings,
        clock: Callable[[], datetime],
    ) -> None:
        self.sources = sources
        self.rule_book = rule_book
        self.scores = scores
        self.settings = settings
        self.clock = clock

    def run(self, target: Target, period: Period, progress: Progress | None = None) -> BacktestResult:
        """Raises ExpressionRefused (checked when asked, but the checker's rules may have moved since) and
        TooManyTransactions (the period and its lookback hold more than the replay keeps)."""
        now = self.clock()
        try:
            matcher = ExpressionMatcher(
                target.expression, self.rule_book.lists(now), now, self.settings.failed_statuses
            )
        except InvalidExpression as invalid:
            raise ExpressionRefused.of(invalid.problems) from None
        return run_backtest(matcher, period, self.sources, self.settings, now, self.scores, progress)
