"""lambda:Invoke of the template's own functions, served by the local stack's in-process function runner.

A function that invokes another (ApiFunction's POST /models/train starts TrainFunction with
InvocationType=Event) calls boto3 as on AWS; under moto's mock that call would reach moto's Lambda, which knows
none of the template's functions. A botocore `before-call.lambda.Invoke` handler (botocore's documented
short-circuit) answers it instead, as Lambda does:
- Event: 202 at once, and the function runs in a thread of its own with the payload as its event (its own
  environment: the one the stack loaded it with); a failure is logged and kept in `failures`, as Lambda
  keeps an asynchronous invocation's error out of the caller's answer;
- RequestResponse: the function runs now; 200 with its JSON result, or FunctionError "Unhandled";
- DryRun: 204.
Names it does not know (another account's function) go on to moto, unchanged.
"""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from botocore.awsrequest import AWSResponse
from botocore.handlers import BUILTIN_HANDLERS
from botocore.response import StreamingBody

logger = logging.getLogger(__name__)

Runner = Callable[[dict[str, Any]], Any]  # one function's invoke(event)

_functions: dict[str, Runner] = {}  # function name (and ARN) -> its runner
_registered = False
threads: list[threading.Thread] = []  # asynchronous invocations, for tests and a clean stop
failures: list[tuple[str, str]] = []  # (function name, error) of asynchronous invocations that failed


def _name(function: str) -> str:
    """A function's name from what Invoke accepts: a name, a full or partial ARN (with a qualifier or not)."""
    if function.startswith("arn:"):
        return function.split(":")[6]
    parts = function.split(":")
    return parts[2] if len(parts) >= 3 and parts[1] == "function" else parts[0]


def _answer(status: int, parsed: dict[str, Any], url: str = "https://lambda.local") -> tuple[AWSResponse, dict]:
    parsed.setdefault("ResponseMetadata", {}).update({"HTTPStatusCode": status, "RetryAttempts": 0})
    return AWSResponse(url, status, {}, None), parsed  # botocore reads only the status of a short-circuited call


def _run_async(name: str, runner: Runner, event: dict[str, Any]) -> None:
    try:
        runner(event)
    except Exception as exc:  # Lambda keeps an async invocation's error from its caller: kept here
        failures.append((name, repr(exc)))
        logger.exception("asynchronous invocation of %s failed", name)


def _invoke(model: Any, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
    if model.name != "Invoke":
        return None
    body = params.get("body") or b""
    headers = params.get("headers") or {}
    function = (params.get("url_path") or "").split("/functions/", 1)[-1].split("/", 1)[0]
    name = _name(unquote(function))
    runner = _functions.get(name)
    if runner is None:
        return None
    invocation = headers.get("X-Amz-Invocation-Type", "RequestResponse")
    event = json.loads(body) if body else {}
    if invocation == "DryRun":
        return _answer(204, {"StatusCode": 204})
    if invocation == "Event":
        thread = threading.Thread(target=_run_async, args=(name, runner, event), name=f"invoke-{name}", daemon=True)
        threads.append(thread)
        thread.start()
        return _answer(202, {"StatusCode": 202})
    try:
        result = runner(event)
    except Exception as exc:  # noqa: BLE001 - Lambda answers a function error with 200 and FunctionError
        payload = json.dumps({"errorMessage": str(exc), "errorType": type(exc).__name__}).encode()
        return _answer(200, {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": _stream(payload)})
    payload = json.dumps(result).encode()
    return _answer(200, {"StatusCode": 200, "ExecutedVersion": "$LATEST", "Payload": _stream(payload)})


def _stream(data: bytes) -> StreamingBody:
    return StreamingBody(io.BytesIO(data), len(data))


def install(functions: dict[str, Runner]) -> None:
    """Serve Invoke of these functions (by name) in process, for clients created from now on."""
    global _registered
    _functions.clear()
    _functions.update(functions)
    if not _registered:
        BUILTIN_HANDLERS.append(("before-call.lambda.Invoke", _invoke))
        _registered = True


def uninstall() -> None:
    """Stop serving (the handler stays registered and passes every call on)."""
    _functions.clear()


def wait(timeout: float = 60.0) -> bool:
    """True once every asynchronous invocation started so far has finished."""
    for thread in list(threads):
        thread.join(timeout)
    return not any(t.is_alive() for t in threads)
