"""One model artifact: numpy arrays in `arrays.npz` and everything else in `metadata.json`, side by side.

No pickle anywhere: loading an artifact runs no code from it (np.load with allow_pickle=False), and the
metadata is readable in a review (feature names, scaler, thresholds, training rows, data hash, versions).
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from shopwatch_model.autoencoder import AutoencoderScorer
from shopwatch_model.combiner import LogisticCombiner
from shopwatch_model.drift import FeatureReference
from shopwatch_model.isolation_forest import IsolationForestScorer

FORMAT_VERSION = 1
DEFAULT_ARTIFACT = Path(__file__).parent / "default"  # the committed model this layer ships with (`make train`)


@dataclass(frozen=True)
class ModelArtifact:
    feature_names: tuple[str, ...]
    scaler_mean: np.ndarray
    scaler_scale: np.ndarray
    forest: IsolationForestScorer
    autoencoder: AutoencoderScorer | None = None
    thresholds: dict[str, float] = field(default_factory=dict)
    feature_medians: tuple[float, ...] = ()  # training medians, what reasons compare a row's values with
    feature_bounds: tuple[tuple[float, float], ...] = ()  # (low, high) training quantiles: what was seen
    info: dict[str, Any] = field(default_factory=dict)  # training rows, data hash, library versions, created_at
    # The shop's usual amount per currency (the median): the model's amount features are amount / scale, so a
    # shop's currencies share one scale and a model scores every currency it was trained with. Empty (older
    # artifacts): amounts are raw, in the currencies `info["currencies"]` lists.
    amount_scales: dict[str, float] = field(default_factory=dict)
    combiner: LogisticCombiner | None = None  # the shop's learned risk score, when its labels taught one
    drift_reference: tuple[FeatureReference, ...] = ()  # training deciles per feature, for the drift check

    def __post_init__(self) -> None:
        bad = {currency: scale for currency, scale in self.amount_scales.items() if not scale > 0}
        if bad:
            raise ValueError(f"amount scales must be positive: {bad}")

    def standardize(self, X: np.ndarray) -> np.ndarray:
        return (np.asarray(X, dtype=np.float64) - self.scaler_mean) / self.scaler_scale

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        arrays = {"scaler/mean": self.scaler_mean, "scaler/scale": self.scaler_scale}
        arrays |= {f"forest/{k}": v for k, v in self.forest.arrays().items()}
        if self.autoencoder is not None:
            arrays |= {f"autoencoder/{k}": v for k, v in self.autoencoder.arrays().items()}
        np.savez_compressed(directory / "arrays.npz", allow_pickle=False, **arrays)  # numbers only, never objects
        metadata = {
            "format_version": FORMAT_VERSION,
            "feature_names": list(self.feature_names),
            "forest": self.forest.meta(),
            "autoencoder": None if self.autoencoder is None else self.autoencoder.meta(),
            "thresholds": self.thresholds,
            "feature_medians": list(self.feature_medians),
            "feature_bounds": [list(b) for b in self.feature_bounds],
            "info": self.info,
            "amount_scales": self.amount_scales,
            "combiner": None if self.combiner is None else self.combiner.meta(),
            "drift_reference": [reference.meta() for reference in self.drift_reference],
        }
        (directory / "metadata.json").write_text(json.dumps(metadata, indent=2, sort_keys=True) + "\n")

    @classmethod
    def load(cls, directory: Path) -> ModelArtifact:
        metadata = json.loads((directory / "metadata.json").read_text())
        if metadata.get("format_version") != FORMAT_VERSION:
            raise ValueError(
                f"{directory}: artifact format {metadata.get('format_version')!r}, expected {FORMAT_VERSION}"
            )
        with np.load(directory / "arrays.npz", allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}

        def part(prefix: str) -> dict[str, np.ndarray]:
            return {k.removeprefix(prefix): v for k, v in arrays.items() if k.startswith(prefix)}

        autoencoder = metadata["autoencoder"]
        return cls(
            feature_names=tuple(metadata["feature_names"]),
            scaler_mean=arrays["scaler/mean"],
            scaler_scale=arrays["scaler/scale"],
            forest=IsolationForestScorer.from_arrays(part("forest/"), metadata["forest"]),
            autoencoder=None
            if autoencoder is None
            else AutoencoderScorer.from_arrays(part("autoencoder/"), autoencoder),
            thresholds={k: float(v) for k, v in metadata["thresholds"].items()},
            feature_medians=tuple(float(v) for v in metadata.get("feature_medians", ())),
            feature_bounds=tuple((float(low), float(high)) for low, high in metadata.get("feature_bounds", ())),
            info=metadata["info"],
            amount_scales={str(k): float(v) for k, v in (metadata.get("amount_scales") or {}).items()},
            combiner=None if not metadata.get("combiner") else LogisticCombiner.from_meta(metadata["combiner"]),
            drift_reference=tuple(FeatureReference.from_meta(m) for m in metadata.get("drift_reference") or ()),
        )

    def to_files(self) -> dict[str, bytes]:
        """The artifact as its files' bytes (`metadata.json`, `arrays.npz`), for a store that holds objects, not
        directories (the ModelBucket): written by `save`, so both stay one format."""
        with tempfile.TemporaryDirectory() as scratch:
            directory = Path(scratch)
            self.save(directory)
            return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}

    @classmethod
    def from_files(cls, files: dict[str, bytes]) -> ModelArtifact:
        """The artifact `to_files` gave, read by `load` with all its checks (a missing file fails there)."""
        with tempfile.TemporaryDirectory() as scratch:
            directory = Path(scratch)
            for name, data in files.items():
                if Path(name).name != name:
                    raise ValueError(f"artifact file name {name!r} is not a plain file name")
                (directory / name).write_bytes(data)
            return cls.load(directory)
