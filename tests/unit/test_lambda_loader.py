"""The loader runs a function's own package as Lambda would (its CodeUri on the path), re-runs it on a cold
start, and refuses a package name two functions would share in the one local process."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.local.lambda_loader import function_packages, load_function_module

PACKAGE = "shopwatch_loader_probe"


def function(root: Path, name: str, tag: str) -> Path:
    folder = root / name
    (folder / PACKAGE).mkdir(parents=True)
    (folder / PACKAGE / "__init__.py").write_text("")
    (folder / PACKAGE / "routes.py").write_text(f"TAG = {tag!r}\nLOADED = object()\n")
    (folder / "app.py").write_text(
        f"from {PACKAGE} import routes\n\ndef lambda_handler(event, context):\n    return routes.TAG\n"
    )
    return folder


@pytest.fixture
def clean() -> Iterator[None]:
    path = list(sys.path)
    yield
    sys.path[:] = path
    for name in [n for n in sys.modules if n.split(".")[0] in (PACKAGE,) or n.startswith("shopwatch_fn_fn")]:
        del sys.modules[name]


def test_a_function_s_own_package_is_imported_and_a_fresh_load_runs_it_again(tmp_path, clean):
    folder = function(tmp_path, "fn_a", "a")
    assert function_packages(folder) == [PACKAGE]
    first = load_function_module(folder)
    assert first.lambda_handler({}, None) == "a"
    warm = load_function_module(folder, fresh=False)
    cold = load_function_module(folder)
    assert warm is first and cold is not first
    assert cold.routes is not first.routes and cold.routes.LOADED is not first.routes.LOADED


def test_two_functions_offering_one_package_name_are_refused(tmp_path, clean):
    load_function_module(function(tmp_path, "fn_a", "a"))
    with pytest.raises(ImportError, match=f"package '{PACKAGE}' of .*fn_b is already loaded from .*fn_a"):
        load_function_module(function(tmp_path, "fn_b", "b"))
