"""Failed payments: a customer's repeated failed payments are reported (low), a burst escalates (seeds 000, 003).

A lone failed payment is not reported: cards are mistyped, expire and are declined every day, and reporting
each one was most of the demo's low alerts (616 for about 3,000 transactions, issue 16). From the
`failed_report_min`-th failure within the burst window it is (1 reports every one, as seeds 000 and 003 did).
Three or four failures in ten minutes are a person retrying a declined card: reported low; from five they
page (at three they were the demo's false alerts). Card testing, attempts seconds apart, is the velocity
detector's (`card_testing_max_failures` within `card_testing_window_seconds`).
A lone failure still counts toward the customer's bursts and card testing, and a shop-wide wave of them is
the status-mix detector's.
"""

from __future__ import annotations

from shopwatch.config import DetectionSettings
from shopwatch.detectors.findings import Finding, Reason
from shopwatch.detectors.history import DetectionInput
from shopwatch.domain.money import format_money
from shopwatch.domain.severity import Severity

DETECTOR = "failed_payment"


def detect(data: DetectionInput, settings: DetectionSettings) -> Finding | None:
    tx = data.tx
    if tx.status not in settings.failed_statuses:
        return None
    failures = data.recent_within(settings.failed_burst_window_seconds, settings.failed_statuses)
    if len(failures) < settings.failed_report_min:
        return None
    severity = Severity.LOW
    for level, count in sorted(settings.failed_burst_thresholds.items(), key=lambda kv: kv[0].rank):
        if len(failures) >= count:
            severity = level
    products = ", ".join(dict.fromkeys(i.label for i in tx.items)) or "no items listed"
    reasons = [
        Reason(
            code=f"payment_{tx.status}",
            message=f"payment {tx.status} for {format_money(tx.amount)} {tx.currency}",
            value=tx.status,
            expected="approved",
        )
    ]
    if len(failures) > 1:
        reasons.append(
            Reason(
                code="failure_burst",
                message=f"{len(failures)} failed or denied payments within {settings.failed_burst_window_seconds} seconds",
                value=str(len(failures)),
                expected="1",
            )
        )
    return Finding(
        detector=DETECTOR,
        severity=severity,
        reasons=tuple(reasons),
        description=f"Transaction {tx.transaction_id} {tx.status}: {tx.customer_label}, "
        f"{format_money(tx.amount)} {tx.currency} ({products})"
        + (
            f", {len(failures)} failures within {settings.failed_burst_window_seconds // 60} minutes"
            if len(failures) > 1
            else ""
        ),
    )
