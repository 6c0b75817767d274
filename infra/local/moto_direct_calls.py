"""In-process DynamoDB and DynamoDB Streams calls go straight to moto's handler method.

Under moto's mock, botocore still resolves the endpoint, signs and "sends" every request; moto's stubber turns
it into a werkzeug Request, reads account and region back out of the headers, parses the body again with the
service's shapes and answers in HTTP for botocore to parse once more. For the local stack's calls that
imitation of HTTP cost about as much CPU as moto's actual work (profiled under load: 45% of a detection
write), and the stack runs in one process under one GIL.

botocore's documented short-circuit is a `before-call` handler that returns `(http_response, parsed)`. This one
runs after botocore has validated and serialised the parameters (so a bad call fails exactly as before),
hands the JSON body to the same moto handler method the stubber would reach, and parses moto's answer, error
or not, with botocore's own parser and modeled error fields, so callers get exactly what the stubber path
gives them. It takes only calls that moto's mock would serve (an amazonaws.com URL while the mock is on)
and whose body carries no binary attribute (moto's shape parser decodes those; they take the usual path).
Installed by the local stack only; tests/integration/test_moto_direct_calls.py compares both paths.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import threading
import uuid
from collections import Counter
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.client import BaseClient
from botocore.handlers import BUILTIN_HANDLERS
from botocore.parsers import create_parser
from botocore.utils import parse_timestamp
from moto.core.botocore_stubber import MockRawResponse
from moto.core.common_types import TYPE_RESPONSE
from moto.core.exceptions import ServiceException
from moto.core.models import botocore_stubber
from moto.core.responses import ActionResult, BaseResponse
from moto.core.utils import camelcase_to_underscores
from moto.dynamodb.responses import DynamoHandler
from moto.dynamodbstreams.responses import DynamoDBStreamsHandler
from moto.iam.models import get_account_id_from
from moto.utilities.utils import get_partition
from werkzeug.exceptions import HTTPException

from infra.local import direct_requests

_HANDLERS: dict[str, type[BaseResponse]] = {"dynamodb": DynamoHandler, "dynamodb-streams": DynamoDBStreamsHandler}
_BINARY_VALUE = re.compile(rb'"BS?": ?[\["]')  # a binary attribute value (B or BS) in botocore's JSON
_enabled = False
_registered = False
calls_served: Counter[str] = Counter()  # calls that took the direct path, by operation (for tests and the bench)
_count_lock = threading.Lock()


def _account() -> str:
    # as BaseResponse.get_current_account, for a request with no account header and a non-AKIA key
    return os.environ.get("MOTO_ACCOUNT_ID") or get_account_id_from("AKIAEXAMPLE")


@functools.lru_cache(maxsize=256)
def _method_name(operation: str) -> str:
    """The handler method of an operation (moto's conversion runs a regex per character class, per call)."""
    return camelcase_to_underscores(operation)


def _run_action(handler: BaseResponse, operation: str) -> TYPE_RESPONSE:
    """BaseResponse.call_action without its IAM check (moto's is off unless INITIAL_NO_AUTH_ACTION_COUNT is
    set, which the local stack never does) and without the request-id rewrite of XML bodies."""
    method = getattr(handler, _method_name(operation))
    try:
        response = method()
    except ServiceException as error:
        return handler.serialized(ActionResult(error))
    except HTTPException as error:
        return error.code or 500, dict(error.get_headers() or []), error.description or ""
    if isinstance(response, ActionResult):
        return handler.serialized(response)
    if isinstance(response, str):
        return 200, dict(handler.response_headers), response
    return BaseResponse._transform_response(dict(handler.response_headers), response)


def _parse(
    model: Any, http: AWSResponse, raw: bytes, context: dict[str, Any], plain: bool, headers: dict[str, str]
) -> dict[str, Any]:
    """What botocore's parser makes of the answer. A successful DynamoDB answer with no binary value is
    already in its parsed form (DynamoDB's outputs hold no timestamps, and moto's answers hold only modeled
    members), so it is just loaded; so is a GetRecords answer, whose one timestamp member is converted as
    botocore's parser converts it. Everything else goes through botocore's parser and modeled errors."""
    if plain and http.status_code == 200 and not _BINARY_VALUE.search(raw):
        parsed = json.loads(raw) if raw else {}
        for record in parsed.get("Records", ()):
            change = record.get("dynamodb", {})
            if "ApproximateCreationDateTime" in change:
                change["ApproximateCreationDateTime"] = parse_timestamp(change["ApproximateCreationDateTime"])
        parsed["ResponseMetadata"] = {  # `headers`: http's, as a plain dict (its HeadersDict is slow to walk)
            "RequestId": headers.get("x-amzn-RequestId", ""),
            "HTTPStatusCode": 200,
            "HTTPHeaders": {k.lower(): v for k, v in headers.items()},
        }
        return parsed
    response = {"status_code": http.status_code, "headers": http.headers, "body": raw, "context": context}
    parser = create_parser(model.service_model.metadata["protocol"])
    parsed = parser.parse(response, model.output_shape)
    if http.status_code >= 300:
        error_shape = model.service_model.shape_for_error_code(parsed.get("Error", {}).get("Code"))
        if error_shape is not None:
            parsed.update(parser.parse(response, error_shape))
    return parsed


def _direct_call(model: Any, params: dict[str, Any], context: dict[str, Any], **_: Any) -> Any:
    if not (_enabled and botocore_stubber.enabled):
        return None
    service = model.service_model.service_id.hyphenize()
    body = params.get("body") or b"{}"
    if isinstance(body, str):
        body = body.encode("utf-8")
    url = params.get("url", "")
    if service not in _HANDLERS or ".amazonaws.com" not in url or _BINARY_VALUE.search(body):
        return None
    region = context.get("client_region") or BaseResponse.default_region
    return _serve(model, body, url, dict(params.get("headers") or {}), region, context)


def _serve(
    model: Any,
    body: bytes | None,
    url: str,
    headers: dict[str, str],
    region: str,
    context: dict[str, Any],
    params: dict[str, Any] | None = None,
) -> tuple[AWSResponse, dict[str, Any]]:
    """moto's answer to one call, as botocore's parser makes it (the stubber's path without its HTTP). A
    DynamoDB call may come as `params` instead of a body: what json.loads would have made of its JSON."""
    service = model.service_model.service_id.hyphenize()
    handler = _HANDLERS[service]()
    handler.region, handler.partition, handler.current_account = region, get_partition(region), _account()
    handler.headers = headers
    handler.querystring, handler.uri_match, handler.method = {"Action": [model.name]}, {}, "POST"
    handler.response_headers = {"server": "amazon.com"}
    if params is None or not handler.automated_parameter_parsing:
        body = body if body is not None else json.dumps(params, separators=(",", ":")).encode("utf-8")
        handler.body = body.decode("utf-8")
    if handler.automated_parameter_parsing:
        handler.params = json.loads(body) if params is None else params  # type: ignore[arg-type]
        handler.body = handler.params  # as DynamoHandler.call_action does
    status, answer_headers, text = _run_action(handler, model.name)
    raw = text.encode("utf-8") if isinstance(text, str) else text
    answer_headers = {str(k): str(v) for k, v in answer_headers.items() if k != "status"}
    answer_headers.setdefault("x-amzn-RequestId", "direct")
    http = AWSResponse(url, int(status), answer_headers, MockRawResponse(raw))
    plain = service == "dynamodb" or model.name == "GetRecords"
    parsed = _parse(model, http, raw, context, plain=plain, headers=answer_headers)
    parsed.setdefault("ResponseMetadata", {})["RetryAttempts"] = 0
    with _count_lock:
        calls_served[model.name] += 1
    return http, parsed


_BINARY_TAGS = frozenset({"B", "BS"})


def json_copy(value: Any) -> Any:
    """What json.loads(json.dumps(value)) gives for a request's parameters, in half the time (a DynamoDB
    request is a tree of dicts, lists and strings; moto may change what it is handed, so the caller's is
    never shared). TypeError for anything else, and for a binary attribute value (a B or BS key: botocore
    base64-encodes those on the wire, so such a call takes botocore's own path)."""
    kind = type(value)
    if kind is dict:
        if _BINARY_TAGS.intersection(value):
            raise TypeError("binary attribute value")
        return {_json_key(k): json_copy(v) for k, v in value.items()}
    if kind is list:
        return [json_copy(v) for v in value]
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is float and math.isfinite(value):
        return value
    raise TypeError(f"not a JSON value: {kind.__name__}")


def _json_key(key: Any) -> str:
    if type(key) is not str:
        raise TypeError("a key that is not a string")  # json.dumps would convert it; botocore never sends one
    return key


# The handlers a DynamoDB client has, stock, on the events a call emits between its parameters and its answer.
# With only these, skipping the events changes nothing: the idempotency token is filled in below as
# generate_idempotent_uuid does; the checksum and endpoint-discovery ones act on no DynamoDB operation (both
# checked per operation); the two header ones set headers moto does not read; the retry quota is released
# after a success only when a retry took some, and calls answered in process are never retried.
_STOCK_HANDLERS = {
    ("botocore.handlers", "generate_idempotent_uuid"),
    ("botocore.handlers", "_handle_request_validation_mode_member"),
    ("botocore.discovery", "block_endpoint_discovery_required_operations"),
    ("botocore.handlers", "add_recursion_detection_header"),
    ("botocore.handlers", "inject_api_version_header_if_needed"),
    ("botocore.retries.standard", "RetryQuotaChecker.release_retry_quota"),
    (__name__, "_direct_call"),
}
_ORIGINAL_API_CALL = BaseClient._make_api_call
direct_api_calls = {"served": 0}  # calls answered without botocore's request pipeline (for tests and the bench)


def _plan(client: BaseClient, operation_name: str) -> Any:
    """(operation model, its compiled check) when this client's call of this operation can skip botocore's
    request pipeline, else None: an endpoint of its own (the server, over HTTP), a handler beyond the stock
    ones (the fault injector's, a test's), a checksum or required endpoint discovery."""
    plans = client.__dict__.setdefault("_shopwatch_direct_plans", {})
    if operation_name in plans:
        return plans[operation_name]
    model = client.meta.service_model.operation_model(operation_name)
    service_id = client.meta.service_model.service_id.hyphenize()
    emitter = client.meta.events._emitter
    found = {
        (getattr(h, "__module__", "?"), getattr(h, "__qualname__", repr(h)))
        for event in ("provide-client-params", "before-parameter-build", "before-call", "after-call")
        for h in emitter._handlers.prefix_search(f"{event}.{service_id}.{operation_name}")
    }
    eligible = (
        service_id in _HANDLERS
        and ".amazonaws.com" in (client.meta.endpoint_url or "")
        and found <= _STOCK_HANDLERS
        and not model.http_checksum
        and not model.endpoint_discovery
        and model.input_shape is not None
    )
    plans[operation_name] = (model, direct_requests.checker(model.input_shape)) if eligible else None
    return plans[operation_name]


def _make_api_call(self: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
    """BaseClient._make_api_call for in-process DynamoDB and Streams calls with nothing but botocore's stock
    handlers on their events: validated (direct_requests' compiled check of botocore's rules), serialised by
    json.dumps and answered by moto's handler, as the before-call path does, without emitting the events,
    resolving the endpoint or building the HTTP request. Anything else, including every call the check
    refuses (botocore raises its ParamValidationError), takes botocore's own path."""
    plan = _plan(self, operation_name) if _enabled and botocore_stubber.enabled else None
    if plan is None:
        return _ORIGINAL_API_CALL(self, operation_name, api_params)
    model, check = plan
    if not check(api_params):
        return _ORIGINAL_API_CALL(self, operation_name, api_params)
    for name in model.idempotent_members:
        if name not in api_params:
            api_params[name] = str(uuid.uuid4())
    try:
        params = json_copy(api_params)
    except TypeError:  # a binary value (botocore base64-encodes those), or anything JSON would not carry
        return _ORIGINAL_API_CALL(self, operation_name, api_params)
    context = {"client_region": self.meta.region_name}
    url = self.meta.endpoint_url
    region = self.meta.region_name or BaseResponse.default_region
    http, parsed = _serve(model, None, url, {}, region, context, params=params)
    direct_api_calls["served"] += 1
    if http.status_code >= 300:
        raise self.exceptions.from_code(parsed.get("Error", {}).get("Code"))(parsed, operation_name)
    return parsed


def install() -> None:
    """Serve in-process DynamoDB and Streams calls directly (idempotent). Applies to clients created after
    this, as botocore reads its built-in handlers when a session is made; older clients keep the usual path."""
    global _enabled, _registered
    if not _registered:
        for service in _HANDLERS:
            BUILTIN_HANDLERS.append((f"before-call.{service}", _direct_call))
        _registered = True
    _enabled = True
    direct_requests.install(lambda: botocore_stubber.enabled)
    BaseClient._make_api_call = _make_api_call  # type: ignore[method-assign]


def uninstall() -> None:
    global _enabled
    _enabled = False
    direct_requests.uninstall()
    BaseClient._make_api_call = _ORIGINAL_API_CALL  # type: ignore[method-assign]


__all__ = ["calls_served", "direct_api_calls", "install", "uninstall"]
