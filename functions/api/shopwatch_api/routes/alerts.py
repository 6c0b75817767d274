"""The alerts and their triage: the filtered feed, one alert, and the changes an analyst makes (status,
assignee, notes, feedback), each recorded under the signed-in caller's name."""

from dataclasses import replace
from typing import Annotated

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from shopwatch.auth.callers import Action
from shopwatch.domain.alert import Alert, AlertStatus, describe_lifecycle
from shopwatch.domain.clock import utcnow
from shopwatch.domain.severity import Severity
from shopwatch.domain.triage import add_note, assign, change_status, give_feedback
from shopwatch.storage.alerts import AlertOrder
from shopwatch.triage.service import AlertQuery, TriageService
from shopwatch_api.acting import acting
from shopwatch_api.models import BULK_STATUS, AlertPatch, BulkAction, BulkIn, FeedbackIn, NoteIn
from shopwatch_api.params import AlertId, DetectorFilter, Limit, PageToken, filter_moment, moment_query
from shopwatch_api.responses import AlertOut, AlertPage, BulkOut

tracer = Tracer()


def router(triage: TriageService) -> Router:
    router = Router()

    @router.get("/alerts")
    @tracer.capture_method
    def list_alerts(
        status: Annotated[AlertStatus | None, Query()] = None,
        min_severity: Annotated[Severity | None, Query()] = None,
        detector: DetectorFilter = None,
        customer_id: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
        since: Annotated[str | None, moment_query("created at or after")] = None,
        until: Annotated[str | None, moment_query("created at or before; since after until matches nothing")] = None,
        limit: Limit = 50,
        next_token: PageToken = None,
        order: Annotated[
            AlertOrder,
            Query(description="newest: newest first; risk: highest risk_score first, then the oldest (the queue)"),
        ] = AlertOrder.NEWEST,
    ) -> AlertPage:
        """Alerts in `order`, filtered; `next_token` from a page fetches the next one with the same filters."""
        since_at, until_at = filter_moment("since", since), filter_moment("until", until)
        query = AlertQuery(
            status, min_severity, detector and detector.value, customer_id, since_at, until_at, limit, next_token, order
        )
        return AlertPage.from_page(triage.list(query, utcnow()))

    @router.get("/alerts/<alert_id>")
    def get_alert(alert_id: AlertId) -> AlertOut:
        """One alert with its reasons, summary, narrative, notes and history."""
        return AlertOut.from_alert(triage.get(alert_id))

    @router.patch(
        "/alerts/<alert_id>",
        description=f"Move the status or (re)assign. {describe_lifecycle()} Any other move is a 409 naming the "
        "allowed ones.",
    )
    def patch_alert(alert_id: AlertId, patch: AlertPatch) -> AlertOut:
        """Move the status along the lifecycle (describe_lifecycle) or (re)assign."""
        by, now = acting(router, Action.TRIAGE), utcnow()

        def apply(current: Alert) -> Alert:
            alert = current
            if "assignee" in patch.model_fields_set and patch.assignee != alert.assignee:
                alert = assign(alert, patch.assignee, by, now)
            if patch.status is not None:
                alert = change_status(alert, patch.status, by, now)
            # one request is one write: two changes in it still move the version once (it is saved over `current`'s)
            return alert if alert is current else replace(alert, version=current.version + 1)

        return AlertOut.from_alert(triage.change(alert_id, apply))

    @router.post(
        "/alerts/<alert_id>/notes",
        responses={
            201: {"description": "the alert with the note", "content": {"application/json": {"model": AlertOut}}},
        },
    )
    def post_note(alert_id: AlertId, note: NoteIn) -> Response[AlertOut]:
        """Add an investigation note."""
        by, now = acting(router, Action.TRIAGE), utcnow()
        alert = triage.change(alert_id, lambda a: add_note(a, note.text, by, now))
        return Response(201, content_types.APPLICATION_JSON, AlertOut.from_alert(alert))

    @router.post("/alerts/<alert_id>/feedback")
    def post_feedback(alert_id: AlertId, feedback: FeedbackIn) -> AlertOut:
        """Label the alert fraud or legitimate; it settles an open alert and counts in the precision figures."""
        by, now = acting(router, Action.TRIAGE), utcnow()
        alert = triage.change(alert_id, lambda a: give_feedback(a, feedback.label, by, now, feedback.comment))
        return AlertOut.from_alert(alert)

    @router.post("/alerts/bulk", description=f"Change up to 100 alerts alike, each on its own. {describe_lifecycle()}")
    def post_bulk(bulk: BulkIn) -> BulkOut:
        """Settle (with a reason) or assign several alerts: each is one read-modify-write, reported changed,
        unchanged (already so, as on a retry) or refused with its own 404/409; one refusal stops no other."""
        by, now = acting(router, Action.TRIAGE), utcnow()

        def apply(current: Alert) -> Alert:
            if bulk.action is BulkAction.ASSIGN:
                return current if current.assignee == bulk.assignee else assign(current, bulk.assignee, by, now)
            target = BULK_STATUS[bulk.action]
            return current if current.status is target else change_status(current, target, by, now, bulk.reason)

        return BulkOut.from_outcomes(triage.change_each(bulk.alert_ids, apply))

    return router
