"""Which alert changes become messages: new alerts and severity escalations at or above the configured
severity, at most one per subject + detector per quiet period (a more severe one always gets through), and
never the same event twice."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from shopwatch.config import NotifySettings
from shopwatch.domain.alert import Alert
from shopwatch.domain.clock import utcnow
from shopwatch.notify.messages import build_message
from shopwatch.storage.alert_topic import AlertTopic
from shopwatch.storage.notifications import NotificationLedger


class Decision(StrEnum):
    SENT = "sent"
    ALREADY_SENT = "already_sent"
    QUIET = "quiet_period"
    BELOW_MIN_SEVERITY = "below_min_severity"
    NOT_NEWS = "not_news"


@dataclass(frozen=True)
class NotifyResult:
    alert_id: str
    decision: Decision
    message_id: str | None = None


class NotificationService:
    def __init__(
        self,
        ledger: NotificationLedger,
        topic: AlertTopic,
        settings: NotifySettings,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.ledger = ledger
        self.topic = topic
        self.settings = settings
        self.clock = clock

    def handle(self, new: Alert, old: Alert | None) -> NotifyResult:
        escalated = old is not None and new.severity > old.severity
        if old is not None and not escalated:
            return NotifyResult(new.alert_id, Decision.NOT_NEWS)
        if new.severity < self.settings.min_severity:
            return NotifyResult(new.alert_id, Decision.BELOW_MIN_SEVERITY)
        event_key = f"{new.alert_id}#{new.severity.rank}"
        if self.ledger.was_sent(event_key):
            return NotifyResult(new.alert_id, Decision.ALREADY_SENT)
        now = self.clock()
        quiet = timedelta(seconds=self.settings.quiet_period_seconds)
        if not self.ledger.claim_quiet_slot(new.subject, new.detector, new.severity.rank, event_key, now, quiet):
            return NotifyResult(new.alert_id, Decision.QUIET)
        message_id = self.topic.publish(
            build_message(new, escalated=escalated, dashboard_url=self.settings.dashboard_url)
        )
        self.ledger.mark_sent(event_key, message_id, now)
        return NotifyResult(new.alert_id, Decision.SENT, message_id)
