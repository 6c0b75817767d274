"""Which alert changes become messages: new alerts and severity escalations at or above the configured
severity, at most one per subject + detector per quiet period (a more severe one always gets through), and
never the same event twice. SMS pages are budgeted on top: at most one per `sms_period_seconds` per recipient;
an alert held back from SMS still goes by e-mail, and is summarised in the next SMS."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from botocore.exceptions import BotoCoreError, ClientError

from shopwatch.config import NotifySettings
from shopwatch.domain.alert import Alert
from shopwatch.domain.clock import utcnow
from shopwatch.narrative.facts import alert_facts
from shopwatch.narrative.prompts import ALERT_INSTRUCTIONS, messages
from shopwatch.narrative.writer import NarrativeResult, Narrator
from shopwatch.notify.messages import build_message
from shopwatch.notify.sms import SmsTurn, held_entry
from shopwatch.storage.alert_topic import AlertTopic
from shopwatch.storage.alerts import AlertRepository
from shopwatch.storage.notifications import NotificationLedger
from shopwatch.storage.sms_budget import SmsBudget

TIME_MARGIN_SECONDS = 5.0  # left for the publish and the ledger after the longest narrative wait


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
    narrative: NarrativeResult = field(default_factory=NarrativeResult)
    sms: SmsTurn | None = None  # the SMS budget's verdict, for alerts of an SMS severity


class NotificationService:
    def __init__(
        self,
        ledger: NotificationLedger,
        topic: AlertTopic,
        settings: NotifySettings,
        clock: Callable[[], datetime] = utcnow,
        narrator: Narrator | None = None,
        alerts: AlertRepository | None = None,
        sms_budget: SmsBudget | None = None,
    ) -> None:
        self.ledger = ledger
        self.topic = topic
        self.settings = settings
        self.clock = clock
        self.narrator = narrator
        self.alerts = alerts
        self.sms_budget = sms_budget

    def _narrative(self, alert: Alert, seconds_left: Callable[[], float] | None) -> NarrativeResult:
        """The model's explanation when enabled and worth it; never longer than its timeout."""
        if self.narrator is None or not self.narrator.enabled:
            return NarrativeResult()
        settings = self.narrator.settings
        if alert.severity < settings.min_severity:
            return NarrativeResult()
        if seconds_left is not None and seconds_left() < settings.timeout_seconds + TIME_MARGIN_SECONDS:
            return NarrativeResult(cause="not enough of the invocation's time left to wait for the model")
        return self.narrator.write(messages(ALERT_INSTRUCTIONS, alert_facts(alert, settings.include_customer_name)))

    def _keep(self, alert: Alert, narrative: NarrativeResult) -> NarrativeResult:
        """Store the narrative on the alert; a failure here is reported, not raised: the message is out."""
        if narrative.text is None or self.alerts is None or self.narrator is None:
            return narrative
        try:
            self.alerts.set_narrative(alert.alert_id, narrative.text, self.narrator.settings.model)
        except (ClientError, BotoCoreError) as exc:
            return replace(narrative, cause=f"sent, but not stored on the alert: {exc}")
        return narrative

    def handle(self, new: Alert, old: Alert | None, seconds_left: Callable[[], float] | None = None) -> NotifyResult:
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
        sms = self._sms_turn(new, event_key, now)
        narrative = self._narrative(new, seconds_left)
        told = replace(new, narrative=narrative.text) if narrative.text else new
        message_id = self.topic.publish(
            build_message(told, escalated=escalated, dashboard_url=self.settings.dashboard_url, sms=sms)
        )
        self.ledger.mark_sent(event_key, message_id, now)
        return NotifyResult(new.alert_id, Decision.SENT, message_id, self._keep(new, narrative), sms)

    def _sms_turn(self, alert: Alert, event_key: str, now: datetime) -> SmsTurn | None:
        """Whether this alert may page by SMS now; None when its severity does not go by SMS at all."""
        if self.sms_budget is None or alert.severity not in self.settings.sms_severities:
            return None
        period = timedelta(seconds=self.settings.sms_period_seconds)
        entry = held_entry(alert.detector, event_key)
        return self.sms_budget.take_turn(self.settings.sms_recipient, entry, event_key, now, period)
