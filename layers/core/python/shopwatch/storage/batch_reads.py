"""BatchGetItem with the retries it needs: unprocessed keys are asked for again, 100 keys per call."""

from __future__ import annotations

import time
from typing import Any

from shopwatch.storage.aws import client
from shopwatch.storage.items import from_attributes

_MAX_KEYS = 100
_MAX_ROUNDS = 8


def get_many(table_name: str, keys: list[dict[str, Any]], *, consistent: bool = True) -> list[dict[str, Any]]:
    """Every existing item among `keys` (typed key attributes), in no particular order."""
    found: list[dict[str, Any]] = []
    unique = list({repr(sorted(k.items())): k for k in keys}.values())
    for start in range(0, len(unique), _MAX_KEYS):
        request: dict[str, Any] = {
            table_name: {"Keys": unique[start : start + _MAX_KEYS], "ConsistentRead": consistent}
        }
        for attempt in range(_MAX_ROUNDS):
            response = client("dynamodb").batch_get_item(RequestItems=request)
            found.extend(from_attributes(i) for i in response.get("Responses", {}).get(table_name, []))
            request = response.get("UnprocessedKeys") or {}
            if not request:
                break
            time.sleep(min(1.0, 0.05 * 2**attempt))
        else:
            raise RuntimeError(f"BatchGetItem on {table_name} left keys unprocessed after {_MAX_ROUNDS} rounds")
    return found
