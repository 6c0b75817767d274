"""Velocity: bots and card testing (seed 000's spam detection).

N or more transactions by one customer within T seconds look like a bot; K or more failed attempts within a
longer window look like card testing. Twice the limit is critical.
"""

from __future__ import annotations

from decimal import Decimal

from shopwatch.config import DetectionSettings
from shopwatch.detectors.findings import Finding, Reason
from shopwatch.detectors.history import DetectionInput
from shopwatch.domain.severity import Severity

DETECTOR = "velocity"


def detect(data: DetectionInput, settings: DetectionSettings) -> Finding | None:
    tx = data.tx
    reasons: list[Reason] = []
    severity: Severity | None = None
    score = Decimal(0)

    burst = data.recent_within(settings.velocity_window_seconds)
    limit = settings.velocity_max_transactions
    if len(burst) >= limit:
        severity = Severity.CRITICAL if len(burst) >= 2 * limit else Severity.HIGH
        score = min(Decimal(1), Decimal(len(burst)) / Decimal(2 * limit))
        reasons.append(
            Reason(
                code="rapid_transactions",
                message=f"{len(burst)} transactions within {settings.velocity_window_seconds} seconds",
                value=str(len(burst)),
                expected=f"fewer than {limit}",
            )
        )

    failures = data.recent_within(settings.card_testing_window_seconds, settings.failed_statuses)
    max_failures = settings.card_testing_max_failures
    if tx.status in settings.failed_statuses and len(failures) >= max_failures:
        testing = Severity.CRITICAL if len(failures) >= 2 * max_failures else Severity.HIGH
        severity = testing if severity is None or testing > severity else severity
        score = max(score, min(Decimal(1), Decimal(len(failures)) / Decimal(2 * max_failures)))
        reasons.append(
            Reason(
                code="repeated_failures",
                message=f"{len(failures)} failed or denied attempts within "
                f"{settings.card_testing_window_seconds} seconds (card testing)",
                value=str(len(failures)),
                expected=f"fewer than {max_failures}",
            )
        )
    if severity is None:
        return None
    minute = tx.timestamp.strftime("%B %-d, %Y at %H:%M UTC")
    return Finding(
        detector=DETECTOR,
        severity=severity,
        reasons=tuple(reasons),
        description=f"{tx.customer_label[:1].upper()}{tx.customer_label[1:]} made "
        + " and ".join(r.message for r in reasons)
        + f" ({minute})",
        score=score,
    )
