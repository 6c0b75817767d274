"""Loading a function's handler the way Lambda does: its CodeUri on the path, its module under its own name.

Every function's file is `app.py`; Lambda gives each its own process. Here each is imported under a unique
module name from its own folder, so several can live in one process (the local stack, the pipeline tests).
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from infra.template import ROOT


def load_function_module(
    code_uri: str | Path, handler: str = "app.lambda_handler", *, fresh: bool = True
) -> ModuleType:
    """Import the handler's module from `code_uri` (relative to the repository root) under a unique name.

    `fresh` re-executes the module, like a new Lambda container: module-level clients and settings are
    rebuilt from the current environment.
    """
    folder = (ROOT / code_uri).resolve()
    module_file, _ = handler.rsplit(".", 1)
    name = f"shopwatch_fn_{folder.name}_{module_file}"
    if not fresh and name in sys.modules:
        return sys.modules[name]
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
