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
