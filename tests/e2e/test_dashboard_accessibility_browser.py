"""The dashboard checked by axe-core (Deque's rules for WCAG 2.x), injected by the test through the browser's
DevTools protocol, so the page itself still loads no script but its own and keeps its CSP: no serious or
critical violation on the overview (desktop and phone), the Rules page and the Lists page, signed in, with
alerts in the feed."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shopwatch.detectors.history import CatalogEntry
from shopwatch.storage.state import StateRepository
from tests.e2e.test_dashboard_browser import analyst, browser, connect, page  # noqa: F401 - fixtures
from tests.e2e.test_local_stack import purchase

BLOCKING = ("serious", "critical")


def violations(opened) -> list[str]:
    """axe's serious and critical violations, each as `rule: nodes` (what to fix and where)."""
    axe = pytest.importorskip("axe_playwright_python.sync_playwright").Axe()
    found = axe.run(opened).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): " + "; ".join(n["target"][0] for n in v["nodes"][:5])
        for v in found
        if v["impact"] in BLOCKING
    ]


@pytest.fixture
def alerted(local_stack, api, request):
    StateRepository(local_stack.table("StateTable")).put_catalog_entry(
        CatalogEntry("E2E-CAMERA", Decimal("1000.00"), "USD", "Camera")
    )
    transaction_id = f"a11y-{request.node.name[-24:]}"
    assert api.post_transactions([purchase(transaction_id, customer="a11y-1")])["accepted"] == [transaction_id]


def test_the_overview_rules_and_lists_have_no_serious_violation(page, local_stack, analyst, alerted):  # noqa: F811
    connect(page, local_stack, analyst)
    page.locator("#alerts tbody tr").first.wait_for(timeout=40_000)
    page.locator("#alerts tbody tr").first.click()
    page.locator("#detail-body").wait_for()
    page.locator("#daily-chart svg").wait_for()
    found = {"overview": violations(page)}
    for view in ("rules", "lists"):
        page.click(f"nav a[data-view={view}]")
        page.locator(f"#view-{view}").wait_for()
        found[view] = violations(page)
    assert found == {"overview": [], "rules": [], "lists": []}


def test_the_overview_on_a_phone_has_no_serious_violation(browser, local_stack, analyst, alerted):  # noqa: F811
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone = context.new_page()
    connect(phone, local_stack)
    phone.locator("#alerts tbody tr").first.wait_for(timeout=40_000)
    found = violations(phone)
    context.close()
    assert found == []
