"""JSON responses for moto's hot DynamoDB and DynamoDB Streams calls without the shape walk.

moto 5 serialises every response by walking the operation's output shape member by member; for items with
maps (profiles, price histograms) that costs milliseconds per item: a GetItem of a 30-entry map takes ~5 ms,
a BatchGetItem of 50 such items ~180 ms. The local stack spent about 30% of its CPU there. DynamoDB's wire
format is already JSON of attribute values, so for the data-plane calls below the result is dumped
directly. Anything the plain encoding cannot represent exactly (an unknown type) falls back to moto's
serializer, and errors always go through moto's. tests/integration/test_moto_fast_responses.py checks that
botocore parses the same responses either way. Installed by the local stack only.
"""

from __future__ import annotations

import base64
import calendar
import functools
import json
from datetime import datetime
from typing import Any

from moto.core import responses as moto_responses
from moto.core.responses import ActionResult, BaseResponse
from moto.dynamodb.responses import DynamoHandler
from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

_FAST_ACTIONS = {
    DynamoHandler: frozenset(
        {
            "GetItem",
            "PutItem",
            "UpdateItem",
            "DeleteItem",
            "BatchGetItem",
            "BatchWriteItem",
            "TransactWriteItems",
            "TransactGetItems",
            "Query",
            "Scan",
        }
    ),
    DynamoDBStreamsHandler: frozenset({"GetRecords", "GetShardIterator"}),
}
_CONTENT_TYPE = "application/x-amz-json-1.0"


class _NotPlainJson(TypeError):
    pass


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        # as moto's JSON serializer: epoch seconds, truncated to milliseconds
        seconds = calendar.timegm(value.utctimetuple())
        return seconds + (value.microsecond // 1000) / 1000.0 if value.microsecond else seconds
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    raise _NotPlainJson(type(value).__name__)


def _fast_serialized(handler: BaseResponse, action_result: ActionResult) -> Any:
    result = action_result.result
    if type(result) is dict and handler._get_action() in _FAST_ACTIONS[type(handler)]:
        try:
            body = json.dumps(result, default=_encode, separators=(",", ":"))
        except _NotPlainJson:
            return BaseResponse.serialized(handler, action_result)
        headers = {"Content-Type": _CONTENT_TYPE}
        headers.update(handler.response_headers)
        return 200, headers, body
    return BaseResponse.serialized(handler, action_result)


# moto lists a handler class's methods with inspect.getmembers on every request to find the action;
# a class's methods do not change while it serves, so the list is computed once per class.
_method_names = functools.lru_cache(maxsize=256)(moto_responses.method_names_from_class)


def install() -> None:
    """Serve the hot calls' responses as plain JSON (idempotent)."""
    for handler in _FAST_ACTIONS:
        handler.serialized = _fast_serialized  # type: ignore[method-assign,assignment]
    moto_responses.method_names_from_class = _method_names


def uninstall() -> None:
    for handler in _FAST_ACTIONS:
        if "serialized" in vars(handler):
            delattr(handler, "serialized")
    moto_responses.method_names_from_class = _method_names.__wrapped__


__all__ = ["install", "uninstall"]
