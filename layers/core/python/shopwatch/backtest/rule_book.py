"""Saved rules and the shop's lists as a backtest reads them: the rules API's repositories in StateTable."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from shopwatch.rules.definitions import Rule, RuleList
from shopwatch.storage.rules import PublishedReader, RuleRepository


class StoredRuleBook:
    def __init__(self, table_name: str) -> None:
        self.rules = RuleRepository(table_name)
        self.published = PublishedReader(table_name)

    def rule(self, rule_id: str, version: int | None) -> Rule | None:
        if version is None:
            stored = self.rules.get(rule_id)
            return stored.rule if stored is not None else None
        found = self.rules.version(rule_id, version)
        return found.rule if found is not None else None

    def lists(self, now: datetime) -> Sequence[RuleList]:
        """Every list with its unexpired entries, as the engine in production has them."""
        return self.published.load_published(now).lists
