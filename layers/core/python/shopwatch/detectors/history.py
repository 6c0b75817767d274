"""What the detectors know about the past: customer profiles, SKU statistics, catalog prices, recent activity.

Every statistic is kept as counters (counts, sums, sums of squares, histogram bins) because counters can be
updated in DynamoDB with atomic, commutative ADDs: order and concurrency do not matter, and a guarded update
applied once is exact. The same `*_delta` functions feed DynamoDB and the in-memory copy, so the two agree.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, localcontext
from types import MappingProxyType

from shopwatch.detectors.entities import EntityHistory, EntityKey, EntityView, entity_views
from shopwatch.domain.transaction import LineItem, Transaction

_LOG_PLACES = Decimal("1e-12")
PRICE_BINS_PER_UNIT_LOG = 200  # bin width 0.5% of price: medians are within 0.25% of the true median


def mean_and_std(n: Decimal, total: Decimal, total_sq: Decimal) -> tuple[Decimal, Decimal]:
    """Population mean and standard deviation from counters, computed exactly in high precision."""
    if n <= 0:
        return Decimal(0), Decimal(0)
    with localcontext() as ctx:
        ctx.prec = 60
        mean = total / n
        variance = max(total_sq / n - mean * mean, Decimal(0))
        return +mean, variance.sqrt()


@functools.lru_cache(maxsize=8192)
def log_quantity(quantity: int) -> Decimal:
    """ln(quantity) to 12 places, so that sums of many stay well inside DynamoDB's 38 digits.

    Quantities are kept on a log scale because baskets are: one shop's lines are 1, 2 or 3 units, a
    wholesaler's 12, 24, 144 or 480. On the raw scale mean + 3σ flagged a third of the Online Retail
    invoices; on the log scale a spike is a multiple of the usual quantity, the same test for both shops.
    Cached: Decimal.ln is slow (~18 µs) and a shop's quantities are a few hundred distinct numbers.
    """
    return _plain(Decimal(quantity).ln())


def _plain(value: Decimal) -> Decimal:
    """Rounded to 12 places without exponent notation (0E-12 is not a number moto or a person reads)."""
    rounded = value.quantize(_LOG_PLACES)
    return Decimal(0) if rounded.is_zero() else rounded


def _log_sum(lines: list[LineItem]) -> Decimal:
    return sum((log_quantity(i.quantity) for i in lines), Decimal(0))


def _log_sumsq(lines: list[LineItem]) -> Decimal:
    return sum((_log_square(i.quantity) for i in lines), Decimal(0))


@functools.lru_cache(maxsize=8192)
def _log_square(quantity: int) -> Decimal:
    return _plain(log_quantity(quantity) ** 2)


def log_quantity_stats(lines: int, logsum: Decimal, logsumsq: Decimal) -> tuple[Decimal, Decimal]:
    """Mean and standard deviation of ln(quantity) over `lines` purchased lines."""
    return mean_and_std(Decimal(lines), logsum, logsumsq)


@dataclass(frozen=True)
class CustomerHistory:
    transactions: int = 0
    approved: int = 0
    failed: int = 0
    amount_sum: Decimal = Decimal(0)
    amount_sumsq: Decimal = Decimal(0)
    quantity_lines: int = 0
    quantity_logsum: Decimal = Decimal(0)
    quantity_logsumsq: Decimal = Decimal(0)
    countries: frozenset[str] = frozenset()
    first_seen: datetime | None = None
    last_seen: datetime | None = None

    def amount_stats(self) -> tuple[Decimal, Decimal]:
        return mean_and_std(Decimal(self.approved), self.amount_sum, self.amount_sumsq)

    def log_quantity_stats(self) -> tuple[Decimal, Decimal]:
        return log_quantity_stats(self.quantity_lines, self.quantity_logsum, self.quantity_logsumsq)


NO_CUSTOMER = CustomerHistory()  # a customer never seen, shared: frozen, and built per transaction otherwise


@dataclass(frozen=True)
class CustomerDelta:
    """The counters one transaction adds to its customer's profile."""

    transactions: int
    approved: int
    failed: int
    amount_sum: Decimal
    amount_sumsq: Decimal
    quantity_lines: int
    quantity_logsum: Decimal
    quantity_logsumsq: Decimal
    countries: frozenset[str]
    seen: datetime


