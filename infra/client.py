"""A small HTTP client for the Shopwatch API (standard library only), with retries for what is retryable.

It speaks as either kind of caller (DESIGN §3): with the shop's API key on the shop's routes, and, once
`sign_in` has run, with a person's token on every other route. Both can be set: each route takes what it needs."""

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
    def __init__(
        self, url: str, api_key: str | None = None, timeout: float = 60.0, retries: int = 6, token: str | None = None
    ) -> None:
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.token = token
        self.timeout = timeout
        self.retries = retries

    @classmethod
    def for_local_stack(cls, state: dict[str, Any], **kwargs: Any) -> ShopwatchClient:
        """The local stack's client: its API key, signed in as its admin (both from its stack.json, `.shopwatch/stacks/<port>/`)."""
        client = cls(state["url"], state["api_key"], **kwargs)
        client.sign_in(state["admin_user"], state["admin_password"])
        return client

    def sign_in(self, username: str, password: str) -> str:
        """POST /auth/login; the token is sent as `Authorization: Bearer` from now on."""
        status, body = self.request("POST", "/auth/login", {"username": username, "password": password})
        if status != 200:
            raise ApiError(status, body)
        self.token = body["token"]
        return self.token

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["x-api-key"] = self.api_key
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
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
