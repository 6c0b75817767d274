"""mypy over layers/ and functions/, the way Lambda loads them (make lint, and tests/template/test_typing.py in
`make test`): the layers' packages in one run, then each function's app.py in a run of its own with its CodeUri
on the path, since every function has a module named `app` (one run would see seven). The settings, strict for
ApiFunction's package and --check-untyped-defs elsewhere, are pyproject.toml's [tool.mypy]."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = ROOT / "functions"
LAYER_PACKAGES = ("shopwatch", "shopwatch_model")


def runs() -> list[tuple[str, list[str]]]:
    """(MYPYPATH, arguments) per mypy run: the function's own folder goes on the path of its run."""
    found = [("", [arg for package in LAYER_PACKAGES for arg in ("-p", package)])]
    for app in sorted(FUNCTIONS.glob("*/app.py")):
        packages = sorted(p for p in app.parent.iterdir() if (p / "__init__.py").is_file())  # shopwatch_api
        found.append((str(app.parent), [str(path.relative_to(ROOT)) for path in (app, *packages)]))
    return found


def main(argv: list[str] | None = None) -> int:
    """Every run, whatever the one before found; the exit status is non-zero when any run found an error."""
    status = 0
    for path, arguments in runs():
        env = dict(os.environ, MYPYPATH=path) if path else {k: v for k, v in os.environ.items() if k != "MYPYPATH"}
        command = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), *arguments]
        print("$", *(["MYPYPATH=" + os.path.relpath(path, ROOT)] if path else []), "mypy", *arguments, flush=True)
        status |= subprocess.run([*command, *(argv or [])], cwd=ROOT, env=env, check=False).returncode
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
