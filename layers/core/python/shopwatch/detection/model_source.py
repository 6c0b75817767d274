"""Which models DetectFunction scores with: the registry's champion (and its challenger, in shadow), loaded at
cold start and followed as they change, with the model layer's artifact as the fallback.

Why a refresh interval: a promote must reach every warm container without each batch asking. The pointers
are read at most once per `refresh_seconds` (one consistent GetItem on StateTable); an artifact is
downloaded only when a pointer names a version this container has not loaded, and kept while it is named.
A champion change therefore reaches detection within `refresh_seconds` plus one batch.

Failures never take detection down, and never pass silently:
- the registry or the bucket cannot be read: the models in use stay (the fallback at a cold start), logged
  and counted (`ModelRegistryUnreadable`), and the next refresh tries again;
- an artifact that cannot be used (bad JSON or npz, other features, another format, no currencies, or one that
  loads but fails to score a row) is logged
  and counted (`ModelArtifactBroken`) and skipped: the model in use keeps scoring. A version's files never
  change, so a broken version is not downloaded again;
- no champion yet: the fallback (the layer's default, or the directory MODEL_ARTIFACT names).
MODEL_ARTIFACT=off turns the model off altogether: no champion, no challenger, no registry reads.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError
from shopwatch_model import ModelArtifact

from shopwatch.detection.model_scoring import ArtifactModel
from shopwatch.detectors.features import FEATURE_NAMES
from shopwatch.detectors.model import ServingModels, TransactionModel
from shopwatch.domain.clock import utcnow
from shopwatch.storage.models import NO_POINTERS, ModelRegistry, Pointers

logger = Logger(child=True)

DEFAULT_REFRESH_SECONDS = 60
UNREADABLE = "ModelRegistryUnreadable"
BROKEN = "ModelArtifactBroken"


class ModelSource:
    def __init__(
        self,
        registry: ModelRegistry,
        fallback: TransactionModel | None,
        refresh_seconds: float = DEFAULT_REFRESH_SECONDS,
        clock: Callable[[], datetime] = utcnow,
        count: Callable[[str], None] = lambda _name: None,
        build: Callable[[dict[str, bytes]], TransactionModel] = lambda files: ArtifactModel(
            ModelArtifact.from_files(files)
        ),
    ) -> None:
        self.registry = registry
        self.fallback = fallback
        self.refresh = timedelta(seconds=refresh_seconds)
        self.clock = clock
        self.count = count  # a metric, by name (DetectFunction: CloudWatch via Powertools)
        self.build = build
        self.pointers: Pointers = NO_POINTERS
        self.loaded: dict[str, TransactionModel] = {}  # version -> model, the versions the pointers name
        self.broken: set[str] = set()
        self.checked_at: datetime | None = None
        self.serving = ServingModels(fallback, None)

    def __call__(self) -> ServingModels:
        """The models to score a batch with, the pointers re-read when `refresh_seconds` have passed."""
        now = self.clock()
        if self.checked_at is None or now - self.checked_at >= self.refresh:
            self.checked_at = now
            self._refresh()
        return self.serving

    def _refresh(self) -> None:
        try:
            pointers = self.registry.pointers()
        except (ClientError, BotoCoreError) as exc:
            self._unreadable("the model registry", exc)
            return
        champion = self._model(pointers.champion, self.serving.champion) if pointers.champion else self.fallback
        challenger = None
        if pointers.challenger and pointers.challenger != pointers.champion:
            challenger = self._model(pointers.challenger, None)  # none to be had: no shadow scores meanwhile
        self.pointers = pointers
        self.serving = ServingModels(champion, challenger)
        named = {pointers.champion, pointers.challenger}
        self.loaded = {v: m for v, m in self.loaded.items() if v in named}  # what no pointer names is let go

    def _model(self, version: str, keep: TransactionModel | None) -> TransactionModel | None:
        """The model of `version`: loaded before, or downloaded now; `keep` when it cannot be had (for the
        champion: the one in use, the fallback at a cold start)."""
        if version in self.loaded:
            return self.loaded[version]
        if version in self.broken:
            return keep
        try:
            files = self.registry.get_files(version)
        except (ClientError, BotoCoreError) as exc:
            self._unreadable(f"model {version}", exc)
            return keep
        try:
            model = self.build(files)
            if model.version != version:
                raise ValueError(f"its files say version {model.version}")
            # it loads, but does it score? (else every record it judges would fail)
            model.verdicts([(0.0,) * len(FEATURE_NAMES)], [min(model.currencies)])
        except Exception as exc:  # noqa: BLE001 - any fault of the artifact: logged, counted, skipped
            self.broken.add(version)
            self.count(BROKEN)
            logger.error("model artifact unusable; the model in use keeps scoring",
                         extra={"version": version, "error": str(exc)[:500]})  # fmt: skip
            return keep
        self.loaded[version] = model
        logger.info("model loaded", extra={"version": version})
        return model

    def _unreadable(self, what: str, exc: Exception) -> None:
        self.count(UNREADABLE)
        logger.warning(f"{what} cannot be read; the models in use keep scoring", extra={"error": str(exc)[:500]})


class StaticModels:
    """One fixed model and no challenger: MODEL_ARTIFACT=off (None), or a stack without a ModelBucket."""

    def __init__(self, model: TransactionModel | None) -> None:
        self.serving = ServingModels(model, None)

    def __call__(self) -> ServingModels:
        return self.serving
