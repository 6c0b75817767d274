"""Per-protocol message bodies for SNS (MessageStructure=json): full e-mail text, one SMS, JSON for every other
protocol (SQS, Lambda, HTTPS). What a customer controls reaches each of them only through shopwatch.domain.text:
the subject by AWS's Subject rule, the SMS within one message, every e-mail line on one line; the JSON body
keeps the exact values, with every character outside printable ASCII escaped."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from shopwatch.detectors.findings import DETECTOR_LABELS
from shopwatch.domain.alert import Alert
from shopwatch.domain.clock import to_iso
from shopwatch.domain.text import ascii_json, one_line, sms_text, sns_subject
from shopwatch.notify.sms import SmsTurn


@dataclass(frozen=True)
class AlertMessage:
    subject: str
    email: str
    sms: str
    default: str
    attributes: dict[str, str]

    def structure(self) -> str:
        return json.dumps({"default": self.default, "email": self.email, "sms": self.sms})


def _label(alert: Alert) -> str:
    return DETECTOR_LABELS.get(alert.detector, alert.detector)


def _who(alert: Alert) -> str:
    if alert.customer_name and alert.customer_id:
        return f"{alert.customer_name} ({alert.customer_id})"
    return f"customer {alert.customer_id}" if alert.customer_id else alert.subject


def build_message(
    alert: Alert, *, escalated: bool, dashboard_url: str = "", sms: SmsTurn | None = None
) -> AlertMessage:
    """`sms`: the SMS budget's verdict (None: not an SMS severity); its `sms` attribute is what the SMS
    subscription filters on, and what it held back since the last SMS ends this one's text."""
    headline = f"{alert.severity.value.upper()} {_label(alert)}"
    subject = sns_subject(f"[Shopwatch] {'Escalated: ' if escalated else ''}{headline} - {_who(alert)}")
    occurrences = (
        f"{alert.occurrences} occurrences between {alert.window_start:%H:%M} and {alert.window_end:%H:%M} UTC"
        if alert.occurrences > 1
        else "1 occurrence"
    )
    lines = [
        alert.summary + ".",
        "",
        f"Severity: {alert.severity.value}{' (escalated)' if escalated else ''}",
        f"Risk score: {alert.risk_score}/100",
        f"Detector: {alert.detector}",
        f"Customer: {_who(alert)}",
        f"Occurrences: {occurrences}",
        f"Transactions: {', '.join(alert.transaction_ids[:20])}{' …' if len(alert.transaction_ids) > 20 else ''}",
        "",
        "Why:",
        *(f"  - {r.message}" for r in alert.reasons),
    ]
    if alert.narrative:
        lines += ["", alert.narrative]
    lines += ["", f"Alert {alert.alert_id}, status {alert.status.value}, raised {to_iso(alert.created_at)}."]
    if dashboard_url:
        lines.append(f"Triage it at {dashboard_url.rstrip('/')}/#/alerts/{alert.alert_id}")
    facts = alert.summary.rsplit(": ", 1)[0]  # the summary without its trailing "<severity> <label>"
    held = sms.summary() if sms is not None else ""
    default = ascii_json(_payload(alert, escalated), default=_json_default)
    return AlertMessage(
        subject=subject,
        email="\n".join(one_line(line) for line in lines),
        sms=sms_text(f"Shopwatch {headline}: {facts}", held),
        default=default,
        attributes={
            "severity": alert.severity.value,
            "detector": alert.detector,
            "sms": sms.attribute if sms is not None else "none",
        },
    )


def _payload(alert: Alert, escalated: bool) -> dict[str, Any]:
    item = alert.to_item()
    keep = (
        "alert_id", "detector", "severity", "risk_score", "customer_id", "customer_name", "subject",
        "transaction_ids", "window_start", "window_end", "reasons", "summary", "narrative", "status",
        "occurrences", "created_at", "updated_at",
    )  # fmt: skip
    return {k: item[k] for k in keep if k in item} | {"escalated": escalated}


def _json_default(value: object) -> str:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")
