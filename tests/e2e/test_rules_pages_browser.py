"""The Rules and Lists pages in headless Chromium against the local stack (issue 18, item 5).

An admin writes a rule in the page alone: the checker's problem is shown at its line and column while typing, the
fixed rule is saved in shadow, changed, its versions and their diff are shown, it is published and rolled back.
An analyst sees the same rules and can check an expression, but gets no control that writes. A list is created,
an item added and removed, and a CSV file imported, each checked through the API afterwards. Customer-controlled
text (a description, a reason) is shown as text. Screenshots go to $SHOPWATCH_ARTIFACTS (default test-artifacts/).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from infra.local.stack import ADMIN_USER, LocalStack, free_port
from shopwatch.domain.clock import utcnow
from tests.e2e import test_dashboard_browser as dashboard
from tests.e2e.test_dashboard_browser import ARTIFACTS, HOSTILE, connect, expect
from tests.e2e.test_local_stack import purchase, wait_for

browser, page, analyst = dashboard.browser, dashboard.page, dashboard.analyst  # the same fixtures, here too
RULES_REFRESH_SECONDS = 5  # the template's minimum: a rule saved here is live in DetectFunction within 5 s


@pytest.fixture(scope="module")
def local_stack(tmp_path_factory) -> Iterator[LocalStack]:
    """conftest's stack, but reading the published rules every 5 s instead of every minute, and running every
    backtest as a job (202, then GET /rules/backtest/{job_id}), the page's longer path."""
    stack = LocalStack(
        port=free_port(), api_key="e2e-key", state_dir=tmp_path_factory.mktemp("shopwatch"),
        parameters={"RulesRefreshSeconds": str(RULES_REFRESH_SECONDS), "BacktestInlineMaxTransactions": "0"},
    )  # fmt: skip
    stack.start()
    yield stack
    stack.stop()


INVALID = "tx.amount > 500.0 &&\n  tx.currency > 5"  # a string compared with an int: line 2
VALID = 'tx.amount > 500.0 &&\n  tx.currency == "USD"'
CHANGED = 'tx.amount > 800.0 &&\n  tx.currency == "USD"'


def as_admin(page, local_stack) -> None:
    connect(page, local_stack, ADMIN_USER, local_stack.admin_password)
    expect(page.locator("#who")).to_have_text(ADMIN_USER)


def open_view(page, view: str) -> None:
    page.click(f"#views a[data-view={view}]")
    expect(page.locator(f"#view-{view}")).to_be_visible()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / name
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")
    assert shot.stat().st_size > 10_000
    return shot


