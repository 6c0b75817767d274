"""Schemathesis against /openapi.json on the local stack: generated requests to every documented operation
(valid ones, and deliberately invalid ones), checked for no 5xx, documented status codes, content types,
headers and bodies, and that invalid input is refused with a 4xx.

It runs the `schemathesis` command with a fixed seed, so a failure is reproducible, and leaves its JUnit
report in $SHOPWATCH_ARTIFACTS (default test-artifacts/).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

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
        "negative_data_rejection",
    ]
)
EXAMPLES = os.environ.get("SHOPWATCH_SCHEMATHESIS_EXAMPLES", "25")


def test_every_documented_operation_survives_generated_requests(local_stack):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    admin = ShopwatchClient(local_stack.url)
    admin.sign_in("admin", local_stack.admin_password)
    # A signed-in request carries a ~1 KB bearer token, so a long schema-violating query can meet API Gateway's
    # 10,240-byte limit on the request line and headers before the function judges it: a 431 refuses it too.
    config = ARTIFACTS / "schemathesis.toml"
    config.write_text(
        '[checks.negative_data_rejection]\nexpected-statuses = ["400", "401", "403", "404", "406", "422", "428", '
        '"431", "5xx"]\n'
    )
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file", str(config),
        "run",
        f"{local_stack.url}/openapi.json",
        "--url", local_stack.url,
        "-H", f"x-api-key: {local_stack.api_key}",  # the shop's routes
        "-H", f"Authorization: Bearer {admin.token}",  # everyone else's
        "--checks", CHECKS,
        "--max-examples", EXAMPLES,
        "--seed", "20261122",
        "--report", "junit",
        "--report-junit-path", str(ARTIFACTS / "schemathesis.xml"),
        "--no-color",
    ]  # fmt: skip
    run = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=ARTIFACTS)
    summary = run.stdout[run.stdout.rfind("SUMMARY") :]
    print(summary)
    failures = [line[:300] for line in run.stdout.splitlines() if line.startswith(("___", "- ST", "[", "    curl"))]
    assert run.returncode == 0, "\n".join(failures[:80]) + summary + run.stderr[-2000:]
    generated = re.search(r"(\d+) generated", summary)
    assert generated and int(generated.group(1)) > 300
    status, document = ShopwatchClient(local_stack.url, local_stack.api_key).request("GET", "/openapi.json")
    documented = {f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item}
    report = (ARTIFACTS / "schemathesis.xml").read_text()
    tested = set(re.findall(r'testcase name="([A-Z]+ /[^"]*)"', report))
    # schemathesis leaves out the schema's own URL; every other operation must have been exercised
    assert status == 200 and tested == documented - {"GET /openapi.json"}
