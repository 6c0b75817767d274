"""API Gateway (REST, proxy integration) on loopback: HTTP requests become the exact proxy events of the
template's Api routes, handed to the function that owns the route; API keys and the Cognito authorizer are
enforced as API Gateway does (403 for a missing or wrong key, 401 for a missing or invalid token)."""

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

from infra.local.cognito_authorizer import CognitoAuthorizer, NotAuthenticated
from infra.local.functions import LocalFunction

MAX_PAYLOAD = 10 * 1024 * 1024  # API Gateway's request limit
MAX_REQUEST_HEAD = 10240  # API Gateway (REST): request line and header values together, in bytes
BODY_TIMEOUT_SECONDS = 30  # a client that promises more body than it sends gets a 408, not a hung thread


class Refused(Exception):
    """A request the gateway answers itself, before any function, in the API's JSON error shape."""

    def __init__(self, status: HTTPStatus, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self) -> tuple[int, dict[str, list[str]], bytes]:
        return _json(self.status, {"error": {"code": self.code, "message": self.message}})


def content_length(values: list[str]) -> int:
    """The body's declared length, judged before a byte of it is read: digits only, one value, ≤ MAX_PAYLOAD."""
    if not values:
        return 0
    if len(set(values)) > 1 or not all(v.isascii() and v.isdigit() for v in values):
        raise Refused(HTTPStatus.BAD_REQUEST, "bad_request", "Content-Length must be one non-negative integer")
    length = int(values[0])
    if length > MAX_PAYLOAD:
        raise Refused(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "payload_too_large", f"the body limit is {MAX_PAYLOAD} bytes"
        )
    return length


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str
    api_key_required: bool
    pattern: re.Pattern[str]
    authorizer: str | None = None  # the Api's Authorizers entry guarding the route, None for Authorizer: NONE

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
    default_authorizer = api.get("Auth", {}).get("DefaultAuthorizer")
    routes = []
    for name, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for event in resource["Properties"].get("Events", {}).values():
            properties = event.get("Properties", {})
            if event["Type"] != "Api" or properties.get("RestApiId", {}).get("Ref") != api_logical_id:
                continue
            key = properties.get("Auth", {}).get("ApiKeyRequired", default_key)
            authorizer = properties.get("Auth", {}).get("Authorizer", default_authorizer)
            routes.append(
                Route(
                    properties["Method"].upper(),
                    properties["Path"],
                    name,
                    bool(key),
                    _compile(properties["Path"]),
                    None if authorizer in (None, "NONE") else authorizer,
                )
            )
    # literal paths before parameterised ones, as API Gateway prefers the most specific resource
    return sorted(routes, key=lambda r: (r.path.count("{"), -len(r.path)))


class ApiGateway:
    def __init__(
        self,
        routes: list[Route],
        functions: dict[str, LocalFunction],
        api_key: str,
        stage: str = "v1",
        authorizers: dict[str, CognitoAuthorizer] | None = None,
    ) -> None:
        self.routes = routes
        self.functions = functions
        self.api_key = api_key
        self.stage = stage
        self.authorizers = authorizers or {}
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
        claims: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """The proxy event; `claims` (from the route's Cognito authorizer) go to requestContext.authorizer.claims."""
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
                **({"authorizer": {"claims": claims}} if claims is not None else {}),
            },
            "body": text if body else None,
            "isBase64Encoded": encoded,
        }

    def handle(
        self, method: str, url: str, headers: dict[str, list[str]], body: bytes, source_ip: str
    ) -> tuple[int, dict[str, list[str]], bytes]:
        found = self.find(method, urlsplit(url).path)
        if found is None:
            return _json(HTTPStatus.FORBIDDEN, {"message": "Missing Authentication Token"})
        route, params = found
        if route.api_key_required and headers.get("x-api-key", [""])[-1] != self.api_key:
            return _json(HTTPStatus.FORBIDDEN, {"message": "Forbidden"})
        claims = None
        if route.authorizer is not None:
            try:
                claims = self.authorize(route.authorizer, headers.get("authorization", [None])[-1])
            except NotAuthenticated as refusal:
                return _json(HTTPStatus.UNAUTHORIZED, {"message": refusal.message})
        event = self.event(route, params, method, url, headers, body, source_ip, claims)
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

    def authorize(self, authorizer: str, authorization: str | None) -> dict[str, str]:
        """The claims the route's authorizer finds in the Authorization header (a route whose authorizer this
        gateway was not given refuses everyone rather than letting anyone through)."""
        if authorizer not in self.authorizers:
            raise NotAuthenticated()
        return self.authorizers[authorizer].claims(authorization)


def _json(status: HTTPStatus, body: dict[str, Any]) -> tuple[int, dict[str, list[str]], bytes]:
    return int(status), {"Content-Type": ["application/json"]}, json.dumps(body).encode()


class _RequestHandler(BaseHTTPRequestHandler):
    server: ApiServer
    protocol_version = "HTTP/1.1"

    timeout = BODY_TIMEOUT_SECONDS

    def _serve(self) -> None:
        """Every request gets an answer: a refusal in the JSON error shape (then the connection closes, as the
        rest of its body is unread), the function's response, or a 500 when the gateway itself fails."""
        started = time.monotonic()
        try:
            status, out, payload = self._respond()
        except Refused as refusal:
            self.close_connection = True
            status, out, payload = refusal.response()
        except Exception:  # noqa: BLE001 - a gateway bug still answers, it never drops the connection
            self.close_connection = True
            status, out, payload = Refused(
                HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", "internal error"
            ).response()
        self._write(status, out, payload)
        self.server.record(self.command, self.path, status, time.monotonic() - started)

    def _respond(self) -> tuple[int, dict[str, list[str]], bytes]:
        head = len(self.requestline) + sum(len(k) + len(v) for k, v in self.headers.items())
        if head > MAX_REQUEST_HEAD:
            raise Refused(
                HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
                "headers_too_large",
                f"the request line and headers are {head} bytes; the limit is {MAX_REQUEST_HEAD}",
            )
        length = content_length(self.headers.get_all("Content-Length") or [])
        try:
            body = self.rfile.read(length) if length else b""
        except TimeoutError:
            raise Refused(HTTPStatus.REQUEST_TIMEOUT, "request_timeout", "the body did not arrive in time") from None
        if len(body) < length:
            raise Refused(HTTPStatus.BAD_REQUEST, "bad_request", f"the body ended after {len(body)} of {length} bytes")
        headers: dict[str, list[str]] = {}
        for key, value in self.headers.items():
            headers.setdefault(key.lower(), []).append(value)
        return self.server.gateway.handle(self.command, self.path, headers, body, self.client_address[0])

    def _write(self, status: int, out: dict[str, list[str]], payload: bytes) -> None:
        self.send_response(status)
        for key, values in out.items():
            for value in values:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (a request line or header line too long, too many headers, a malformed
        request line) in the API's JSON error shape instead of its HTML page."""
        self.close_connection = True
        status = HTTPStatus(code)
        code_name = status.phrase.lower().replace(" ", "_").replace("-", "_")
        self._write(*Refused(status, code_name, message or status.phrase).response())

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
    allow_reuse_address = True  # a port in TIME_WAIT after a killed stack is reusable at once; a listening one is not

    def __init__(self, address: tuple[str, int], gateway: ApiGateway) -> None:
        self.gateway = gateway
        self.requests = 0
        super().__init__(address, _RequestHandler)

    def record(self, method: str, path: str, status: int, seconds: float) -> None:
        self.requests += 1
