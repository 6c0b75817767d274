"""Price: deviations from the catalog price or the SKU's learned median, with seed 000's severities."""

from __future__ import annotations

from decimal import Decimal

from shopwatch.config import DetectionSettings
from shopwatch.detectors import price
from shopwatch.detectors.history import CatalogEntry
from shopwatch.domain.severity import Severity
from tests.builders import T0, detection_input, item, seconds, tx

SETTINGS = DetectionSettings()
LAPTOP = {"LAPTOP": CatalogEntry("LAPTOP", Decimal("50000.00"), "INR", "Laptop")}


def check(current, past=(), catalog=None):
    return price.detect(detection_input(current, list(past), catalog=catalog), SETTINGS)


def test_a_99_percent_discount_on_the_catalog_price_is_critical_and_says_so():
    finding = check(
        tx(
            "921",
            customer_name="Alice Johnson",
            customer_id="1",
            currency="INR",
            items=(item("LAPTOP", 1, "500.00", "Laptop"),),
        ),
        catalog=LAPTOP,
    )
    assert finding.severity is Severity.CRITICAL
    assert finding.description == (
        "Transaction 921: Alice Johnson (1) bought Laptop for 500.00 INR, 99.0% below its catalog price of 50,000.00 INR"
    )
    assert finding.reasons[0].code == "price_discount"
    assert (finding.reasons[0].value, finding.reasons[0].expected) == ("500.00", "50000.00")


def test_a_25_percent_markup_is_high():
    catalog = {"HP": CatalogEntry("HP", Decimal("2000.00"), "INR", "Headphones")}
    finding = check(tx(currency="INR", items=(item("HP", 1, "2500.00", "Headphones"),)), catalog=catalog)
    assert finding.severity is Severity.HIGH
    assert finding.reasons[0].code == "price_markup"
    assert "25.0% above its catalog price" in finding.description


def test_a_price_within_the_threshold_raises_nothing():
    assert check(tx(currency="INR", items=(item("LAPTOP", 1, "45000.00"),)), catalog=LAPTOP) is None


def test_several_discounted_lines_are_one_finding_with_a_reason_each():
    catalog = {
        "KB": CatalogEntry("KB", Decimal("1000.00"), "INR", "Keyboard"),
        "WC": CatalogEntry("WC", Decimal("1200.00"), "INR", "Webcam"),
    }
    finding = check(
        tx(currency="INR", items=(item("KB", 1, "100.00", "Keyboard"), item("WC", 1, "120.00", "Webcam"))),
        catalog=catalog,
    )
    assert [r.message.split(" sold")[0] for r in finding.reasons] == ["Keyboard", "Webcam"]
    assert finding.severity is Severity.CRITICAL


def test_a_catalog_price_in_another_currency_is_not_compared():
    assert check(tx(currency="USD", items=(item("LAPTOP", 1, "500.00"),)), catalog=LAPTOP) is None


def test_without_a_catalog_entry_the_learned_median_is_the_reference():
    past = [tx(f"p{i}", f"other{i}", at=T0 - seconds(600 + i), items=(item("MUG", 2, "8.00"),)) for i in range(5)]
    finding = check(tx(items=(item("MUG", 1, "2.00", "Mug"),)), past)
    assert finding is not None
    assert "75.0% below its usual price of 8.00 USD" in finding.description
    assert finding.severity is Severity.CRITICAL


def test_the_learned_median_needs_enough_history():
    past = [tx(f"p{i}", f"other{i}", at=T0 - seconds(600 + i), items=(item("MUG", 2, "8.00"),)) for i in range(4)]
    assert check(tx(items=(item("MUG", 1, "2.00"),)), past) is None


def test_returns_are_not_priced():
    assert check(tx(status="reversed", currency="INR", items=(item("LAPTOP", -1, "500.00"),)), catalog=LAPTOP) is None


def test_the_score_grows_with_the_deviation():
    small = check(tx(currency="INR", items=(item("LAPTOP", 1, "35000.00"),)), catalog=LAPTOP)
    large = check(tx(currency="INR", items=(item("LAPTOP", 1, "5000.00"),)), catalog=LAPTOP)
    assert small.strength < large.strength <= 1


def test_tier_prices_a_sku_usually_sells_at_are_not_anomalies():
    tiers = ["2.55", "2.55", "2.10", "2.55", "1.95", "2.55", "2.10", "2.55", "2.95", "2.55"] * 3
    past = [
        tx(f"p{i}", f"other{i}", at=T0 - seconds(600 + i), currency="GBP", items=(item("HEART", 6, p),))
        for i, p in enumerate(tiers)
    ]
    assert check(tx(currency="GBP", items=(item("HEART", 100, "1.95"),)), past) is None
    assert check(tx(currency="GBP", items=(item("HEART", 1, "2.95"),)), past) is None


def test_a_price_far_outside_the_usual_tiers_is_judged_against_the_nearest_tier():
    tiers = ["2.55", "2.10", "1.95", "2.95"] * 8
    past = [
        tx(f"p{i}", f"other{i}", at=T0 - seconds(600 + i), currency="GBP", items=(item("HEART", 6, p, "Heart"),))
        for i, p in enumerate(tiers)
    ]
    finding = check(tx(currency="GBP", items=(item("HEART", 1, "0.39", "Heart"),)), past)
    assert finding.severity is Severity.CRITICAL
    assert "80.0% below its usual lowest price of 1.95 GBP" in finding.description
    markup = check(tx(currency="GBP", items=(item("HEART", 1, "4.43", "Heart"),)), past)
    assert "50.2% above its usual highest price of 2.95 GBP" in markup.description
