"""The daily digest: one e-mail per UTC day with the day's alerts by detector and severity, the customers with
the most alerts, what is still open after a day, and how precise the detectors were according to analysts.

The overview paragraph is the language model's when enabled (from counts only: no names, no ids), else a
template; either way the digest goes out. One per day: a rerun of the schedule finds it in the ledger.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from shopwatch.analytics.service import AnalyticsService, Window
from shopwatch.domain.alert import Alert, AlertStatus
from shopwatch.domain.severity import Severity
from shopwatch.domain.text import ascii_json, one_line, sms_text, sns_subject
from shopwatch.narrative.prompts import DIGEST_INSTRUCTIONS, messages
from shopwatch.narrative.writer import NarrativeResult, Narrator
from shopwatch.notify.messages import AlertMessage
from shopwatch.storage.alert_topic import AlertTopic
from shopwatch.storage.alerts import AlertRepository
from shopwatch.storage.notifications import NotificationLedger

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
TOP_CUSTOMERS = 5
STALE_AFTER = timedelta(days=1)
PRECISION_DAYS = 30


@dataclass(frozen=True)
class Digest:
    day: date
    by_detector: dict[str, dict[str, int]]
    top_customers: list[dict[str, Any]]
    stale: list[Alert]
    stale_count: int
    precision: dict[str, Any]
    total: int
    overview: str = ""
    narrative: NarrativeResult = field(default_factory=NarrativeResult)

    def facts(self) -> dict[str, Any]:
        """What the model may see: counts and ratios only."""
        return {
            "date": self.day.isoformat(),
            "alerts": self.total,
            "alerts_by_detector_and_severity": self.by_detector,
            "open_for_more_than_a_day": self.stale_count,
            "precision_last_30_days": self.precision,
        }


def template_overview(digest: Digest) -> str:
    if digest.total == 0:
        opening = f"On {digest.day:%A %d %B %Y} Shopwatch raised no alerts."
    else:
        severities: Counter[str] = Counter()
        for counts in digest.by_detector.values():
            severities.update(counts)
        parts = [f"{severities[s.value]} {s.value}" for s in reversed(Severity) if severities[s.value]]
        busiest = max(digest.by_detector.items(), key=lambda kv: sum(kv[1].values()))
        opening = (
            f"On {digest.day:%A %d %B %Y} Shopwatch raised {digest.total} alert{'s' * (digest.total != 1)} "
            f"({', '.join(parts)}); the busiest detector was {busiest[0]} with {sum(busiest[1].values())}."
        )
    stale = (
        f" {digest.stale_count} alert{'s are' if digest.stale_count != 1 else ' is'} still open after more than a day."
        if digest.stale_count
        else " No alert has been open for more than a day."
    )
    overall = digest.precision.get("overall")
    quality = (
        f" Analysts confirmed {overall:.0%} of the alerts they reviewed in the last {PRECISION_DAYS} days."
        if overall is not None
        else f" No alert was reviewed in the last {PRECISION_DAYS} days, so precision is unknown."
    )
    return opening + stale + quality


def digest_message(digest: Digest, dashboard_url: str = "") -> AlertMessage:
    lines = [digest.overview, "", "Alerts by detector and severity:"]
    for detector, counts in sorted(digest.by_detector.items()):
        detail = ", ".join(f"{counts[s.value]} {s.value}" for s in reversed(Severity) if counts.get(s.value))
        lines.append(f"  - {detector}: {sum(counts.values())} ({detail})")
    if not digest.by_detector:
        lines.append("  (none)")
    lines += ["", "Customers with the most alerts:"]
    lines += [
        f"  - {c['customer']}: {c['alerts']} alert{'s' * (c['alerts'] != 1)}, highest {c['highest']}"
        for c in digest.top_customers
    ] or ["  (none)"]
    lines += ["", f"Open for more than a day: {digest.stale_count}"]
    lines += [f"  - {a.created_at:%Y-%m-%d %H:%M} {a.severity.value}: {a.summary}" for a in digest.stale]
    lines += ["", f"Precision from feedback, last {PRECISION_DAYS} days:"]
    for detector, value in sorted(digest.precision["detectors"].items()):
        lines.append(f"  - {detector}: {'not reviewed yet' if value is None else f'{value:.0%}'}")
    if dashboard_url:
        lines += ["", f"Dashboard: {dashboard_url.rstrip('/')}/"]
    subject = f"[Shopwatch] Daily digest for {digest.day.isoformat()}: {digest.total} alerts"
    sms = f"Shopwatch {digest.day.isoformat()}: {digest.total} alerts, {digest.stale_count} open > 1 day"
    default = {"kind": "digest"} | digest.facts() | {"overview": digest.overview}
    return AlertMessage(
        subject=sns_subject(subject),
        email="\n".join(one_line(line) for line in lines),
        sms=sms_text(sms),
        default=ascii_json(default),
        attributes={"kind": "digest"},
    )


class DigestService:
    def __init__(
        self,
        alerts: AlertRepository,
        analytics: AnalyticsService,
        ledger: NotificationLedger,
        topic: AlertTopic,
        narrator: Narrator | None = None,
        dashboard_url: str = "",
    ) -> None:
        self.alerts = alerts
        self.analytics = analytics
        self.ledger = ledger
        self.topic = topic
        self.narrator = narrator
        self.dashboard_url = dashboard_url

    def compose(self, day: date, now: datetime) -> Digest:
        since = datetime.combine(day, time.min, UTC)
        alerts = self.alerts.created_between(since, since + timedelta(days=1) - timedelta(microseconds=1))
        by_detector: dict[str, dict[str, int]] = {}
        for alert in alerts:
            counts = by_detector.setdefault(alert.detector, {})
            counts[alert.severity.value] = counts.get(alert.severity.value, 0) + 1
        customers: dict[str, list[Alert]] = {}
        for alert in alerts:
            if alert.customer_id:
                customers.setdefault(alert.customer_id, []).append(alert)
        ranked = sorted(customers.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:TOP_CUSTOMERS]
        top = [
            {
                "customer": f"{own[0].customer_name} ({cid})" if own[0].customer_name else cid,
                "alerts": len(own),
                "highest": max((a.severity for a in own), key=lambda s: s.rank).value,
            }
            for cid, own in ranked
        ]
        stale = self._stale(now)
        rows = self.analytics.detectors(Window.days(PRECISION_DAYS, now)).detectors
        confirmed = sum(r.confirmed for r in rows)
        reviewed = confirmed + sum(r.dismissed for r in rows)
        precision = {
            "overall": round(confirmed / reviewed, 4) if reviewed else None,
            "detectors": {r.detector: r.precision for r in rows},
        }
        return Digest(day, by_detector, top, stale[:10], len(stale), precision, len(alerts))

    def _stale(self, now: datetime) -> list[Alert]:
        """Alerts still open or under investigation a day after they were raised, oldest first."""
        stale = [
            alert
            for status in (AlertStatus.OPEN, AlertStatus.INVESTIGATING)
            for alert in self.alerts.created_between(EARLIEST, now - STALE_AFTER, status=status)
        ]
        return sorted(stale, key=lambda a: a.created_at)

    def send(self, day: date, now: datetime) -> tuple[Digest, str | None]:
        """Compose and publish the digest of `day`, once; the message id, or None when it was sent before."""
        key = f"DIGEST#{day.isoformat()}"
        digest = self.compose(day, now)
        if self.ledger.was_sent(key):
            return digest, None
        narrative = NarrativeResult()
        if self.narrator is not None and self.narrator.enabled:
            narrative = self.narrator.write(messages(DIGEST_INSTRUCTIONS, digest.facts()))
        overview = narrative.text or template_overview(digest)
        digest = replace(digest, overview=overview, narrative=narrative)
        message_id = self.topic.publish(digest_message(digest, self.dashboard_url))
        self.ledger.mark_sent(key, message_id, now)
        return digest, message_id
