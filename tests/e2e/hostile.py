"""Hostile requests for every route, generated from one seed: valid and hostile bodies, headers, path and query
parameters, each marked with whether the contract forbids it (then no 2xx may answer it).

A caller is a function that adds its credentials to a request's headers, so that every kind of caller (the
shop's API key today, a signed-in analyst later) runs the very same requests.
"""

from __future__ import annotations

import http.client
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

Caller = Callable[[dict[str, str]], dict[str, str]]


def api_key_caller(key: str) -> Caller:
    return lambda headers: headers | {"x-api-key": key}


@dataclass(frozen=True)
class Hostile:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    forbidden: str = ""  # why the contract forbids this request ("" = it may succeed)

    def describe(self) -> str:
        shown = (self.body or b"")[:160]
        return f"{self.method} {self.path[:160]} {dict(self.headers)} {shown!r} ({self.forbidden or 'allowed'})"


# Texts that break naive code: path tricks, controls, bidi, astral, SQL/HTML, numbers as text, huge.
NASTY = [
    "Zoë Doe", "a b", "x/y", "guest#1", "..", ".", "a/../b", "%2F", "%00", "\x00", "a\r\nBcc: x@evil.example",
    "\u202egnp.exe", "💳", "' OR 1=1 --", "<script>alert(1)</script>", "NaN", "-1", "1e309", "", " ", "null", "[]",
    "{}", "A" * 5000, "\t", "\\", "?x=1", "#frag", "ä" * 200, "\ufeffbom", "\u2028",
]  # fmt: skip
ADDRESSABLE_IDS = ["Zoë Doe", "a b", "x/y", "guest#1", "c-1", "💳"]
WRONG_TYPES: list[Any] = [123, 1.5, True, [], {}, ["a"], {"a": 1}]
CONTROL_TEXT = ["a\x00b", "line\nbreak", "bell\x07", "\u202eevil", "del\x7f", "nel\x85"]
AL_ID = "al_" + "0" * 24


def _segment(rng: random.Random, value: str) -> str:
    """One path segment: encoded as a client should, left raw, or encoded twice."""
    mode = rng.random()
    if mode < 0.6:
        return quote(value, safe="")
    if mode < 0.8:
        return quote(value, safe="/%")
    return quote(quote(value, safe=""), safe="")


def _query(rng: random.Random, names: list[str]) -> str:
    pairs = []
    for name in rng.sample(names, rng.randint(0, len(names))):
        value = rng.choice(
            [*NASTY, "0", "1", "100", "101", "1.5", "abc", "2025-09-16T16:31:05Z", "0001-01-01T00:00:00+05:00",
                     "9999-12-31T23:59:59-05:00", "2025-02-30T00:00:00Z", "fraud", "open", "price", "high", "x" * 3000]
        )  # fmt: skip
        pairs.append(f"{quote(name)}={quote(value, safe='')}")
        if rng.random() < 0.1:
            pairs.append(f"{quote(name)}=1")  # the parameter twice
    return "?" + "&".join(pairs) if pairs else ""


@dataclass(frozen=True)
class Route:
    method: str
    template: str  # "{}" marks each path parameter
    query: tuple[str, ...] = ()
    body: Callable[[random.Random], dict[str, Any]] | None = None
    text_fields: tuple[str, ...] = ()  # fields where control characters and huge text are forbidden


def _transaction(rng: random.Random) -> dict[str, Any]:
    return {
        "transaction_id": f"hostile-{rng.getrandbits(48):012x}",
        "customer_id": rng.choice(ADDRESSABLE_IDS),
        "amount": rng.choice(["12.50", 3, "0.00"]),
        "customer_name": "Alice",
    }


ROUTES = [
    Route("GET", "/"),
    Route("GET", "/health"),
    Route("GET", "/openapi.json"),
    Route(
        "GET", "/alerts", ("status", "min_severity", "detector", "customer_id", "since", "until", "limit", "next_token")
    ),
    Route("GET", "/alerts/{}"),
    Route("PATCH", "/alerts/{}", body=lambda r: {"status": "investigating", "by": "ana"}, text_fields=("by",)),
    Route("POST", "/alerts/{}/notes", body=lambda r: {"text": "checked the card", "by": "ana"}, text_fields=("by",)),
    Route(
        "POST", "/alerts/{}/feedback", body=lambda r: {"label": "fraud", "comment": "chargeback"}, text_fields=("by",)
    ),
    Route("POST", "/transactions", body=_transaction, text_fields=("customer_id", "customer_name")),
    Route("GET", "/transactions/{}"),
    Route(
        "POST",
        "/transactions/{}/label",
        body=lambda r: {"label": "fraud", "source": "chargeback"},
        text_fields=("source", "by"),
    ),
    Route("GET", "/customers", ("limit", "next_token")),
    Route("GET", "/customers/{}"),
    Route("GET", "/customers/{}/anomalies", ("metric",)),
    Route("GET", "/stats/minutes", ("since", "until")),
    Route("GET", "/stats/daily", ("days",)),
    Route("GET", "/dashboard/metrics", ("hours",)),
    Route("GET", "/dashboard/alerts-trend", ("hours",)),
    Route("GET", "/dashboard/severity-distribution", ("hours",)),
    Route("GET", "/analytics/detectors", ("days",)),
    Route("GET", "/analytics/confusion-matrix", ("days",)),
    Route("GET", "/reports/{}", ("date", "format")),
    Route(
        "PUT",
        "/products/{}",
        body=lambda r: {"price": rng_price(r), "currency": "EUR", "name": "Mug"},
        text_fields=("name",),
    ),
    Route("GET", "/products/{}"),
    Route("POST", "/products", body=lambda r: {"products": [{"sku": f"SKU-{r.randint(1, 9)}", "price": "4.20"}]}),
    # the same catalog writes for a signed-in admin: the key is 401 there and an analyst 403, never a 2xx
    Route("PUT", "/admin/products/{}", body=lambda r: {"price": rng_price(r)}),
    Route("POST", "/admin/products", body=lambda r: {"products": [{"sku": f"SKU-{r.randint(1, 9)}", "price": "4.20"}]}),
]


