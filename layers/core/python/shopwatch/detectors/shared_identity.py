"""Shared identity: one device, card, IP or e-mail used by several accounts, or one account cycling through several
cards or devices: how account-takeover rings and fake-account farms show up. Judges a first purchase too: all it
needs is the entity's history, not the customer's.

Thresholds are per kind because sharing means different things: two accounts on one card or device is unusual,
while several on one IP is a household or an office behind NAT. Networks (/24, /64) are never judged for sharing
here (a mobile carrier puts thousands of people on one); they feed the new-account burst check instead.
"""

from __future__ import annotations

from decimal import Decimal

from shopwatch.config import DetectionSettings
from shopwatch.detectors.findings import Finding, Reason, transaction_finding
from shopwatch.detectors.history import DetectionInput
from shopwatch.domain.severity import Severity

DETECTOR = "shared_identity"
_SHARED_SEVERITY = ((10, Severity.HIGH), (5, Severity.MEDIUM))


def detect(data: DetectionInput, settings: DetectionSettings) -> Finding | None:
    tx = data.tx
    views = data.views
    reasons: list[Reason] = []
    severity = Severity.LOW
    score = Decimal(0)
    for kind, minimum in sorted(settings.shared_identity_min_accounts.items()):
        view = views.get(kind)
        if view is None:
            continue
        accounts = view.accounts("30d")
        if len(accounts) < minimum:
            continue
        others = sorted(accounts - {tx.customer_id})
        named = ", ".join(others[:5]) + (f" and {len(others) - 5} more" if len(others) > 5 else "")
        reasons.append(
            Reason(
                code=f"shared_{kind}",
                message=f"{view.key.label} was used by {len(accounts)} accounts in 30 days (also {named})",
                value=str(len(accounts)),
                expected=f"fewer than {minimum}",
            )
        )
        severity = max(severity, next((s for n, s in _SHARED_SEVERITY if len(accounts) >= n), Severity.LOW))
        score = max(score, min(Decimal(1), settings.shared_identity_score_per_account * (len(accounts) - 1)))
    account = views["customer"]
    for kind, maximum in sorted(settings.account_max_linked.items()):
        linked = account.history.linked(kind, "1h" if kind == "card" else "30d", tx.timestamp)
        current = views.get(kind)
        if current is not None:
            linked = linked | {current.key.value}
        if len(linked) <= maximum:
            continue
        window = "an hour" if kind == "card" else "30 days"
        reasons.append(
            Reason(
                code=f"many_{kind}s",
                message=f"the account used {len(linked)} different {kind}s within {window}",
                value=str(len(linked)),
                expected=f"at most {maximum}",
            )
        )
        severity = max(severity, Severity.MEDIUM if kind == "card" else Severity.LOW)
        score = max(score, min(Decimal(1), Decimal("0.15") * (len(linked) - maximum) + Decimal("0.25")))
    if not reasons:
        return None
    return transaction_finding(DETECTOR, tx.transaction_id, tx.customer_label, severity, reasons, score)
