"""API Gateway (REST, proxy integration) on loopback: HTTP requests become the exact proxy events of the
template's Api routes, handed to the function that owns the route; API keys are enforced as API Gateway does."""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from infra.local.functions import LocalFunction

MAX_PAYLOAD = 10 * 1024 * 1024  # API Gateway's request limit


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str
    api_key_required: bool
    pattern: re.Pattern[str]

    def match(self, path: str) -> dict[str, str] | None:
        """The path parameters of `path` (as sent, percent-encoded), decoded as API Gateway REST APIs hand them
        to a Lambda proxy integration: matched on the encoded path, so "x%2Fy" is one segment, then
        percent-decoded as UTF-8 ("x/y"); "+" stays "+" (a path is not a form)."""
        found = self.pattern.fullmatch(path)
        return None if found is None else {k: unquote(v, errors="replace") for k, v in found.groupdict().items()}


def _compile(path: str) -> re.Pattern[str]:
    regex = ""
    for part in re.split(r"(\{[^}]+\})", path):
        if part.startswith("{") and part.endswith("+}"):
            regex += f"(?P<{part[1:-2]}>.+)"
        elif part.startswith("{"):
            regex += f"(?P<{part[1:-1]}>[^/]+)"
        else:
            regex += re.escape(part)
    return re.compile(regex)


def routes_from_template(template: dict[str, Any], api_logical_id: str = "ShopwatchApi") -> list[Route]:
    api = template["Resources"][api_logical_id]["Properties"]
    default_key = bool(api.get("Auth", {}).get("ApiKeyRequired", False))
    routes = []
    for name, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for event in resource["Properties"].get("Events", {}).values():
            properties = event.get("Properties", {})
            if event["Type"] != "Api" or properties.get("RestApiId", {}).get("Ref") != api_logical_id:
                continue
            key = properties.get("Auth", {}).get("ApiKeyRequired", default_key)
            routes.append(
                Route(properties["Method"].upper(), properties["Path"], name, bool(key), _compile(properties["Path"]))
            )
    # literal paths before parameterised ones, as API Gateway prefers the most specific resource
    return sorted(routes, key=lambda r: (r.path.count("{"), -len(r.path)))


class ApiGateway:
    def __init__(
        self, routes: list[Route], functions: dict[str, LocalFunction], api_key: str, stage: str = "v1"
    ) -> None:
        self.routes = routes
        self.functions = functions
        self.api_key = api_key
        self.stage = stage
        # Lambda runs each function in its own process; here ApiFunction and IngestFunction share one, and
        # Powertools keeps a resolver's current event at class level (BaseRouter.current_event), so two
        # functions resolving at once would read each other's request. Proxied requests take turns.
        self._resolving = threading.Lock()

    def find(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            params = route.match(path)
            if params is not None and route.method in (method, "ANY"):
                return route, params
        return None

    def event(
        self,
        route: Route,
        params: dict[str, str],
        method: str,
        url: str,
        headers: dict[str, list[str]],
        body: bytes,
        source_ip: str,
    ) -> dict[str, Any]:
        split = urlsplit(url)
        query = parse_qs(split.query, keep_blank_values=True)
        try:
            text, encoded = body.decode("utf-8"), False
        except UnicodeDecodeError:
            text, encoded = base64.b64encode(body).decode(), True
        now = datetime.now(UTC)
        return {
            "resource": route.path,
            "path": split.path,
            "httpMethod": method,
            "headers": {k: v[-1] for k, v in headers.items()} or None,
            "multiValueHeaders": headers or None,
            "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
            "multiValueQueryStringParameters": query or None,
            "pathParameters": params or None,
            "stageVariables": None,
            "requestContext": {
                "resourceId": "local",
                "resourcePath": route.path,
                "httpMethod": method,
                "extendedRequestId": uuid.uuid4().hex[:16],
                "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "path": f"/{self.stage}{split.path}",
                "accountId": "123456789012",
                "protocol": "HTTP/1.1",
                "stage": self.stage,
                "domainPrefix": "localhost",
                "requestTimeEpoch": int(now.timestamp() * 1000),
                "requestId": str(uuid.uuid4()),
                "identity": {
                    "apiKey": headers.get("x-api-key", [None])[-1],
                    "apiKeyId": "local" if route.api_key_required else None,
                    "sourceIp": source_ip,
                    "userAgent": headers.get("user-agent", [None])[-1],
                    "accessKey": None,
                    "accountId": None,
                    "caller": None,
                    "cognitoAuthenticationProvider": None,
                    "cognitoAuthenticationType": None,
                    "cognitoIdentityId": None,
                    "cognitoIdentityPoolId": None,
                    "principalOrgId": None,
                    "user": None,
                    "userArn": None,
                },
                "domainName": "localhost",
                "apiId": "local",
            },
            "body": text if body else None,
            "isBase64Encoded": encoded,
        }

    def handle(
        self, method: str, url: str, headers: dict[str, list[str]], body: bytes, source_ip: str
    ) -> tuple[int, dict[str, list[str]], bytes]:
        if len(body) > MAX_PAYLOAD:
            return _json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"message": "Request Too Long"})
        found = self.find(method, urlsplit(url).path)
        if found is None:
            return _json(HTTPStatus.FORBIDDEN, {"message": "Missing Authentication Token"})
        route, params = found
        if route.api_key_required and headers.get("x-api-key", [""])[-1] != self.api_key:
            return _json(HTTPStatus.FORBIDDEN, {"message": "Forbidden"})
        event = self.event(route, params, method, url, headers, body, source_ip)
        try:
            with self._resolving:
                response = self.functions[route.function].invoke(event)
        except Exception:  # noqa: BLE001 - API Gateway turns a function error into a 502
            return _json(HTTPStatus.BAD_GATEWAY, {"message": "Internal server error"})
        if not isinstance(response, dict) or "statusCode" not in response:
            return _json(HTTPStatus.BAD_GATEWAY, {"message": "Internal server error"})
        out: dict[str, list[str]] = {k: [str(v)] for k, v in (response.get("headers") or {}).items()}
        for k, values in (response.get("multiValueHeaders") or {}).items():
            out[k] = [str(v) for v in values]
        raw = response.get("body") or ""
        payload = base64.b64decode(raw) if response.get("isBase64Encoded") else raw.encode()
        return int(response["statusCode"]), out, payload


def _json(status: HTTPStatus, body: dict[str, Any]) -> tuple[int, dict[str, list[str]], bytes]:
    return int(status), {"Content-Type": ["application/json"]}, json.dumps(body).encode()


class _RequestHandler(BaseHTTPRequestHandler):
    server: ApiServer
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        started = time.monotonic()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers: dict[str, list[str]] = {}
        for key, value in self.headers.items():
            headers.setdefault(key.lower(), []).append(value)
        status, out, payload = self.server.gateway.handle(
            self.command, self.path, headers, body, self.client_address[0]
        )
        self.send_response(status)
        for key, values in out.items():
            for value in values:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        self.server.record(self.command, self.path, status, time.monotonic() - started)

    def __getattr__(self, name: str):
        """Every method reaches the gateway (do_GET, do_TRACE, do_QUERY...), which answers those no route has as
        API Gateway does (403), where http.server would answer 501."""
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        return


class ApiServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False

    def __init__(self, address: tuple[str, int], gateway: ApiGateway) -> None:
        self.gateway = gateway
        self.requests = 0
        super().__init__(address, _RequestHandler)

    def record(self, method: str, path: str, status: int, seconds: float) -> None:
        self.requests += 1