def test_an_admin_writes_a_rule_sees_its_problem_saves_it_in_shadow_and_publishes_it(page, local_stack, api):
    as_admin(page, local_stack)
    open_view(page, "rules")
    page.click("#new-rule")
    page.fill("#rule-name", "E2E large USD purchase")
    page.fill("#rule-id", "e2e-large-usd")
    page.fill("#rule-description", HOSTILE)
    page.click("#reference summary")  # the variables' reference: a name clicked is written into the expression
    page.click("#reference-body button.ref-name:text-is('tx.amount')")
    expect(page.locator("#rule-expression")).to_have_value("tx.amount")
    expect(page.locator("#reference-body button.ref-name:text-is('listed(')")).to_be_visible()
    page.click("#reference summary")
    page.fill("#rule-expression", INVALID)

    # the problem the API finds is shown, while typing, at its own line and column, and marked there
    status, checked = api.request("POST", "/rules/validate", {"expression": INVALID})
    assert status == 200 and checked["valid"] is False
    [problem] = checked["problems"]
    shown = page.locator("#expression-problems li").first
    expect(shown).to_contain_text(problem["message"])
    expect(shown).to_have_attribute("data-line", str(problem["line"]))
    expect(shown).to_have_attribute("data-column", str(problem["column"]))
    assert problem["line"] == 2
    mark = page.locator("#expression-marked mark")
    expect(mark).to_have_count(1)
    assert mark.get_attribute("data-column") == str(problem["column"])
    assert mark.inner_text() == INVALID.split("\n")[1][problem["column"] - 1]  # the character at that column
    expect(page.locator("#rule-expression")).to_have_attribute("aria-invalid", "true")
    screenshot(page, "rules-invalid-expression.png")

    page.select_option("#rule-severity", "high")
    page.click("#save-rule")  # the API refuses it too, and says why
    expect(page.locator("#rule-message")).to_contain_text("Not saved")
    assert api.request("GET", "/rules/e2e-large-usd")[0] == 404

    page.fill("#rule-expression", VALID)
    expect(page.locator("#validation-status")).to_have_text("✓ valid")
    expect(page.locator("#expression-problems li")).to_have_count(0)
    page.click("#save-rule")  # a new rule starts in shadow
    expect(page.locator("#rule-message")).to_contain_text("Saved version 1 (shadow)")
    row = page.locator("#rules-table tbody tr[data-rule-id=e2e-large-usd]")
    expect(row.locator("td.mode")).to_have_text("shadow")

    page.fill("#rule-expression", CHANGED)
    page.fill("#rule-score", "30")
    page.click("#save-rule")
    expect(page.locator("#rule-message")).to_contain_text("Saved version 2")
    page.click("#rule-versions tr[data-version='2'] .diff-toggle")
    diff = page.locator("#rule-versions tr.diff-row[data-version='2']")
    expect(diff.locator("tr[data-field=expression] .removed")).to_have_text("- tx.amount > 500.0 &&")
    expect(diff.locator("tr[data-field=expression] .added")).to_have_text("+ tx.amount > 800.0 &&")
    expect(diff.locator("tr[data-field=score]")).to_contain_text("(none) → 30")

    page.click("#mode-active")
    expect(row.locator("td.mode")).to_have_text("active")
    expect(page.locator("#rule-versions > tbody > tr:not(.diff-row)")).to_have_count(3)
    expect(page.locator("#mode-active")).to_be_disabled()
    screenshot(page, "rules.png")

    status, rule = api.request("GET", "/rules/e2e-large-usd")
    assert status == 200 and (rule["mode"], rule["version"], rule["score"]) == ("active", 3, 30)
    assert rule["expression"] == CHANGED and rule["description"] == HOSTILE
    assert [(v["version"], v["author"]) for v in rule["versions"]] == [(n, ADMIN_USER) for n in (3, 2, 1)]

    page.click("#rule-versions tr[data-version='1'] .rollback")  # version 1's content as version 4
    expect(page.locator("#rule-message")).to_contain_text("version 4 copies version 1")
    status, rule = api.request("GET", "/rules/e2e-large-usd")
    assert (rule["version"], rule["expression"], rule["score"]) == (4, VALID, None)

    assert page.locator("#view-rules img").count() == 0 and page.title() == "Shopwatch"  # the description is text
    assert all(url.startswith(local_stack.url) for url in page.requests), page.requests
    refused = [p for p in page.problems if "status of 400" in p]  # Chromium logs the refused save
    assert len(refused) == 1 and [p for p in page.problems if p not in refused] == []


def test_a_shadow_rules_matches_show_on_the_rules_page_per_day(page, local_stack, api):
    rule = {"name": "E2E shadow catch", "rule_id": "e2e-shadow", "expression": "tx.amount > 300.0", "mode": "shadow",
            "severity": "high"}  # fmt: skip
    assert api.request("POST", "/rules", rule)[0] == 201
    assert api.post_transactions([purchase("shadow-big", customer="shadow-1", price="400.00")])["accepted"]

    def counted() -> dict | None:
        stats = api.request("GET", "/analytics/rules?days=7")[1]["rules"]
        found = next((r for r in stats if r["rule_id"] == "e2e-shadow"), None)
        return found if found and found["shadow_matches"] == 1 else None

    stats = wait_for(counted, timeout=10 * RULES_REFRESH_SECONDS)
    assert stats["matches"] == 0  # a shadow match never counts as the rule's own

    as_admin(page, local_stack)
    open_view(page, "rules")
    row = page.locator("#rules-table tbody tr[data-rule-id=e2e-shadow]")
    expect(row.locator("td.shadow-matches")).to_have_text("1")
    expect(row.locator("td.matches")).to_have_text("0")
    row.click()
    today = utcnow().date().isoformat()
    bar = page.locator("#rule-stats-chart svg rect")
    expect(bar).to_have_count(1)
    assert bar.locator("title").text_content() == today[5:] + ": 1 shadow"
    expect(page.locator("#rule-stats-note")).to_contain_text("0 active and 1 shadow matches in 30 days")
    screenshot(page, "rules-shadow.png")
    assert page.problems == []


