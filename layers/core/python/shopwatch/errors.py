"""Domain errors that map to HTTP responses in one place: `{"error": {"code", "message", "details"?}}`."""

from __future__ import annotations

from typing import Any


class ShopwatchError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def headers(self) -> dict[str, str]:
        """Response headers the refusal needs (Retry-After on a 429)."""
        return {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        return {"error": error}


class InvalidBody(ShopwatchError):
    status, code = 400, "invalid_body"


class ValidationFailed(ShopwatchError):
    status, code = 400, "validation_failed"


class PayloadTooLarge(ShopwatchError):
    status, code = 413, "payload_too_large"


class UnsupportedMediaType(ShopwatchError):
    status, code = 415, "unsupported_media_type"


class NotFound(ShopwatchError):
    status, code = 404, "not_found"


class Conflict(ShopwatchError):
    status, code = 409, "conflict"


class ServiceUnavailable(ShopwatchError):
    status, code = 503, "service_unavailable"


class Unauthorized(ShopwatchError):
    status, code = 401, "unauthorized"


class Forbidden(ShopwatchError):
    status, code = 403, "forbidden"


class TooManyRequests(ShopwatchError):
    status, code = 429, "too_many_requests"

    def __init__(self, message: str, retry_after_seconds: int) -> None:
        super().__init__(message, {"retry_after_seconds": retry_after_seconds})
        self.retry_after_seconds = retry_after_seconds

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_seconds)}
