"""Anomalies injected into a stream of real transactions, with the ground truth of what was injected.

Why inject into real traffic rather than simulate a shop: the question the benchmark answers is whether
Shopwatch stays quiet on a real shop's ordinary business (its trade tiers, guest prices, postage lines and
habits) while still catching attacks. The injector therefore learns from the real transactions it has
passed on, as the shop's state would, and builds each anomaly out of them: a well-known item (sold on many
earlier lines) at a tenth of its usual price, a regular customer's basket shipped to a country they never
used, and so on. Nothing is injected before the shop has the history the anomaly needs.

Every `every` real transactions (after `warmup`) the next kind in turn is injected, right after that
transaction and timed from it (seconds later), in the same currency and channel. Ground truth lines carry
the anomaly's kind, its transaction ids and the detectors expected to page on it (none listed: any).
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from shopwatch.domain.clock import parse_iso, to_iso

KIND_DETECTORS: dict[str, tuple[str, ...]] = {
    "deep_discount": ("price",),
    "markup": ("price",),
    "quantity_spike": ("quantity",),
    "bot_burst": ("velocity",),
    "card_testing": ("velocity", "failed_payment"),
    "new_country": ("geo",),
    # the entity detectors (shared device across accounts, new-account risk) decide this one; any page counts
    "shared_device_ring": (),
}
KINDS = tuple(KIND_DETECTORS)
# What only a model trained on the shop can call odd, injected by the model benchmark (`retrain_retail.py`),
# not by the default run: beyond anything the shop has sold, where no price, quantity or velocity rule looks.
MODEL_KIND_DETECTORS: dict[str, tuple[str, ...]] = {
    # a regular customer buys three of the dearest well-known items at their usual prices, in quantities that
    # make twice the largest invoice the shop has seen
    "amount_outlier": ("model",),
    # three of the cheapest well-known items at their usual prices, twice as many units as the shop's largest
    # invoice held (distinct lines cannot be the outlier: the contract caps them at 500, and wholesalers send that)
    "basket_outlier": ("model",),
}
MODEL_KINDS = tuple(MODEL_KIND_DETECTORS)
ALL_KIND_DETECTORS = KIND_DETECTORS | MODEL_KIND_DETECTORS
OUTLIER_FACTOR = 2  # "twice the largest seen": past the model's novelty margin (1.5x its training bound)
WELL_KNOWN_LINES = 30  # an item sold on this many earlier lines has a price everybody knows
REGULAR_INVOICES = 5  # a customer with this many approved purchases has habits
DISCOUNT = Decimal("0.10")  # deep discount: 90% off the usual price
MARKUP = Decimal("6")  # markup: six times the usual price (guests pay 2-3x trade on Online Retail)
QUANTITY_FACTOR = 40  # quantity spike: 40x the larger of the customer's and the item's usual quantity
BOT_TRANSACTIONS, BOT_SPACING_SECONDS = 8, 5
CARD_TESTS, CARD_TEST_SPACING_SECONDS = 6, 20
RING_ACCOUNTS, RING_SPACING_SECONDS = 4, 90
_CENT = Decimal("0.01")


def _money(value: Decimal) -> str:
    return str(max(_CENT, value.quantize(_CENT, rounding=ROUND_HALF_UP)))


@dataclass
class _Item:
    name: str
    prices: list[Decimal] = field(default_factory=list)
    quantities: list[int] = field(default_factory=list)

    @property
    def usual_price(self) -> Decimal:
        return statistics.median(self.prices)

    @property
    def usual_quantity(self) -> int:
        return max(1, round(statistics.median(self.quantities)))


@dataclass
class _Customer:
    invoices: int = 0
    countries: set[str] = field(default_factory=set)
    quantities: list[int] = field(default_factory=list)


class ShopMemory:
    """What the injector learned from the approved transactions passed on so far (as the shop's state did)."""

    def __init__(self) -> None:
        self.items: dict[str, _Item] = {}
        self.customers: dict[str, _Customer] = {}
        self.countries: set[str] = set()
        self.largest_amount = Decimal(0)  # of an approved invoice
        self.most_units = 0

    def learn(self, tx: dict[str, Any], injected: bool = False) -> None:
        """`injected`: one of ours; the largest invoice and basket stay the shop's own (else each outlier,
        twice the largest, would double the next)."""
        if tx.get("status", "approved") != "approved":
            return
        lines = [i for i in tx.get("items", ()) if i["quantity"] > 0 and Decimal(i["unit_price"]) > 0]
        for line in lines:
            item = self.items.setdefault(line["sku"], _Item(line.get("name") or line["sku"]))
            item.prices.append(Decimal(line["unit_price"]))
            item.quantities.append(line["quantity"])
        if tx.get("country"):
            self.countries.add(tx["country"])
        if not injected:
            amount = sum((Decimal(i["unit_price"]) * i["quantity"] for i in lines), Decimal(0))
            self.largest_amount = max(self.largest_amount, amount)
            self.most_units = max(self.most_units, sum(line["quantity"] for line in lines))
        if tx["customer_id"].startswith("guest-"):
            return  # a guest id is one invoice, never a returning customer
        customer = self.customers.setdefault(tx["customer_id"], _Customer())
        customer.invoices += 1
        customer.quantities.extend(line["quantity"] for line in lines)
        if tx.get("country"):
            customer.countries.add(tx["country"])

    def well_known(self) -> list[str]:
        return sorted(sku for sku, item in self.items.items() if len(item.prices) >= WELL_KNOWN_LINES)

    def regulars(self) -> list[str]:
        return sorted(c for c, known in self.customers.items() if known.invoices >= REGULAR_INVOICES)


@dataclass(frozen=True)
class Injected:
    anomaly_id: str
    kind: str
    transactions: tuple[dict[str, Any], ...]

    def truth(self) -> dict[str, Any]:
        return {
            "anomaly_id": self.anomaly_id,
            "kind": self.kind,
            "transaction_ids": [t["transaction_id"] for t in self.transactions],
            "expected_detectors": list(ALL_KIND_DETECTORS[self.kind]),
        }


class Injector:
    """Passes real transactions on and injects anomalies among them; `truth` grows as they are injected.

    `entity_fields`: give injected records the contract's optional entity fields (account_created_at,
    user_agent, card_bin, card_fingerprint, billing/shipping country). Off until the contract has them: the
    API refuses unknown fields.
    """

    def __init__(
        self,
        *,
        every: int = 100,
        warmup: int = 1000,
        seed: int = 16,
        kinds: tuple[str, ...] = KINDS,
        entity_fields: bool = False,
    ) -> None:
        unknown = set(kinds) - set(ALL_KIND_DETECTORS)
        if unknown:
            raise ValueError(f"unknown anomaly kinds: {', '.join(sorted(unknown))}")
        self.every, self.warmup, self.kinds, self.entity_fields = every, warmup, kinds, entity_fields
        self.rng = random.Random(seed)  # noqa: S311 - reproducible traffic, not secrets
        self.memory = ShopMemory()
        self.truth: list[dict[str, Any]] = []
        self._next_kind = 0

    def inject(self, real: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for count, tx in enumerate(real, start=1):
            yield tx
            self.memory.learn(tx)
            if count >= self.warmup and (count - self.warmup) % self.every == 0:
                injected = self._anomaly(tx)
                if injected is not None:
                    self.truth.append(injected.truth())
                    for anomaly in injected.transactions:
                        yield anomaly
                        self.memory.learn(
                            anomaly, injected=True
                        )  # the shop learns from it too: a new country is no longer new

    # ---------------------------------------------------------------------------------------------------------
    def _anomaly(self, trigger: dict[str, Any]) -> Injected | None:
        """The next kind in turn, built from what the shop has seen; None when it has not seen enough yet."""
        kind = self.kinds[self._next_kind % len(self.kinds)]
        make = getattr(self, f"_{kind}")
        number = len(self.truth) + 1
        transactions = make(trigger, f"INJ-{number:04d}-{kind}")
        if transactions is None:
            return None
        self._next_kind += 1
        return Injected(f"{kind}-{number:04d}", kind, tuple(transactions))

    def _base(self, trigger: dict[str, Any], tid: str, customer: str, at: datetime, lines: list[dict]) -> dict:
        tx: dict[str, Any] = {
            "transaction_id": tid,
            "customer_id": customer,
            "timestamp": to_iso(at),
            "status": "approved",
            "currency": trigger.get("currency", "USD"),
            "items": lines,
        }
        for name in ("channel", "country"):
            if trigger.get(name):
                tx[name] = trigger[name]
        return tx

    def _line(self, sku: str, quantity: int | None = None, price: Decimal | None = None) -> dict[str, Any]:
        item = self.memory.items[sku]
        return {
            "sku": sku,
            "name": item.name,
            "quantity": quantity if quantity is not None else item.usual_quantity,
            "unit_price": _money(price if price is not None else item.usual_price),
        }

    def _basket(self, size: int) -> list[dict[str, Any]]:
        return [self._line(sku) for sku in self.rng.sample(self.memory.well_known(), size)]

    def _pick(self, choices: list[str]) -> str | None:
        return self.rng.choice(choices) if choices else None

    def _start(self, trigger: dict[str, Any]) -> datetime:
        return parse_iso(trigger["timestamp"]) + timedelta(seconds=self.rng.randint(1, 30))

    def _priced(self, trigger: dict[str, Any], tid: str, factor: Decimal) -> list[dict[str, Any]] | None:
        known, customer = self.memory.well_known(), self._pick(self.memory.regulars())
        if len(known) < 3 or customer is None:
            return None
        odd = self.rng.choice(known)
        lines = [self._line(odd, price=self.memory.items[odd].usual_price * factor)]
        lines += [self._line(sku) for sku in self.rng.sample([k for k in known if k != odd], 2)]
        self.rng.shuffle(lines)
        return [self._base(trigger, tid, customer, self._start(trigger), lines)]

    def _deep_discount(self, trigger: dict[str, Any], tid: str) -> list[dict[str, Any]] | None:
        return self._priced(trigger, tid, DISCOUNT)

    def _markup(self, trigger: dict[str, Any], tid: str) -> list[dict[str, Any]] | None:
        return self._priced(trigger, tid, MARKUP)

    def _quantity_spike(self, trigger: dict[str, Any], tid: str) -> list[dict[str, Any]] | None:
        known, customer = self.memory.well_known(), self._pick(self.memory.regulars())
        if not known or customer is None:
            return None
        sku = self.rng.choice(known)
        habit = max(1, round(statistics.median(self.memory.customers[customer].quantities or [1])))
        quantity = QUANTITY_FACTOR * max(habit, self.memory.items[sku].usual_quantity)
        return [self._base(trigger, tid, customer, self._start(trigger), [self._line(sku, quantity)])]

    def _outlier(self, trigger: dict[str, Any], tid: str, dearest: bool) -> list[dict[str, Any]] | None:
        """Three well-known items (the dearest or the cheapest) at their usual prices, their quantities scaled
        to twice the shop's largest invoice amount (dearest) or units (cheapest)."""
        known, customer = self.memory.well_known(), self._pick(self.memory.regulars())
        if len(known) < 3 or customer is None or not (self.memory.largest_amount > 0 and self.memory.most_units):
            return None
        by_price = sorted(known, key=lambda sku: (self.memory.items[sku].usual_price, sku), reverse=dearest)
        skus = self.rng.sample(by_price[:10], 3)
        items = [self.memory.items[sku] for sku in skus]
        if dearest:
            usual = sum((i.usual_price * i.usual_quantity for i in items), Decimal(0))
            factor = math.ceil(OUTLIER_FACTOR * self.memory.largest_amount / usual)
        else:
            factor = math.ceil(OUTLIER_FACTOR * self.memory.most_units / sum(i.usual_quantity for i in items))
        lines = [self._line(sku, item.usual_quantity * max(1, factor)) for sku, item in zip(skus, items, strict=True)]
        return [self._base(trigger, tid, customer, self._start(trigger), lines)]

    def _amount_outlier(self, trigger: dict[str, Any], tid: str) -> list[dict[str, Any]] | None:
        return self._outlier(trigger, tid, dearest=True)

    def _basket_outlier(self, trigger: dict[str, Any], tid: str) -> list[dict[str, Any]] | None:
        return self._outlier(trigger, tid, dearest=False)

    def _bot_burst(self, trigger: dict[str, Any], tid: str) -> list[dict[str, Any]] | None:
        customer = self._pick(self.memory.regulars())
        if len(self.memory.well_known()) < 2 or customer is None:
            return None
        start = self._start(trigger)
        return [
            self._base(trigger, f"{tid}-{n}", customer, start + timedelta(seconds=n * BOT_SPACING_SECONDS),
                       self._basket(1))
            for n in range(BOT_TRANSACTIONS)
        ]  # fmt: skip

    def _card_testing(self, trigger: dict[str, Any], tid: str) -> list[dict[str, Any]] | None:
        customer = self._pick(self.memory.regulars())
        if not self.memory.well_known() or customer is None:
            return None
        start = self._start(trigger)
        attempts = []
        for n in range(CARD_TESTS):
            tx = self._base(trigger, f"{tid}-{n}", customer, start + timedelta(seconds=n * CARD_TEST_SPACING_SECONDS),
                            self._basket(1))  # fmt: skip
            tx["status"] = "failed" if n % 2 == 0 else "denied"
            attempts.append(tx)
        return attempts

    def _new_country(self, trigger: dict[str, Any], tid: str) -> list[dict[str, Any]] | None:
        candidates = [c for c in self.memory.regulars() if len(self.memory.customers[c].countries) == 1]
        customer = self._pick(candidates)
        if customer is None or len(self.memory.well_known()) < 2:
            return None
        usual = self.memory.customers[customer].countries
        elsewhere = sorted(self.memory.countries - usual)
        if not elsewhere:
            return None
        tx = self._base(trigger, tid, customer, self._start(trigger), self._basket(2))
        tx["country"] = self.rng.choice(elsewhere)
        return [tx]

    def _shared_device_ring(self, trigger: dict[str, Any], tid: str) -> list[dict[str, Any]] | None:
        """Fresh accounts (never seen before) buying ordinary baskets on one device within minutes."""
        if len(self.memory.well_known()) < 3:
            return None
        start = self._start(trigger)
        device = f"dev-{self.rng.getrandbits(48):012x}"
        ring = []
        for n in range(RING_ACCOUNTS):
            at = start + timedelta(seconds=n * RING_SPACING_SECONDS)
            tx = self._base(trigger, f"{tid}-{n}", f"{tid}-acct{n}", at, self._basket(self.rng.randint(1, 3)))
            tx["device_id"] = device
            if self.entity_fields:
                tx |= {
                    "account_created_at": to_iso(at - timedelta(minutes=self.rng.randint(2, 15))),
                    "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0",
                    "card_bin": "457173",
                    "card_fingerprint": f"card-{self.rng.getrandbits(40):010x}",
                    "billing_country": tx.get("country", "GB"),
                    "shipping_country": tx.get("country", "GB"),
                }
            ring.append(tx)
        return ring
