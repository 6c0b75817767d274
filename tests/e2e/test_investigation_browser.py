"""The transaction and entity pages in headless Chromium against the local stack (issue 19, parts 4 and 5).

Three accounts buy on one device whose id is HTML. An admin opens one of the alerts, follows its transaction
to the transaction page (items, risk score with its parts), follows the device to its page, sees the ring's three
accounts in the link graph, opens an account from the graph, and adds the device to a block list with a reason:
the list is then checked through the API. An analyst sees the device's page without the list form. Both pages
fit a phone (390 px, no sideways scroll) and have no serious or critical axe violation. Screenshots go to
$SHOPWATCH_ARTIFACTS (default test-artifacts/).
"""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import quote

import pytest

from infra.local.stack import ADMIN_USER
from shopwatch.detectors.history import CatalogEntry
from shopwatch.storage.state import StateRepository
from tests.e2e.test_dashboard_accessibility_browser import violations
from tests.e2e.test_dashboard_browser import (  # noqa: F401 - fixtures
    ARTIFACTS,
    HOSTILE,
    analyst,
    browser,
    connect,
    expect,
    page,
)
from tests.e2e.test_local_stack import purchase, wait_for

DEVICE = HOSTILE + " ring-phone"
RING = [f"inv-{n}" for n in range(3)]
LIST = "e2e-ring-devices"


@pytest.fixture(scope="module")
def ring(local_stack) -> dict:
    """Three accounts, each buying a camera 99.5% under its price on the same device; answers the newest
    transaction as GET /transactions/{id} shows it once it is judged and alerted."""
    from infra.client import ShopwatchClient

    api = ShopwatchClient(local_stack.url, local_stack.api_key, retries=0)
    api.sign_in(ADMIN_USER, local_stack.admin_password)
    StateRepository(local_stack.table("StateTable")).put_catalog_entry(
        CatalogEntry("E2E-CAMERA", Decimal("1000.00"), "USD", "Camera")
    )
    sent = [
        purchase(f"ring-tx-{n}", customer=account)
        | {"device_id": DEVICE, "email": f"{account}@example.com", "ip": f"198.51.100.{n + 1}", "card_bin": "411111",
           "card_fingerprint": f"fp-{account}", "billing_country": "GB", "shipping_country": "NL"}
        for n, account in enumerate(RING)
    ]  # fmt: skip
    assert api.post_transactions(sent)["accepted"] == [t["transaction_id"] for t in sent]
    assert api.request("PUT", f"/lists/{LIST}", {"kind": "device", "mode": "block"})[0] == 200

    def judged() -> dict | None:
        status, body = api.request("GET", "/transactions/ring-tx-2")
        return body if status == 200 and body["detection"]["processed"] and body["alerts"] else None

    return wait_for(judged, timeout=60)


