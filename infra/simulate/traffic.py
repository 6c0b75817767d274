"""The traffic plan: when each transaction is sent and what it is, with every injected anomaly labelled.

Normal customers behave like people: a purchase at most every 30 seconds each, baskets within their habit,
catalog prices (small promotions included), their home country, a realistic mix of failed, denied and
reversed payments. Anomalies are injected at `anomaly_rate` per transaction, each kind with the detectors
that should catch it. A warm-up gives every customer a purchase history (backdated, hours apart) first.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from infra.simulate.shop import FAR_COUNTRIES, Customer, Product, Shop
from shopwatch.domain.clock import to_iso

KIND_DETECTORS: dict[str, tuple[str, ...]] = {
    "deep_discount": ("price",),
    "markup": ("price",),
    "bot_burst": ("velocity",),
    "card_testing": ("velocity", "failed_payment"),
    "new_country": ("geo",),
    "quantity_spike": ("quantity",),
    "amount_outlier": ("model",),
    # fresh accounts sharing one device and card, each buying within seconds of signing up
    "new_account_ring": ("new_account", "shared_identity", "entity_velocity"),
    "outage": ("volume",),  # no sales at all for a while: the shop's checkout is down
    "failure_spike": ("status_mix",),  # a share of payments failing or denied far above the usual
}
WINDOW_KINDS = ("outage", "failure_spike")  # injected into the whole shop's traffic for a time window
# Detectors that rightly react to a window anomaly's transactions without being the ones meant to catch it:
# during a failure spike, ordinary customers pile up failed payments (three in ten minutes is "medium").
RELATED_DETECTORS: dict[str, tuple[str, ...]] = {"failure_spike": ("failed_payment", "velocity")}
FAILURE_SPIKE_SHARE = 0.4
# amount_outlier: a basket of six to eight of the shop's priciest products, two or three of each (6,000 to
# 16,000 against normal baskets of at most three lines), at catalog prices, from the customer's home country:
# no price, quantity, velocity or geo rule has anything to say; only the model sees that its size and amount
# are unlike anything the customer or the shop does.
DEFAULT_KINDS = (
    "deep_discount",
    "markup",
    "bot_burst",
    "card_testing",
    "new_country",
    "quantity_spike",
    "amount_outlier",
    "new_account_ring",
)
PRICIEST_PRODUCTS = 8
STATUS_WEIGHTS = (("approved", 95.0), ("failed", 2.5), ("denied", 1.5), ("reversed", 1.0))
HISTORY_PER_CUSTOMER = 3
CUSTOMER_MIN_GAP = 30.0
CUSTOMER_MAX_GAP = 60.0
RING_ACCOUNTS = 3
BURST_SECONDS = 12.0  # the longest injected anomaly (a bot burst) spans this long


@dataclass
class Planned:
    offset: float  # seconds after the start of live traffic (warm-up: negative)
    transaction: dict[str, Any]


@dataclass
class Injected:
    anomaly_id: str
    kind: str
    customer_id: str
    transaction_ids: list[str]
    expected_detectors: tuple[str, ...]
    offset: float

    def truth(self, sent_at: datetime) -> dict[str, Any]:
        return {
            "anomaly_id": self.anomaly_id,
            "kind": self.kind,
            "customer_id": self.customer_id,
            "transaction_ids": self.transaction_ids,
            "expected_detectors": list(self.expected_detectors),
            "sent_at": to_iso(sent_at),
        }


@dataclass(frozen=True)
class WindowAnomaly:
    """An anomaly of the shop's traffic as a whole, from `offset` for `seconds` (live time)."""

    kind: str
    offset: float
    seconds: float

    def covers(self, offset: float) -> bool:
        return self.offset <= offset < self.offset + self.seconds

    def truth(self, anomaly_id: str, live_start: datetime, transaction_ids: list[str]) -> dict[str, Any]:
        start = live_start + timedelta(seconds=self.offset)
        return {
            "anomaly_id": anomaly_id,
            "kind": self.kind,
            "customer_id": None,
            "transaction_ids": transaction_ids,
            "expected_detectors": list(KIND_DETECTORS[self.kind]),
            "related_detectors": list(RELATED_DETECTORS.get(self.kind, ())),
            "sent_at": to_iso(start),
            "window": {"start": to_iso(start), "end": to_iso(start + timedelta(seconds=self.seconds))},
        }


@dataclass
class Plan:
    warmup: list[Planned] = field(default_factory=list)
    live: list[Planned] = field(default_factory=list)
    anomalies: list[Injected] = field(default_factory=list)
    windows: list[WindowAnomaly] = field(default_factory=list)
    window_transactions: dict[int, list[str]] = field(default_factory=dict)  # window index → its transactions


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _line(product: Product, quantity: int, price_factor: Decimal = Decimal(1)) -> dict[str, Any]:
    return {
        "sku": product.sku,
        "name": product.name,
        "quantity": quantity,
        "unit_price": _money(product.price * price_factor),
    }


