"""A stored transaction with its scores and alerts, and fraud (or legitimacy) reported on it later."""

from aws_lambda_powertools.event_handler.api_gateway import Router

from shopwatch.auth.callers import Action
from shopwatch.domain.clock import utcnow
from shopwatch.triage.transactions import Label, TransactionLookup, TransactionView
from shopwatch_api.acting import acting
from shopwatch_api.models import LabelIn
from shopwatch_api.params import TransactionId
from shopwatch_api.responses import (
    AlertBriefOut,
    CheckoutOut,
    CheckoutReasonOut,
    ContributionOut,
    DetectionOut,
    EntityRefOut,
    LabelOut,
    LabelResult,
    ModelScoreOut,
    RuleMatchOut,
    ScoreOut,
    TransactionDetail,
    TransactionOut,
)


def label_out(label: Label) -> LabelOut:
    return LabelOut.model_validate({"transaction_id": label.transaction_id, **label.record()})


def transaction_detail(view: TransactionView) -> TransactionDetail:
    """The lookup's typed view as the API shows it (the one place its shape is written for the wire)."""
    detection = view.detection
    checkout = view.checkout
    return TransactionDetail(
        transaction=TransactionOut.model_validate(view.transaction.to_item()),
        checkout=None
        if checkout is None
        else CheckoutOut(
            decision=checkout.decision.value,
            reasons=[CheckoutReasonOut.model_validate(r) for r in checkout.reasons],
            risk_score=float(checkout.risk_score),
        ),
        detection=DetectionOut(
            processed=detection.processed,
            risk_score=float(detection.risk_score),
            models=[ModelScoreOut.model_validate(s.to_dict()) for s in detection.models],
            scores=[
                ScoreOut(
                    detector=f.detector,
                    severity=f.severity,
                    score=float(f.strength),
                    description=f.description,
                    reasons=[r.to_dict() for r in f.reasons],  # type: ignore[misc]
                )
                for f in detection.findings
            ],
            alert_ids=list(detection.alert_ids),
            rules=[RuleMatchOut(rule_id=r, version=v, mode=m) for r, v, m in detection.rules],  # type: ignore[arg-type]
            breakdown=[
                ContributionOut(
                    kind=c.kind,
                    name=c.name,
                    evidence=None if c.evidence is None else float(c.evidence),
                    points=float(c.points),
                )
                for c in detection.breakdown
            ],
        ),
        label=None if view.label is None else label_out(view.label),
        alerts=[AlertBriefOut.of(a) for a in view.alerts],
        entities=[EntityRefOut(kind=e.kind, value=e.value) for e in view.entities],  # type: ignore[arg-type]
        account_age_seconds=view.account_age_seconds,
    )


def router(lookup: TransactionLookup) -> Router:
    router = Router()

    @router.get("/transactions/<transaction_id>")
    def get_transaction(transaction_id: TransactionId) -> TransactionDetail:
        """A stored transaction with each detector's score, its risk score's breakdown, its alerts and entities."""
        return transaction_detail(lookup.get(transaction_id))

    @router.post("/transactions/<transaction_id>/label")
    def label_transaction(transaction_id: TransactionId, label: LabelIn) -> LabelResult:
        """Fraud (or legitimacy) reported later, e.g. a chargeback; it confirms the alerts that covered it."""
        done = lookup.label(transaction_id, label.label, label.source, acting(router, Action.LABEL), utcnow())
        return LabelResult(
            **label_out(done.label).model_dump(), alerted=done.alerted, feedback_given_to=list(done.feedback_given_to)
        )

    return router
