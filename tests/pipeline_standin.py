"""A stand-in for `shopwatch.training.pipeline` while that package is not on this branch (it is written on
another, and merged with this one): TrainFunction imports it at module scope, so without it no test could load
the function and the local stack could not start.

It only exists when the real module cannot be imported, and it trains nothing: `train_from_tables` raises.
Tests that run a training replace it (`monkeypatch.setattr(<train module>, "train_from_tables", ...)`) exactly
as they replace the real one. Delete this file, and its import in tests/conftest.py, once the pipeline is merged.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class TrainingOptions:
    @classmethod
    def from_env(cls) -> TrainingOptions:
        return cls()


def train_from_tables(
    *, transactions_table: str, state_table: str, alerts_table: str, options: Any, now: datetime
) -> Any:
    raise NotImplementedError("shopwatch.training.pipeline is not on this branch: tests patch train_from_tables")


def install() -> None:
    try:
        found = importlib.util.find_spec("shopwatch.training.pipeline") is not None
    except ModuleNotFoundError:
        found = False
    if found:
        return
    package = types.ModuleType("shopwatch.training")
    package.__path__ = []
    pipeline = types.ModuleType("shopwatch.training.pipeline")
    pipeline.TrainingOptions = TrainingOptions
    pipeline.train_from_tables = train_from_tables
    package.pipeline = pipeline
    sys.modules["shopwatch.training"] = package
    sys.modules["shopwatch.training.pipeline"] = pipeline
