"""The model detector's rule, on hand-made verdicts: severity from the forest, the autoencoder and the training
range; reasons that name features with their values and training medians; the model's version."""

from __future__ import annotations

import pytest

from shopwatch.detectors import model
from shopwatch.detectors.features import FEATURE_NAMES, NEVER
from shopwatch.detectors.model import ModelVerdict, beyond_training, severity_of
from shopwatch.domain.severity import Severity
from tests.builders import item, tx

MEDIANS = tuple(
    {"amount": 120.0, "items": 1.0, "quantity": 2.0, "hour": 14.0, "weekday": 2.0, "price_ratio": 1.0}.get(n, 0.0)
    for n in FEATURE_NAMES
)
BOUNDS = tuple(
    {"amount": (2.0, 7000.0), "items": (1.0, 3.0), "quantity": (1.0, 9.0), "price_ratio": (0.9, 1.0)}.get(
        n, (-1e9, 1e9)
    )
    for n in FEATURE_NAMES
)


def features(**values: float) -> tuple[float, ...]:
    base = {n: MEDIANS[i] for i, n in enumerate(FEATURE_NAMES)}
    return tuple((base | values)[n] for n in FEATURE_NAMES)


def verdict(score: float = -0.45, error: float = 0.3, contributions=()) -> ModelVerdict:
    return ModelVerdict(
        version="20261122T000000Z-abcdef12",
        score=score,
        outlier_below=-0.58,
        reconstruction_error=error,
        reconstruction_above=0.63,
        contributions=contributions,
        medians=MEDIANS,
        bounds=BOUNDS,
    )


@pytest.mark.parametrize(
    ("row", "v", "expected"),
    [
        (features(), verdict(), None),  # ordinary
        (features(), verdict(score=-0.60), None),  # a forest outlier inside the training range: risk, no alert
        (features(), verdict(score=-0.60, error=5.0), None),  # both models, still inside the range
        (features(), verdict(score=-0.80, error=500.0), None),  # however odd, inside the range: no alert
        (features(items=7.0), verdict(), None),  # beyond the range alone is not enough
        (features(items=7.0), verdict(score=-0.60), Severity.MEDIUM),  # beyond the range + the forest
        (features(items=7.0), verdict(error=5.0), Severity.MEDIUM),  # beyond the range + the autoencoder
        (features(items=7.0), verdict(score=-0.60, error=5.0), Severity.HIGH),  # beyond + both models
        (features(price_ratio=0.05), verdict(score=-0.60), Severity.MEDIUM),  # below the range counts too
        # one feature just past its bound (under 1.5 times it) is the tail of normal traffic...
        (features(amount=8541.0), verdict(score=-0.60, error=5.0), None),
        (features(price_ratio=0.7), verdict(score=-0.60, error=5.0), None),
        # ...well past it, or two features past theirs, is not
        (features(amount=10600.0), verdict(score=-0.60, error=5.0), Severity.HIGH),
        (features(amount=7300.0, items=4.0), verdict(score=-0.60), Severity.MEDIUM),
    ],
)
def test_severity_follows_the_forest_the_autoencoder_and_the_training_range(row, v, expected):
    assert severity_of(row, v) is expected


def test_only_features_of_the_transaction_itself_are_range_checked():
    """A loyal customer's 500th purchase is beyond a young shop's training data, and not suspicious for it."""
    bounds = tuple(
        (0.0, 10.0) if n == "customer_transactions" else b for n, b in zip(FEATURE_NAMES, BOUNDS, strict=True)
    )
    v = ModelVerdict(**{**verdict(score=-0.60).__dict__, "bounds": bounds})
    assert beyond_training(features(customer_transactions=500.0), v) == []
    assert severity_of(features(customer_transactions=500.0), v) is None
    assert severity_of(features(customer_transactions=500.0, items=7.0), v) is Severity.MEDIUM


def test_the_finding_names_what_made_the_transaction_odd_with_training_medians():
    basket = tx("T9", "c7", items=tuple(item(f"S{i}", 2, "1299.00", f"Laptop {i}") for i in range(7)))
    row = features(amount=float(basket.amount), items=7.0, quantity=14.0)
    finding = model.detect(
        basket, row, verdict(score=-0.62, error=4.2, contributions=(("amount", 0.41), ("quantity", 0.2)))
    )
    assert finding is not None
    assert (finding.detector, finding.severity) == ("model", Severity.HIGH)
    assert finding.model_version == "20261122T000000Z-abcdef12"
    by_code = {r.code: r for r in finding.reasons}
    assert by_code["model_items_beyond_training"].value == "7"
    assert by_code["model_items_beyond_training"].expected == "<= 3"
    assert by_code["model_feature_amount"].message == "amount 18,186.00 (training median 120.00): 41% of the isolation"
    assert by_code["model_feature_amount"].expected == "120.00"
    assert by_code["model_isolation_score"].value == "-0.6200"
    assert by_code["model_reconstruction_error"].value == "4.2000"
    assert finding.description.startswith("Transaction T9: customer c7 spent 18,186.00 USD, unlike what the model")
    assert "distinct items" in finding.description and "amount" in finding.description
    assert model.detect(basket, features(), verdict()) is None


def test_never_and_clock_features_read_as_words():
    assert model.format_feature("seconds_since_last", NEVER) == "never"
    assert model.format_feature("weekday", 0.0) == "Monday"
    assert model.format_feature("hour", 7.0) == "07:00 UTC"
    assert model.format_feature("amount", 1234.5) == "1,234.50"
