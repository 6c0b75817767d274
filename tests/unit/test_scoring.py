"""The risk scorer: weighted noisy-OR, severity bands, and escalation of the primary finding only."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from shopwatch.config import DetectionSettings
from shopwatch.detectors.findings import Finding
from shopwatch.detectors.scoring import assess
from shopwatch.domain.severity import Severity

SETTINGS = DetectionSettings()


def finding(detector: str, severity: Severity, score: str | None = None) -> Finding:
    return Finding(detector, severity, (), f"{detector} finding", Decimal(score) if score else None)


def test_no_findings_is_zero_risk():
    assert assess([], SETTINGS).risk_score == 0


def test_one_finding_scores_its_weighted_strength():
    result = assess([finding("price", Severity.CRITICAL, "0.99")], SETTINGS)
    assert result.risk_score == Decimal("99.0")
    assert result.severities == {"price": Severity.CRITICAL}


def test_findings_combine_as_a_noisy_or_and_never_pass_100():
    low = assess([finding("geo", Severity.MEDIUM)], SETTINGS).risk_score
    both = assess([finding("geo", Severity.MEDIUM), finding("quantity", Severity.MEDIUM, "0.5")], SETTINGS).risk_score
    many = assess(
        [finding(d, Severity.CRITICAL, "1") for d in ("price", "velocity", "geo", "quantity")], SETTINGS
    ).risk_score
    assert low < both < many <= 100


def test_combined_risk_escalates_only_the_strongest_finding():
    findings = [
        finding("geo", Severity.MEDIUM),
        finding("velocity", Severity.HIGH, "0.9"),
        finding("failed_payment", Severity.LOW),
    ]
    result = assess(findings, SETTINGS)
    assert result.risk_score >= 85
    assert result.primary == "velocity"
    assert result.severities == {"velocity": Severity.CRITICAL, "geo": Severity.MEDIUM, "failed_payment": Severity.LOW}


def test_a_finding_never_loses_severity_to_a_low_risk():
    result = assess([finding("failed_payment", Severity.LOW)], SETTINGS)
    assert result.severities["failed_payment"] is Severity.LOW


def test_weights_are_configurable():
    muted = replace(SETTINGS, detector_weights={**SETTINGS.detector_weights, "geo": Decimal("0.1")})
    assert assess([finding("geo", Severity.MEDIUM)], muted).risk_score == Decimal("5.0")


def test_the_model_weight_comes_from_the_template_parameter_through_the_environment(monkeypatch):
    """ModelWeight (template) → DETECTOR_WEIGHTS=model=… (DetectFunction) → the model's share of the risk."""
    from infra.template import Resolver, load_template

    template = load_template()
    variables = template["Resources"]["DetectFunction"]["Properties"]["Environment"]["Variables"]
    env = {"DETECTOR_WEIGHTS": Resolver(template).resolve(variables["DETECTOR_WEIGHTS"])}
    assert env["DETECTOR_WEIGHTS"] == "model=0.6"
    assert Resolver(template, {"ModelWeight": "0.3"}).resolve(variables["DETECTOR_WEIGHTS"]) == "model=0.3"
    model_only = [finding("model", Severity.HIGH)]  # strength 0.75
    monkeypatch.setenv("DETECTOR_WEIGHTS", env["DETECTOR_WEIGHTS"])
    assert assess(model_only, DetectionSettings.from_env()).risk_score == Decimal("45.0")
    monkeypatch.setenv("DETECTOR_WEIGHTS", "model=0.2")
    assert assess(model_only, DetectionSettings.from_env()).risk_score == Decimal("15.0")
    assert DetectionSettings.from_env().detector_weights["price"] == Decimal("1.0")  # the others keep theirs


def test_a_learned_probability_is_the_risk_and_its_band_escalates_the_primary_finding_only():
    findings = [finding("geo", Severity.LOW, "0.3"), finding("price", Severity.LOW, "0.2")]
    result = assess(findings, SETTINGS, learned=0.731)
    assert result.risk_score == Decimal("73.1")  # not the hand-set noisy-OR of the findings
    assert result.primary == "geo"  # the weights still choose which finding speaks
    assert result.severities == {"geo": Severity.HIGH, "price": Severity.LOW}
    quiet = assess(findings, SETTINGS, signals={"account_age": Decimal("0.1")}, learned=0.004)
    assert quiet.risk_score == Decimal("0.4")  # a confident "legitimate" lowers the risk below the rules' own
    assert quiet.severities == {"geo": Severity.LOW, "price": Severity.LOW}


def test_a_learned_risk_outside_zero_to_one_is_an_error():
    import pytest

    with pytest.raises(ValueError, match="probability"):
        assess([], SETTINGS, learned=1.2)
