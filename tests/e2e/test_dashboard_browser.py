"""The dashboard page in headless Chromium against the local stack: an analyst's whole triage loop.

The test posts an anomalous purchase, waits for it to appear in the page's live feed, triages it through the
page (status, note, feedback), and checks through the API that the alert changed. It also checks what a user
cannot easily see: no request leaves the local origin, nothing breaks the Content-Security-Policy, hostile text
is shown as text, and the page fits a phone. Screenshots go to $SHOPWATCH_ARTIFACTS (default test-artifacts/).

Chromium is Debian's (`make browser` installs it). Without it the test skips, unless SHOPWATCH_REQUIRE_BROWSER=1
(set by CI), where a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from infra.template import ROOT
from shopwatch.detectors.history import CatalogEntry
from shopwatch.storage.state import StateRepository
from tests.e2e.test_local_stack import purchase, wait_for

CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
ARTIFACTS = Path(os.environ.get("SHOPWATCH_ARTIFACTS", ROOT / "test-artifacts"))
HOSTILE = "<img src=x onerror=\"document.title='pwned'\">"


def expect(locator):
    """Playwright's auto-retrying assertions (they run outside the page, so its CSP does not forbid them)."""
    return pytest.importorskip("playwright.sync_api").expect(locator)


def chromium_path() -> str:
    found = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("SHOPWATCH_REQUIRE_BROWSER") == "1":
        pytest.fail("Chromium is required here (SHOPWATCH_REQUIRE_BROWSER=1) but was not found; run `make browser`")
    pytest.skip("Chromium not found; `make browser` installs Debian's chromium (or set CHROMIUM=/path)")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    executable = chromium_path()
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, local_stack):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.requests, opened.problems = [], []
    opened.on("request", lambda r: opened.requests.append(r.url))
    opened.on("console", lambda m: opened.problems.append(m.text) if m.type == "error" else None)
    opened.on("pageerror", lambda e: opened.problems.append(str(e)))
    yield opened
    context.close()


ANALYST_PASSWORD = "Analyst-pass-42!"  # pragma: allowlist secret


@pytest.fixture(scope="module")
def analyst(local_stack) -> str:
    """maria, in analysts (not admins): what the page lets her do is what an analyst may."""
    local_stack.users.add("maria", "analysts", ANALYST_PASSWORD)
    return "maria"


def connect(page, local_stack, user: str = "maria", password: str = ANALYST_PASSWORD) -> None:
    page.goto(local_stack.url + "/")
    page.locator("#sign-in-dialog").wait_for(state="visible")
    page.fill("#username-input", user)
    page.fill("#password-input", password)
    page.click("#sign-in-form button[type=submit]")


def test_an_analyst_signs_in_and_triages_a_new_alert_in_the_page_alone(page, local_stack, api, analyst):
    StateRepository(local_stack.table("StateTable")).put_catalog_entry(
        CatalogEntry("E2E-CAMERA", Decimal("1000.00"), "USD", "Camera")
    )
    connect(page, local_stack, analyst)
    expect(page.locator("#who")).to_have_text("maria")
    assert page.evaluate("sessionStorage.getItem('shopwatch.token')").count(".") == 2
    assert api.post_transactions([purchase("browser-deal", customer="browser-1")])["accepted"] == ["browser-deal"]
    hostile = purchase("browser-hostile", customer="browser-2") | {"customer_name": HOSTILE}
    assert api.post_transactions([hostile])["accepted"] == ["browser-hostile"]

    row = page.locator("#alerts tbody tr", has_text="browser-1").first
    row.wait_for(timeout=30_000)  # the feed refreshes on its own every 5 s
    row.click()
    page.locator("#detail-summary", has_text="99.5% below its catalog price").wait_for()
    alert_id = page.get_attribute("#detail-body", "data-alert-id")

    page.select_option("#status-select", "investigating")
    page.click("#status-form button[type=submit]")
    expect(page.locator("#detail-facts dd").first).to_have_text("investigating")
    page.fill("#note-text", HOSTILE)
    page.click("#note-form button[type=submit]")
    page.locator("#detail-notes li", has_text="onerror").wait_for()
    page.click("#feedback-fraud")
    expect(page.locator("#detail-facts dd").first).to_have_text("confirmed_fraud")

    status, alert = api.request("GET", f"/alerts/{alert_id}")
    assert status == 200 and alert["status"] == "confirmed_fraud" and alert["feedback"]["label"] == "fraud"
    assert [n["text"] for n in alert["notes"]] == [HOSTILE]
    assert [(h["by"], h["action"]) for h in alert["history"][1:]] == [
        ("maria", "status"), ("maria", "note"), ("maria", "feedback")
    ]  # fmt: skip
    assert page.locator("#detail-notes img").count() == 0 and page.title() == "Shopwatch"
    page.locator("#alerts tbody tr", has_text="onerror").first.wait_for()  # a customer named in HTML: shown as text
    assert page.locator("#alerts img").count() == 0

    page.click("#detail-facts a")  # the customer link opens the drill-down
    page.locator("#customer-rows tbody tr", has_text="browser-deal").wait_for()
    page.locator("#minute-chart svg rect").first.wait_for()
    page.locator("#kpi-open .value").wait_for()
    wait_for(lambda: page.locator("#detectors tbody tr[data-detector=price]").count() == 1, timeout=40)

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "dashboard.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")
    assert shot.stat().st_size > 10_000
    assert all(url.startswith(local_stack.url) for url in page.requests), page.requests
    assert page.problems == []


def test_the_page_fits_a_phone(browser, local_stack, analyst):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone = context.new_page()
    connect(phone, local_stack)
    phone.locator("#kpis .tile").first.wait_for()
    overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    phone.screenshot(path=str(ARTIFACTS / "dashboard-phone.png"), full_page=True)
    context.close()
    assert overflow <= 0, f"the page is {overflow}px wider than a phone"


def test_a_wrong_password_is_refused_and_shows_nothing(page, local_stack, analyst):
    connect(page, local_stack, analyst, "Not-her-password-1")
    expect(page.locator("#sign-in-message")).to_have_text("wrong user name or password")
    expect(page.locator("#sign-in-dialog")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('shopwatch.token')") is None
    assert page.locator("#alerts tbody tr").count() == 0


def test_an_expired_session_signs_out_and_asks_again(page, local_stack, analyst):
    connect(page, local_stack, analyst)
    page.locator("#kpis .tile").first.wait_for()
    page.evaluate("sessionStorage.setItem('shopwatch.expires_at', '2000-01-01T00:00:00Z')")
    page.reload()
    expect(page.locator("#sign-in-dialog")).to_be_visible()
    page.evaluate("sessionStorage.setItem('shopwatch.expires_at', '2999-01-01T00:00:00Z');"
                  "sessionStorage.setItem('shopwatch.token', 'forged')")  # fmt: skip
    page.reload()  # the gateway answers 401: the page signs out
    expect(page.locator("#sign-in-message")).to_contain_text("sign in again")
    assert page.evaluate("sessionStorage.getItem('shopwatch.token')") is None