def shot(opened, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    opened.screenshot(path=str(ARTIFACTS / name), full_page=True)
    assert (ARTIFACTS / name).stat().st_size > 10_000


def test_an_admin_goes_from_an_alert_to_the_ring_and_blocks_its_device(page, local_stack, api, ring):  # noqa: F811
    connect(page, local_stack, ADMIN_USER, local_stack.admin_password)
    expect(page.locator("#who")).to_have_text(ADMIN_USER)
    alert_id = ring["alerts"][0]["alert_id"]
    page.goto(f"{local_stack.url}/#/alerts/{alert_id}")
    page.locator("#detail-facts .transaction-links a", has_text="ring-tx-2").click()

    view = page.locator("#view-transaction")
    expect(view).to_be_visible()
    expect(view.locator("table.items tbody td.sku")).to_have_text("E2E-CAMERA")
    expect(view.locator(".risk-score strong")).to_have_text(
        f"{ring['detection']['risk_score']:.1f}".rstrip("0").rstrip(".")
    )
    expect(view.locator(".breakdown li")).to_have_count(len(ring["detection"]["breakdown"]))
    expect(view.locator(".alert-links a").first).to_have_attribute("href", f"#/alerts/{alert_id}")
    assert violations(page) == []
    shot(page, "transaction.png")

    view.locator("a.entity-link[href^='#/entities/device/']").first.click()
    entity = page.locator("#view-entity")
    expect(entity).to_be_visible()
    expect(entity.locator("h2 .entity-value")).to_have_text(DEVICE)  # HTML from a customer's browser: text
    assert entity.locator("img").count() == 0 and page.title() == "Shopwatch"
    accounts = entity.locator(".graph a.node-customer")
    expect(accounts).to_have_count(3)
    assert sorted(accounts.nth(i).get_attribute("aria-label") for i in range(3)) == [f"Account {a}" for a in RING]
    expect(entity.locator(".stack-table tbody tr")).to_have_count(3)
    assert violations(page) == []
    shot(page, "entity-device.png")

    expect(page.locator("#entity-list option")).to_have_count(1)
    expect(page.locator("#entity-list-add")).to_have_text("Add to block list")
    page.fill("#entity-list-reason", "ring of three accounts on one phone")
    page.click("#entity-list-add")
    expect(page.locator("#entity-list-status")).to_have_text(f"Added to {LIST}.")
    status, listed = api.request("GET", f"/lists/{LIST}")
    assert status == 200
    assert [(i["value"], i["reason"], i["added_by"]) for i in listed["items"]] == [
        (DEVICE, "ring of three accounts on one phone", ADMIN_USER)
    ]

    entity.locator(".graph a.node-customer[aria-label='Account inv-0']").click()  # the graph's nodes are links
    expect(entity.locator("h2 .entity-value")).to_have_text("inv-0")
    expect(entity.locator(".linked-group", has_text="Devices").locator("a")).to_have_text(DEVICE)
    assert all(url.startswith(local_stack.url) for url in page.requests), page.requests
    assert page.problems == []


def test_an_analyst_sees_the_device_without_the_list_form(page, local_stack, analyst, ring):  # noqa: F811
    connect(page, local_stack, analyst)
    page.locator("#kpis .tile").first.wait_for()
    page.goto(f"{local_stack.url}/#/entities/device/{quote(DEVICE, safe='')}")
    entity = page.locator("#view-entity")
    expect(entity.locator(".graph a.node-customer")).to_have_count(3)
    assert page.locator("#entity-list-form").count() == 0
    expect(entity).to_contain_text("Admins can add this device to a block or allow list.")


def test_an_unknown_entity_says_so_on_the_page(page, local_stack, analyst):  # noqa: F811
    connect(page, local_stack, analyst)
    page.locator("#kpis .tile").first.wait_for()
    page.goto(f"{local_stack.url}/#/entities/ip/203.0.113.250")
    expect(page.locator("#view-entity .error")).to_contain_text("has not seen ip 203.0.113.250")


def test_both_pages_fit_a_phone(browser, local_stack, analyst, ring):  # noqa: F811
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone = context.new_page()
    connect(phone, local_stack)
    phone.locator("#kpis .tile").first.wait_for()
    overflow, found = {}, {}
    for name, hash_, ready in (
        ("transaction", "#/transactions/ring-tx-2", "#view-transaction table.items"),
        ("entity-device", f"#/entities/device/{quote(DEVICE, safe='')}", "#view-entity .graph svg"),
    ):
        phone.goto(f"{local_stack.url}/{hash_}")
        phone.locator(ready).wait_for()
        overflow[name] = phone.evaluate("Math.max(0, document.documentElement.scrollWidth - window.innerWidth)")
        found[name] = violations(phone)
        shot(phone, f"{name}-phone.png")
    context.close()
    assert overflow == {"transaction": 0, "entity-device": 0}, f"wider than a phone by {overflow} px"
    assert found == {"transaction": [], "entity-device": []}
