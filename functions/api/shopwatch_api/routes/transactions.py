"""A stored transaction with its scores and alerts, and fraud (or legitimacy) reported on it later."""

from aws_lambda_powertools.event_handler.api_gateway import Router

from shopwatch.auth.callers import Action
from shopwatch.domain.clock import utcnow
from shopwatch.triage.transactions import TransactionLookup
from shopwatch_api.acting import acting
from shopwatch_api.models import LabelIn
from shopwatch_api.params import TransactionId
from shopwatch_api.responses import LabelResult, TransactionDetail


def router(lookup: TransactionLookup) -> Router:
    router = Router()

    @router.get("/transactions/<transaction_id>")
    def get_transaction(transaction_id: TransactionId) -> TransactionDetail:
        """A stored transaction with each detector's score and the alerts it went to."""
        return TransactionDetail.model_validate(lookup.get(transaction_id))

    @router.post("/transactions/<transaction_id>/label")
    def label_transaction(transaction_id: TransactionId, label: LabelIn) -> LabelResult:
        """Fraud (or legitimacy) reported later, e.g. a chargeback; it confirms the alerts that covered it."""
        by = acting(router, Action.LABEL)
        return LabelResult.model_validate(lookup.label(transaction_id, label.label, label.source, by, utcnow()))

    return router
