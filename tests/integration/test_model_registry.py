"""ModelRegistry on moto (the template's StateTable and ModelBucket): artifacts in S3, records and pointers in
StateTable, every change in the history with who and when, and conditional writes so that two changes made
from the same view cannot both win."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shopwatch.errors import Conflict, NotFound
from shopwatch.storage.models import HistoryAction, ModelRegistry, ModelStatus
from tests.builders import T0
from tests.conftest import Stack
from tests.model_artifacts import files

METADATA = {"rows": 1200, "label_counts": {"fraud": 30, "legitimate": 400}, "holdout_metrics": {"roc_auc": 0.81}}


@pytest.fixture
def registry(stack: Stack) -> ModelRegistry:
    return ModelRegistry(stack.table("StateTable"), stack.resources.buckets["ModelBucket"])


def publish(registry: ModelRegistry, version: str, minutes: int = 0, by: str = "schedule"):
    return registry.publish_challenger(version, files(version), METADATA, by, T0 + timedelta(minutes=minutes))


def test_a_published_artifact_is_the_challenger_with_its_files_in_the_bucket_and_its_metadata(registry, stack):
    record = publish(registry, "v1", by="root")
    assert record.status is ModelStatus.CHALLENGER and record.trained_by == "root"
    assert registry.pointers().challenger == "v1" and registry.pointers().champion is None
    keys = [o["Key"] for o in stack.session.client("s3").list_objects_v2(Bucket=registry.bucket_name)["Contents"]]
    assert sorted(keys) == ["models/v1/arrays.npz", "models/v1/metadata.json"]
    assert registry.get_files("v1") == files("v1")
    assert registry.get("v1").metadata == METADATA


def test_a_new_challenger_retires_the_one_before_but_never_the_champion(registry):
    publish(registry, "v1")
    registry.promote("v1", "root", T0)
    publish(registry, "v2", 1)
    publish(registry, "v3", 2)
    statuses = {r.version: r.status for r in registry.versions()}
    assert statuses == {"v1": ModelStatus.CHAMPION, "v2": ModelStatus.RETIRED, "v3": ModelStatus.CHALLENGER}
    assert [r.version for r in registry.versions()] == ["v3", "v2", "v1"]


def test_promote_and_rollback_move_the_pointers_and_are_recorded_with_who_and_when(registry):
    publish(registry, "v1")
    registry.promote("v1", "root", T0 + timedelta(minutes=1))
    publish(registry, "v2", 2)
    after = registry.promote("v2", "ana", T0 + timedelta(minutes=3))
    assert (after.champion, after.challenger, after.previous) == ("v2", None, ("v1",))
    back = registry.rollback("root", T0 + timedelta(minutes=4))
    assert (back.champion, back.previous) == ("v1", ())
    assert registry.get("v2").status is ModelStatus.RETIRED and registry.get("v1").status is ModelStatus.CHAMPION
    history = [(e.action, e.version, e.previous_champion, e.by) for e in registry.history()]
    assert history == [
        (HistoryAction.ROLLBACK, "v1", "v2", "root"),
        (HistoryAction.PROMOTE, "v2", "v1", "ana"),
        (HistoryAction.CHALLENGER, "v2", "v1", "schedule"),
        (HistoryAction.PROMOTE, "v1", None, "root"),
        (HistoryAction.CHALLENGER, "v1", None, "schedule"),
    ]
    assert registry.history()[0].at == "2025-09-16T16:04:00.000000Z"


def test_an_unknown_version_is_not_found_and_promoting_the_champion_again_is_a_conflict(registry):
    with pytest.raises(NotFound):
        registry.promote("nope", "root", T0)
    with pytest.raises(NotFound):
        registry.promote("../x", "root", T0)
    publish(registry, "v1")
    registry.promote("v1", "root", T0)
    with pytest.raises(Conflict, match="already the champion"):
        registry.promote("v1", "root", T0)


def test_rollback_without_an_earlier_champion_is_a_conflict(registry):
    with pytest.raises(Conflict):
        registry.rollback("root", T0)
    publish(registry, "v1")
    registry.promote("v1", "root", T0)
    with pytest.raises(Conflict):
        registry.rollback("root", T0)


def test_two_promotes_from_the_same_view_cannot_both_win(registry, monkeypatch):
    publish(registry, "v1")
    publish(registry, "v2", 1)
    seen = registry.pointers()  # both admins read this
    registry.promote("v1", "root", T0 + timedelta(minutes=2))
    monkeypatch.setattr(registry, "pointers", lambda: seen)  # the second acts on what it read before
    with pytest.raises(Conflict, match="changed meanwhile"):
        registry.promote("v2", "ana", T0 + timedelta(minutes=2))
    monkeypatch.undo()
    assert registry.pointers().champion == "v1"
    assert registry.get("v2").status is ModelStatus.CHALLENGER  # the refused write changed nothing
    assert [e.by for e in registry.history()].count("ana") == 0


def test_a_version_is_published_once(registry):
    publish(registry, "v1")
    with pytest.raises(Conflict, match="exists already"):
        publish(registry, "v1", 5)
    assert registry.pointers().revision == 1


def test_a_version_that_is_not_a_plain_key_segment_is_refused_before_anything_is_written(registry, stack):
    with pytest.raises(ValueError, match="does not match"):
        registry.publish_challenger("a/b", files("v1"), {}, "root", T0)
    assert "Contents" not in stack.session.client("s3").list_objects_v2(Bucket=registry.bucket_name)
