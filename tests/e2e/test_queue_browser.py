"""The alert queue in headless Chromium against the local stack, as an analyst works it: medium and above,
highest risk first then the longest waiting; triage from the keyboard (j/k/o/a/f/l/x/?); a bulk resolve with a
reason; a saved filter; new alerts announced in a bar instead of moving rows; a phone's card layout.

Alerts are written to the stack's AlertsTable as DetectFunction stores them (each test its own customers), so
their risk and age are known; every test looks at its own rows only, whatever else the stack holds.
Screenshots go to test-artifacts/ (queue*.png).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlparse

import pytest

from shopwatch.detectors.findings import Finding, Reason
from shopwatch.domain.alert import Alert, open_alert
from shopwatch.domain.clock import utcnow
from shopwatch.domain.severity import Severity
from shopwatch.storage.alerts import AlertRepository
from tests.builders import tx
from tests.e2e.test_dashboard_browser import ARTIFACTS, analyst, browser, connect, expect, page  # noqa: F401
from tests.e2e.test_local_stack import wait_for


def write_alert(local_stack, customer: str, *, risk: str, minutes_ago: int, severity: str = "high") -> Alert:
    level = Severity.parse(severity)
    at = utcnow() - timedelta(minutes=minutes_ago)
    finding = Finding("price", level, (Reason("price_below", "sold far below its price"),), f"{customer} bought cheap")
    purchase = tx(f"{customer}-t", customer, at=at, amount="250.00", customer_name=f"Name of {customer}")
    alert = replace(open_alert(finding, level, Decimal(risk), purchase, 3600, at), risk_score=Decimal(risk))
    assert AlertRepository(local_stack.table("AlertsTable")).save(alert)
    return alert


def ids_on_screen(view, mine: dict[str, Alert]) -> list[str]:
    """The test's own alerts in the order the queue shows them."""
    shown = view.eval_on_selector_all("#alerts tbody tr", "rows => rows.map((r) => r.dataset.alertId)")
    return [i for i in shown if i in {a.alert_id for a in mine.values()}]


def row(view, alert: Alert):
    return view.locator(f'#alerts tbody tr[data-alert-id="{alert.alert_id}"]')


def move_to(view, alert: Alert) -> None:
    """j until `alert` is the current row (the keyboard alone)."""
    view.locator("#feed-title").click()  # the focus on the page, not in a field
    for _ in range(60):
        if row(view, alert).get_attribute("aria-selected") == "true":
            return
        view.keyboard.press("j")
    pytest.fail(f"j never reached {alert.alert_id}")


def api_alert(api, alert: Alert) -> dict:
    status, body = api.request("GET", f"/alerts/{alert.alert_id}")
    assert status == 200
    return body


@pytest.fixture
def queued(local_stack):
    """Five open alerts of the queue test, and one below medium that the queue leaves out."""
    return {
        "old90": write_alert(local_stack, "q-old90", risk="90", minutes_ago=50),
        "new90": write_alert(local_stack, "q-new90", risk="90", minutes_ago=10),
        "r97": write_alert(local_stack, "q-r97", risk="97", minutes_ago=5, severity="critical"),
        "r70": write_alert(local_stack, "q-r70", risk="70", minutes_ago=130, severity="medium"),
        "r60": write_alert(local_stack, "q-r60", risk="60", minutes_ago=3, severity="medium"),
        "low": write_alert(local_stack, "q-low", risk="99", minutes_ago=1, severity="low"),
    }


def test_the_queue_shows_medium_and_above_by_risk_then_age_one_line_each(page, local_stack, analyst, queued):  # noqa: F811
    events: list[str] = []
    page.on("request", lambda request: events.append("asked " + urlparse(request.url).path.lstrip("/")))
    page.on("response", lambda response: events.append("answered " + urlparse(response.url).path.lstrip("/")))
    connect(page, local_stack, analyst)
    row(page, queued["r60"]).wait_for(timeout=30_000)
    expect(page.locator("#kpis")).not_to_be_empty()
    # the queue is asked for alone; the figures only once it is answered (on a shared CPU they would slow it)
    queue_answered = events.index("answered alerts")
    figures = [
        i
        for i, e in enumerate(events)
        if e.startswith("asked ") and e.split(" ", 1)[1].startswith(("dashboard", "stats", "analytics"))
    ]
    assert figures and min(figures) > queue_answered, events
    assert ids_on_screen(page, queued) == [queued[k].alert_id for k in ("r97", "old90", "new90", "r70", "r60")]
    assert row(page, queued["low"]).count() == 0  # low: below the default "at least medium"
    assert [page.input_value(f"#filter-{f}") for f in ("status", "severity", "order")] == ["open", "medium", "risk"]
    expect(page.locator("#saved-filters")).to_have_value("Medium+ open")
    first = row(page, queued["r97"])
    expect(first.locator("td.who")).to_have_text("Name of q-r97")
    expect(first.locator("td.amount")).to_contain_text("250.00")
    expect(first.locator("td.age")).to_have_text("5 min")
    heights = page.eval_on_selector_all("#alerts tbody tr", "rows => rows.map((r) => r.getBoundingClientRect().height)")
    assert max(heights) < 40, f"a row is more than one line tall: {heights}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "queue.png"), full_page=True)
    assert all(url.startswith(local_stack.url) for url in page.requests) and page.problems == []