def test_an_analyst_sees_the_rules_but_no_control_that_writes(page, local_stack, api, analyst):
    rule = {"name": "E2E analyst view", "rule_id": "e2e-analyst-view", "description": "", "expression": "tx.amount > 1.0",
            "mode": "shadow", "decision": "review"}  # fmt: skip
    status, _ = api.request("POST", "/rules", rule)
    assert status == 201
    status, _ = api.request("PUT", "/lists/e2e-analyst-list", {"kind": "email", "mode": "block",
                            "items": [{"value": "fraud@example.com", "reason": "chargeback"}]})  # fmt: skip
    assert status == 200

    connect(page, local_stack, analyst)
    expect(page.locator("#role")).to_have_text("analysts")
    open_view(page, "rules")
    page.focus("#rules-table tbody tr[data-rule-id=e2e-analyst-view]")  # rows open from the keyboard too
    page.keyboard.press("Enter")
    expect(page.locator("#rule-expression")).to_have_value("tx.amount > 1.0")
    for control in ["#new-rule", "#save-rule", "#mode-active", "#mode-shadow", "#mode-disabled"]:
        expect(page.locator(control)).to_be_hidden()
    expect(page.locator("#rule-versions .rollback")).to_have_count(0)
    expect(page.locator("#rule-name")).to_be_disabled()
    expect(page.locator("#editor-readonly")).to_be_visible()
    page.fill("#rule-expression", "tx.amount > 'x'")  # an analyst may still check an expression
    expect(page.locator("#expression-problems li")).to_have_count(1)
    screenshot(page, "rules-analyst.png")

    open_view(page, "lists")
    page.click("#lists-table tbody tr[data-list=e2e-analyst-list]")
    expect(page.locator("#list-items tbody tr[data-value='fraud@example.com']")).to_be_visible()
    for control in ["#list-create-form", "#item-form", "#import-form"]:
        expect(page.locator(control)).to_be_hidden()
    expect(page.locator("#list-items button.remove")).to_have_count(0)
    assert page.problems == []


def test_a_list_is_created_an_item_added_and_removed_and_a_csv_imported(page, local_stack, api, tmp_path):
    as_admin(page, local_stack)
    open_view(page, "lists")
    page.fill("#list-name", "e2e-devices")
    page.select_option("#list-kind", "device")
    page.select_option("#list-mode", "block")
    page.fill("#list-description", "devices seen in chargebacks")
    page.click("#list-create-form button[type=submit]")
    expect(page.locator("#list-title")).to_have_text("List e2e-devices")

    page.fill("#item-value", "dev-hostile")
    page.fill("#item-reason", HOSTILE)
    page.click("#item-form button[type=submit]")
    added = page.locator("#list-items tbody tr[data-value=dev-hostile]")
    expect(added).to_contain_text("onerror")  # a reason in HTML: shown as text
    assert page.locator("#list-items img").count() == 0
    expect(page.locator("#lists-table tbody tr[data-list=e2e-devices] td.count")).to_have_text("1")
    added.locator("button.remove").click()
    expect(page.locator("#list-items tbody tr")).to_have_count(0)
    assert api.request("GET", "/lists/e2e-devices")[1]["items"] == []

    csv = tmp_path / "devices.csv"
    csv.write_text('value,reason,expires_at\n"dev,1",chargeback\r\ndev-2,"said ""hi""",2099-01-01\ndev-3,reseller\n')
    page.set_input_files("#import-file", str(csv))
    page.click("#import-form button[type=submit]")
    expect(page.locator("#import-status")).to_have_text("Imported 3 items: 3 new, 0 updated.")
    expect(page.locator("#list-items tbody tr")).to_have_count(3)
    screenshot(page, "lists.png")

    status, stored = api.request("GET", "/lists/e2e-devices")
    assert status == 200 and (stored["kind"], stored["mode"]) == ("device", "block")
    items = {i["value"]: i for i in stored["items"]}
    assert set(items) == {"dev,1", "dev-2", "dev-3"}
    assert items["dev-2"]["reason"] == 'said "hi"' and items["dev-2"]["expires_at"].startswith("2099-01-01T00:00:00")
    assert items["dev-3"]["expires_at"] is None and items["dev,1"]["added_by"] == ADMIN_USER

    page.fill("#import-text", "".join(f"bulk-{i},reseller\n" for i in range(250)))  # three requests of at most 99
    page.click("#import-form button[type=submit]")
    expect(page.locator("#import-status")).to_have_text("Imported 250 items: 250 new, 0 updated.")
    assert len(api.request("GET", "/lists/e2e-devices")[1]["items"]) == 253
    posts = [url for url in page.requests if url.endswith("/lists/e2e-devices/items")]
    assert len(posts) == 1 + 1 + 3  # the item added, the file, the 250 lines in 99 + 99 + 52

    page.fill("#import-text", "dev-4,\n,no value\n")  # a bad line: nothing is sent
    page.click("#import-form button[type=submit]")
    expect(page.locator("#import-problems li")).to_have_count(2)
    assert len(api.request("GET", "/lists/e2e-devices")[1]["items"]) == 253
    assert page.problems == []


