"""What a detector reports: a finding with a 0–1 score, a severity, reasons with numbers, and a plain sentence."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from shopwatch.domain.severity import Severity

# How strongly each severity counts in the combined risk score when a detector gives no finer score.
SEVERITY_SCORES = {
    Severity.LOW: Decimal("0.25"),
    Severity.MEDIUM: Decimal("0.5"),
    Severity.HIGH: Decimal("0.75"),
    Severity.CRITICAL: Decimal("1.0"),
}


@dataclass(frozen=True)
class Reason:
    code: str
    message: str
    value: str | None = None
    expected: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if v is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reason:
        return cls(
            code=data["code"],
            message=data["message"],
            value=None if data.get("value") is None else str(data["value"]),
            expected=None if data.get("expected") is None else str(data["expected"]),
        )


@dataclass(frozen=True)
class Finding:
    """One detector's verdict on one transaction.

    `description` states the facts without a severity ("Transaction 921: customer Alice Johnson (1) bought
    Laptop for 500.00 USD, 99.0% below its catalog price of 50,000.00 USD"); the alert adds the severity that
    the scorer settles on, so the sentence never contradicts the alert.
    """

    detector: str
    severity: Severity
    reasons: tuple[Reason, ...]
    description: str
    score: Decimal | None = None
    model_version: str | None = None  # the trained model that judged, for findings of the model detector

    @property
    def strength(self) -> Decimal:
        return self.score if self.score is not None else SEVERITY_SCORES[self.severity]

    def to_dict(self) -> dict[str, Any]:
        data = {
            "detector": self.detector,
            "severity": self.severity.value,
            "score": str(self.strength),
            "reasons": [r.to_dict() for r in self.reasons],
            "description": self.description,
        }
        if self.model_version is not None:
            data["model_version"] = self.model_version
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(
            detector=data["detector"],
            severity=Severity.parse(data["severity"]),
            reasons=tuple(Reason.from_dict(r) for r in data["reasons"]),
            description=data["description"],
            score=Decimal(str(data["score"])),
            model_version=data.get("model_version"),
        )


def transaction_finding(
    detector: str, transaction_id: str, customer_label: str, severity: Severity, reasons: list[Reason], score: Decimal
) -> Finding:
    """A finding whose sentence is the transaction, its customer and each reason's message in turn (the entity
    detectors' shape: every reason already names the entity and the counts)."""
    return Finding(
        detector=detector,
        severity=severity,
        reasons=tuple(reasons),
        description=f"Transaction {transaction_id} by {customer_label}: " + "; ".join(r.message for r in reasons),
        score=score,
    )


DETECTOR_LABELS = {
    "price": "price anomaly",
    "velocity": "transaction velocity anomaly",
    "failed_payment": "failed payment",
    "geo": "unusual country",
    "quantity": "quantity spike",
    "model": "model outlier",
    "shared_identity": "shared identity",
    "new_account": "new-account risk",
    "entity_velocity": "entity velocity",
    "country_mismatch": "country mismatch",
    "status_mix": "payment status mix anomaly",
    "volume": "sales volume anomaly",
    "model_drift": "model drift (operations)",
    "rule": "analyst rule",  # shopwatch.rules.findings: the shop's own CEL rules
    "block_list": "block list",
}


def percent(ratio: Decimal) -> str:
    return f"{abs(ratio) * 100:.1f}%"
