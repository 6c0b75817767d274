"""Schemathesis hooks for the suite's run (loaded through SCHEMATHESIS_HOOKS).

One rule of the API is not syntax and so cannot be in /openapi.json: a `next_token` must be one the previous
page gave, with the same filters (the parameter says so in `x-issued-by`). A schema-valid token the server never
issued is refused with a 400 naming `next_token`; that refusal, and only that one, is not a conformance failure.
"""

from __future__ import annotations

import json

import schemathesis


@schemathesis.hook
def filter_failure(context, failure, case, response) -> bool:
    """Keep every failure but "valid data rejected" answered by a refused, server-unissued next_token."""
    if type(failure).__name__ != "RejectedPositiveData" or "next_token" not in (case.query or {}):
        return True
    try:
        details = json.loads(response.content)["error"]["details"]
    except (ValueError, KeyError, TypeError):
        return True
    return details != {"field": "next_token"}