def customer_delta(tx: Transaction, failed_statuses: frozenset[str]) -> CustomerDelta:
    """Approved transactions teach amounts, baskets and countries; every transaction counts, failures apart."""
    approved = tx.status == "approved"
    lines = [i for i in tx.items if i.quantity > 0] if approved else []
    return CustomerDelta(
        transactions=1,
        approved=int(approved),
        failed=int(tx.status in failed_statuses),
        amount_sum=tx.amount if approved else Decimal(0),
        amount_sumsq=tx.amount * tx.amount if approved else Decimal(0),
        quantity_lines=len(lines),
        quantity_logsum=_log_sum(lines),
        quantity_logsumsq=_log_sumsq(lines),
        countries=frozenset({tx.country}) if approved and tx.country else frozenset(),
        seen=tx.timestamp,
    )


def apply_customer_delta(history: CustomerHistory, delta: CustomerDelta) -> CustomerHistory:
    # every field, built directly (dataclasses.replace costs twice as much, twice per transaction); a field added
    # to CustomerHistory must be added here too (tests/unit/test_history.py checks the list)
    return CustomerHistory(
        transactions=history.transactions + delta.transactions,
        approved=history.approved + delta.approved,
        failed=history.failed + delta.failed,
        amount_sum=history.amount_sum + delta.amount_sum,
        amount_sumsq=history.amount_sumsq + delta.amount_sumsq,
        quantity_lines=history.quantity_lines + delta.quantity_lines,
        quantity_logsum=history.quantity_logsum + delta.quantity_logsum,
        quantity_logsumsq=history.quantity_logsumsq + delta.quantity_logsumsq,
        countries=history.countries | delta.countries,
        first_seen=min(filter(None, (history.first_seen, delta.seen))),
        last_seen=max(filter(None, (history.last_seen, delta.seen))),
    )


def price_bin(unit_price: Decimal) -> int:
    """Log-spaced histogram bin of a positive price (bin k covers [e^(k/200), e^((k+1)/200)))."""
    return math.floor(math.log(float(unit_price)) * PRICE_BINS_PER_UNIT_LOG)


@dataclass(frozen=True)
class PriceBin:
    """Lines whose price fell in one log bin, and the sum of their prices (so the bin's mean is exact)."""

    count: int
    price_sum: Decimal

    def plus(self, other: PriceBin) -> PriceBin:
        return PriceBin(self.count + other.count, self.price_sum + other.price_sum)

    @functools.cached_property
    def mean_price(self) -> Decimal:
        """Cached (the bin is frozen): the price detector reads every bin's mean for each line of the SKU, and an
        unchanged bin carries over to the SKU's next history."""
        return (self.price_sum / self.count).quantize(Decimal("0.0001"))


@dataclass(frozen=True)
class SkuHistory:
    """Per SKU and currency: line log-quantities and a log-price histogram (for a median that counters can keep).

    The median is the mean price of the bin holding the middle line: exact when the SKU sells at one price,
    within half a bin (0.25%) otherwise.
    """

    lines: int = 0
    quantity_logsum: Decimal = Decimal(0)
    quantity_logsumsq: Decimal = Decimal(0)
    price_bins: Mapping[int, PriceBin] = field(default_factory=dict)

    def log_quantity_stats(self) -> tuple[Decimal, Decimal]:
        return log_quantity_stats(self.lines, self.quantity_logsum, self.quantity_logsumsq)

    # Cached below (the history is frozen and nothing writes to its bins): the price detector asks for five
    # quantiles and the spread of each line's SKU, and the model's features for the median again.
    @functools.cached_property
    def priced_lines(self) -> int:
        return sum(b.count for b in self.price_bins.values())

    @functools.cached_property
    def _bins_in_order(self) -> tuple[PriceBin, ...]:
        return tuple(self.price_bins[index] for index in sorted(self.price_bins))

    def price_quantile(self, q: float) -> Decimal | None:
        """The mean price of the bin holding the q-th quantile line (q = 0.5: the median)."""
        total = self.priced_lines
        if total == 0:
            return None
        seen = 0
        for price_bin in self._bins_in_order:
            seen += price_bin.count
            if seen >= q * total:
                return price_bin.mean_price
        return self._bins_in_order[-1].mean_price

    def median_price(self) -> Decimal | None:
        return self.price_quantile(0.5)

    def lines_near(self, unit_price: Decimal, bins: int = 2) -> int:
        """Lines sold within `bins` histogram bins of `unit_price` (2 bins: within about 1%)."""
        if unit_price <= 0:
            return 0
        centre = price_bin(unit_price)
        return sum(b.count for index, b in self.price_bins.items() if abs(index - centre) <= bins)

    def log_price_spread(self) -> Decimal:
        """Standard deviation of ln(price) over the SKU's lines: how widely the shop's own prices for it vary
        (0 for one price; about 0.3 for trade tiers plus a guest price)."""
        return self._log_price_spread

    @functools.cached_property
    def _log_price_spread(self) -> Decimal:
        logs = [(b.count, math.log(b.mean_price)) for b in self.price_bins.values() if b.mean_price > 0]
        total = sum(count for count, _ in logs)
        if total == 0:
            return Decimal(0)
        mean = sum(count * x for count, x in logs) / total
        variance = sum(count * (x - mean) ** 2 for count, x in logs) / total
        return Decimal(f"{math.sqrt(variance):.6f}")

    def usual_price_range(self) -> tuple[Decimal, Decimal] | None:
        """The 5th to 95th percentile of the prices this SKU sold at: a single price for most shops, the
        tier prices for a wholesaler (who sells the same item cheaper by the hundred)."""
        low, high = self.price_quantile(0.05), self.price_quantile(0.95)
        return None if low is None or high is None else (low, high)


