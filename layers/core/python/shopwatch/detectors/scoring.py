"""The risk scorer: several detectors' findings on one transaction → one risk score 0–100 and severities.

risk = 100 × (1 − Π (1 − weight_d × score_d) × Π (1 − signal_s)), a noisy-OR: each detector's evidence and each
weak signal (`detectors/signals.py`: account age, linked accounts, the model's isolation) raises the risk, none
can push it past 100, and weights say how much each detector is trusted. The signals make the score rank every
transaction, also those no rule fires on; they never pick the primary finding. The combined risk can raise the severity
of the transaction's primary finding (the strongest weighted one) to the risk's severity band; the other
findings keep their own severity, so one odd transaction escalates one alert rather than flooding several.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from shopwatch.config import DetectionSettings
from shopwatch.detectors.findings import Finding
from shopwatch.domain.severity import Severity, max_severity


@dataclass(frozen=True)
class Assessment:
    risk_score: Decimal
    risk_severity: Severity | None
    severities: dict[str, Severity]  # final severity per detector
    primary: str | None


def risk_severity(risk: Decimal, thresholds: dict[Severity, Decimal]) -> Severity | None:
    found = None
    for severity, limit in sorted(thresholds.items(), key=lambda kv: kv[0].rank):
        if risk >= limit:
            found = severity
    return found


def weighted_strength(finding: Finding, settings: DetectionSettings) -> Decimal:
    """A finding's evidence as the noisy-OR takes it: its strength times its detector's weight, within 0..1."""
    weight = settings.detector_weights.get(finding.detector, Decimal(1))
    return min(Decimal(1), max(Decimal(0), weight * finding.strength))


def assess(
    findings: list[Finding],
    settings: DetectionSettings,
    alerting: set[str] | None = None,
    signals: Mapping[str, Decimal] | None = None,
    learned: float | None = None,
) -> Assessment:
    """`alerting`: the detectors whose findings open alerts (default all); only one of them can be primary.
    `learned`: the shop's learned P(fraud) (its model's combination of these same signals): when given, it is
    the risk (x 100) in place of the hand-set noisy-OR; the weights still pick the primary finding."""
    weighted: dict[str, Decimal] = {}
    contributions = []
    for finding in findings:
        contribution = weighted_strength(finding, settings)
        weighted[finding.detector] = contribution
        contributions.append(contribution)
    if learned is not None:
        if not 0.0 <= learned <= 1.0:
            raise ValueError(f"a learned risk is a probability, got {learned}")
        risk = (Decimal(repr(learned)) * 100).quantize(Decimal("0.1"))
    else:
        remaining = Decimal(1)
        for strength in (signals or {}).values():
            remaining *= Decimal(1) - min(Decimal(1), max(Decimal(0), strength))
        for contribution in contributions:
            remaining *= Decimal(1) - contribution
        risk = ((Decimal(1) - remaining) * 100).quantize(Decimal("0.1"))
    return _assessment(risk, findings, weighted, settings, alerting)


def _assessment(
    risk: Decimal,
    findings: list[Finding],
    weighted: dict[str, Decimal],
    settings: DetectionSettings,
    alerting: set[str] | None,
) -> Assessment:
    band = risk_severity(risk, settings.risk_thresholds)
    if not findings:
        return Assessment(risk, band, {}, None)
    candidates = [f for f in findings if alerting is None or f.detector in alerting] or findings
    primary = max(candidates, key=lambda f: (weighted[f.detector], f.severity.rank)).detector
    severities = {f.detector: f.severity for f in findings}
    if band is not None:
        severities[primary] = max_severity(severities[primary], band)
    return Assessment(risk, band, severities, primary)
