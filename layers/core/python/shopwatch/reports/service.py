"""Seed 000's natural-language reports: one detector's alerts of one UTC day, each as a sentence an owner
reads without a dashboard ("Transaction 921: Alice Johnson (1) bought Laptop for 500.00 INR, 99.0% below its
catalog price..."), as JSON or as plain text. Template sentences, so a report reads well with no model at all."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from shopwatch.detectors.findings import DETECTOR_LABELS
from shopwatch.domain.alert import Alert, AlertStatus
from shopwatch.domain.text import one_line
from shopwatch.errors import NotFound, ValidationFailed
from shopwatch.storage.alerts import AlertRepository

FIRST_DAY = date(2000, 1, 1)  # ingest refuses older timestamps, so no alert is older
_FULL_DATE = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
)  # ASCII, and not the week form "2025-W01-1" that date.fromisoformat also reads
TITLES = {
    "price": "Price anomalies",
    "volume": "Low and high sales periods",
    "velocity": "Spam and bot customers",
    "failed_payment": "Failed transactions",
    "status_mix": "Failed-payment spikes",
    "geo": "Purchases from unusual countries",
    "quantity": "Quantity spikes",
    "model": "Model outliers",
    "shared_identity": "Devices, cards, IPs and e-mails shared by several accounts",
    "new_account": "Purchases by brand-new accounts",
    "entity_velocity": "Rings of accounts firing together",
    "country_mismatch": "Buyer, billing and shipping countries that disagree",
}


def report_line(alert: Alert) -> str:
    """`HH:MM UTC, SEVERITY: <the summary's facts>` plus how often, and the analyst's verdict when there is one;
    one line whatever the customer's name or the SKU's name holds."""
    facts = alert.summary.rsplit(": ", 1)[0]  # the summary without its trailing "<severity> <label>"
    line = f"{alert.created_at:%H:%M} UTC, {alert.severity.value.upper()}: {facts}"
    if alert.occurrences > 1:
        line += f" ({alert.occurrences} times)"
    if alert.status is not AlertStatus.OPEN:
        line += f" [{alert.status.value.replace('_', ' ')}]"
    return one_line(line + ".")


@dataclass(frozen=True)
class Report:
    """One detector's alerts of one UTC day, oldest first, with a sentence per alert."""

    detector: str
    title: str
    day: date
    lines: list[str]
    alerts: list[Alert]

    @property
    def count(self) -> int:
        return len(self.alerts)


def report_text(report: Report) -> str:
    header = f"{report.title} on {report.day.isoformat()}: {report.count}"
    if not report.count:
        return f"{header}. Nothing to report.\n"
    return header + "\n" + "\n".join(report.lines) + "\n"


class ReportService:
    def __init__(self, alerts: AlertRepository) -> None:
        self.alerts = alerts

    def report(self, detector: str, day_text: str | None, now: datetime) -> Report:
        if detector not in DETECTOR_LABELS:
            raise NotFound(f"no report {detector!r}", {"reports": sorted(DETECTOR_LABELS)})
        day = self._day(day_text, now)
        alerts = self._alerts_of(day, detector) if FIRST_DAY <= day <= now.date() else []
        return Report(detector, TITLES[detector], day, [report_line(a) for a in alerts], alerts)

    def _alerts_of(self, day: date, detector: str) -> list[Alert]:
        since = datetime.combine(day, time.min, UTC)
        alerts = self.alerts.created_between(since, since + timedelta(days=1) - timedelta(microseconds=1), detector)
        return sorted(alerts, key=lambda a: (a.created_at, a.alert_id))

    @staticmethod
    def _day(text: str | None, now: datetime) -> date:
        """Any full-date (RFC 3339), as the schema says; a day before any alert or still to come simply has none."""
        if text is None:
            return now.date()
        try:
            if not _FULL_DATE.match(text):
                raise ValueError(text)
            return date.fromisoformat(text)
        except ValueError:
            raise ValidationFailed("date must be YYYY-MM-DD", {"field": "date", "value": text}) from None
