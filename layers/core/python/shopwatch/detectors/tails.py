"""Tail probabilities of counts, and of a basket's most extreme line, in pure Python (no scipy in the core layer).

Why exact tails: a minute's failed payments or transactions are counts, often small. A z-score on 3 failures
out of 40 is meaningless; the binomial tail says how surprising 3 out of 40 is when 2.5% usually fail.
"""

from __future__ import annotations

import math
from decimal import Decimal
from statistics import NormalDist

_NEGLIGIBLE = 1e-17  # a term this small relative to the sum no longer changes it


def _log_binomial_pmf(k: int, n: int, p: float) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * math.log(p) + (n - k) * math.log1p(-p)


def binomial_upper_tail(x: int, n: int, p: float) -> float:
    """P(X >= x) for X ~ Binomial(n, p), 0 < p < 1."""
    if x <= 0:
        return 1.0
    if x > n:
        return 0.0
    total, k = 0.0, x
    while k <= n:
        term = math.exp(_log_binomial_pmf(k, n, p))
        total += term
        if k > n * p and term <= total * _NEGLIGIBLE:
            break  # past the mode the terms only shrink (or have underflowed to 0)
        k += 1
    return min(1.0, total)


def _log_poisson_pmf(k: int, mean: float) -> float:
    return k * math.log(mean) - mean - math.lgamma(k + 1)


def poisson_lower_tail(x: int, mean: float) -> float:
    """P(X <= x) for X ~ Poisson(mean)."""
    if x < 0:
        return 0.0
    return min(1.0, sum(math.exp(_log_poisson_pmf(k, mean)) for k in range(x + 1)))


def poisson_upper_tail(x: int, mean: float) -> float:
    """P(X >= x) for X ~ Poisson(mean)."""
    if x <= 0:
        return 1.0
    total, k = 0.0, x
    while True:
        term = math.exp(_log_poisson_pmf(k, mean))
        total += term
        if k > mean and term <= total * _NEGLIGIBLE:
            return min(1.0, total)  # past the mode the terms only shrink (or have underflowed to 0)
        k += 1


def basket_sigma(sigma: Decimal, tests: int) -> Decimal:
    """The z-score that one of `tests` lines of a basket passes by chance as rarely as one line passes `sigma`.

    A basket is as many tests as it has lines: a wholesaler's 100-line order has a line past 3σ about one time
    in eight by chance alone, and such orders paged people (issue 16). The one-line tail is divided by the
    number of lines (Bonferroni), so the basket as a whole is held to the one-line standard.
    """
    if tests <= 1:
        return sigma
    normal = NormalDist()
    return Decimal(f"{normal.inv_cdf(1 - (1 - normal.cdf(float(sigma))) / tests):.6f}")
