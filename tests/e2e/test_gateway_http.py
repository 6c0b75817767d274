"""The local API Gateway over raw HTTP: what a client controls in the request itself (Content-Length, header
sizes, Content-Type, percent-encoded path segments) gets an answer in the API's JSON error shape, never a dropped
connection, and every customer id ingest accepts can be read back through its encoded path."""

from __future__ import annotations

import json
import socket
from urllib.parse import quote, urlsplit

import pytest

from infra.local.stack import LocalStack
from tests.e2e.test_local_stack import purchase, wait_for


def exchange(stack: LocalStack, head: str, body: bytes = b"", half_close: bool = False) -> tuple[int, dict]:
    """Send `head` (request line and headers, without the blank line) and `body`; the status and JSON answer."""
    address = urlsplit(stack.url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as conn:
        conn.sendall(head.replace("\n", "\r\n").encode() + b"\r\n\r\n" + body)
        if half_close:
            conn.shutdown(socket.SHUT_WR)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = conn.recv(65536)
            assert chunk, f"the gateway closed the connection without an answer: {answer!r}"
            answer += chunk
        status_line, rest = answer.split(b"\r\n", 1)
        headers, payload = rest.split(b"\r\n\r\n", 1)
        length = int(next(h for h in headers.split(b"\r\n") if h.lower().startswith(b"content-length")).split(b":")[1])
        while len(payload) < length:
            payload += conn.recv(65536)
    return int(status_line.split()[1]), json.loads(payload)


def post(stack: LocalStack, path: str, length: str, extra: str = "") -> str:
    return f"POST {path} HTTP/1.1\nHost: localhost\nx-api-key: {stack.api_key}\nContent-Length: {length}{extra}"


def assert_error(answer: tuple[int, dict], status: int) -> None:
    assert answer[0] == status and set(answer[1]["error"]) >= {"code", "message"}, answer


@pytest.mark.parametrize("length", ["-1", "abc", "+5", "1e3", " 5 5"])
def test_a_bad_content_length_is_a_400_before_the_body_is_read(local_stack, length):
    assert_error(exchange(local_stack, post(local_stack, "/transactions", length)), 400)


def test_an_oversized_content_length_is_a_413_without_sending_the_body(local_stack):
    assert_error(exchange(local_stack, post(local_stack, "/transactions", str(11 * 1024 * 1024))), 413)


def test_a_body_shorter_than_announced_gets_an_answer(local_stack):
    assert_error(exchange(local_stack, post(local_stack, "/transactions", "100"), b"{}", half_close=True), 400)


@pytest.mark.parametrize("header", ["\nx-big: " + "a" * 11000, "\nx-huge: " + "a" * 70000])
def test_oversized_headers_are_answered_in_the_json_error_shape(local_stack, header):
    assert_error(exchange(local_stack, f"GET /health HTTP/1.1\nHost: localhost{header}"), 431)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("PUT /products/NO-TYPE", {"price": "10.00"}),
        ("POST /products", {"products": [{"sku": "NO-TYPE-2", "price": "1.00"}]}),
        ("POST /transactions", purchase("no-type-1", customer="no-type")),
    ],
)
def test_a_body_without_content_type_is_read_as_json_on_every_route(local_stack, path, body):
    method, target = path.split()
    data = json.dumps(body).encode()
    head = f"{method} {target} HTTP/1.1\nHost: localhost\nx-api-key: {local_stack.api_key}\nContent-Length: {len(data)}"
    assert exchange(local_stack, head, data)[0] in (200, 202)


@pytest.mark.parametrize("customer", ["Zoë Doe", "a b", "x/y", "guest#1"])
def test_every_customer_id_ingest_accepts_is_readable_over_http(local_stack, api, customer):
    tid = f"id-{quote(customer, safe='').replace('%', '')}"
    assert api.post_transactions([purchase(tid, customer=customer)])["accepted"] == [tid]
    segment = quote(customer, safe="")  # the dashboard's encodeURIComponent
    detail = wait_for(lambda: (lambda a: a[1] if a[0] == 200 else None)(api.request("GET", f"/customers/{segment}")))
    assert detail["profile"]["customer_id"] == customer
    status, view = api.request("GET", f"/customers/{segment}/anomalies?metric=amount")
    assert status == 200 and view["customer_id"] == customer
    status, found = api.request("GET", f"/transactions/{tid}")
    assert status == 200 and found["transaction"]["customer_id"] == customer
