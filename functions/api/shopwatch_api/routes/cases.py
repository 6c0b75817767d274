"""Cases: alerts that belong together (one customer's, or a ring's), listed, opened and triaged as one.
Settling a case settles its alerts (shopwatch.cases.service)."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from shopwatch.auth.callers import Action
from shopwatch.cases.service import CaseService
from shopwatch.domain.alert import describe_lifecycle
from shopwatch.domain.clock import utcnow
from shopwatch.domain.severity import Severity
from shopwatch_api.acting import acting
from shopwatch_api.cases_models import (
    CaseChanged,
    CaseDetailOut,
    CasePage,
    CasePatch,
    CaseStatusFilter,
)
from shopwatch_api.models import NoteIn
from shopwatch_api.params import Limit, PageToken

CaseId = Annotated[str, Path(min_length=1, max_length=64)]


def router(cases: CaseService) -> Router:
    router = Router()

    @router.get("/cases")
    def list_cases(
        status: Annotated[CaseStatusFilter, Query()] = CaseStatusFilter.ACTIVE,
        min_severity: Annotated[Severity | None, Query()] = None,
        limit: Limit = 50,
        next_token: PageToken = None,
    ) -> CasePage:
        """Cases most recently updated first; by default the work queue (open and investigating)."""
        found, token = cases.list(status.statuses(), min_severity, limit, next_token)
        return CasePage.from_page(found, token)

    @router.get("/cases/<case_id>")
    def get_case(case_id: CaseId) -> CaseDetailOut:
        """One case: its accounts, shared entities, alerts (those of a folded customer case too), history, notes."""
        return CaseDetailOut.from_detail(cases.get(case_id))

    @router.patch(
        "/cases/<case_id>",
        description=f"Move the case's status or (re)assign it. {describe_lifecycle()} A closing status "
        "(confirmed_fraud, false_positive, resolved) settles the case's alerts, recorded as done by the caller "
        "via the case; confirmed_fraud and false_positive also give them the feedback fraud or legitimate. An "
        "alert that cannot make the move is skipped and reported. The same status again changes nothing on "
        "the case and settles the alerts still behind (a safe retry).",
    )
    def patch_case(case_id: CaseId, patch: CasePatch) -> CaseChanged:
        by, now = acting(router, Action.TRIAGE), utcnow()
        assignee = (patch.assignee,) if "assignee" in patch.model_fields_set else None
        detail, settlement = cases.change(case_id, patch.status, assignee, by, now)
        return CaseChanged.from_change(detail, settlement)

    @router.post(
        "/cases/<case_id>/notes",
        responses={
            201: {"description": "the case with the note", "content": {"application/json": {"model": CaseDetailOut}}},
        },
    )
    def post_case_note(case_id: CaseId, note: NoteIn) -> Response[CaseDetailOut]:
        """Add an investigation note to the case."""
        by, now = acting(router, Action.TRIAGE), utcnow()
        return Response(
            201, content_types.APPLICATION_JSON, CaseDetailOut.from_detail(cases.note(case_id, note.text, by, now))
        )

    return router