class TrafficPlanner:
    def __init__(self, shop: Shop, seed: int, start: datetime) -> None:
        self.shop = shop
        self.rng = random.Random(seed)
        self.start = start
        self.counter = 0
        self.next_free: dict[str, float] = {}

    def _id(self, prefix: str = "T") -> str:
        self.counter += 1
        return f"{prefix}{self.counter:07d}"

    def _lines(self, customer: Customer, scale: float = 1.0) -> list[dict[str, Any]]:
        lines = []
        for sku in self.rng.sample(customer.favourites, self.rng.choice([1, 1, 2, 3])):
            product = self.shop.product(sku)
            price = product.price
            if self.rng.random() < 0.1:  # an ordinary promotion, well inside the price detector's tolerance
                price = price * Decimal(str(1 - self.rng.choice([0.05, 0.1])))
            lines.append(
                {
                    "sku": sku,
                    "name": product.name,
                    "quantity": max(1, int(self.rng.randint(1, customer.max_quantity) * scale)),
                    "unit_price": _money(price),
                }
            )
        return lines

    def _transaction(self, customer: Customer, at: datetime, **overrides: Any) -> dict[str, Any]:
        return {
            "transaction_id": self._id(),
            "customer_id": customer.customer_id,
            "customer_name": customer.name,
            "timestamp": to_iso(at),
            "currency": self.shop.currency,
            "country": customer.country,
            "payment_method": customer.payment_method,
            "channel": "web",
            "items": self._lines(customer),
            **self._identity(customer),
        } | overrides

    def _identity(self, customer: Customer) -> dict[str, Any]:
        """Each customer's own e-mail, device, card and IP address (neighbours share a /24 network, as on a real
        ISP), and an account opened 3 months to 3 years before the run. Derived from the id, so the random stream
        of the rest of the plan is unchanged."""
        digest = zlib.crc32(customer.customer_id.encode())
        return {
            "email": f"{customer.customer_id.lower()}@mail.example",
            "device_id": f"D-{customer.customer_id}",
            "card_fingerprint": f"fp-{customer.customer_id}",
            "ip": f"198.{18 + digest % 2}.{digest // 2 % 256}.{digest // 512 % 256}",  # RFC 2544's 198.18.0.0/15
            "account_created_at": to_iso(self.start - timedelta(days=90 + digest % 1000)),
        }

    def _status(self) -> str:
        roll, total = self.rng.uniform(0, 100), 0.0
        for status, weight in STATUS_WEIGHTS:
            total += weight
            if roll <= total:
                return status
        return "approved"

    def warmup(self) -> list[Planned]:
        """Each customer's history: approved purchases on earlier days around the customer's usual hour, so
        detectors know their habits."""
        planned = []
        for customer in self.shop.customers:
            for day in self.rng.sample(range(1, 29), HISTORY_PER_CUSTOMER):
                midnight = (self.start - timedelta(days=day)).replace(hour=0, minute=0, second=0, microsecond=0)
                at = midnight + timedelta(hours=customer.peak_hour + self.rng.uniform(-1.5, 1.5))
                planned.append(Planned(-1.0, self._transaction(customer, at)))
        return planned

    def recent(self, rate: float, since: datetime, until: datetime) -> list[Planned]:
        """The shop's ordinary traffic between `since` and `until` (backdated, or up to minutes ahead), sent
        before live traffic so that the windowed detectors have recent minutes to compare with."""
        span = (until - since).total_seconds()
        planned = []
        for n in range(int(rate * span)):
            seconds = n / rate
            customer = self._free_customer(seconds - span)
            planned.append(
                Planned(-1.0, self._transaction(customer, since + timedelta(seconds=seconds), status=self._status()))
            )
        return planned

    def plan(
        self,
        rate: float,
        duration: float,
        anomaly_rate: float,
        kinds: tuple[str, ...],
        windows: tuple[WindowAnomaly, ...] = (),
    ) -> Plan:
        needed = int(rate * CUSTOMER_MAX_GAP * 1.25) + 1
        if len(self.shop.customers) < needed:
            raise ValueError(
                f"{len(self.shop.customers)} customers cannot buy at human pace (one purchase per "
                f"{CUSTOMER_MIN_GAP:.0f}-{CUSTOMER_MAX_GAP:.0f} s each) at {rate:g} transactions/s; use --customers {needed} or more"
            )
        plan = Plan(warmup=self.warmup(), windows=list(windows))
        total = int(rate * duration)
        anomaly_slots = (
            {int(i / anomaly_rate) for i in range(1, int(total * anomaly_rate) + 1)} if anomaly_rate > 0 else set()
        )
        for n in range(total):
            offset = n / rate
            window = next((i for i, w in enumerate(windows) if w.covers(offset)), None)
            if window is not None and windows[window].kind == "outage":
                continue  # nothing gets through
            if window is not None and windows[window].kind == "failure_spike":
                status = "failed" if self.rng.random() < 0.6 else "denied"
                if self.rng.random() < FAILURE_SPIKE_SHARE:
                    tx = self._transaction(
                        self._free_customer(offset), self.start + timedelta(seconds=offset), status=status
                    )
                    plan.window_transactions.setdefault(window, []).append(tx["transaction_id"])
                    plan.live.append(Planned(offset, tx))
                    continue
            if (
                n in anomaly_slots and offset <= duration - BURST_SECONDS and window is None
            ):  # bursts finish inside the run
                kind = kinds[len(plan.anomalies) % len(kinds)]
                plan.anomalies.append(self._inject(kind, offset, plan))
                continue
            customer = self._free_customer(offset)
            plan.live.append(
                Planned(
                    offset, self._transaction(customer, self.start + timedelta(seconds=offset), status=self._status())
                )
            )
        plan.live.sort(key=lambda p: p.offset)
        return plan

    def _free_customer(self, offset: float) -> Customer:
        """A customer who is not mid-purchase, favouring those whose usual hour is near the current one."""
        hour = (self.start + timedelta(seconds=offset)).hour
        while True:
            customer = self.rng.choice(self.shop.customers)
            distance = min(abs(customer.peak_hour - hour), 24 - abs(customer.peak_hour - hour))
            if distance > 3 and self.rng.random() < 0.7:
                continue  # off-peak customers still shop, less often
            if self.next_free.get(customer.customer_id, -1e9) <= offset:
                self.next_free[customer.customer_id] = offset + self.rng.uniform(CUSTOMER_MIN_GAP, CUSTOMER_MAX_GAP)
                return customer

    def _inject(self, kind: str, offset: float, plan: Plan) -> Injected:
        customer = self._free_customer(offset)
        at = self.start + timedelta(seconds=offset)
        transactions: list[Planned] = []
        if kind in ("deep_discount", "markup"):
            product = self.shop.product(self.rng.choice(customer.favourites))
            factor = Decimal(
                str(self.rng.uniform(0.05, 0.5) if kind == "deep_discount" else self.rng.uniform(1.3, 2.5))
            )
            transactions.append(Planned(offset, self._transaction(customer, at, items=[_line(product, 1, factor)])))
        elif kind == "bot_burst":
            bot = Customer(f"BOT{self.counter:06d}", "", customer.country, customer.favourites, 1, "card")
            for i in range(8):
                t = offset + i * 1.5
                tx = self._transaction(bot, self.start + timedelta(seconds=t))
                tx.pop("customer_name")
                transactions.append(Planned(t, tx))
        elif kind == "card_testing":
            for i in range(6):
                t = offset + i * 2.0
                tx = self._transaction(customer, self.start + timedelta(seconds=t), status="denied", items=[
                    {"sku": "SDCARD", "name": "SD card 128GB", "quantity": 1, "unit_price": "24.00"}])  # fmt: skip
                transactions.append(Planned(t, tx))
        elif kind == "new_country":
            country = self.rng.choice([c for c in FAR_COUNTRIES if c != customer.country])
            transactions.append(Planned(offset, self._transaction(customer, at, country=country)))
        elif kind == "quantity_spike":
            product = self.shop.product(self.rng.choice(customer.favourites))
            line = _line(product, self.rng.randint(15, 40))
            transactions.append(Planned(offset, self._transaction(customer, at, items=[line])))
        elif kind == "new_account_ring":
            device, card = f"D-RING{self.counter:06d}", f"fp-ring{self.counter:06d}"
            for i in range(RING_ACCOUNTS):
                t = offset + i * 4.0
                fresh = Customer(f"NEW{self.counter:06d}-{i}", "", customer.country, customer.favourites, 1, "card")
                opened = self.start + timedelta(seconds=t - self.rng.uniform(15, 40))
                tx = self._transaction(fresh, self.start + timedelta(seconds=t), device_id=device,
                                       card_fingerprint=card, account_created_at=to_iso(opened))  # fmt: skip
                tx.pop("customer_name")
                transactions.append(Planned(t, tx))
        elif kind == "amount_outlier":
            priciest = sorted(self.shop.products, key=lambda p: p.price, reverse=True)[:PRICIEST_PRODUCTS]
            lines = [_line(p, self.rng.randint(2, 3)) for p in self.rng.sample(priciest, self.rng.randint(6, 8))]
            transactions.append(Planned(offset, self._transaction(customer, at, items=lines)))
        else:
            raise ValueError(f"unknown anomaly kind {kind!r}; known: {', '.join(KIND_DETECTORS)}")
        plan.live.extend(transactions)
        customer_id = transactions[0].transaction["customer_id"]
        return Injected(
            f"A{len(plan.anomalies) + 1:04d}",
            kind,
            customer_id,
            [p.transaction["transaction_id"] for p in transactions],
            KIND_DETECTORS[kind],
            offset,
        )
