"""ModelSource: the registry's champion and challenger as DetectFunction serves them, on moto, with a clock the
test moves (never wall time). The pointers are re-read once per refresh interval; an artifact is downloaded
once; the fallback serves while there is no champion or nothing can be read; a broken artifact is counted and
skipped while the model in use keeps scoring."""

from __future__ import annotations

from datetime import timedelta

import pytest
from botocore.exceptions import ClientError

from shopwatch.detection.model_scoring import ArtifactModel
from shopwatch.detection.model_source import BROKEN, UNREADABLE, ModelSource
from shopwatch.storage.models import ModelRegistry
from tests.builders import T0
from tests.conftest import Stack
from tests.model_artifacts import artifact, broken_files, files

REFRESH = 60


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self):
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def registry(stack: Stack) -> ModelRegistry:
    return ModelRegistry(stack.table("StateTable"), stack.resources.buckets["ModelBucket"])


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def counted() -> list[str]:
    return []


@pytest.fixture
def source(registry, clock, counted) -> ModelSource:
    return ModelSource(registry, ArtifactModel(artifact("fallback")), REFRESH, clock, counted.append)


def publish(registry: ModelRegistry, version: str, promote: bool = False, payload: dict | None = None) -> None:
    registry.publish_challenger(version, payload or files(version), {}, "schedule", T0)
    if promote:
        registry.promote(version, "root", T0)


class CountingReads:
    """Counts the registry's reads: pointers (one GetItem each) and artifact downloads."""

    def __init__(self, registry: ModelRegistry, monkeypatch: pytest.MonkeyPatch) -> None:
        self.pointers = self.downloads = 0
        real_pointers, real_files = registry.pointers, registry.get_files

        def pointers():
            self.pointers += 1
            return real_pointers()

        def get_files(version):
            self.downloads += 1
            return real_files(version)

        monkeypatch.setattr(registry, "pointers", pointers)
        monkeypatch.setattr(registry, "get_files", get_files)


def versions(source: ModelSource) -> tuple[str | None, str | None]:
    serving = source()
    return (
        serving.champion.version if serving.champion else None,
        serving.challenger.version if serving.challenger else None,
    )


def test_with_no_champion_the_fallback_serves_and_a_challenger_is_scored_beside_it(source, registry):
    assert versions(source) == ("fallback", None)
    publish(registry, "v1")
    assert ModelSource(registry, source.fallback, REFRESH, source.clock)().challenger.version == "v1"


def test_a_champion_change_is_seen_at_the_next_refresh_and_not_before(source, registry, clock, monkeypatch):
    publish(registry, "v1", promote=True)
    assert versions(source) == ("v1", None)  # the cold start
    publish(registry, "v2", promote=True)
    reads = CountingReads(registry, monkeypatch)
    clock.advance(REFRESH - 1)
    assert versions(source) == ("v1", None)  # cached: no read inside the interval
    assert reads.pointers == 0
    clock.advance(1)
    assert versions(source) == ("v2", None)
    assert (reads.pointers, reads.downloads) == (1, 1)
    clock.advance(REFRESH)
    assert versions(source) == ("v2", None)
    assert (reads.pointers, reads.downloads) == (2, 1)  # the same version is not downloaded again


def test_a_rollback_to_a_model_still_loaded_needs_no_download(source, registry, clock, monkeypatch):
    publish(registry, "v1", promote=True)
    publish(registry, "v2")
    assert versions(source) == ("v1", "v2")
    registry.promote("v2", "root", T0)
    reads = CountingReads(registry, monkeypatch)
    clock.advance(REFRESH)
    assert versions(source) == ("v2", None)
    registry.rollback("root", T0)
    clock.advance(REFRESH)
    assert versions(source) == ("v1", None)
    assert reads.downloads == 1  # v1 was let go when no pointer named it; v2 never left


@pytest.mark.parametrize("how", ["json", "npz", "features", "format", "scoring"])
def test_a_broken_champion_is_counted_and_skipped_while_the_model_in_use_keeps_scoring(
    source, registry, clock, counted, how, monkeypatch
):
    publish(registry, "v1", promote=True)
    assert versions(source) == ("v1", None)
    publish(registry, "bad", promote=True, payload=broken_files("bad", how))
    clock.advance(REFRESH)
    assert versions(source) == ("v1", None)
    assert counted == [BROKEN]
    reads = CountingReads(registry, monkeypatch)
    clock.advance(REFRESH)
    assert versions(source) == ("v1", None) and counted == [BROKEN]  # known broken: not fetched again
    assert reads.downloads == 0


def test_a_broken_first_champion_leaves_the_fallback_serving(source, registry, counted):
    publish(registry, "bad", promote=True, payload=broken_files("bad", "json"))
    assert versions(source) == ("fallback", None) and counted == [BROKEN]


def test_an_artifact_whose_files_name_another_version_is_broken(source, registry, counted):
    publish(registry, "v9", promote=True, payload=files("v1"))
    assert versions(source) == ("fallback", None) and counted == [BROKEN]


def test_an_unreadable_registry_keeps_the_models_in_use_and_is_tried_again(
    source, registry, clock, counted, monkeypatch
):
    publish(registry, "v1", promote=True)
    assert versions(source) == ("v1", None)
    denied = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetItem")

    def fail():
        raise denied

    monkeypatch.setattr(registry, "pointers", fail)
    clock.advance(REFRESH)
    assert versions(source) == ("v1", None) and counted == [UNREADABLE]
    monkeypatch.undo()
    publish(registry, "v2", promote=True)
    clock.advance(REFRESH)
    assert versions(source) == ("v2", None)


def test_an_unreadable_bucket_at_a_cold_start_serves_the_fallback_until_it_can_be_read(
    source, registry, clock, counted, monkeypatch
):
    publish(registry, "v1", promote=True)
    missing = ClientError({"Error": {"Code": "NoSuchBucket", "Message": "gone"}}, "ListObjectsV2")
    real = registry.get_files

    def fail(version):
        raise missing

    monkeypatch.setattr(registry, "get_files", fail)
    assert versions(source) == ("fallback", None) and counted == [UNREADABLE]
    monkeypatch.setattr(registry, "get_files", real)
    clock.advance(REFRESH)
    assert versions(source) == ("v1", None)  # not marked broken: read again and used