def test_an_item_is_removed_by_its_stored_value_even_a_network_with_a_slash(page, local_stack, api):
    items = [{"value": "203.0.113.0/24", "reason": "proxy range"}, {"value": "2001:DB8::1", "reason": "seen in fraud"}]
    assert api.request("PUT", "/lists/e2e-networks", {"kind": "ip", "mode": "block", "items": items})[0] == 200
    as_admin(page, local_stack)
    open_view(page, "lists")
    page.click("#lists-table tbody tr[data-list=e2e-networks]")
    expect(page.locator("#list-items tbody tr[data-value='2001:db8::1']")).to_be_visible()  # as the API stored it
    page.click("#list-items tbody tr[data-value='203.0.113.0/24'] button.remove")
    expect(page.locator("#list-items tbody tr")).to_have_count(1)
    assert [i["value"] for i in api.request("GET", "/lists/e2e-networks")[1]["items"]] == ["2001:db8::1"]
    assert page.problems == []


def test_the_rules_and_lists_pages_fit_a_phone(browser, local_stack, api, analyst):
    rule = {"name": "E2E phone", "rule_id": "e2e-phone", "expression": "tx.amount > 1.0", "mode": "shadow", "score": 5}
    assert api.request("POST", "/rules", rule)[0] == 201
    assert api.request("PUT", "/lists/e2e-phone", {"kind": "country", "mode": "allow"})[0] == 200
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone = context.new_page()
    connect(phone, local_stack, analyst)
    overflow = {}
    for view in ("rules", "lists"):
        open_view(phone, view)
        phone.locator(f"#{view}-table tbody tr").first.wait_for()
        overflow[view] = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        screenshot(phone, f"{view}-phone.png")
    context.close()
    assert overflow == {"rules": 0, "lists": 0}, f"wider than a phone by {overflow} px"


def backtest_through_the_api(api, body: dict) -> dict:
    """The result the API gives for `body`: inline (200) or as a job (202, polled)."""
    status, answer = api.request("POST", "/rules/backtest", body)
    assert status in (200, 202), answer
    if status == 200:
        return answer
    job_id = answer["job_id"]
    job = wait_for(lambda: (j := api.request("GET", f"/rules/backtest/{job_id}")[1])["status"] != "running" and j)
    assert job["status"] == "done", job
    return job["result"]


BACKTESTED = 'tx.amount > 100.0 && tx.customer_id.startsWith("bt-")'


def test_a_backtest_shows_its_matches_per_day_as_a_chart_and_its_counts_as_a_table(page, local_stack, api, analyst):
    big = [purchase(f"bt-big-{i}", customer=f"bt-{i}", price="500.00") for i in range(3)]
    small = [purchase(f"bt-small-{i}", customer=f"bt-{i}", price="5.00") for i in range(2)]
    assert len(api.post_transactions(big + small)["accepted"]) == 5
    today = utcnow().date()
    since, until = (today - timedelta(days=1)).isoformat(), today.isoformat()

    connect(page, local_stack, analyst)  # analysts backtest too
    open_view(page, "rules")
    page.fill("#rule-expression", BACKTESTED)
    page.fill("#backtest-since", since)
    page.fill("#backtest-until", until)
    page.click("#backtest-run")
    expect(page.locator("#backtest-status")).to_have_text(f"Backtest of {since} to {until}.", timeout=60_000)

    expected = backtest_through_the_api(
        api, {"expression": BACKTESTED, "since": since + "T00:00:00Z", "until": until + "T23:59:59.999Z"}
    )
    evaluated = expected["evaluated"]  # this module's other tests post transactions too
    assert evaluated >= 5 and expected["matches"] == 3
    table = page.locator("#backtest-table")
    expect(table.locator("tr[data-measure=evaluated] td")).to_have_text(str(evaluated))
    expect(table.locator("tr[data-measure=matches] td")).to_have_text(f"3 ({100 * 3 / evaluated:.2f}% of evaluated)")
    expect(table.locator("tr[data-measure=unlabelled] td")).to_have_text(str(expected["unlabelled"]))
    expect(table.locator("tr[data-measure=errors] td")).to_have_text(str(expected["errors"]))
    bars = page.locator("#backtest-chart svg rect")
    expect(bars).to_have_count(1)  # one day with matches, one bar; the other day is on the axis, empty
    assert "3 matches" in bars.first.locator("title").text_content()
    examples = page.locator("#backtest-examples tbody tr td:nth-child(2)").all_inner_texts()
    assert sorted(examples) == sorted(tx["transaction_id"] for tx in big)
    screenshot(page, "rules-backtest.png")
    assert any(re.search(r"/rules/backtest/[0-9a-f]{32}$", url) for url in page.requests)  # it ran as a job, polled
    assert page.problems == []
