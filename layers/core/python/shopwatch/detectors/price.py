"""Price: a unit price far below or above the catalog price, or the prices the shop usually charges (seed 000).

The catalog wins when it lists the SKU in the transaction's currency. Otherwise the detector learns the shop:
what it charges for each SKU (the 5th to 95th percentile of its lines, and any price charged on a few earlier
lines), how widely that price moves, and which lines have no list price at all. Measured on the Online Retail
wholesaler (issue 16), these were what paged people, not price errors:

- trade tiers and guest prices: the same item sells 25% cheaper by the hundred, and at two or three times the
  trade price to guests. A price the shop has charged on `price_seen_lines` earlier lines is one of its
  prices; a basket whose lines moved together from their medians, by a factor a price list has
  (`price_book_range`), is judged against that list (a guest basket at about twice the trade prices);
- postage, fees and manual adjustments: their price is set case by case. A SKU sold at
  `price_unpriced_levels` distinct prices or more has no list price (products stay far below: at most 15 on
  Online Retail, against 53 for postage, 127 for manual lines); `price_unpriced_skus` names more;
- items whose learned prices vary widely: a line is judged only when it is more than `price_sigma` of the
  SKU's own log-price spreads away, a standard held per basket (see `tails.basket_sigma`): a 300-line order
  is 300 prices. The spread excuses prices among the shop's own, not one past the paging floor or ceiling
  below (a 6x markup on an item sold at 0.65 to 2.55 went untold);
- free lines (a sample, a replacement): reported, not paged; an order that charges nothing is a stock
  adjustment or a replacement, not a sale;
- markdowns: the shop clears items at a third or a quarter of their usual price (Online Retail, December
  2011: 390 of the 448 invoices the price rule paged were such discounts). A learned price that passes the
  rules above is reported low; it pages only beyond `price_page_below` times the lowest price the shop ever
  charged for the SKU, or `price_page_above` times the highest (both on the basket's price list). The
  severity is the risk band of how far past that floor or ceiling it goes (`_Judged.unexplained`).
  A catalog price is what the shop means to charge: a line off it keeps the catalog thresholds.
A 90% discount on an item sold at one price for months still pages, as does one line six times dearer than
everything the shop has charged for it. Returns are not priced. Tuned on the Online Retail invoices with
injections (`shopwatch benchmark retail --inject`, the development data): the floor at 0.3 and the ceiling
at 1.5 keep 33 of 36 injected discounts and markups paging while 164 of 25,850 real invoices page; letting
the floor and ceiling overrule the spread took markups to 36/36 (seed 16) and 35/36 (seed 23, was 32/36), and
real invoices paged by any detector from 231 to 243 (0.94%).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from shopwatch.config import DetectionSettings
from shopwatch.detectors.findings import SEVERITY_SCORES, Finding, Reason, percent
from shopwatch.detectors.history import DetectionInput
from shopwatch.detectors.scoring import risk_severity
from shopwatch.detectors.tails import basket_sigma
from shopwatch.domain.money import format_money
from shopwatch.domain.severity import Severity, max_severity
from shopwatch.domain.transaction import LineItem

DETECTOR = "price"
_LIST_PRICE_PLACES = Decimal("0.0001")  # a reference on another price list, as precise as the learned prices


def _severity(deviation: Decimal, thresholds: dict[Severity, Decimal]) -> Severity | None:
    found = None
    for severity, limit in sorted(thresholds.items(), key=lambda kv: kv[0].rank):
        if abs(deviation) >= limit:
            found = severity
    return found


@dataclass(frozen=True)
class _Line:
    """A purchased line with what the shop charges for its SKU."""

    item: LineItem
    median: Decimal  # the catalog price, or the median of the SKU's lines
    low: Decimal  # the usual range (the catalog price twice)
    high: Decimal
    known: bool  # within the usual range, or a price charged on enough earlier lines
    spread: Decimal | None = None  # the SKU's learned log-price spread; None against a catalog price
    lowest: Decimal | None = None  # the lowest and highest prices the shop ever charged for it (learned only)
    highest: Decimal | None = None

    @property
    def from_catalog(self) -> bool:
        return self.spread is None

    @property
    def ratio(self) -> Decimal:
        """How far the price moved from the median: the sign of a price list."""
        return self.item.unit_price / self.median


def _line(item: LineItem, data: DetectionInput, settings: DetectionSettings) -> _Line | None:
    """The line and its SKU's prices, or None when it is not priced from a list: a return, a SKU configured
    as unpriced or sold at too many prices to have a list price, or one with too little history."""
    if item.quantity <= 0 or item.sku in settings.price_unpriced_skus:
        return None
    entry = data.catalog.get(item.sku)
    if entry is not None and entry.currency == data.tx.currency and entry.price > 0:
        return _Line(item, entry.price, entry.price, entry.price, item.unit_price == entry.price)
    history = data.skus.get(item.sku)
    if history is None or history.priced_lines < settings.price_min_history:
        return None
    if len(history.price_bins) >= settings.price_unpriced_levels:
        return None
    usual, median = history.usual_price_range(), history.median_price()
    if usual is None or median is None:  # no priced line (only when price_min_history is 0)
        return None
    low, high = usual
    known = low <= item.unit_price <= high or history.lines_near(item.unit_price) >= settings.price_seen_lines
    lowest, highest = history.price_quantile(0.0), history.price_quantile(1.0)
    return _Line(item, median, low, high, known, history.log_price_spread(), lowest, highest)


def price_list_factor(lines: list[_Line], settings: DetectionSettings) -> Decimal:
    """The factor of the price list the basket was priced from: 1 for the usual list; the median move of its
    lines when at least `price_list_min_lines` of them (prices charged before or new ones) moved from their
    median the same way, by a factor a price list plausibly has. A list moves the whole basket; an odd line
    stands alone and keeps the factor 1. Only learned prices make or follow a list: a catalog price is meant."""
    tolerance = settings.price_list_tolerance
    learned = [line for line in lines if not line.from_catalog]
    up = [line.ratio for line in learned if line.ratio > 1 + tolerance]
    down = [line.ratio for line in learned if line.ratio < 1 - tolerance]
    moved = sorted(up if len(up) >= len(down) else down)  # the larger side; up on a tie
    if len(moved) < settings.price_list_min_lines:
        return Decimal(1)
    factor = moved[len(moved) // 2]
    low, high = settings.price_list_range
    return factor if low <= factor <= high else Decimal(1)


@dataclass(frozen=True)
class _Judged:
    line: _Line
    reference: Decimal
    source: str
    deviation: Decimal  # (price - reference) / reference
    factor: Decimal = Decimal(1)  # the basket's price list

    def unexplained(self, settings: DetectionSettings) -> Decimal | None:
        """For a learned price: the share of the way past every price the shop ever charged for the SKU (on the
        basket's price list) that pages, 0..1: 1 - price / (lowest x `price_page_below`) below, 1 - (highest x
        `price_page_above`) / price above. None when the price does not go that far: a markdown to a third of
        the usual price or a guest paying a little over the dearest price is the shop's business (Online
        Retail marks items down by up to three quarters), reported low, not paged."""
        line, price = self.line, self.line.item.unit_price
        if line.lowest is None or line.highest is None or price <= 0:
            return None
        floor = line.lowest * self.factor * settings.price_page_below
        ceiling = line.highest * self.factor * settings.price_page_above
        if price < floor:
            return Decimal(1) - price / floor
        if price > ceiling:
            return Decimal(1) - ceiling / price
        return None


def _judge(line: _Line, factor: Decimal, sigma: Decimal, settings: DetectionSettings) -> _Judged | None:
    """The line against the nearest end of what the shop charges on the basket's price list, or None when
    its price is one the shop charges or within `sigma` of the SKU's log-price spreads from its median."""
    if line.known:
        return None
    price = line.item.unit_price
    factor = Decimal(1) if line.from_catalog else factor
    low, high = line.low * factor, line.high * factor
    if low <= price <= high:
        return None
    reference = low if price < low else high
    if factor != 1:
        reference = reference.quantize(_LIST_PRICE_PLACES)
    if line.from_catalog:
        source = "catalog price"
    else:
        source = "usual price" if line.low == line.high else f"usual {'lowest' if price < low else 'highest'} price"
        source += " on this basket's price list" if factor != 1 else ""
    judged = _Judged(line, reference, source, (price - reference) / reference, factor)
    if line.spread is not None and price > 0:  # a learned price (a catalog price has no spread)
        z = abs((line.ratio / factor).ln()) / max(line.spread, settings.price_log_sigma_floor)
        if z <= sigma and judged.unexplained(settings) is None:
            return None  # within the SKU's own spread, and not past every price the shop ever charged for it
    return judged


