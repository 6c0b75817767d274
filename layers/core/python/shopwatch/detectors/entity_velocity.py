"""Velocity on any entity: a ring of accounts firing from one device, card, IP or e-mail within seconds, and card
testing spread over several accounts. The customer-keyed velocity detector sees one account at a time, so two
to four accounts buying in one minute on one device pass it; keyed by the device they are one burst.
"""

from __future__ import annotations

from decimal import Decimal

from shopwatch.config import DetectionSettings
from shopwatch.detectors.findings import Finding, Reason, transaction_finding
from shopwatch.detectors.history import DetectionInput
from shopwatch.domain.severity import Severity

DETECTOR = "entity_velocity"
# Not the IP: a carrier's NAT puts thousands of people behind one address, and two of them buying in the same
# minute is ordinary. The IP still counts failed attempts across accounts (card testing from one address).
RING_KINDS = ("device", "card", "email")
FAILURE_KINDS = ("card", "ip", "device")


def detect(data: DetectionInput, settings: DetectionSettings) -> Finding | None:
    tx = data.tx
    views = data.views
    reasons: list[Reason] = []
    severity: Severity | None = None
    score = Decimal(0)
    for kind in dict.fromkeys(RING_KINDS + FAILURE_KINDS):
        view = views.get(kind)
        if view is None:
            continue
        burst, accounts = view.transactions("1m"), view.accounts("1h")
        if kind in RING_KINDS and burst >= settings.ring_min_transactions and len(accounts) >= 2:
            found = Severity.HIGH if burst >= 2 * settings.ring_min_transactions else Severity.MEDIUM
            severity = found if severity is None else max(severity, found)
            score = max(score, min(Decimal(1), Decimal("0.35") + Decimal("0.15") * (burst - 1)))
            reasons.append(
                Reason(
                    code=f"ring_{kind}",
                    message=f"{burst} transactions within a minute on {view.key.label}, "
                    f"which {len(accounts)} accounts used within the hour",
                    value=str(burst),
                    expected=f"fewer than {settings.ring_min_transactions} from several accounts",
                )
            )
        failures = view.failures("1h", settings.failed_statuses)
        if (
            kind in FAILURE_KINDS
            and tx.status in settings.failed_statuses
            and failures >= settings.entity_max_failures
            and len(accounts) >= 2  # one account's card testing is the velocity detector's
        ):
            severity = Severity.HIGH if severity is None else max(severity, Severity.HIGH)
            score = max(score, min(Decimal(1), Decimal(failures) / Decimal(2 * settings.entity_max_failures)))
            reasons.append(
                Reason(
                    code=f"failures_{kind}",
                    message=f"{failures} failed or denied attempts on {view.key.label} within the hour "
                    f"({len(accounts)} accounts)",
                    value=str(failures),
                    expected=f"fewer than {settings.entity_max_failures}",
                )
            )
    if severity is None:
        return None
    return transaction_finding(DETECTOR, tx.transaction_id, tx.customer_label, severity, reasons, score)