def test_an_analyst_triages_from_the_keyboard(page, local_stack, api, analyst):  # noqa: F811
    mine = {
        "k1": write_alert(local_stack, "kb-1", risk="99.9", minutes_ago=9),
        "k2": write_alert(local_stack, "kb-2", risk="99.8", minutes_ago=8),
        "k3": write_alert(local_stack, "kb-3", risk="99.7", minutes_ago=7),
    }
    connect(page, local_stack, analyst)
    row(page, mine["k3"]).wait_for(timeout=30_000)
    move_to(page, mine["k2"])
    page.keyboard.press("k")
    expect(row(page, mine["k1"])).to_have_attribute("aria-selected", "true")
    expect(row(page, mine["k1"])).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(row(page, mine["k2"])).to_have_attribute("aria-selected", "true")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("o")
    expect(page.locator("#detail-body")).to_have_attribute("data-alert-id", mine["k1"].alert_id)

    page.keyboard.press("a")
    wait_for(lambda: api_alert(api, mine["k1"])["assignee"] == "maria", timeout=10)
    page.keyboard.press("f")  # fraud: it leaves the open queue, the cursor stays in place, on the next one
    wait_for(lambda: api_alert(api, mine["k1"])["status"] == "confirmed_fraud", timeout=10)
    expect(row(page, mine["k1"])).to_have_count(0)
    expect(row(page, mine["k2"])).to_have_attribute("aria-selected", "true")
    page.keyboard.press("l")
    wait_for(lambda: api_alert(api, mine["k2"])["status"] == "false_positive", timeout=10)
    assert api_alert(api, mine["k2"])["feedback"]["label"] == "legitimate"
    expect(row(page, mine["k3"])).to_have_attribute("aria-selected", "true")

    page.keyboard.press("x")
    expect(row(page, mine["k3"]).locator("input[type=checkbox]")).to_be_checked()
    expect(page.locator("#bulk-count")).to_have_text("1 alert selected")
    page.keyboard.press("x")
    expect(page.locator("#bulk-bar")).to_be_hidden()
    page.keyboard.press("?")
    expect(page.locator("#shortcuts")).to_be_visible()
    page.keyboard.press("j")  # keys do nothing while the list of keys is open
    page.keyboard.press("Escape")
    expect(page.locator("#shortcuts")).to_be_hidden()
    expect(row(page, mine["k3"])).to_have_attribute("aria-selected", "true")

    page.fill("#save-filter-name", "jjj")  # typing in a field is typing, not triage
    expect(row(page, mine["k3"])).to_have_attribute("aria-selected", "true")
    assert api_alert(api, mine["k3"])["status"] == "open"
    page.screenshot(path=str(ARTIFACTS / "queue-keyboard.png"), full_page=True)
    assert page.problems == []


def test_a_bulk_resolve_needs_a_reason_and_records_it(page, local_stack, api, analyst):  # noqa: F811
    mine = [write_alert(local_stack, f"bulk-{i}", risk="85", minutes_ago=20 + i) for i in range(3)]
    connect(page, local_stack, analyst)
    for alert in mine:
        row(page, alert).wait_for(timeout=30_000)
    for alert in mine[:2]:
        row(page, alert).locator("input[type=checkbox]").check()
    expect(page.locator("#bulk-count")).to_have_text("2 alerts selected")
    page.select_option("#bulk-action", "resolve")
    page.click("#bulk-bar button[type=submit]")  # no reason: the browser's own check keeps it from being sent
    assert api_alert(api, mine[0])["status"] == "open"
    page.fill("#bulk-reason", "QA test orders, see ticket 42")
    page.click("#bulk-bar button[type=submit]")
    expect(page.locator("#bulk-status")).to_have_text("2 changed, 0 already so.")
    for alert in mine[:2]:
        body = api_alert(api, alert)
        assert body["status"] == "resolved"
        assert body["history"][-1]["reason"] == "QA test orders, see ticket 42" and body["history"][-1]["by"] == "maria"
        expect(row(page, alert)).to_have_count(0)
    assert api_alert(api, mine[2])["status"] == "open"
    expect(page.locator("#bulk-bar")).to_be_hidden()
    page.screenshot(path=str(ARTIFACTS / "queue-bulk.png"), full_page=True)
    assert page.problems == []


