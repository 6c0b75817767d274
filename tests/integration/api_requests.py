"""ApiFunction requests for tests: API Gateway proxy events for any method, path, query and body, built by the
local stack's gateway from the template's routes (the shapes the deployed function receives)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from infra.local.api_gateway import ApiGateway, routes_from_template
from tests.conftest import TEMPLATE

KEY = "local-demo-key"
_GATEWAY = ApiGateway(routes_from_template(TEMPLATE), {}, KEY)


def api_event(
    method: str,
    path: str,
    body: Any = None,
    content_type: str = "application/json",
    origin: str | None = None,
    **query: Any,
) -> dict[str, Any]:
    found = _GATEWAY.find(method, path)
    assert found is not None, f"the template has no route {method} {path}"
    route, params = found
    url = path + ("?" + urlencode(query) if query else "")
    raw = body if isinstance(body, bytes) else (b"" if body is None else json.dumps(body).encode())
    headers = {"x-api-key": [KEY], "content-type": [content_type], "user-agent": ["pytest"]}
    if origin is not None:
        headers["origin"] = [origin]
    return _GATEWAY.event(route, params, method, url, headers, raw, "203.0.113.10")


class ApiClient:
    """Calls the handler with real events; answers (status, decoded JSON body)."""

    def __init__(self, handler: Callable[[dict[str, Any]], Any]) -> None:
        self.handler = handler

    def __call__(self, method: str, path: str, body: Any = None, **query: Any) -> tuple[int, Any]:
        response = self.handler(api_event(method, path, body, **query))
        text = response.get("body") or ""
        return response["statusCode"], json.loads(text) if text.startswith(("{", "[")) else text
