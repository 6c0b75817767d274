"""The template's functions, loaded once like warm Lambda containers, each invoked one event at a time."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

from infra.local.function_logs import function_output
from infra.local.lambda_context import LocalLambdaContext
from infra.local.lambda_loader import load_handler
from infra.local.resources import function_environment
from infra.template import ROOT, Resolver, resources_of_type


@dataclass
class LocalFunction:
    logical_id: str
    handler: Callable[[dict[str, Any], Any], Any]
    timeout_seconds: int
    memory_mb: int
    environment: dict[str, str]
    properties: dict[str, Any]
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    invocations: int = 0
    errors: int = 0
    # durable_state's gate for functions with effects outside DynamoDB (SNS): no journal commit mid-invocation
    gate: Any = None

    def invoke(self, event: dict[str, Any]) -> Any:
        """One invocation at a time, as one container serves one event at a time."""
        with self._lock:
            self.invocations += 1
            context = LocalLambdaContext(self.logical_id, self.memory_mb, self.timeout_seconds)
            try:
                with function_output(), self.gate.invocation() if self.gate is not None else nullcontext():
                    return self.handler(event, context)
            except Exception:
                self.errors += 1
                raise


def _layer_paths(template: dict[str, Any], properties: dict[str, Any]) -> list[str]:
    """Lambda extracts each layer to /opt; for Python, /opt/python is on sys.path. Here: each layer's ContentUri."""
    layers = template.get("Globals", {}).get("Function", {}).get("Layers", []) + properties.get("Layers", [])
    paths = []
    for layer in layers:
        logical = layer.get("Ref") if isinstance(layer, dict) else None
        if logical and logical in template["Resources"]:
            paths.append(str((ROOT / template["Resources"][logical]["Properties"]["ContentUri"]).resolve()))
    return paths


def load_functions(
    template: dict[str, Any], resolver: Resolver, only: set[str] | None = None
) -> dict[str, LocalFunction]:
    """Import every function (or those named in `only`: new containers for them) with its layers on the path
    and its environment set.

    The process has one environment, so the functions' variables must agree where they overlap (they are
    set once for all); a conflict is an error rather than a silent override.
    """
    functions = resources_of_type(template, "AWS::Serverless::Function")
    environments = {name: function_environment(template, name, resolver) for name in functions}
    merged: dict[str, str] = {}
    for name, env in environments.items():
        for key, value in env.items():
            if key in merged and merged[key] != value:
                raise RuntimeError(
                    f"{name} sets {key}={value!r}, another function sets {merged[key]!r}; the local stack shares one environment"
                )
            merged[key] = value
    os.environ.update(merged)
    globals_ = template.get("Globals", {}).get("Function", {})
    loaded = {}
    for name, resource in functions.items():
        if only is not None and name not in only:
            continue
        properties = resource["Properties"]
        for path in _layer_paths(template, properties):
            if path not in sys.path:
                sys.path.insert(0, path)
        loaded[name] = LocalFunction(
            logical_id=name,
            handler=load_handler(properties["CodeUri"], properties["Handler"]),
            timeout_seconds=int(properties.get("Timeout", globals_.get("Timeout", 3))),
            memory_mb=int(properties.get("MemorySize", globals_.get("MemorySize", 128))),
            environment=environments[name],
            properties=properties,
        )
    return loaded
