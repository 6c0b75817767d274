"""2,000 generated requests (1,000 per kind of caller) across every route, against the local stack (issue 15):
no 5xx, no 2xx for what the contract forbids, and every refusal in the JSON error shape. It prints the counts
by status code, so the figures can be quoted.

Deterministic: one seed. A caller is a function adding its credentials to the headers: the shop's API key and
a signed-in analyst's token.
"""

from __future__ import annotations

import json
import random
from collections import Counter

import pytest

from infra.client import ShopwatchClient
from infra.local.stack import LocalStack
from tests.e2e.hostile import Caller, Hostile, api_key_caller, generate, send

SEED = 15_2026
REQUESTS_PER_CALLER = 1000
ANALYST_PASSWORD = "Hostile-Analyst-2026!"  # pragma: allowlist secret


def callers(stack: LocalStack) -> dict[str, Caller]:
    """The shop's systems (the API key) and a person signed in as an analyst (a Cognito ID token)."""
    name = "hostile-analyst"
    if name not in {u.name for u in stack.users.list()}:
        stack.users.add(name, "analysts", ANALYST_PASSWORD)
    token = ShopwatchClient(stack.url).sign_in(name, ANALYST_PASSWORD)
    return {
        "shop api key": api_key_caller(stack.api_key),
        "signed-in analyst": lambda headers: headers | {"Authorization": f"Bearer {token}"},
    }


def _existing_ids(stack: LocalStack) -> dict[str, list[str]]:
    """Ids that exist, so that valid requests reach the handlers' success paths too."""
    caller = api_key_caller(stack.api_key)
    tx = {"transaction_id": "hostile-seed-1", "customer_id": "Zoë Doe", "amount": "10.00"}
    product = {"price": "3.50", "currency": "EUR"}
    for request in (
        Hostile("POST", "/transactions", caller({"Content-Type": "application/json"}), json.dumps(tx).encode()),
        Hostile("PUT", "/products/MUG-1", caller({"Content-Type": "application/json"}), json.dumps(product).encode()),
    ):
        status, body, _ = send(stack.url, request)
        assert status in (200, 202), body
    return {
        "/transactions/{}": ["hostile-seed-1"],
        "/transactions/{}/label": ["hostile-seed-1"],
        "/customers/{}": ["Zoë Doe"],
        "/customers/{}/anomalies": ["Zoë Doe"],
        "/products/{}": ["MUG-1"],
        "/reports/{}": ["price", "velocity", "volume"],
    }


def _problem(request: Hostile, status: int, body: bytes, content_type: str) -> str | None:
    if status >= 500:
        return "a server error"
    if request.forbidden and 200 <= status < 300:
        return f"accepted although the contract forbids it: {request.forbidden}"
    if 400 <= status < 500:
        try:
            document = json.loads(body)
        except ValueError:
            return "a refusal that is not JSON"
        if status in (401, 403) and set(document) == {"message"}:
            return None  # API Gateway's own 401 (no or bad token) and 403 (no key) keep their shape (README)
        error = document.get("error") if isinstance(document, dict) else None
        if not isinstance(error, dict) or not isinstance(error.get("code"), str) or "message" not in error:
            return "a refusal outside the error shape {error: {code, message}}"
        if "application/json" not in content_type:
            return f"a JSON refusal labelled {content_type!r}"
    return None


@pytest.mark.timeout(900)
def test_generated_hostile_requests_get_no_5xx_no_forbidden_2xx_and_json_errors(local_stack, capsys):
    ids = _existing_ids(local_stack)
    rng = random.Random(SEED)
    counts: dict[str, Counter] = {}
    problems = []
    for name, caller in callers(local_stack).items():
        counts[name] = Counter()
        for _ in range(REQUESTS_PER_CALLER):
            request = generate(rng, caller, ids)
            status, body, content_type = send(local_stack.url, request)
            counts[name][status] += 1
            problem = _problem(request, status, body, content_type)
            if problem:
                problems.append(f"{problem}: {status} {body[:200]!r} for {request.describe()}")
    with capsys.disabled():
        for name, counter in counts.items():
            print(f"\nhostile requests as {name}: {sum(counter.values())}, by status:", dict(sorted(counter.items())))
    assert sum(sum(c.values()) for c in counts.values()) >= 1000
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:40])
