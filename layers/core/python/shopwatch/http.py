"""One place that turns exceptions into API responses: the DESIGN's JSON error shape, never a stack trace."""

from __future__ import annotations

import json
from re import Match
from urllib.parse import unquote

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response, content_types
from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import ClientError

from shopwatch.errors import NotFound, ServiceUnavailable, ShopwatchError, UnsupportedMediaType
from shopwatch.ingest.body import check_content_type

_RETRYABLE = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
}


def cors_config(origin: str) -> CORSConfig | None:
    """CORS for the one origin the stack allows (CorsAllowOrigin): Powertools answers it with the CORS headers
    and any other origin with none, so a page elsewhere cannot read the API's answers."""
    if not origin:
        return None
    return CORSConfig(allow_origin=origin, allow_headers=["Authorization", "Content-Type", "x-api-key"], max_age=600)


class ProxyEventResolver(APIGatewayRestResolver):
    """Powertools' REST resolver, with each route's path arguments taken from the event's `pathParameters`.

    Why: API Gateway routes a REST API request on its percent-encoded path and hands the Lambda proxy integration
    the parameters decoded ("Zo%C3%AB%20Doe" → "Zoë Doe", "x%2Fy" → "x/y"), while Powertools re-reads them from
    the still-encoded `path`: an id with a space, a slash, a "#" or a non-ASCII letter would never be found.
    """

    def _convert_matches_into_route_keys(self, match: Match) -> dict[str, str]:
        given = self.current_event.path_parameters or {}
        return {name: given.get(name, unquote(raw)) for name, raw in match.groupdict().items()}


def json_response(status: int, body: object, headers: dict[str, str] | None = None) -> Response:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body, default=str),
        headers=headers,
    )


def non_json_body_refusal(event: dict) -> dict | None:
    """The 415 proxy response for a request whose body is not JSON, before the resolver sees it.

    Why here: Powertools' validation would parse form and multipart bodies into the route's model (and fail
    with a 500 on a multipart type without a boundary); every Shopwatch body is JSON, so nothing else may pass.
    """
    if event.get("httpMethod") not in ("POST", "PUT", "PATCH") or not event.get("body"):
        return None
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    try:
        check_content_type(headers.get("content-type"))
    except UnsupportedMediaType as exc:
        return {
            "statusCode": exc.status,
            "headers": {"Content-Type": content_types.APPLICATION_JSON},
            "body": json.dumps(exc.body()),
            "isBase64Encoded": False,
        }
    return None


def internal_error_response() -> Response:
    """Our failure, in the DESIGN's error shape and with nothing of its cause (that goes to the log)."""
    return json_response(500, {"error": {"code": "internal_error", "message": "internal error"}})


def register_error_handlers(app: APIGatewayRestResolver, logger: Logger, metrics: Metrics) -> None:
    @app.exception_handler(ShopwatchError)
    def _domain_error(exc: ShopwatchError) -> Response:
        logger.info("request refused", extra={"status": exc.status, "code": exc.code, "reason": exc.message})
        metrics.add_metric(name="RequestsRefused", unit=MetricUnit.Count, value=1)
        return json_response(exc.status, exc.body(), exc.headers() or None)

    @app.exception_handler(ClientError)
    def _aws_error(exc: ClientError) -> Response:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in _RETRYABLE:
            logger.warning("storage throttled or unavailable", extra={"aws_error": code})
            metrics.add_metric(name="RequestsThrottled", unit=MetricUnit.Count, value=1)
            error = ServiceUnavailable("storage is busy; retry the same request (it is idempotent)")
            return json_response(error.status, error.body(), {"Retry-After": "1"})
        logger.exception("AWS call failed", extra={"aws_error": code})
        metrics.add_metric(name="RequestsFailed", unit=MetricUnit.Count, value=1)
        return internal_error_response()

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response:
        logger.exception("unhandled error")
        metrics.add_metric(name="RequestsFailed", unit=MetricUnit.Count, value=1)
        return internal_error_response()

    @app.not_found
    def _no_route(exc: Exception) -> Response:
        error = NotFound(f"no route {app.current_event.http_method} {app.current_event.path}")
        return json_response(error.status, error.body())
