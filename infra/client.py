"""A small HTTP client for the Shopwatch API (standard library only), with retries for what is retryable."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any


class ApiError(RuntimeError):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body


class ShopwatchClient:
    def __init__(self, url: str, api_key: str, timeout: float = 60.0, retries: int = 6) -> None:
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.retries = retries

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        headers = {"x-api-key": self.api_key, "Content-Type": "application/json"}
        for attempt in range(self.retries + 1):
            request = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)  # noqa: S310 - our own URL
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                    return response.status, json.loads(response.read() or b"null")
            except urllib.error.HTTPError as exc:
                payload = exc.read()
                if exc.code in (429, 502, 503) and attempt < self.retries:
                    time.sleep(min(2.0, 0.1 * 2**attempt))
                    continue
                try:
                    return exc.code, json.loads(payload or b"null")
                except ValueError:
                    return exc.code, payload.decode(errors="replace")
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if attempt == self.retries:
                    raise
                time.sleep(min(2.0, 0.1 * 2**attempt))
        raise AssertionError("unreachable")

    def post_transactions(self, transactions: list[dict[str, Any]]) -> dict[str, Any]:
        """POST a batch; retried as a whole on 503 (safe: ingest is idempotent). 400s are returned, not raised."""
        status, body = self.request("POST", "/transactions", {"transactions": transactions})
        if status == 202:
            return body
        if status == 400 and isinstance(body, dict) and "error" in body:
            return {"accepted": [], "duplicates": [], "rejected": body["error"].get("details", {}).get("rejected", [])}
        raise ApiError(status, body)
