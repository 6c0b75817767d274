"""ModelArtifact.to_files / from_files: an artifact as the bytes of its files (what the ModelBucket holds)."""

from __future__ import annotations

import numpy as np
import pytest
from shopwatch_model import DEFAULT_ARTIFACT, ModelArtifact


def test_an_artifact_survives_the_round_trip_through_its_files_and_scores_the_same():
    original = ModelArtifact.load(DEFAULT_ARTIFACT)
    files = original.to_files()
    assert set(files) == {"metadata.json", "arrays.npz"}
    copy = ModelArtifact.from_files(files)
    rows = np.tile(original.scaler_mean, (5, 1)) + np.arange(5)[:, None]
    assert copy.info == original.info and copy.feature_names == original.feature_names
    assert np.array_equal(copy.forest.score_samples(rows), original.forest.score_samples(rows))


def test_files_missing_or_named_outside_the_artifact_are_refused():
    files = ModelArtifact.load(DEFAULT_ARTIFACT).to_files()
    with pytest.raises(FileNotFoundError):
        ModelArtifact.from_files({"metadata.json": files["metadata.json"]})
    with pytest.raises(ValueError, match="plain file name"):
        ModelArtifact.from_files(files | {"../metadata.json": b"{}"})
