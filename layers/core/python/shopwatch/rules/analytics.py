"""How each rule did: matches per day (active and shadow apart) and precision against what the shop learned.

Ground truth is the training's: `merged_labels` joins labels reported on transactions (chargebacks, complaints)
with analysts' feedback on alerts, a transaction's own label winning. A rule's precision is the share of fraud
among its matched transactions that carry a label; unlabelled matches count in neither (they are not "legitimate"
by themselves). Shadow matches are included: shadow is where a rule earns its precision before it is published.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from shopwatch.analytics.service import Window
from shopwatch.rules.definitions import RuleMode
from shopwatch.storage.alerts import AlertRepository
from shopwatch.storage.labels import LabelRepository
from shopwatch.storage.rule_matches import RuleMatchRepository
from shopwatch.storage.rules import RuleRepository, StoredRule
from shopwatch.training.labels import FRAUD, LEGITIMATE, merged_labels


@dataclass(frozen=True)
class DayMatches:
    day: str  # YYYY-MM-DD (UTC)
    mode: RuleMode
    matches: int


@dataclass(frozen=True)
class RuleStats:
    stored: StoredRule
    per_day: tuple[DayMatches, ...]  # by day, then mode
    matches: int  # while active
    shadow_matches: int
    labelled_fraud: int  # matched transactions (any mode) labelled fraud
    labelled_legitimate: int

    @property
    def precision(self) -> float | None:
        labelled = self.labelled_fraud + self.labelled_legitimate
        return round(self.labelled_fraud / labelled, 4) if labelled else None


class RuleAnalytics:
    def __init__(
        self,
        rules: RuleRepository,
        matches: RuleMatchRepository,
        labels: LabelRepository,
        alerts: AlertRepository,
    ) -> None:
        self.rules = rules
        self.matches = matches
        self.labels = labels
        self.alerts = alerts

    def per_rule(self, days: int, now: datetime) -> tuple[Window, list[RuleStats]]:
        """Every rule (disabled ones too: they may have matched in the window), over the last `days` days."""
        window = Window.days(days, now)
        since = window.since.date()
        # analysts' feedback on the window's alerts (a matched transaction's alert is raised as it is matched)
        reviewed = [alert for alert in self.alerts.created_between(window.since, now) if alert.feedback]
        labels = merged_labels(self.labels.all(), reviewed)
        return window, [self._stats(stored, since, labels) for stored in self.rules.all()]

    def _stats(self, stored: StoredRule, since: date, labels: dict[str, str]) -> RuleStats:
        rule_id = stored.rule.rule_id
        rows = self.matches.per_day(rule_id, since)
        per_day = sorted(
            (DayMatches(row["day"], RuleMode(row["mode"]), int(row["matches"])) for row in rows),
            key=lambda d: (d.day, d.mode.value),
        )
        matched = {transaction_id for transaction_id, _mode, _day in self.matches.matched(rule_id, since)}
        verdicts = [labels[t] for t in matched if t in labels]
        return RuleStats(
            stored=stored,
            per_day=tuple(per_day),
            matches=_total(per_day, RuleMode.ACTIVE),
            shadow_matches=_total(per_day, RuleMode.SHADOW),
            labelled_fraud=verdicts.count(FRAUD),
            labelled_legitimate=verdicts.count(LEGITIMATE),
        )


def _total(per_day: Sequence[DayMatches], mode: RuleMode) -> int:
    return sum(d.matches for d in per_day if d.mode == mode)
