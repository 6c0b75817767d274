"""ApiFunction requests for tests: API Gateway proxy events for any method, path, query and body, built by the
local stack's gateway from the template's routes (the shapes the deployed function receives).

A person's route carries the claims API Gateway's Cognito authorizer passes on (of `user`, an analyst unless
said otherwise); a shop's route carries the API key, as the gateway lets nothing else through there."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import pytest

from infra.local.api_gateway import ApiGateway, routes_from_template
from infra.local.cognito_authorizer import gateway_claims
from tests.conftest import TEMPLATE

KEY = "local-demo-key"
_GATEWAY = ApiGateway(routes_from_template(TEMPLATE), {}, KEY)


@dataclass(frozen=True)
class User:
    name: str
    groups: tuple[str, ...]

    def claims(self) -> dict[str, str]:
        """What a REST API's Cognito authorizer hands the function for this user's ID token."""
        now = int(time.time())
        return gateway_claims(
            {"sub": f"sub-{self.name}", "aud": "test-client", "email_verified": True, "token_use": "id",
             "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_test", "cognito:username": self.name,
             "cognito:groups": list(self.groups), "auth_time": now, "iat": now, "exp": now + 3600}
        )  # fmt: skip


ANALYST = User("maria", ("analysts",))
ADMIN = User("root", ("admins",))
NOBODY_IN_A_GROUP = User("guest", ())


def api_event(
    method: str,
    path: str,
    body: Any = None,
    content_type: str = "application/json",
    origin: str | None = None,
    user: User | None = ANALYST,
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
    claims = user.claims() if user is not None and route.authorizer is not None else None
    return _GATEWAY.event(route, params, method, url, headers, raw, "203.0.113.10", claims)


def as_signed_in(event: dict[str, Any], user: User) -> dict[str, Any]:
    """`event` as if `user`'s token, and no API key, had been checked for it (for the handler's own checks on
    routes whose gateway rule would not let this event through)."""
    context = event["requestContext"]
    context["authorizer"] = {"claims": user.claims()}
    context["identity"] |= {"apiKey": None, "apiKeyId": None}
    return event


def set_api_clock(monkeypatch: pytest.MonkeyPatch, clock: Callable[[], datetime]) -> None:
    """ApiFunction's routes read `clock()` as now: `utcnow` replaced in each of its route modules. Call it after
    loading the handler: a fresh load (a new container) imports the modules anew."""
    modules = [m for n, m in sys.modules.items() if n.startswith("shopwatch_api.routes.") and hasattr(m, "utcnow")]
    assert modules, "load ApiFunction first"
    for module in modules:
        monkeypatch.setattr(module, "utcnow", clock)


class ApiClient:
    """Calls the handler with real events as `user`; answers (status, decoded JSON body)."""

    def __init__(self, handler: Callable[[dict[str, Any]], Any], user: User | None = ANALYST) -> None:
        self.handler = handler
        self.user = user

    def __call__(self, method: str, path: str, body: Any = None, **query: Any) -> tuple[int, Any]:
        response = self.handler(api_event(method, path, body, user=self.user, **query))
        text = response.get("body") or ""
        return response["statusCode"], json.loads(text) if text.startswith(("{", "[")) else text
