"""The risk score's breakdown: parts per finding and signal that add up to the score `assess` gave."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from shopwatch.config import DetectionSettings
from shopwatch.detectors.breakdown import OTHER, risk_breakdown
from shopwatch.detectors.findings import Finding
from shopwatch.detectors.scoring import assess
from shopwatch.domain.severity import Severity

SETTINGS = DetectionSettings()
DETECTORS = ["price", "velocity", "geo", "quantity", "model", "shared_identity", "new_account", "rule"]


def finding(detector: str, score: str) -> Finding:
    return Finding(detector, Severity.MEDIUM, (), f"{detector} finding", Decimal(score))


def total(parts) -> Decimal:
    return sum((p.points for p in parts), Decimal(0))


@pytest.mark.parametrize("seed", range(200))
def test_the_parts_add_up_to_the_score_assess_gives(seed):
    rng = random.Random(seed)
    findings = [finding(d, str(Decimal(rng.randint(0, 1000)) / 1000)) for d in rng.sample(DETECTORS, rng.randint(0, 5))]
    signals = {
        name: Decimal(rng.randint(0, 2000)) / 10000
        for name in rng.sample(["account_age", "linked_accounts", "model_isolation"], rng.randint(0, 3))
    }
    risk = assess(findings, SETTINGS, signals=signals).risk_score
    parts = risk_breakdown(risk, findings, SETTINGS, signals)
    assert total(parts) == risk
    assert all(p.name != OTHER for p in parts)  # everything the scorer saw is known: nothing left over
    assert all(p.points > 0 for p in parts)


def test_one_finding_takes_the_whole_score():
    findings = [finding("price", "0.9")]
    parts = risk_breakdown(assess(findings, SETTINGS).risk_score, findings, SETTINGS)
    assert [(p.name, p.points) for p in parts] == [("price", Decimal("90.0"))]


def test_stronger_evidence_gets_the_larger_part_and_equal_evidence_equal_parts():
    findings = [finding("price", "0.8"), finding("geo", "0.4"), finding("quantity", "0.4")]
    parts = {p.name: p.points for p in risk_breakdown(assess(findings, SETTINGS).risk_score, findings, SETTINGS)}
    assert parts["price"] > parts["geo"]
    assert abs(parts["geo"] - parts["quantity"]) <= Decimal("0.1")  # the rounding remainder goes to one


def test_certain_evidence_takes_the_score_and_weak_evidence_beside_it_nothing():
    findings = [finding("price", "1"), finding("geo", "0.3")]
    parts = risk_breakdown(assess(findings, SETTINGS).risk_score, findings, SETTINGS)
    assert [(p.name, p.points) for p in parts] == [("price", Decimal("100.0"))]


def test_signals_the_marker_did_not_keep_show_as_other():
    findings = [finding("velocity", "0.5")]
    alone = assess(findings, SETTINGS).risk_score
    risk = assess(findings, SETTINGS, signals={"linked_accounts": Decimal("0.2")}).risk_score
    parts = risk_breakdown(risk, findings, SETTINGS)
    assert {p.name: p.points for p in parts} == {"velocity": alone, OTHER: risk - alone}


def test_a_learned_risk_below_the_hand_set_one_scales_the_parts_down():
    findings = [finding("price", "0.6"), finding("geo", "0.6")]
    risk = assess(findings, SETTINGS, learned=0.42).risk_score
    parts = risk_breakdown(risk, findings, SETTINGS)
    assert total(parts) == Decimal("42.0")
    assert {p.name for p in parts} == {"price", "geo"}


def test_the_detector_weight_is_applied_as_the_scorer_applies_it():
    settings = DetectionSettings(detector_weights={"model": Decimal("0.5")})
    findings = [finding("model", "0.8")]
    parts = risk_breakdown(assess(findings, settings).risk_score, findings, settings)
    assert [(p.name, p.evidence, p.points) for p in parts] == [("model", Decimal("0.40"), Decimal("40.0"))]


def test_no_findings_and_no_score_have_no_parts():
    assert risk_breakdown(Decimal(0), [], SETTINGS) == []
