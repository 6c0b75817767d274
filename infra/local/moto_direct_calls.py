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

import json
import os
import re
import threading
from collections import Counter
from typing import Any

from botocore.awsrequest import AWSResponse
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


def _run_action(handler: BaseResponse, operation: str) -> TYPE_RESPONSE:
    """BaseResponse.call_action without its IAM check (moto's is off unless INITIAL_NO_AUTH_ACTION_COUNT is
    set, which the local stack never does) and without the request-id rewrite of XML bodies."""
    method = getattr(handler, camelcase_to_underscores(operation))
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


def _parse(model: Any, http: AWSResponse, raw: bytes, context: dict[str, Any], plain: bool) -> dict[str, Any]:
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
        parsed["ResponseMetadata"] = {
            "RequestId": http.headers.get("x-amzn-RequestId", ""),
            "HTTPStatusCode": 200,
            "HTTPHeaders": {k.lower(): v for k, v in http.headers.items()},
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
    handler_class = _HANDLERS.get(service)
    body = params.get("body") or b"{}"
    if isinstance(body, str):
        body = body.encode("utf-8")
    url = params.get("url", "")
    if handler_class is None or ".amazonaws.com" not in url or _BINARY_VALUE.search(body):
        return None
    region = context.get("client_region") or BaseResponse.default_region
    handler = handler_class()
    handler.region, handler.partition, handler.current_account = region, get_partition(region), _account()
    handler.headers = dict(params.get("headers") or {})
    handler.querystring, handler.uri_match, handler.method = {"Action": [model.name]}, {}, "POST"
    handler.response_headers = {"server": "amazon.com"}
    handler.body = body.decode("utf-8")
    if handler.automated_parameter_parsing:
        handler.params = json.loads(body)
        handler.body = handler.params  # as DynamoHandler.call_action does
    status, headers, text = _run_action(handler, model.name)
    raw = text.encode("utf-8") if isinstance(text, str) else text
    headers = {str(k): str(v) for k, v in headers.items() if k != "status"}
    headers.setdefault("x-amzn-RequestId", "direct")
    http = AWSResponse(url, int(status), headers, MockRawResponse(raw))
    parsed = _parse(model, http, raw, context, plain=service == "dynamodb" or model.name == "GetRecords")
    parsed.setdefault("ResponseMetadata", {})["RetryAttempts"] = 0
    with _count_lock:
        calls_served[model.name] += 1
    return http, parsed


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


def uninstall() -> None:
    global _enabled
    _enabled = False
    direct_requests.uninstall()


__all__ = ["calls_served", "install", "uninstall"]
