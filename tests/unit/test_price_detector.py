"""Price: deviations from the catalog price or the SKU's learned median, with seed 000's severities."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from shopwatch.config import DetectionSettings
from shopwatch.detectors import price
from shopwatch.detectors.findings import SEVERITY_SCORES
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
    assert finding.severity is Severity.MEDIUM  # under 30% of the lowest price ever charged: pages


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
    assert finding.severity is Severity.MEDIUM
    assert "80.0% below its usual lowest price of 1.95 GBP" in finding.description
    markup = check(tx(currency="GBP", items=(item("HEART", 1, "4.43", "Heart"),)), past)
    assert "50.2% above its usual highest price of 2.95 GBP" in markup.description


# --- learning the shop (issue 16) -----------------------------------------------------------------------------
def sales(sku: str, prices: list[str], quantity: int = 6) -> list:
    return [
        tx(f"{sku}-{i}", f"buyer{i}", at=T0 - seconds(3600 + i), currency="GBP", items=(item(sku, quantity, p, sku),))
        for i, p in enumerate(prices)
    ]


def gbp(*lines, customer: str = "c1"):
    return tx(customer_id=customer, currency="GBP", items=lines)


def test_a_price_charged_on_two_earlier_lines_is_one_of_the_shops_prices():
    """A volume tier or a markdown: the third buyer at the new price is not told again."""
    past = sales("MUG", ["2.10"] * 30)
    assert check(gbp(item("MUG", 48, "1.45")), past) is not None
    assert check(gbp(item("MUG", 48, "1.45")), past + sales("MUG", ["1.45"])) is not None
    assert check(gbp(item("MUG", 48, "1.45")), past + sales("MUG", ["1.45", "1.45"])) is None


def test_a_guest_basket_priced_from_another_list_is_not_an_anomaly():
    """Online Retail's guests pay about twice the trade price on every line of the basket."""
    past = sales("MUG", ["2.10"] * 30) + sales("BAG", ["1.65"] * 30) + sales("TIN", ["4.95"] * 30)
    guest = gbp(item("MUG", 1, "4.21"), item("BAG", 1, "3.29"), item("TIN", 1, "9.96"), customer="guest-1")
    assert check(guest, past) is None


def test_one_line_far_beyond_the_baskets_price_list_is_judged_against_that_list():
    past = sales("MUG", ["2.10"] * 30) + sales("BAG", ["1.65"] * 30) + sales("TIN", ["4.95"] * 30)
    guest = gbp(item("MUG", 1, "4.21"), item("BAG", 1, "3.29"), item("TIN", 1, "49.50"), customer="guest-1")
    finding = check(guest, past)
    assert [r.value for r in finding.reasons] == ["49.50"]
    assert "above its usual price on this basket's price list of 9.9" in finding.description


def test_one_odd_line_is_not_a_price_list():
    past = sales("MUG", ["2.10"] * 30) + sales("BAG", ["1.65"] * 30) + sales("TIN", ["4.95"] * 30)
    finding = check(gbp(item("MUG", 1, "2.10"), item("BAG", 1, "1.65"), item("TIN", 1, "9.90")), past)
    assert finding.severity is Severity.MEDIUM
    assert "100.0% above its usual price of 4.95 GBP" in finding.description


def test_a_whole_basket_at_a_tenth_of_its_prices_is_no_price_list():
    past = sales("MUG", ["2.10"] * 30) + sales("BAG", ["1.65"] * 30)
    finding = check(gbp(item("MUG", 1, "0.21"), item("BAG", 1, "0.17")), past)
    assert finding.severity is Severity.HIGH  # two thirds of the way under the paging floor: the high band
    assert len(finding.reasons) == 2


def test_catalog_prices_never_make_or_follow_a_price_list():
    catalog = {sku: CatalogEntry(sku, Decimal(p), "GBP", sku) for sku, p in (("MUG", "2.10"), ("BAG", "1.65"))}
    finding = check(gbp(item("MUG", 1, "4.21"), item("BAG", 1, "3.29")), catalog=catalog)
    assert len(finding.reasons) == 2 and "catalog price" in finding.description


def test_a_line_sold_at_many_different_prices_has_no_list_price():
    """Postage, fees and manual lines learn that they are priced case by case."""
    postage = [f"{15 + n * 1.5:.2f}" for n in range(SETTINGS.price_unpriced_levels)]
    assert check(gbp(item("POST", 1, "140.00")), sales("POST", postage, quantity=1)) is None
    fewer = sales("POST", postage[: SETTINGS.price_unpriced_levels - 1] * 2, quantity=1)
    assert check(gbp(item("POST", 1, "140.00")), fewer) is not None


