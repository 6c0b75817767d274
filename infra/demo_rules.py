"""The demo's rules-as-data part: a rule and a block list published before the traffic; afterwards the rule's
shadow matches against the ground truth, its publication, and two checkouts answered by rules and lists.

Run after the detection figures are taken: once published, the rule alerts, and those alerts are the point of
this part, not something the detection evaluation should count.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from infra.client import ShopwatchClient
from infra.local.stack import ADMIN_USER, LocalStack
from infra.report import console, simple_table
from infra.simulate.rule_set import DEMO_RULE_SET, RuleSet, publish
from shopwatch.domain.clock import to_iso, utcnow
from shopwatch.storage.rule_matches import RuleMatchRepository

DEMO_RULE = "new-account-shared-device"
SHARED_DEVICE = "D-DEMO-SHARED-0001"
STOLEN_DEVICE = "D-STOLEN-0001"
REFRESH_SECONDS = 5  # the demo's RulesRefreshSeconds: how long a published change takes to be live


def admin_client(stack: LocalStack) -> ShopwatchClient:
    client = ShopwatchClient(stack.url, stack.api_key)
    client.sign_in(ADMIN_USER, stack.admin_password or "")
    return client


def publish_demo_rules(stack: LocalStack) -> ShopwatchClient:
    client = admin_client(stack)
    for line in publish(client, RuleSet.read(DEMO_RULE_SET)):
        console.print(f"  published {line}")
    time.sleep(REFRESH_SECONDS + 1)  # live in every function before the first transaction
    return client


def show_rules(stack: LocalStack, client: ShopwatchClient, truth: list[dict[str, Any]]) -> list[str]:
    """The shadow rule's matches, then published; a checkout it reviews and one a block list blocks. The
    shortfalls (for `demo --check`)."""
    shortfalls = []
    injected = {t for a in truth for t in a["transaction_ids"]}
    since = (utcnow() - timedelta(days=1)).date()
    matched = [
        tid
        for tid, mode, _ in RuleMatchRepository(stack.table("StateTable")).matched(DEMO_RULE, since)
        if mode == "shadow"
    ]
    hits = [t for t in matched if t in injected]
    console.print(
        f"\n[bold]Rules as data[/bold]: rule {DEMO_RULE} ran in shadow: {len(matched)} matches, {len(hits)} of them "
        "injected anomalies (shadow matches never alert or decide)"
    )
    if not matched:
        shortfalls.append(f"the shadow rule {DEMO_RULE} matched nothing")
    status, body = client.request("POST", f"/rules/{DEMO_RULE}/mode", {"mode": "active"})
    if status != 200:
        return [*shortfalls, f"publishing {DEMO_RULE} answered {status}: {body}"]
    console.print(
        f"  published: {DEMO_RULE} is active from version {body['version']} (live within {REFRESH_SECONDS} s)"
    )
    time.sleep(REFRESH_SECONDS + 1)
    now = utcnow()
    opened = {"old": to_iso(now - timedelta(days=200)), "new": to_iso(now - timedelta(minutes=10))}
    shop = ShopwatchClient(stack.url, stack.api_key)
    # an established account on a device, detected (its aggregates written), then a new account on it
    shop.post_transactions([{"transaction_id": "DEMO-RULE-0001", "customer_id": "C-DEMO-OLD", "amount": "35.00",
                             "device_id": SHARED_DEVICE, "account_created_at": opened["old"]}])  # fmt: skip
    stack.wait_until_idle(timeout=120)
    checkouts = [
        ("a new account on a device another account used", {"transaction_id": "DEMO-RULE-0002",
         "customer_id": "C-DEMO-NEW", "amount": "35.00", "device_id": SHARED_DEVICE,
         "account_created_at": opened["new"]}, "review"),
        ("a small order from a stolen device", {"transaction_id": "DEMO-BLOCK-0001", "customer_id": "C-DEMO-OTHER",
         "amount": "49.00", "device_id": STOLEN_DEVICE}, "block"),
    ]  # fmt: skip
    rows = []
    for label, transaction, expected in checkouts:
        answer = shop.post_transactions([transaction])
        decided = answer.get("decisions") or [{}]
        decision = decided[0].get("decision", "none")
        reasons = "; ".join(r["message"] for r in decided[0].get("reasons", []))
        rows.append([label, decision, str(decided[0].get("risk_score", "")), reasons])
        if decision != expected:
            shortfalls.append(f"{label}: checkout answered {decision}, expected {expected}")
    console.print(
        simple_table(
            "Checkout decisions (the 202 of POST /transactions)", ["transaction", "decision", "risk", "why"], rows
        )
    )
    return shortfalls
