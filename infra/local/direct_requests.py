"""The botocore side of the local stack's in-process DynamoDB calls: validated as botocore validates, serialised
by the C JSON encoder, and their endpoint resolved once per client and operation.

Why: moto_direct_calls hands each in-process DynamoDB call straight to moto's handler, but botocore still
validated the parameters with its generic walker (a Python call per node: ~30% of a call's CPU for an entity
update with forty attribute values), serialised them with its Python serializer, and ran the endpoint ruleset
(~6%), for every one of the ~6 calls a transaction costs DetectFunction. The stack runs all functions in one
process under one GIL, so that was a third of what limits its throughput.

What stays exactly as before:
- validation: `checker(shape)` compiles botocore's own rules (types, `min`, required members, unknown members,
  tagged unions; validate.py's ParamValidator) into one function per shape. It answers True only when
  botocore would find nothing wrong; anything else (an error, or a shape it leaves to botocore: timestamps,
  documents, JSON-value headers) goes through botocore's own validator and serializer, which raise the same
  ParamValidationError as ever. tests/integration/test_direct_requests.py checks it against botocore's
  validator on every DynamoDB operation's inputs, valid and broken.
- the body: `json.dumps` of parameters that passed validation is what botocore's JSON serializer writes for
  them (no blobs: a bytes value is not JSON, so such a call takes botocore's path, and moto_direct_calls
  leaves binary bodies to the stubber anyway).
- the endpoint: resolved by botocore on a client's first call of an operation and reused, with what it put
  in the request context; only while moto's mock is on (the endpoint is then the region's fixed amazonaws.com
  URL; account-ID-based endpoints are off in the local stack).
Only clients of DynamoDB and DynamoDB Streams take this path, and only while installed (by the local stack,
with moto_direct_calls). A botocore whose private methods no longer look as written for keeps its own path,
and `install` says so once.
"""

from __future__ import annotations

import copy
import inspect
import json
import sys
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from botocore.awsrequest import prepare_request_dict
from botocore.client import BaseClient
from botocore.utils import is_json_value_header

SERVICES = frozenset({"dynamodb", "dynamodbstreams"})
_ORIGINAL_CONVERT = BaseClient._convert_to_request_dict
_ORIGINAL_ENDPOINT = BaseClient._resolve_endpoint_ruleset
_EXPECTED = {
    "_convert_to_request_dict": [
        "self", "api_params", "operation_model", "endpoint_url", "context", "headers", "set_user_agent_header",
    ],
    "_resolve_endpoint_ruleset": ["self", "operation_model", "params", "request_context", "ignore_signing_region"],
}  # fmt: skip
_enabled = False
served = {"fast": 0}  # requests built on the fast path (for tests and the bench)
_mock_on: Callable[[], bool] = lambda: False  # noqa: E731 - set by install(): is moto's mock intercepting calls
_checkers: dict[tuple[str, str, str, str], Callable[[Any], bool]] = {}
# Held while checkers are looked up or built: a recursive shape's checker calls a placeholder that is filled
# only when the outermost build returns, so no other thread may see a checker before then (Ingest's put
# threads asked for PutItem's at once at a cold start, and one called an empty placeholder: IndexError, a 500).
_BUILDING = threading.RLock()
_SCALARS: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "long": (int,),
    "boolean": (bool,),
    "float": (float, Decimal, int),
    "double": (float, Decimal, int),
}
_CONSTRAINTS = {"required", "min", "document", "union"}  # ParamValidator.VALIDATED_METADATA_ATTRS


def _never(_: Any) -> bool:
    return False


def _min_of(shape: Any) -> float | None:
    """The lower bound botocore's range_check applies: `min`, else 1 for a host label, else none."""
    if "min" in shape.metadata:
        return shape.metadata["min"]
    serialization = getattr(shape, "serialization", None)
    return 1 if serialization and serialization.get("hostLabel") else None


