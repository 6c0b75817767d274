"""The Cases page in headless Chromium against the local stack: a ring of new accounts on one device arrives
as one case; the analyst opens it from the Cases page, assigns it to herself and marks it fraud, and every alert
of the ring is settled (checked through the API). axe-core finds no serious or critical violation on the page
with the case open. Screenshots go to $SHOPWATCH_ARTIFACTS (default test-artifacts/)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlparse

from shopwatch.domain.clock import to_iso, utcnow
from tests.e2e.test_dashboard_accessibility_browser import violations
from tests.e2e.test_dashboard_browser import ARTIFACTS, analyst, browser, connect, expect, page  # noqa: F401
from tests.e2e.test_local_stack import wait_for


def ring(prefix: str, accounts: int = 3) -> list[dict]:
    """New accounts opened seconds before buying, one after another, on one device."""
    start = utcnow() - timedelta(minutes=10)
    return [
        {"transaction_id": f"{prefix}-{i}", "customer_id": f"{prefix}-acct{i}", "amount": "80.00", "currency": "USD",
         "timestamp": to_iso(start + timedelta(minutes=i)), "device_id": f"{prefix}-DEVICE",
         "account_created_at": to_iso(start + timedelta(minutes=i, seconds=-10)), "ip": f"203.0.113.{20 + i}",
         "email": f"{prefix}{i}@example.com", "country": "GB"}
        for i in range(accounts)
    ]  # fmt: skip


def ring_case(api, prefix: str) -> dict | None:
    """The ring's case once all three accounts' alerts are in it (the stream pollers run on their own)."""
    status, listing = api.request("GET", "/cases?status=all")
    assert status == 200
    for listed in listing["cases"]:
        if listed["anchor"] == {"kind": "device", "value": f"{prefix}-DEVICE"} and len(listed["accounts"]) == 3:
            status, case = api.request("GET", f"/cases/{listed['case_id']}")
            if {a["customer_id"] for a in case["alerts"]} == set(listed["accounts"]):
                return case
    return None


def test_a_device_ring_is_opened_from_the_cases_page_and_marked_fraud_settling_its_alerts(
    page,  # noqa: F811
    local_stack,
    api,
    analyst,  # noqa: F811
):
    assert len(api.post_transactions(ring("ringb"))["accepted"]) == 3
    case = wait_for(lambda: ring_case(api, "ringb"), timeout=60)
    alert_ids = sorted(a["alert_id"] for a in case["alerts"])

    connect(page, local_stack, analyst)
    expect(page.locator("#who")).to_have_text("maria")
    page.click("nav a[data-view=cases]")
    row = page.locator(f"#cases-table tbody tr[data-case-id='{case['case_id']}']")
    row.wait_for(timeout=20_000)
    expect(row).to_contain_text("device ringb-DEVICE")
    asked: list[str] = []
    page.on("request", lambda request: asked.append(urlparse(request.url).path.lstrip("/")))
    row.click()
    detail = page.locator("#case-detail")
    expect(detail).to_have_attribute("data-case-id", case["case_id"])
    # opened from the list: the case alone, not the list and the week's figures again (they count a week of alerts)
    assert [a for a in asked if not a.startswith("alerts")] == ["cases/" + case["case_id"]], asked
    assert page.url.endswith("#/cases/" + case["case_id"])
    expect(page.locator("#case-alerts tbody tr")).to_have_count(len(alert_ids))
    expect(page.locator("#case-accounts li")).to_have_count(3)
    expect(page.locator("#case-entities a", has_text="device ringb-DEVICE")).to_have_attribute(
        "href", "#/entities/device/ringb-DEVICE"
    )
    first_alert = page.locator("#case-alerts tbody tr").first
    assert first_alert.locator("a[href^='#/alerts/al_']").count() == 1
    assert first_alert.locator("a[href^='#/transactions/ringb-']").count() >= 1
    a11y = violations(page)

    page.click("#case-assign-me")
    expect(page.locator("#case-facts dd").nth(2)).to_have_text("maria")
    expect(page.locator("#case-facts dd").nth(5)).not_to_have_text("—")  # time to first action
    page.click("#case-fraud")
    expect(detail).to_have_attribute("data-status", "confirmed_fraud")
    expect(page.locator("#case-said")).to_contain_text(f"{len(alert_ids)} alert(s) settled as fraud")
    expect(page.locator("#case-alerts tbody td.status", has_text="confirmed_fraud")).to_have_count(len(alert_ids))
    expect(page.locator("#case-fraud")).to_be_disabled()
    # the pace of the last 7 days (GET /dashboard/metrics): this case's first action and close count in it
    expect(page.locator("#cases-figures")).to_contain_text("time to first action median")
    expect(page.locator("#cases-figures")).not_to_contain_text("time to close none yet")

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "cases.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000

    for alert_id in alert_ids:
        status, alert = api.request("GET", f"/alerts/{alert_id}")
        assert status == 200 and alert["status"] == "confirmed_fraud"
        assert alert["feedback"]["label"] == "fraud" and alert["feedback"]["by"] == f"maria via case {case['case_id']}"
    status, closed = api.request("GET", f"/cases/{case['case_id']}")
    assert closed["status"] == "confirmed_fraud" and closed["assignee"] == "maria" and closed["closed_at"]
    assert a11y == []
    assert all(url.startswith(local_stack.url) for url in page.requests), page.requests
    assert page.problems == []
