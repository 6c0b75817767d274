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


def run_detectors(data: DetectionInput, settings: DetectionSettings) -> list[Finding]:
    return [f for f in (detect(data, settings) for detect in PER_TRANSACTION_DETECTORS) if f is not None]
