"""New-account risk: a purchase moments after the account was opened, and bursts of brand-new accounts buying
from one device, IP or network.

Why "within a minute" is medium on its own: a person who signs up reads, browses and fills a checkout form, which
takes minutes; a script signs up and pays in seconds. Within the first hour the age only raises the risk score.
Shops that open the account at checkout (so every first order is seconds old) should send account_created_at
only for accounts that existed before the order, or set NEW_ACCOUNT_INSTANT_SECONDS=0.
"""

from __future__ import annotations

from decimal import Decimal

from shopwatch.config import DetectionSettings
from shopwatch.detectors.entities import account_age_seconds
from shopwatch.detectors.findings import Finding, Reason, transaction_finding
from shopwatch.detectors.history import DetectionInput
from shopwatch.domain.severity import Severity

DETECTOR = "new_account"
BURST_KINDS = ("device", "ip", "ipnet", "card")


def _age_text(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} seconds"
    if seconds < 7200:
        return f"{seconds / 60:.0f} minutes"
    return f"{seconds / 3600:.1f} hours"


def detect(data: DetectionInput, settings: DetectionSettings) -> Finding | None:
    tx = data.tx
    age = account_age_seconds(tx)
    if age is None:
        return None
    reasons: list[Reason] = []
    severity = Severity.LOW
    score = Decimal(0)
    if age < settings.new_account_instant_seconds:
        severity, score = Severity.MEDIUM, settings.new_account_instant_score
        reasons.append(
            Reason(
                code="instant_purchase",
                message=f"the account was opened {_age_text(age)} before this purchase",
                value=f"{age:.0f}",
                expected=f"at least {settings.new_account_instant_seconds} seconds",
            )
        )
    elif age < settings.new_account_max_age_seconds:
        score = Decimal("0.3") * Decimal(1 - age / settings.new_account_max_age_seconds)
        reasons.append(
            Reason(
                code="new_account",
                message=f"the account was opened {_age_text(age)} before this purchase",
                value=f"{age:.0f}",
                expected=f"at least {settings.new_account_max_age_seconds} seconds",
            )
        )
    views = data.views
    for kind in BURST_KINDS:
        view = views.get(kind)
        if view is None:
            continue
        fresh = view.new_account_transactions("24h")
        if fresh >= settings.new_account_burst:
            severity = max(severity, Severity.HIGH)
            score = max(score, Decimal("0.8"))
            reasons.append(
                Reason(
                    code="new_account_burst",
                    message=f"{fresh} purchases by accounts younger than a day from {view.key.label} in 24 hours",
                    value=str(fresh),
                    expected=f"fewer than {settings.new_account_burst}",
                )
            )
            break
    if not reasons:
        return None
    return transaction_finding(DETECTOR, tx.transaction_id, tx.customer_label, severity, reasons, score)
