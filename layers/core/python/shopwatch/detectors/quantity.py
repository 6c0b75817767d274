"""Quantity: a line whose quantity is a far larger multiple than usual (seed 001's QuantitySpike).

Quantities are judged on a log scale (see `history.log_quantity`): a spike is z = (ln q - mean ln q) / σ above
`quantity_sigma` of the customer's habit, with σ floored (a customer who always buys one unit has σ = 0) and
q at least `quantity_min_ratio` times the usual (geometric mean) quantity; and, when the SKU has history, also
above `quantity_sku_sigma` of what its buyers take. A wholesaler's customer who orders 480 of an item that
sells by the hundred is not a spike; 40 mugs from someone who buys two at a time, of a mug everyone buys two
of, is. Both standards hold for the basket as a whole (`tails.basket_sigma`): a 200-line order is 200 tests.
A customer without a habit yet is not judged: a new account's first big order is for the new-account checks.
A spike only the customer's habit sees (the item has too few lines for a norm) is reported low, not paged.
A basket whose lines all went up together is a bigger order (`order_scale`): its lines are judged against
the habit scaled by the order's median multiple, so a seasonal order of everything by the hundred is not a
spike on every line, while one line far above the rest of its basket, or a lone line, still is.
On the Online Retail data (issue 16) this pages 0.26% of invoices and 33 of 36 injected spikes (σ 2.5 for
both baselines, tuned there: at σ 3 without the order scale it paged 0.4% and caught 31), where the SKU's
norm alone on first orders and per-line 3.5σ on every line of big orders paged 1.5%, and mean + 3σ on raw
quantities flagged a third.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from shopwatch.config import DetectionSettings
from shopwatch.detectors.findings import SEVERITY_SCORES, Finding, Reason
from shopwatch.detectors.history import DetectionInput, log_quantity
from shopwatch.detectors.tails import basket_sigma
from shopwatch.domain.severity import Severity

DETECTOR = "quantity"


@dataclass(frozen=True)
class Baseline:
    scope: str  # "customer" or "sku"
    whose: str
    log_mean: Decimal
    log_std: Decimal

    @property
    def usual(self) -> Decimal:
        """The geometric mean quantity."""
        return self.log_mean.exp()


def _z(quantity: int, baseline: Baseline, settings: DetectionSettings, sigma: Decimal) -> Decimal | None:
    """The log-scale z-score of `quantity` against `baseline` when it is a spike there, else None."""
    z = (log_quantity(quantity) - baseline.log_mean) / max(baseline.log_std, settings.quantity_log_sigma_floor)
    if z > sigma and Decimal(quantity) >= settings.quantity_min_ratio * baseline.usual:
        return z
    return None


def _severity(z: Decimal, sigma: Decimal) -> Severity:
    if z >= Decimal("1.5") * sigma:
        return Severity.CRITICAL
    if z >= Decimal("1.25") * sigma:
        return Severity.HIGH
    return Severity.MEDIUM


def order_scale(log_quantities: list[Decimal], habit: Baseline, settings: DetectionSettings) -> Decimal:
    """How many times the customer's usual quantity the basket as a whole was ordered in: the median line's
    multiple when at least `quantity_scale_min_lines` lines were bought and that median is above 1, else 1.
    A wholesaler's seasonal order takes every line by the hundred; that is a bigger order, and each line is
    judged against the habit scaled by it. A lone line has no basket to move with and keeps the scale 1.
    On Online Retail (issue 16) such orders were most of the quantity pages."""
    if len(log_quantities) < settings.quantity_scale_min_lines:
        return Decimal(1)
    moves = sorted(q - habit.log_mean for q in log_quantities)
    middle = moves[len(moves) // 2]
    return middle.exp() if middle > 0 else Decimal(1)


def detect(data: DetectionInput, settings: DetectionSettings) -> Finding | None:
    tx, customer = data.tx, data.customer
    reasons: list[Reason] = []
    worst_z = Decimal(0)
    severity_cap: Severity | None = None
    if customer.quantity_lines < settings.quantity_customer_min_history:
        return None  # no habit yet: a first big order is for the new-account checks, not a spike
    purchased = [item for item in tx.items if item.quantity > 0]
    customer_sigma = basket_sigma(settings.quantity_sigma, len(purchased))
    sku_sigma = basket_sigma(settings.quantity_sku_sigma, len(purchased))
    usual = Baseline("customer", "this customer's", *customer.log_quantity_stats())
    scale = order_scale([log_quantity(item.quantity) for item in purchased], usual, settings)
    habit = usual if scale == 1 else Baseline(
        "customer", f"this order's (x{scale:.1f} the customer's)", usual.log_mean + scale.ln(), usual.log_std
    )  # fmt: skip
    for item in purchased:
        baselines = [(habit, customer_sigma)]
        sku = data.skus.get(item.sku)
        if sku is not None and sku.lines >= settings.quantity_sku_min_history:
            baselines.append((Baseline("sku", f"{item.label}'s", *sku.log_quantity_stats()), sku_sigma))
        spikes = [(b, z) for b, sigma in baselines if (z := _z(item.quantity, b, settings, sigma)) is not None]
        if len(spikes) < len(baselines):
            continue
        if len(baselines) == 1:
            # only the customer's habit judged it: an item too new to have a norm may well come by the hundred
            severity_cap = Severity.LOW
        for baseline, z in spikes:
            reasons.append(
                Reason(
                    code=f"quantity_above_{baseline.scope}_norm",
                    message=f"{item.quantity} x {item.label}, {Decimal(item.quantity) / baseline.usual:.0f} times "
                    f"{baseline.whose} usual {baseline.usual:.1f} units",
                    value=str(item.quantity),
                    expected=f"{(baseline.log_mean - baseline.log_std).exp():.1f}"
                    f"–{(baseline.log_mean + baseline.log_std).exp():.1f}",
                )
            )
            if len(baselines) > 1:
                worst_z = max(worst_z, z)
    if not reasons:
        return None
    if worst_z == 0:  # every spike was judged by the customer's habit alone
        return Finding(
            detector=DETECTOR,
            severity=severity_cap or Severity.LOW,
            reasons=tuple(reasons),
            description=f"Transaction {tx.transaction_id}: {tx.customer_label} ordered "
            + "; ".join(r.message for r in reasons),
            score=SEVERITY_SCORES[Severity.LOW],
        )
    return Finding(
        detector=DETECTOR,
        severity=_severity(worst_z, settings.quantity_sigma),
        reasons=tuple(reasons),
        description=f"Transaction {tx.transaction_id}: {tx.customer_label} ordered "
        + "; ".join(r.message for r in reasons),
        score=min(Decimal(1), worst_z / (2 * settings.quantity_sigma)),
    )
