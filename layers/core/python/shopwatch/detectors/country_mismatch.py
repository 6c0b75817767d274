"""Country mismatch: where the buyer is (`country`, which shops usually take from the IP address), the card's
billing country and the shipping country disagree. One difference is common (gifts, travel): low, it adds to
the risk score; three different countries is medium. Needs no history, so it judges a first purchase.
"""

from __future__ import annotations

from decimal import Decimal

from shopwatch.config import DetectionSettings
from shopwatch.detectors.findings import Finding, Reason
from shopwatch.detectors.history import DetectionInput
from shopwatch.domain.geography import country_name
from shopwatch.domain.severity import Severity

DETECTOR = "country_mismatch"


def detect(data: DetectionInput, settings: DetectionSettings) -> Finding | None:
    tx = data.tx
    places = {
        "buyer's country": tx.country,
        "billing country": tx.billing_country,
        "shipping country": tx.shipping_country,
    }
    known = {name: code for name, code in places.items() if code}
    distinct = set(known.values())
    if len(known) < 2 or len(distinct) < 2:
        return None
    described = ", ".join(f"{name} {country_name(code)}" for name, code in known.items())
    three = len(distinct) >= 3
    return Finding(
        detector=DETECTOR,
        severity=Severity.MEDIUM if three else Severity.LOW,
        reasons=(
            Reason(
                code="country_mismatch",
                message=f"the countries disagree: {described}",
                value=",".join(known.values()),
                expected="one country",
            ),
        ),
        description=f"Transaction {tx.transaction_id} by {tx.customer_label}: the countries disagree ({described})",
        score=Decimal("0.5") if three else Decimal("0.2"),
    )
