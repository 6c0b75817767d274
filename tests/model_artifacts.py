"""Artifacts for registry and serving tests: the model layer's default under a version of the test's choosing,
and files that are broken in the ways a bad upload or a stale trainer would break them."""

from __future__ import annotations

import json
from dataclasses import replace

from shopwatch_model import DEFAULT_ARTIFACT, ModelArtifact

_DEFAULT = ModelArtifact.load(DEFAULT_ARTIFACT)


def artifact(version: str) -> ModelArtifact:
    return replace(_DEFAULT, info=_DEFAULT.info | {"version": version})


def files(version: str) -> dict[str, bytes]:
    return artifact(version).to_files()


def broken_files(version: str, how: str) -> dict[str, bytes]:
    good = files(version)
    if how == "json":
        return good | {"metadata.json": b'{"format_version": 1, "feature_na'}
    if how == "npz":
        return good | {"arrays.npz": b"PK\x03\x04 not a zip"}
    if how == "features":
        return replace(artifact(version), feature_names=("amount", "items")).to_files()
    if how == "scoring":  # loads, but its trees split on features that do not exist
        model = artifact(version)
        return replace(model, forest=replace(model.forest, feature=model.forest.feature + 100)).to_files()
    if how == "format":
        metadata = json.loads(good["metadata.json"]) | {"format_version": 99}
        return good | {"metadata.json": json.dumps(metadata).encode()}
    raise ValueError(how)
