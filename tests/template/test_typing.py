"""mypy finds nothing in layers/ and functions/ (make lint runs it too): strict on ApiFunction's package
(shopwatch_api), --check-untyped-defs everywhere else, each function checked with its own CodeUri on the path
(infra/typecheck.py; the settings are pyproject.toml's [tool.mypy])."""

from __future__ import annotations

import subprocess
import sys

from infra import typecheck
from infra.template import ROOT


def test_mypy_finds_no_error_in_layers_and_functions():
    result = subprocess.run(
        [sys.executable, "-m", "infra.typecheck"], cwd=ROOT, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "error:" not in result.stdout


def test_every_function_is_checked_with_its_own_folder_on_the_path():
    """Seven functions have a module named `app`: one run each, so none hides another, and none is left out."""
    apps = sorted(path.parent for path in (ROOT / "functions").glob("*/app.py"))
    checked = [path for path, arguments in typecheck.runs() if path]
    assert [str(app) for app in apps] == checked and len(apps) >= 8
    api = dict(typecheck.runs())[str(ROOT / "functions" / "api")]
    assert "functions/api/shopwatch_api" in api  # ApiFunction's own package, under its strict settings


def test_the_strict_settings_catch_an_untyped_function(tmp_path):
    """The strict overrides apply to shopwatch_api: a function without annotations there is an error."""
    package = tmp_path / "shopwatch_api"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "loose.py").write_text("def loose(x):\n    return x\n")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), "--no-incremental", str(package)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 1 and "no-untyped-def" in result.stdout, result.stdout + result.stderr
