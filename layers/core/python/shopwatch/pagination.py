"""Opaque page tokens for lists sorted newest first.

A token names the last item a page showed (its sort value and id) and the filters it was made with, as
base64url JSON. Nothing in it reaches DynamoDB unchecked: a token that does not decode, does not match the
request's filters, or holds values of the wrong shape is a 400, never a storage error.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass

from shopwatch.errors import ValidationFailed

MAX_TOKEN_LENGTH = 1024


@dataclass(frozen=True, order=True)
class Cursor:
    """A position in a newest-first list: items strictly older than (sort_value, item_id) come next."""

    sort_value: str
    item_id: str


def scope_of(**filters: object) -> str:
    """A short fingerprint of a list's filters, so a token is never replayed against a different query."""
    canonical = json.dumps({k: None if v is None else str(v) for k, v in filters.items()}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def encode_token(cursor: Cursor, scope: str) -> str:
    raw = json.dumps({"v": cursor.sort_value, "i": cursor.item_id, "s": scope}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_token(token: str | None, scope: str) -> Cursor | None:
    if token is None:
        return None
    refused = ValidationFailed("next_token is not valid for this request", {"field": "next_token"})
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise refused
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError):
        raise refused from None
    if (
        not isinstance(data, dict)
        or data.get("s") != scope
        or not all(isinstance(data.get(k), str) and 0 < len(data[k]) <= 256 for k in ("v", "i"))
    ):
        raise refused
    return Cursor(data["v"], data["i"])
