"""Numbers, charts and errors an analyst can read (issue 19, part 6), in headless Chromium against the local
stack: money with its currency and thousands separators on the daily axis, dates on a customer's time axis when
the purchases span weeks, the last time label inside its chart, a baseline that does not judge a point by itself,
the page's error where the user is, and the alert feed as cards on a phone."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from shopwatch.detectors.history import CatalogEntry
from shopwatch.domain.clock import to_iso, utcnow
from shopwatch.storage.state import StateRepository
from tests.e2e.test_dashboard_browser import (  # noqa: F401 - fixtures
    ARTIFACTS,
    analyst,
    browser,
    connect,
    expect,
    page,
)
from tests.e2e.test_local_stack import purchase

CUSTOMER = "readable-1"


def purchases_over_three_weeks() -> list[dict]:
    """Twenty ordinary purchases of ~100 USD over three weeks, then one 20x (2,000 USD) today; and five of
    700 USD today by others, so that today's revenue runs into thousands."""
    now = utcnow()
    out = []
    for i in range(20):
        tx = purchase(f"rd-{i}", customer=CUSTOMER, price=f"{95 + i % 10}.00")
        tx["timestamp"] = to_iso(now - timedelta(days=21) + timedelta(days=i, hours=i % 5))
        out.append(tx)
    out.append(purchase("rd-spike", customer=CUSTOMER, price="2000.00"))
    out += [purchase(f"rd-big-{i}", customer=f"readable-big-{i}", price="700.00") for i in range(5)]
    return out


def test_money_dates_baselines_and_errors_read_as_a_person_expects(page, local_stack, api, analyst):  # noqa: F811
    posted = purchases_over_three_weeks()
    assert len(api.post_transactions(posted)["accepted"]) == len(posted)
    connect(page, local_stack, analyst)

    # the daily axis: the top value in the shop's currency with separators (it read "432520")
    top = page.locator("#daily-chart svg text.axis-max")
    expect(top).to_have_text(re.compile(r"^USD\s\d{1,3}(,\d{3})+$"), timeout=40_000)
    assert page.locator("#daily-chart svg").get_attribute("aria-label") == "approved revenue per day (USD)"
    expect(page.locator("#daily-note")).not_to_contain_text(re.compile(r"\d{4}-\d{2}-\d{2}"))  # "Nov 17", not ISO

    # the minute chart's labels all inside the chart (the last one was cut off at the right edge)
    page.locator("#minute-chart svg text.axis-label").first.wait_for()
    outside = page.evaluate(
        """() => [...document.querySelectorAll('#minute-chart svg text.axis-label')].filter((t) => {
             const box = t.getBBox(); return box.x < 0 || box.x + box.width > 640; }).length"""
    )
    assert outside == 0

    # a customer over three weeks: dates on the axis, money in the baseline, the 20x purchase flagged
    page.fill("#customer-input", CUSTOMER)
    page.click("#customer-form button[type=submit]")
    page.locator("#customer-rows tbody tr", has_text="rd-spike").wait_for(timeout=40_000)
    labels = page.locator("#customer-chart svg text.axis-label").all_text_contents()
    assert labels and all(re.search(r"[A-Z][a-z]{2} \d{1,2}", label) for label in labels), labels
    overlapping = page.evaluate(
        """() => { const boxes = [...document.querySelectorAll('#customer-chart svg text.axis-label')]
             .map((t) => t.getBBox()).sort((a, b) => a.x - b.x);
           return boxes.slice(1).filter((box, i) => box.x < boxes[i].x + boxes[i].width).length; }"""
    )
    assert overlapping == 0, "time labels overlap"
    baseline = page.locator("#customer-profile dt", has_text="amount baseline").locator(
        "xpath=following-sibling::dd[1]"
    )
    expect(baseline).to_have_text(re.compile(r"^USD\s[\d,]+\.\d{2} ± USD\s[\d,]+\.\d{2} over 21 transactions"))
    spike = page.locator("#customer-rows tbody tr", has_text="rd-spike")
    expect(spike).to_have_class(re.compile("selected"))  # flagged: against the other twenty it stands out
    expect(spike.locator("td").nth(3)).to_have_text(re.compile(r"^USD\s2,000\.00$"))

    # an error at the bottom of the page is shown where the user is
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.fill("#customer-input", "nobody-at-all")
    page.click("#customer-form button[type=submit]")
    error = page.locator("#error")
    expect(error).to_be_visible()
    expect(error).to_be_in_viewport()
    expect(page.locator("#customer-rows tbody tr")).to_have_count(0)  # the last customer's rows are not left
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-readable.png"), full_page=True)
    assert page.problems == [] or all("404" in p for p in page.problems), page.problems


def test_on_a_phone_each_alert_is_a_card_and_nothing_scrolls_sideways(browser, local_stack, api, analyst):  # noqa: F811
    StateRepository(local_stack.table("StateTable")).put_catalog_entry(
        CatalogEntry("E2E-CAMERA", Decimal("1000.00"), "USD", "Camera")
    )  # the price detector's reference: 5.00 for a 1,000.00 camera alerts
    assert api.post_transactions([purchase("rd-phone-deal", customer="readable-phone", price="5.00")])["accepted"]
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone = context.new_page()
    connect(phone, local_stack)
    row = phone.locator("#alerts tbody tr").first
    row.wait_for(timeout=40_000)
    sideways = phone.evaluate(
        """() => [document.documentElement, ...document.querySelectorAll('#alerts, #alerts tbody, .scroll')]
             .filter((e) => e.offsetParent !== null || e === document.documentElement)
             .filter((e) => e.scrollWidth - e.clientWidth > 1)
             .map((e) => (e.querySelector('table') || e).id || e.className || e.tagName)"""
    )
    summary = row.locator("td.what").bounding_box()
    card = row.bounding_box()
    phone.screenshot(path=str(ARTIFACTS / "dashboard-phone-cards.png"), full_page=True)
    context.close()
    assert sideways == [], f"these scroll sideways on a phone: {sideways}"
    assert summary["width"] >= 0.8 * card["width"], "the summary has the card's width, not a narrow column"
