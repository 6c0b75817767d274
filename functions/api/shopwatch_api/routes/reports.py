"""Seed 000's plain-language endpoint: one day's alerts of one detector as sentences."""

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from shopwatch.domain.clock import utcnow
from shopwatch.reports.service import ReportService, report_text
from shopwatch_api.responses import ReportOut


def router(reports: ReportService) -> Router:
    router = Router()

    @router.get(
        "/reports/<detector>",
        responses={
            200: {
                "description": "the day's alerts of one detector as sentences (format=text: one per line)",
                "content": {
                    "application/json": {"model": ReportOut},
                    "text/plain": {"schema": {"type": "string"}},
                },
            }
        },
    )
    def get_report(
        detector: Annotated[str, Path(min_length=1, max_length=32, description="price, volume, velocity, ...")],
        date: Annotated[
            str | None,
            Query(
                max_length=10,
                description="YYYY-MM-DD (UTC); default today; a day to come has no alerts yet",
                json_schema_extra={"format": "date"},
            ),
        ] = None,
        format: Annotated[Literal["json", "text"], Query()] = "json",
    ) -> Response[dict[str, Any] | str]:
        """One day's alerts of one detector in plain language: price anomalies, low-sales periods, spam and bot
        customers, failed transactions..."""
        report = reports.report(detector, date, utcnow())
        if format == "text":
            return Response(200, "text/plain; charset=utf-8", report_text(report))
        return Response(200, content_types.APPLICATION_JSON, ReportOut.from_report(report).model_dump(mode="json"))

    return router