def test_skus_configured_as_unpriced_are_not_judged():
    settings = replace(SETTINGS, price_unpriced_skus=frozenset({"BANK CHARGES"}))
    data = detection_input(gbp(item("BANK CHARGES", 1, "1.00")), sales("BANK CHARGES", ["15.00"] * 10))
    assert price.detect(data, settings) is None
    assert price.detect(data, SETTINGS) is not None


def test_an_item_whose_prices_vary_widely_is_judged_against_its_own_spread():
    one_price = sales("MUG", ["2.10"] * 40)
    assert check(gbp(item("MUG", 1, "1.05")), one_price) is not None
    varied = sales("MUG", ["2.10", "1.45", "2.95", "1.65", "2.55"] * 8)
    assert check(gbp(item("MUG", 1, "1.05")), varied) is None  # 28% below the lowest, 2.8 spreads from the median
    assert check(gbp(item("MUG", 1, "0.21")), varied).severity is Severity.MEDIUM


def test_past_every_price_ever_charged_pages_however_widely_the_item_varies():
    """The spread excuses prices among the shop's own; not one six times the dearest it ever charged (Online
    Retail with injections: a 6x markup on an item sold at 0.65 to 2.55 went untold)."""
    varied = sales("MUG", ["2.10", "1.45", "2.95", "1.65", "2.55"] * 8 + ["0.40"] * 10)
    assert check(gbp(item("MUG", 1, "4.10")), varied) is None  # within the spread, under 1.5x the dearest
    assert check(gbp(item("MUG", 1, "9.00")), varied).severity >= Severity.MEDIUM  # 3x the dearest: pages


def test_a_markdown_within_reach_of_the_lowest_price_ever_charged_is_told_not_paged():
    """Online Retail marks items down by up to three quarters (issue 16): 0.85 after selling at 1.25 to 2.10 is
    reported low; a tenth of the usual price, past 30% of the lowest ever charged, pages."""
    past = sales("MUG", ["2.10"] * 30 + ["1.25"] * 2)
    markdown = check(gbp(item("MUG", 1, "0.85")), past)
    assert markdown.severity is Severity.LOW
    assert markdown.strength == SEVERITY_SCORES[Severity.LOW]
    assert check(gbp(item("MUG", 1, "0.21")), past).severity >= Severity.MEDIUM


def test_a_markup_pages_only_well_past_the_highest_price_ever_charged():
    """Guests pay two or three times the trade price: up to 1.5 times the dearest price charged is told, not paged."""
    past = sales("MUG", ["2.10"] * 30 + ["4.20"] * 2)
    assert check(gbp(item("MUG", 1, "5.90")), past).severity is Severity.LOW
    assert check(gbp(item("MUG", 1, "12.60")), past).severity >= Severity.MEDIUM


def test_how_far_past_the_shops_prices_sets_the_severity_band():
    past = sales("MUG", ["2.10"] * 30)
    severities = [check(gbp(item("MUG", 1, p)), past).severity for p in ("0.55", "0.21", "0.02")]
    assert severities == [Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL]


def test_a_free_line_in_a_paid_basket_is_told_but_not_paged():
    past = sales("MUG", ["2.10"] * 30) + sales("BAG", ["1.65"] * 30)
    finding = check(gbp(item("MUG", 1, "2.10"), item("BAG", 1, "0.00")), past)
    assert finding.severity is Severity.LOW
    assert finding.strength == SEVERITY_SCORES[Severity.LOW]


def test_an_order_that_charges_nothing_is_not_a_priced_sale():
    past = sales("MUG", ["2.10"] * 30)
    assert check(gbp(item("MUG", 1, "0.00")), past) is None


def test_the_unpriced_skus_come_from_the_template_parameter_through_the_environment(monkeypatch):
    from infra.template import Resolver, load_template

    template = load_template()
    variables = template["Resources"]["DetectFunction"]["Properties"]["Environment"]["Variables"]
    value = Resolver(template, {"PriceUnpricedSkus": "POST, BANK CHARGES"}).resolve(variables["PRICE_UNPRICED_SKUS"])
    monkeypatch.setenv("PRICE_UNPRICED_SKUS", value)
    assert DetectionSettings.from_env().price_unpriced_skus == frozenset({"POST", "BANK CHARGES"})
    monkeypatch.setenv("PRICE_LIST_RANGE", "0.8-2.5")
    assert DetectionSettings.from_env().price_list_range == (Decimal("0.8"), Decimal("2.5"))
