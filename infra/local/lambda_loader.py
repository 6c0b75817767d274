"""Loading a function's handler the way Lambda does: its CodeUri on the path, its module under its own name.

Every function's file is `app.py`; Lambda gives each its own process. Here each is imported under a unique
module name from its own folder, so several can live in one process (the local stack, the pipeline tests).

A function may also ship packages of its own beside app.py (ApiFunction's `shopwatch_api`). Lambda finds them
because the CodeUri root is on its sys.path; here the folder goes on sys.path too. That is safe in one shared
process only because every such package has a name no other function (and no library) uses: a second folder
offering an already-loaded package name is refused (ImportError), never silently given the first one's code.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from infra.template import ROOT


def function_packages(folder: Path) -> list[str]:
    """The packages a function ships beside its handler: the folder's sub-folders with an `__init__.py`."""
    return sorted(p.name for p in folder.iterdir() if (p / "__init__.py").is_file())


def _own_packages_on_path(folder: Path, *, fresh: bool) -> None:
    """Put `folder` on sys.path for its packages; with `fresh`, forget their modules so they run again."""
    for package in function_packages(folder):
        loaded = sys.modules.get(package)
        if loaded is not None:
            origin = Path(loaded.__file__ or "").resolve().parent.parent
            if origin != folder:
                raise ImportError(f"package {package!r} of {folder} is already loaded from {origin}")
        if fresh:
            for name in [n for n in sys.modules if n == package or n.startswith(package + ".")]:
                del sys.modules[name]
    if function_packages(folder) and str(folder) not in sys.path:
        sys.path.insert(0, str(folder))


def load_function_module(
    code_uri: str | Path, handler: str = "app.lambda_handler", *, fresh: bool = True
) -> ModuleType:
    """Import the handler's module from `code_uri` (relative to the repository root) under a unique name.

    `fresh` re-executes the module and the function's own packages, like a new Lambda container: module-level
    clients and settings are rebuilt from the current environment.
    """
    folder = (ROOT / code_uri).resolve()
    module_file, _ = handler.rsplit(".", 1)
    name = f"shopwatch_fn_{folder.name}_{module_file}"
    if not fresh and name in sys.modules:
        return sys.modules[name]
    _own_packages_on_path(folder, fresh=fresh)
    spec = importlib.util.spec_from_file_location(name, folder / f"{module_file.replace('.', '/')}.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load handler {handler} from {folder}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_handler(code_uri: str | Path, handler: str = "app.lambda_handler") -> Callable[[dict, Any], Any]:
    module = load_function_module(code_uri, handler)
    return getattr(module, handler.rsplit(".", 1)[1])
