"""The rule set and lists the rules benchmarks run: 100 rules of the kinds a fraud team writes, and six lists.

Varied on purpose, so the figure is not that of one cheap comparison repeated: amount thresholds, account age
and first purchases, entity counts and sums per window (velocity, shared devices and cards, failures), list
membership with `listed(...)`, baskets through comprehensions (exists, filter, all), regular expressions on
e-mails and user agents, timestamps and durations (sign-up to purchase, night hours, weekends), country
mismatches, and the detectors' findings and the model's score. Every fourth rule is in shadow (evaluated the
same way, reported only). Thresholds are spread over a realistic range, not tuned: the benchmark measures cost.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from shopwatch.domain.severity import Severity
from shopwatch.rules.definitions import Decision, ListItem, ListKind, ListMode, Rule, RuleList, RuleMode

FAR = "['NG', 'BR', 'VN', 'RU', 'ID', 'PH', 'UA', 'KE', 'PK', 'AR']"
# (rule id prefix, expression with {p}, the four values of p, decision)
TEMPLATES: tuple[tuple[str, str, tuple[object, ...], Decision | None], ...] = (
    ("amount-over", "tx.amount > {p}.0", (2500, 4000, 8000, 15000), Decision.REVIEW),
    ("first-purchase-over", "account.first_purchase && tx.amount > {p}.0", (500, 1000, 2000, 4000), Decision.REVIEW),
    ("young-account-amount", "has(account.age_seconds) && account.age_seconds < {p}.0 && tx.amount > 150.0",
     (600, 3600, 86400, 604800), Decision.REVIEW),
    ("signup-to-buy", "has(tx.account_created_at) && tx.timestamp - tx.account_created_at < duration('{p}s')",
     (60, 300, 900, 3600), Decision.REVIEW),
    ("device-accounts", "has(entities.device) && entities.device.accounts_30d >= {p}", (2, 3, 5, 8), Decision.REVIEW),
    ("card-accounts", "has(entities.card) && entities.card.accounts_1y >= {p}", (2, 3, 5, 8), Decision.REVIEW),
    ("ip-velocity", "has(entities.ip) && entities.ip.transactions_1h > {p}", (10, 20, 40, 80), None),
    ("ipnet-accounts", "has(entities.ipnet) && entities.ipnet.accounts_1h >= {p}", (3, 5, 10, 20), None),
    ("card-failures", "has(entities.card) && entities.card.failed_1h >= {p}", (2, 3, 5, 8), Decision.BLOCK),
    ("customer-burst", "entities.customer.transactions_1m >= {p}", (3, 4, 6, 10), Decision.REVIEW),
    ("email-amount-24h", "has(entities.email) && entities.email.amount_24h > {p}.0", (5000, 10000, 20000, 40000),
     Decision.REVIEW),
    ("account-identities", "account.{p}", ("devices_30d > 2", "cards_30d > 2", "emails_30d > 3", "ips_30d > 4"),
     Decision.REVIEW),
    ("new-device-amount", "has(entities.device) && entities.device.age_seconds < {p}.0 && tx.amount > 500.0",
     (60, 3600, 86400, 604800), None),
    ("listed", "{p}", (
        "has(tx.device_id) && listed('blocked_devices', tx.device_id)",
        "has(tx.email) && listed('fraud_emails', tx.email) && tx.amount > 50.0",
        "has(tx.ip) && listed('tor_exits', tx.ip)",
        "has(tx.card_bin) && listed('risky_bins', tx.card_bin) && tx.amount > 300.0",
    ), Decision.BLOCK),
    ("listed-combined", "{p}", (
        "has(tx.country) && listed('high_risk_countries', tx.country) && account.first_purchase",
        "listed('vip_customers', tx.customer_id) && tx.amount > 5000.0",
        "has(tx.shipping_country) && listed('high_risk_countries', tx.shipping_country) && tx.amount > 400.0",
        "has(tx.email) && !listed('fraud_emails', tx.email) && listed('risky_bins', tx.card_bin)",
    ), Decision.REVIEW),
    ("basket-quantity", "tx.items.exists(i, i.quantity >= {p})", (10, 15, 25, 40), Decision.REVIEW),
    ("basket-pricey", "tx.items.filter(i, i.unit_price >= {p}.0).size() >= 2", (300, 500, 800, 1000), None),
    ("basket-shape", "{p}", (
        "tx.items.exists(i, i.sku in ['SDCARD', 'CABLE', 'CHARGER']) && tx.status != 'approved'",
        "size(tx.items) >= 6 && tx.items.all(i, i.unit_price > 200.0)",
        "tx.items.exists(i, i.unit_price * double(i.quantity) > 3000.0)",
        "tx.items.all(i, i.sku.startsWith('PHONE') || i.sku.startsWith('LAPTOP')) && tx.amount > 2000.0",
    ), Decision.REVIEW),
    ("email-pattern", "has(tx.email) && tx.email.matches('{p}')", (
        r"^[a-z]{1,3}[0-9]{6,}@", r"@(mailinator|guerrillamail|10minutemail|yopmail)\\.", r"^[^@]{25,}@",
        r"(?i)^(test|fake|noreply|asdf)",
    ), None),
    ("user-agent", "has(tx.user_agent) && {p}", (
        "tx.user_agent.matches('(?i)(headless|phantomjs|selenium|puppeteer)')",
        "tx.user_agent.startsWith('curl/') || tx.user_agent.startsWith('python-requests')",
        "size(tx.user_agent) < 20 && tx.amount > 100.0",
        "tx.user_agent.contains('HeadlessChrome') && account.first_purchase",
    ), Decision.BLOCK),
    ("night", "tx.timestamp.getHours({p}) < 5 && tx.amount > 1000.0", ("'UTC'", "'America/New_York'"), None),
    ("weekend", "tx.timestamp.getDayOfWeek() in [0, 6] && tx.amount > {p}.0", (1000, 4000), None),
    ("country-mismatch",
     "has(tx.billing_country) && has(tx.shipping_country) && tx.billing_country != tx.shipping_country "
     "&& tx.amount > {p}.0", (100, 250, 500, 1000), Decision.REVIEW),
    ("far-country", "has(tx.country) && tx.country in " + FAR + " && tx.amount > {p}.0", (50, 200, 500, 1000),
     Decision.REVIEW),
    ("failed-again", "tx.status in ['failed', 'denied'] && entities.customer.failed_24h >= {p}", (2, 3, 5, 8),
     Decision.BLOCK),
    ("detectors", "{p}", (
        "findings.velocity > 0.0 && tx.amount > 200.0",
        "findings.new_account > 0.0 && findings.shared_identity > 0.0",
        "has(scores.model) && scores.model > 0.8",
        "has(scores.risk) && scores.risk >= 60.0 && account.first_purchase",
    ), None),
)  # fmt: skip
COUNT = 100
_READS_DETECTION = re.compile(r"\b(findings|scores)\b")


def benchmark_rules(created_at: datetime | None = None) -> list[Rule]:
    """The 100 rules, the templates' expansions, every fourth in shadow; an outcome each
    (a decision where the template has one, a score always, a severity on every third)."""
    rules = []
    for prefix, expression, values, decision in TEMPLATES:
        for n, value in enumerate(values, start=1):
            index = len(rules)
            rules.append(
                Rule(
                    rule_id=f"{prefix}-{n}",
                    version=1,
                    name=f"{prefix.replace('-', ' ')} {n}",
                    description="benchmark rule",
                    expression=expression.format(p=value),
                    mode=RuleMode.SHADOW if index % 4 == 3 else RuleMode.ACTIVE,
                    severity=(Severity.MEDIUM, None, None)[index % 3],
                    decision=decision,
                    score=5 + index % 20,
                    author="benchmark",
                    created_at=created_at,
                )
            )
    if len(rules) != COUNT:
        raise AssertionError(f"the templates expand to {len(rules)} rules, not {COUNT}")
    return rules


def ingest_rules(count: int = 50) -> list[Rule]:
    """`count` active decision rules that ingest can evaluate: none reads the detectors' findings or scores
    (absent at checkout); each decides (review, or block where its template blocks)."""
    chosen = [r for r in benchmark_rules() if not _READS_DETECTION.search(r.expression)]
    if len(chosen) < count:
        raise ValueError(f"only {len(chosen)} rules can run at ingest; {count} asked")
    return [
        Rule(r.rule_id, 1, r.name, r.description, r.expression, RuleMode.ACTIVE, r.severity,
             r.decision or Decision.REVIEW, r.score, r.author, r.created_at)
        for r in chosen[:count]
    ]  # fmt: skip


def _items(values: Iterable[str], reason: str, at: datetime) -> tuple[ListItem, ...]:
    return tuple(ListItem(v, reason, "benchmark", at) for v in values)


def benchmark_lists(customer_ids: list[str], at: datetime) -> list[RuleList]:
    """Six lists of the sizes a shop keeps: 2,000 blocked devices, 5,000 fraud e-mails, 300 Tor exit networks,
    40 risky BINs, six countries, 500 VIP customers; a few hundredths of the shop's own customers are on them,
    so lookups hit as well as miss."""
    some = customer_ids[::150]  # about 0.7% of the customers
    devices = [f"D-{c}" for c in some] + [f"D-BLOCKED{n:05d}" for n in range(2000 - len(some))]
    emails = [f"{c.lower()}@mail.example" for c in some[::2]] + [f"fraud{n:05d}@mailinator.com" for n in range(5000)]
    networks = ["198.19.7.0/24"] + [f"185.{n // 256}.{n % 256}.0/24" for n in range(299)]
    bins = ["414720", "535522", "601100", "486796"] + [f"49{n:04d}" for n in range(36)]
    return [
        RuleList("blocked_devices", ListKind.DEVICE, ListMode.BLOCK, "devices seen in chargebacks",
                 _items(devices, "chargeback", at)),
        RuleList("fraud_emails", ListKind.EMAIL, ListMode.BLOCK, "addresses of confirmed fraud",
                 _items(emails[:5000], "confirmed fraud", at)),
        RuleList("tor_exits", ListKind.IP, ListMode.BLOCK, "Tor exit networks", _items(networks, "tor", at)),
        RuleList("risky_bins", ListKind.CARD_BIN, ListMode.BLOCK, "BINs of prepaid cards", _items(bins, "prepaid", at)),
        RuleList("high_risk_countries", ListKind.COUNTRY, ListMode.BLOCK, "countries the shop does not ship to",
                 _items(["KP", "IR", "SY", "CU", "NG", "RU"], "no shipping", at)),
        RuleList("vip_customers", ListKind.CUSTOMER, ListMode.ALLOW, "long-standing customers",
                 _items(customer_ids[7::40][:500], "vip", at)),
    ]  # fmt: skip
