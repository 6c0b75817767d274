"""Schemathesis against /openapi.json on the local stack: generated requests to every documented operation
(valid ones, and deliberately invalid ones), checked for no 5xx, documented status codes, content types,
headers and bodies, and that the schema is the server (issue 15, part 6): every valid request is accepted
(positive_data_acceptance) and every invalid one refused with a 4xx (negative_data_rejection).

Two callers, one run each: the shop's systems (the API key alone) and a person signed in as an analyst (a Cognito
ID token alone), so each route is exercised with the credential it takes and refuses the other.

It runs the `schemathesis` command with fixed seeds, so a failure is reproducible, and leaves its JUnit reports in
$SHOPWATCH_ARTIFACTS (default test-artifacts/). `make test` runs one seed at 50 examples per operation;
`make schema-check` runs three other seeds at 100 (SHOPWATCH_SCHEMATHESIS_SEEDS, SHOPWATCH_SCHEMATHESIS_EXAMPLES).
The few rules a JSON Schema cannot state are `x-` notes in the document and kept by schemathesis_hooks.py.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from infra.client import ShopwatchClient
from infra.template import ROOT

ARTIFACTS = Path(os.environ.get("SHOPWATCH_ARTIFACTS", ROOT / "test-artifacts"))
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_headers_conformance",
        "positive_data_acceptance",
        "negative_data_rejection",
    ]
)
SEEDS = os.environ.get("SHOPWATCH_SCHEMATHESIS_SEEDS", "20261122").split()
EXAMPLES = os.environ.get("SHOPWATCH_SCHEMATHESIS_EXAMPLES", "50")
# `make test` leaves out the coverage phase: it sends one request per enum value (~2,700 country and currency
# spellings), about 12 minutes per caller, and would double the suite. `make schema-check` runs every phase.
PHASES = os.environ.get("SHOPWATCH_SCHEMATHESIS_PHASES", "examples,fuzzing,stateful")
ANALYST = "schema-analyst"
ANALYST_PASSWORD = "Schema-Analyst-2026!"  # pragma: allowlist secret
# What counts as refusing invalid data besides schemathesis' defaults: 413 (a batch over 500, documented), 415
# (not JSON), and 431: a signed-in request carries a ~1 KB bearer token, so a long schema-violating query can meet
# API Gateway's 10,240-byte limit on the request line and headers before the function judges it.
CONFIG = """[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "406", "413", "415", "422", "428", "431", "5xx"]
"""


def _credentials(stack, caller: str) -> str:
    if caller == "shop key":
        return f"x-api-key: {stack.api_key}"
    if ANALYST not in {user.name for user in stack.users.list()}:
        stack.users.add(ANALYST, "analysts", ANALYST_PASSWORD)
    return f"Authorization: Bearer {ShopwatchClient(stack.url).sign_in(ANALYST, ANALYST_PASSWORD)}"


@pytest.mark.timeout(3600)  # the coverage phase alone sends one request per enum value (~2,700 countries, currencies)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("caller", ["shop key", "signed-in analyst"])
def test_every_documented_operation_survives_generated_requests(local_stack, caller, seed):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    config = ARTIFACTS / "schemathesis.toml"
    config.write_text(CONFIG)
    report = ARTIFACTS / f"schemathesis-{caller.replace(' ', '-')}-{seed}.xml"
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file", str(config),
        "run",
        f"{local_stack.url}/openapi.json",
        "--url", local_stack.url,
        "-H", _credentials(local_stack, caller),
        "--checks", CHECKS,
        "--max-examples", EXAMPLES,
        "--seed", seed,
        "--phases", PHASES,
        "--report", "junit",
        "--report-junit-path", str(report),
        "--no-color",
    ]  # fmt: skip
    hooks = {"SCHEMATHESIS_HOOKS": "schemathesis_hooks", "PYTHONPATH": str(Path(__file__).parent)}
    run = subprocess.run(command, capture_output=True, text=True, timeout=3600, cwd=ARTIFACTS, env=os.environ | hooks)
    summary = run.stdout[run.stdout.rfind("SUMMARY") :]
    print(summary)
    failures = [line[:300] for line in run.stdout.splitlines() if line.startswith(("___", "- ST", "[", "    curl"))]
    assert run.returncode == 0, "\n".join(failures[:80]) + summary + run.stderr[-2000:]
    generated = re.search(r"(\d+) generated", summary)
    assert generated and int(generated.group(1)) > 300
    status, document = ShopwatchClient(local_stack.url, local_stack.api_key).request("GET", "/openapi.json")
    documented = {f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item}
    tested = set(re.findall(r'testcase name="([A-Z]+ /[^"]*)"', report.read_text()))
    # schemathesis leaves out the schema's own URL; every other operation must have been exercised
    assert status == 200 and tested == documented - {"GET /openapi.json"}
