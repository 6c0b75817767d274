"""Reading a request body as JSON with exact numbers, and nothing ambiguous.

Floats become Decimal (money never passes through binary floating point); NaN, Infinity and duplicate keys
are refused; invalid UTF-8, absurd nesting and numbers too long to parse are clear 400s, never a 500.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from shopwatch.errors import InvalidBody, PayloadTooLarge, UnsupportedMediaType


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a valid JSON number")


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _unpaired_surrogate(value: Any) -> bool:
    """JSON may escape half a UTF-16 pair ("\\ud800"); such a string is not text and no store takes it."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_unpaired_surrogate(k) or _unpaired_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_unpaired_surrogate(v) for v in value)
    return False


def check_content_type(content_type: str | None) -> None:
    if content_type is None:
        return
    media = content_type.split(";")[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        raise UnsupportedMediaType(
            f"Content-Type must be application/json, got {media or 'nothing'}",
            {"hint": "send the header 'Content-Type: application/json'"},
        )


def parse_json(raw: bytes, max_bytes: int) -> Any:
    if len(raw) > max_bytes:
        raise PayloadTooLarge(f"body is {len(raw)} bytes; the limit is {max_bytes}")
    if not raw.strip():
        raise InvalidBody('body is empty; send a transaction object or {"transactions": [...]}')
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidBody(f"body is not valid UTF-8 (byte {exc.start})") from None
    try:
        document = json.loads(
            text, parse_float=Decimal, parse_constant=_no_constants, object_pairs_hook=_no_duplicate_keys
        )
        unpaired = _unpaired_surrogate(document)
    except RecursionError:
        raise InvalidBody("body is nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise InvalidBody(f"body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except ValueError as exc:  # NaN/Infinity, duplicate keys, integers too long to convert
        raise InvalidBody(f"body is not acceptable JSON: {exc}") from None
    if unpaired:
        raise InvalidBody("body holds an unpaired UTF-16 surrogate escape (\\ud800-\\udfff), which is not text")
    return document


def loads_strict(text: str) -> Any:
    """`json.loads` with the rules above, for Powertools' resolver: every refusal is a JSONDecodeError, which
    the resolver's validation answers with a 400 (a RecursionError or a duplicate key would otherwise be a 500)."""
    try:
        document = json.loads(
            text, parse_float=Decimal, parse_constant=_no_constants, object_pairs_hook=_no_duplicate_keys
        )
        unpaired = _unpaired_surrogate(document)
    except json.JSONDecodeError:
        raise
    except (RecursionError, ValueError) as exc:
        message = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise json.JSONDecodeError(f"not acceptable JSON: {message}", text[:64], 0) from None
    if unpaired:
        raise json.JSONDecodeError("not acceptable JSON: an unpaired UTF-16 surrogate escape", text[:64], 0)
    return document