def detect(data: DetectionInput, settings: DetectionSettings) -> Finding | None:
    tx = data.tx
    if tx.amount == 0:
        return None  # charges nothing: a replacement, sample or stock adjustment, not a priced sale
    lines = [line for item in tx.items if (line := _line(item, data, settings)) is not None]
    factor = price_list_factor(lines, settings)
    sigma = basket_sigma(settings.price_sigma, len(lines))
    reasons: list[Reason] = []
    phrases: list[str] = []
    worst: Severity | None = None
    worst_deviation = Decimal(0)
    for judged in filter(None, (_judge(line, factor, sigma, settings) for line in lines)):
        item, reference, deviation = judged.line.item, judged.reference, judged.deviation
        severity = _severity(deviation, settings.price_thresholds)
        if severity is None:
            continue
        if item.unit_price == 0:
            severity = Severity.LOW  # given free: a sample or a replacement, told but not paged
        elif judged.line.from_catalog:
            worst_deviation = max(worst_deviation, abs(deviation))
        elif (unexplained := judged.unexplained(settings)) is None:
            severity = Severity.LOW  # a price within reach of what the shop has charged: told, not paged
        else:  # pages, as high as the risk band its score falls in
            band = risk_severity(unexplained * 100, settings.risk_thresholds)
            severity = Severity.MEDIUM if band is None else max_severity(Severity.MEDIUM, band)
            worst_deviation = max(worst_deviation, unexplained)
        direction = "below" if deviation < 0 else "above"
        facts = (
            f"{format_money(item.unit_price)} {tx.currency}, {percent(deviation)} {direction} its {judged.source} "
            f"of {format_money(reference)} {tx.currency}"
        )
        reasons.append(
            Reason(
                code=f"price_{'discount' if deviation < 0 else 'markup'}",
                message=f"{item.label} sold at {facts}",
                value=str(item.unit_price),
                expected=str(reference),
            )
        )
        phrases.append(f"{item.label} for {facts}")
        worst = severity if worst is None or severity > worst else worst
    if worst is None:
        return None
    return Finding(
        detector=DETECTOR,
        severity=worst,
        reasons=tuple(reasons),
        description=f"Transaction {tx.transaction_id}: {tx.customer_label} bought " + "; ".join(phrases),
        score=min(Decimal(1), worst_deviation) if worst > Severity.LOW else SEVERITY_SCORES[Severity.LOW],
    )
