"""What the analysts' rules and the block lists add to a transaction's findings in DetectFunction: one finding
for the active rules that carry a severity (the strongest severity, a reason per rule) and one for the block
lists that hold one of its entities (high). One finding each, not one per rule: an alert is grouped per
customer, detector and window, and two findings of one detector would name the same alert twice."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from shopwatch.detectors.findings import SEVERITY_SCORES, Finding, Reason, transaction_finding
from shopwatch.domain.transaction import Transaction
from shopwatch.rules.definitions import BLOCK_LIST_SEVERITY

if TYPE_CHECKING:  # the engine needs CEL (RulesLayer); this module is imported where it may be absent
    from shopwatch.rules.engine import RuleVerdict

RULE_DETECTOR = "rule"
LIST_DETECTOR = "block_list"


def verdict_findings(verdict: RuleVerdict, tx: Transaction) -> list[Finding]:
    findings = []
    alerting = [m for m in verdict.active if m.severity is not None]
    if alerting:
        severity = max((m.severity for m in alerting if m.severity is not None), key=lambda s: s.rank)
        reasons = [
            Reason("rule_matched", f"rule {m.name!r} matched", value=f"{m.rule_id} v{m.version}") for m in alerting
        ]
        findings.append(
            transaction_finding(
                RULE_DETECTOR, tx.transaction_id, tx.customer_label, severity, reasons, SEVERITY_SCORES[severity]
            )
        )
    if verdict.blocked:
        reasons = [
            Reason("block_listed", f"{hit.kind.value} on block list {hit.name!r}", value=hit.name)
            for hit in verdict.blocked
        ]
        findings.append(
            transaction_finding(
                LIST_DETECTOR,
                tx.transaction_id,
                tx.customer_label,
                BLOCK_LIST_SEVERITY,
                reasons,
                Decimal(SEVERITY_SCORES[BLOCK_LIST_SEVERITY]),
            )
        )
    return findings
