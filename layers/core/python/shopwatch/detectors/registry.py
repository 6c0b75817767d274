"""The per-transaction detectors DetectFunction runs, in one pass over shared inputs."""

from __future__ import annotations

from collections.abc import Callable

from shopwatch.config import DetectionSettings
from shopwatch.detectors import (
    country_mismatch,
    entity_velocity,
    failed_payment,
    geo,
    new_account,
    price,
    quantity,
    shared_identity,
    velocity,
)
from shopwatch.detectors.findings import Finding
from shopwatch.detectors.history import DetectionInput

Detector = Callable[[DetectionInput, DetectionSettings], Finding | None]

PER_TRANSACTION_DETECTORS: tuple[Detector, ...] = (
    price.detect,
    velocity.detect,
    failed_payment.detect,
    geo.detect,
    quantity.detect,
    shared_identity.detect,
    new_account.detect,
    entity_velocity.detect,
    country_mismatch.detect,
)


_MODULES = (
    price,
    velocity,
    failed_payment,
    geo,
    quantity,
    shared_identity,
    new_account,
    entity_velocity,
    country_mismatch,
)
# name (the findings' `detector`) -> detector, in PER_TRANSACTION_DETECTORS' order
DETECTORS_BY_NAME: dict[str, Detector] = {module.DETECTOR: module.detect for module in _MODULES}
# the detectors that read entity aggregates (`DetectionInput.views`): the others judge the same without them, so a
# walk that runs only those may leave entities unlearned (tests/unit/test_detector_registry.py holds this)
READ_ENTITIES = frozenset({shared_identity.DETECTOR, new_account.DETECTOR, entity_velocity.DETECTOR})


def run_detectors(
    data: DetectionInput, settings: DetectionSettings, only: frozenset[str] | None = None
) -> list[Finding]:
    """Every per-transaction detector's finding; `only`: the detectors of these names (a backtest's rule that
    reads two findings runs two detectors)."""
    detectors = PER_TRANSACTION_DETECTORS if only is None else [d for n, d in DETECTORS_BY_NAME.items() if n in only]
    return [f for f in (detect(data, settings) for detect in detectors) if f is not None]