def checker(shape: Any) -> Callable[[Any], bool]:
    """A function that is True for a value of `shape` in which botocore's ParamValidator finds no error, and
    False for one it refuses (or might: the shapes left to botocore always answer False)."""
    key = (shape.name, shape.type_name, repr(sorted(shape.metadata.items())), repr(getattr(shape, "serialization", {})))
    with _BUILDING:  # once per client and operation (the caller keeps what it gets): a lock costs nothing here
        found = _checkers.get(key)
        if found is not None:
            return found
        cell: list[Callable[[Any], bool]] = []
        _checkers[key] = lambda value: cell[0](value)  # a recursive shape (AttributeValue) meets itself here
        try:
            built = _build(shape)
        except BaseException:
            del _checkers[key]
            raise
        cell.append(built)
        _checkers[key] = built
        return built


def _build(shape: Any) -> Callable[[Any], bool]:
    kind = shape.type_name
    if is_json_value_header(shape) or (kind == "structure" and shape.is_document_type):
        return _never
    lowest = _min_of(shape)
    if kind in _SCALARS:
        types = _SCALARS[kind]
        if kind == "string":
            return lambda v: isinstance(v, str) and (lowest is None or len(v) >= lowest)
        if kind == "boolean":
            return lambda v: isinstance(v, bool)
        return lambda v: isinstance(v, types) and (lowest is None or v >= lowest)
    if kind == "blob":
        return lambda v: isinstance(v, (bytes, bytearray, str)) or hasattr(v, "read")
    if kind == "list":
        member = shape.member
        if member.type_name in _SCALARS and not (_CONSTRAINTS & set(member.metadata)):
            item_types = _SCALARS[member.type_name]

            def scalars(v: Any) -> bool:
                if not isinstance(v, (list, tuple)) or (lowest is not None and len(v) < lowest):
                    return False
                for i in v:  # noqa: SIM110 - a loop, not all(<generator>): this runs on every value of every call
                    if not isinstance(i, item_types):
                        return False
                return True

            return scalars
        item = checker(member)

        def items(v: Any) -> bool:
            if not isinstance(v, (list, tuple)) or (lowest is not None and len(v) < lowest):
                return False
            for i in v:  # noqa: SIM110 - as above
                if not item(i):
                    return False
            return True

        return items
    if kind == "map":
        keys, values = checker(shape.key), checker(shape.value)
        plain_keys = shape.key.type_name == "string" and _min_of(shape.key) is None

        def mapping(v: Any) -> bool:
            if not isinstance(v, dict):
                return False
            for k, x in v.items():  # noqa: SIM110 - as above
                if not ((isinstance(k, str) if plain_keys else keys(k)) and values(x)):
                    return False
            return True

        return mapping
    if kind == "structure":
        if any(member.serialization.get("name", name) != name for name, member in shape.members.items()):
            return _never  # a renamed member (jsonName): botocore's serializer renames it, json.dumps would not
        members = {name: checker(member) for name, member in shape.members.items()}
        required = tuple(shape.metadata.get("required", ()))
        union = shape.is_tagged_union

        # a one-member value naming an unconstrained string member (DynamoDB's {"S": ...} and {"N": ...}, most
        # of what a request holds) needs no more than that: the check below would pass it too
        plain_strings = (
            frozenset(
                name
                for name, member in shape.members.items()
                if member.type_name == "string" and _min_of(member) is None and not is_json_value_header(member)
            )
            if not required
            else frozenset()
        )

        def structure(v: Any) -> bool:
            if type(v) is dict and len(v) == 1 and plain_strings:
                for name, value in v.items():
                    if name in plain_strings and isinstance(value, str):
                        return True
            if not isinstance(v, dict) or (union and len(v) != 1):
                return False
            for name in required:
                if name not in v:
                    return False
            for name, value in v.items():
                check = members.get(name)
                if check is None or not check(value):
                    return False
            return True

        return structure
    return _never  # timestamps and anything newer: botocore's own validator decides


def _is_ours(client: BaseClient) -> bool:
    return _enabled and client.meta.service_model.service_name in SERVICES and _mock_on()


