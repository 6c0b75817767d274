"""The cold-start benchmark's split of `python -X importtime`: only the CEL and protobuf modules' own time."""

from __future__ import annotations

import pytest

from infra.benchmarks.rules_cold_start import handler_environment, self_seconds
from infra.template import ROOT

IMPORTTIME = """import time: self [us] | cumulative | imported package
import time:       120 |        120 |   encodings.idna
import time:      1500 |       1500 |     cel_expr_python.cel
import time:       100 |       1600 |   cel_expr_python
import time:      3000 |       3000 |       google.protobuf.internal.api_implementation
import time:       700 |       3700 |     google.protobuf
import time:        50 |         50 |     google._upb._message
import time:       900 |        900 |   google_auth_like
import time:     40000 |      46250 | app
"""


def test_self_seconds_adds_the_own_time_of_the_named_packages_and_their_submodules_only():
    assert self_seconds(IMPORTTIME) == pytest.approx((1500 + 100 + 3000 + 700 + 50) / 1e6)
    assert self_seconds(IMPORTTIME, ("app",)) == pytest.approx(0.04)
    assert self_seconds("no importtime here") == 0


def test_a_handler_is_imported_with_its_layers_first_and_the_templates_environment():
    env, paths = handler_environment("IngestFunction")
    assert paths[-1] == str(ROOT / "functions" / "ingest")
    assert paths[:-1] == [str(ROOT / "layers" / "core" / "python"), str(ROOT / "layers" / "rules")]
    assert env["TRANSACTIONS_TABLE"] == "TransactionsTable" and env["AWS_ACCESS_KEY_ID"] == "bench"