NO_SKU = SkuHistory()  # a SKU never sold, shared: frozen, nothing writes to its bins (apply_sku_delta copies them)


@dataclass(frozen=True)
class SkuDelta:
    sku: str
    currency: str
    lines: int
    quantity_logsum: Decimal
    quantity_logsumsq: Decimal
    price_bins: Mapping[int, PriceBin]


def sku_deltas(tx: Transaction) -> list[SkuDelta]:
    """One delta per distinct SKU of an approved transaction's purchased lines (returns teach nothing)."""
    if tx.status != "approved":
        return []
    grouped: dict[str, list[LineItem]] = {}
    for item in tx.items:
        if item.quantity > 0:
            grouped.setdefault(item.sku, []).append(item)
    deltas = []
    for sku, lines in grouped.items():
        bins: dict[int, PriceBin] = {}
        for line in lines:
            if line.unit_price > 0:
                index = price_bin(line.unit_price)
                bins[index] = bins.get(index, PriceBin(0, Decimal(0))).plus(PriceBin(1, line.unit_price))
        deltas.append(
            SkuDelta(
                sku=sku,
                currency=tx.currency,
                lines=len(lines),
                quantity_logsum=_log_sum(lines),
                quantity_logsumsq=_log_sumsq(lines),
                price_bins=bins,
            )
        )
    return deltas


def apply_sku_delta(history: SkuHistory, delta: SkuDelta) -> SkuHistory:
    bins = dict(history.price_bins)
    for index, added in delta.price_bins.items():
        bins[index] = bins[index].plus(added) if index in bins else added
    return SkuHistory(
        lines=history.lines + delta.lines,
        quantity_logsum=history.quantity_logsum + delta.quantity_logsum,
        quantity_logsumsq=history.quantity_logsumsq + delta.quantity_logsumsq,
        price_bins=bins,
    )


@dataclass(frozen=True)
class CatalogEntry:
    sku: str
    price: Decimal
    currency: str
    name: str | None = None


@dataclass(frozen=True)
class RecentTransaction:
    """A customer's transaction as the velocity and failure detectors see it."""

    transaction_id: str
    timestamp: datetime
    status: str


@dataclass(frozen=True)
class DetectionInput:
    """Everything the per-transaction detectors may look at, as of just before this transaction."""

    tx: Transaction
    customer: CustomerHistory
    skus: Mapping[str, SkuHistory]
    catalog: Mapping[str, CatalogEntry]
    recent: tuple[RecentTransaction, ...]
    entities: Mapping[EntityKey, EntityHistory] = field(default_factory=dict)

    @functools.cached_property
    def views(self) -> Mapping[str, EntityView]:
        """The entities of the transaction as the entity detectors and the risk signals read them, built once
        for all of them (read only; the input is a snapshot of the state before the transaction is learned)."""
        return MappingProxyType(entity_views(self.tx, self.entities))

    def recent_within(self, seconds: int, statuses: frozenset[str] | None = None) -> list[RecentTransaction]:
        """Transactions of this customer in [t - seconds, t], this one included, optionally of some statuses."""
        start = self.tx.timestamp.timestamp() - seconds
        end = self.tx.timestamp.timestamp()
        others = [
            r
            for r in self.recent
            if r.transaction_id != self.tx.transaction_id and start <= r.timestamp.timestamp() <= end
        ]
        me = RecentTransaction(self.tx.transaction_id, self.tx.timestamp, self.tx.status)
        return [r for r in [*others, me] if statuses is None or r.status in statuses]