def _convert_to_request_dict(
    self: BaseClient,
    api_params: dict[str, Any],
    operation_model: Any,
    endpoint_url: str,
    context: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    set_user_agent_header: bool = True,
) -> dict[str, Any]:
    """BaseClient._convert_to_request_dict with botocore's validator and JSON serializer replaced by the
    compiled check and json.dumps, for parameters the check passes; everything else as botocore does it."""
    if (
        _is_ours(self)
        and operation_model.input_shape is not None
        and "awsQueryCompatible" not in operation_model.service_model.metadata
        and operation_model.endpoint is None  # no host prefix to expand
        and checker(operation_model.input_shape)(api_params)
    ):
        try:
            body = json.dumps(api_params, separators=(",", ":")).encode("utf-8")
        except (TypeError, ValueError):
            body = None  # not JSON as it stands (a blob, a set): botocore serialises it
        if body is not None:
            protocol = operation_model.metadata["jsonVersion"]
            target = f"{operation_model.metadata['targetPrefix']}.{operation_model.name}"
            request_dict = {
                "url_path": "/",
                "query_string": "",
                "method": operation_model.http.get("method", "POST"),
                "headers": {"X-Amz-Target": target, "Content-Type": f"application/x-amz-json-{protocol}"},
                "body": body,
            }
            if headers is not None:
                request_dict["headers"].update(headers)
            user_agent = self._user_agent_creator.to_string() if set_user_agent_header else None
            prepare_request_dict(request_dict, endpoint_url=endpoint_url, user_agent=user_agent, context=context)
            served["fast"] += 1
            return request_dict
    return _ORIGINAL_CONVERT(self, api_params, operation_model, endpoint_url, context, headers, set_user_agent_header)


def _resolve_endpoint_ruleset(
    self: BaseClient,
    operation_model: Any,
    params: dict[str, Any],
    request_context: dict[str, Any],
    ignore_signing_region: bool = False,
) -> Any:
    """BaseClient._resolve_endpoint_ruleset, resolved once per client and operation while the mock is on;
    a repeat gets the same answer and the same additions to the request context."""
    if not _is_ours(self):
        return _ORIGINAL_ENDPOINT(self, operation_model, params, request_context, ignore_signing_region)
    cache = self.__dict__.setdefault("_shopwatch_endpoints", {})
    key = (operation_model.name, ignore_signing_region)
    if key not in cache:
        before = dict(request_context)
        answer = _ORIGINAL_ENDPOINT(self, operation_model, params, request_context, ignore_signing_region)
        added = {k: v for k, v in request_context.items() if k not in before or before[k] is not v}
        cache[key] = (answer, copy.deepcopy(added))
        return answer
    answer, added = cache[key]
    request_context.update(copy.deepcopy(added))
    url, headers, properties = answer
    return url, dict(headers), copy.deepcopy(properties)


def install(mock_on: Callable[[], bool]) -> bool:
    """Take the fast path for DynamoDB clients (idempotent); False, said once on stderr, when botocore's private
    methods are not the ones this was written for (calls then take botocore's own path, as before)."""
    global _enabled, _mock_on
    _mock_on = mock_on
    if BaseClient._convert_to_request_dict is not _convert_to_request_dict:
        if not (
            list(inspect.signature(_ORIGINAL_CONVERT).parameters) == _EXPECTED["_convert_to_request_dict"]
            and list(inspect.signature(_ORIGINAL_ENDPOINT).parameters) == _EXPECTED["_resolve_endpoint_ruleset"]
        ):
            print(
                "shopwatch: this botocore's BaseClient._convert_to_request_dict/_resolve_endpoint_ruleset differ from "
                "what infra/local/direct_requests.py was written for; in-process DynamoDB calls take botocore's "
                "own (slower) path",
                file=sys.stderr,
            )
            return False
        BaseClient._convert_to_request_dict = _convert_to_request_dict  # type: ignore[method-assign]
        BaseClient._resolve_endpoint_ruleset = _resolve_endpoint_ruleset  # type: ignore[method-assign]
    _enabled = True
    return True


def uninstall() -> None:
    global _enabled
    _enabled = False
    BaseClient._convert_to_request_dict = _ORIGINAL_CONVERT  # type: ignore[method-assign]
    BaseClient._resolve_endpoint_ruleset = _ORIGINAL_ENDPOINT  # type: ignore[method-assign]


__all__ = ["SERVICES", "checker", "install", "served", "uninstall"]