def rng_price(rng: random.Random) -> Any:
    return rng.choice(["9.99", 5, "0.0001", 12.5])


def _raw_bodies(valid: bytes) -> list[tuple[bytes, str]]:
    """Bodies no JSON route may accept."""
    deep = b"[" * 5000 + b"]" * 5000
    return [
        (b'{"a": NaN}', "NaN is not JSON"),
        (b'{"a": Infinity}', "Infinity is not JSON"),
        (valid[:-1] + b', "x": 1, "x": 2}' if valid.endswith(b"}") else b'{"x":1,"x":2}', "duplicate keys"),
        (deep, "nested 5000 deep"),
        (b'{"a": {"b": ' * 200 + b"1" + b"}}" * 100, "truncated deep JSON"),
        (valid[: max(1, len(valid) // 2)], "truncated JSON"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b"", "empty body"),
        (b"[]", "an array is not the body's object"),
        (b'"just a string"', "a string is not the body's object"),
        (b'{"a": "\\ud800"}', "an unpaired surrogate"),
        (b"null", "null is not the body's object"),
    ]


def _mutated(rng: random.Random, route: Route, body: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """A JSON body the contract refuses, and why."""
    choice = rng.randrange(4)
    if choice == 0:
        return body | {rng.choice(["admin", "__proto__", "status2", "x" * 300]): 1}, "unknown field"
    if choice == 1:
        name = rng.choice(list(body))
        return body | {name: rng.choice(WRONG_TYPES)}, f"{name} of a wrong type"
    if choice == 2 and route.text_fields:
        name = rng.choice(route.text_fields)
        return body | {name: rng.choice(CONTROL_TEXT)}, f"control characters in {name}"
    name = rng.choice(route.text_fields or list(body))
    return body | {name: "x" * rng.choice([5000, 100_000])}, f"{name} far over its length"


def generate(rng: random.Random, caller: Caller, ids: dict[str, list[str]]) -> Hostile:
    route = rng.choice(ROUTES)
    forbidden = ""
    path = route.template
    while "{}" in path:
        if rng.random() < 0.5:
            value = rng.choice(ids.get(route.template, [AL_ID]) + ADDRESSABLE_IDS)
        else:
            value = rng.choice(NASTY)
        path = path.replace("{}", _segment(rng, value) or "%20", 1)
        if route.method == "PUT" and (value in {".", "..", "a/../b", ""} or any(c < " " for c in value)):
            forbidden = forbidden or "an sku that cannot be read back"
    path += _query(rng, list(route.query)) if route.query and rng.random() < 0.8 else ""
    headers: dict[str, str] = {}
    body = None
    if route.body is not None:
        document = route.body(rng)
        roll = rng.random()
        if roll < 0.35:
            body = json.dumps(document).encode()
        elif roll < 0.7:
            mutated, forbidden_body = _mutated(rng, route, document)
            body, forbidden = json.dumps(mutated).encode(), forbidden or forbidden_body
        else:
            body, forbidden_raw = rng.choice(_raw_bodies(json.dumps(document).encode()))
            forbidden = forbidden or forbidden_raw
        content_type = rng.random()
        if content_type < 0.75:
            headers["Content-Type"] = "application/json"
        elif content_type < 0.85:
            headers["Content-Type"] = rng.choice(["text/plain", "application/x-www-form-urlencoded", "multipart/x"])
            forbidden = forbidden or "a Content-Type that is not JSON"
        elif content_type < 0.9:
            headers["Content-Type"] = "application/json; charset=utf-8"
        # else: no Content-Type, which API Gateway treats as JSON
    elif rng.random() < 0.1:
        body, headers["Content-Type"] = b'{"unexpected": "body"}', "application/json"
    if rng.random() < 0.05:
        headers["Content-Length"] = rng.choice(["-5", "abc", "99999999999", "1, 2"])
        forbidden = forbidden or "a Content-Length that is not the body's"
    if rng.random() < 0.05:
        headers["X-Forwarded-For"] = "127.0.0.1, evil"
    return Hostile(route.method, path, caller(headers), body, forbidden)


def send(base_url: str, request: Hostile, timeout: float = 30.0) -> tuple[int, bytes, str]:
    """One request on its own connection, exactly as generated (no client-side normalisation of the path)."""
    target = urlsplit(base_url)
    connection = http.client.HTTPConnection(target.hostname, target.port, timeout=timeout)
    try:
        connection.putrequest(request.method, request.path, skip_accept_encoding=True)
        headers = dict(request.headers)
        length = headers.pop("Content-Length", None)
        if length is None and request.body is not None:
            length = str(len(request.body))
        for name, value in headers.items():
            connection.putheader(name, value)
        if length is not None:
            connection.putheader("Content-Length", length)
        connection.putheader("Connection", "close")
        connection.endheaders(request.body)
        response = connection.getresponse()
        return response.status, response.read(), response.getheader("Content-Type") or ""
    finally:
        connection.close()
