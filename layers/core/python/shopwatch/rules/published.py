"""The published rules and lists as each function sees them: read at most once a minute (a change is live within
RULES_REFRESH_SECONDS), compiled once per read, shared by every transaction in between.

Why a time-based refresh and not a version check per request: IngestFunction answers the checkout, and a read
per request would add a DynamoDB round trip to every 202; a minute's delay for a new rule is what the issue
allows. A read that fails keeps the engine it has (and says so in the log): rules stop changing, detection and
checkout go on. With no engine yet, the failure is raised: nothing silently runs without the shop's rules.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from aws_lambda_powertools import Logger

from shopwatch.rules.definitions import Rule, RuleList
from shopwatch.rules.engine import RuleEngine

logger = Logger(child=True)


class Snapshot(Protocol):
    """What a load gives (storage.rules.Published): the rules and lists, and what was left out past a limit."""

    @property
    def rules(self) -> Sequence[Rule]: ...

    @property
    def lists(self) -> Sequence[RuleList]: ...

    @property
    def truncated(self) -> Sequence[str]: ...


Loader = Callable[[datetime], Snapshot]
DEFAULT_REFRESH_SECONDS = 60


class PublishedRules:
    def __init__(self, load: Loader, clock: Callable[[], datetime], refresh_seconds: int = DEFAULT_REFRESH_SECONDS):
        self._load = load
        self._clock = clock
        self._refresh = timedelta(seconds=refresh_seconds)
        self._engine: RuleEngine | None = None
        self._loaded_at: datetime | None = None

    def engine(self) -> RuleEngine:
        now = self._clock()
        if self._engine is None or self._loaded_at is None or now - self._loaded_at >= self._refresh:
            try:
                snapshot = self._load(now)
                self._engine = RuleEngine(snapshot.rules, snapshot.lists, now)
                if snapshot.truncated:
                    logger.error(
                        "rules or lists past their limits were left out", extra={"left_out": snapshot.truncated}
                    )
                if self._engine.broken:
                    logger.error("stored rules that no longer compile are skipped", extra=self._engine.broken)
            except Exception:
                if self._engine is None:
                    raise
                logger.exception("rules could not be read; the rules read before stay in force")
            self._loaded_at = now
        return self._engine
