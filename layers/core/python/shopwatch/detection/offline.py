"""Model features of a data set, replayed in time order through DetectFunction's own in-memory state.

`BatchState` is what DetectFunction keeps in step with what it writes to DynamoDB; starting it empty and
learning each transaction after featurizing it gives, for each transaction, the state DetectFunction reads
when the same sequence arrives one at a time (tests/integration/test_features_online_offline.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from shopwatch.config import DetectionSettings
from shopwatch.detection.service import BatchState
from shopwatch.detectors.features import transaction_features
from shopwatch.detectors.history import CatalogEntry
from shopwatch.domain.transaction import Transaction


def features_in_time_order(
    transactions: Iterable[Transaction],
    settings: DetectionSettings,
    catalog: dict[str, CatalogEntry] | None = None,
) -> Iterator[tuple[Transaction, tuple[float, ...]]]:
    state = BatchState.empty()
    state.catalog.update(catalog or {})
    for tx in sorted(transactions, key=lambda t: (t.timestamp, t.transaction_id)):
        yield tx, transaction_features(state.input_for(tx))
        state.learn(tx, settings.failed_statuses)
