"""The fault suite (`make test-faults`): each test runs the local stack under one fault and adds a row to the
table printed at the end of the run."""

from __future__ import annotations

import pytest

from tests.faults.accounting import Row

ROWS: list[Row] = []
HEADER = ["fault", "transactions", "processed", "in DLQ", "lost", "duplicated", "faults injected"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/faults/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.faults)


def pytest_terminal_summary(terminalreporter) -> None:
    if not ROWS:
        return
    table = [HEADER, *(r.cells() for r in ROWS)]
    widths = [max(len(row[i]) for row in table) for i in range(len(HEADER))]
    terminalreporter.section("fault injection: where every accepted transaction ended up")
    for index, row in enumerate(table):
        terminalreporter.write_line("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if index == 0:
            terminalreporter.write_line("  ".join("-" * width for width in widths))