def test_a_saved_filter_is_kept_per_user_and_applied_again(page, local_stack, analyst):  # noqa: F811
    critical = write_alert(local_stack, "saved-crit", risk="40", minutes_ago=2, severity="critical")
    medium = write_alert(local_stack, "saved-med", risk="45", minutes_ago=2, severity="medium")
    connect(page, local_stack, analyst)
    row(page, medium).wait_for(timeout=30_000)
    page.select_option("#filter-severity", "critical")
    page.select_option("#filter-order", "newest")
    expect(row(page, medium)).to_have_count(0)
    page.fill("#save-filter-name", "Critical, newest")
    page.click("#save-filter-form button[type=submit]")
    expect(page.locator("#saved-filters")).to_have_value("Critical, newest")
    stored = page.evaluate("JSON.parse(localStorage.getItem('shopwatch.filters.maria'))")
    assert stored == [{"name": "Critical, newest", "status": "open", "min_severity": "critical", "order": "newest"}]

    page.reload()
    row(page, medium).wait_for(timeout=30_000)  # a new visit starts from the default
    page.select_option("#saved-filters", "Critical, newest")
    expect(row(page, medium)).to_have_count(0)
    row(page, critical).wait_for()
    assert [page.input_value(f"#filter-{f}") for f in ("severity", "order")] == ["critical", "newest"]
    page.select_option("#saved-filters", "Medium+ open")
    row(page, medium).wait_for()
    page.fill("#save-filter-name", "x" * 41)  # the field holds 40: the 41st is not typed
    assert len(page.input_value("#save-filter-name")) == 40
    assert page.problems == []


def test_new_alerts_wait_in_a_bar_instead_of_moving_rows(page, local_stack, analyst):  # noqa: F811
    first = write_alert(local_stack, "bar-1", risk="92", minutes_ago=4)
    connect(page, local_stack, analyst)
    row(page, first).wait_for(timeout=30_000)
    move_to(page, first)  # the analyst is working: a current row
    before = page.eval_on_selector_all("#alerts tbody tr", "rows => rows.map((r) => r.dataset.alertId)")
    newcomer = write_alert(local_stack, "bar-2", risk="99.95", minutes_ago=0)
    bar = page.locator("#new-alerts")
    expect(bar).to_be_visible(timeout=20_000)  # the next refresh (every 5 s) finds it
    expect(bar).to_contain_text("new alert")
    expect(bar).to_contain_text("— show")
    assert page.eval_on_selector_all("#alerts tbody tr", "rows => rows.map((r) => r.dataset.alertId)") == before
    assert row(page, newcomer).count() == 0
    expect(row(page, first)).to_have_attribute("aria-selected", "true")
    page.screenshot(path=str(ARTIFACTS / "queue-new-alerts.png"))
    bar.click()
    row(page, newcomer).wait_for()
    expect(bar).to_be_hidden()
    expect(row(page, first)).to_have_attribute("aria-selected", "true")  # the cursor stays on its alert
    assert page.problems == []


def test_on_a_phone_the_queue_is_cards_without_sideways_scrolling(browser, local_stack, analyst):  # noqa: F811
    alert = write_alert(local_stack, "phone-queue-with-a-rather-long-customer-name", risk="96", minutes_ago=3)
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone = context.new_page()
    connect(phone, local_stack)
    card = row(phone, alert)
    card.wait_for(timeout=30_000)
    overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    sideways = phone.evaluate(
        """() => [...document.querySelectorAll('#alerts, #alerts tbody, #queue .scroll')]
             .filter((e) => e.scrollWidth - e.clientWidth > 1).map((e) => e.id || e.className || e.tagName)"""
    )
    what, box = card.locator("td.what").bounding_box(), card.bounding_box()
    phone.screenshot(path=str(ARTIFACTS / "queue-phone.png"), full_page=True)
    context.close()
    assert overflow <= 0, f"the page is {overflow}px wider than a phone"
    assert sideways == [], f"these scroll sideways on a phone: {sideways}"
    assert what["width"] >= 0.8 * box["width"], "what happened has the card's width"
