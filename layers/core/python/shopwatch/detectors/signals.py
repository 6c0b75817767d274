"""Weak evidence that raises a transaction's risk score without opening an alert of its own: how young the
account is, how many accounts shared its device, card or e-mail within a year, and how isolated the model finds it.

Why: a risk score must rank every transaction, not only the few a rule fires on. Rules say "look at this";
these signals order the rest, so the next most suspicious transactions are first in the low queue and a
learned combination (the model issue) has continuous inputs. Each is small (at most 0.1-0.2) so that together
they stay below the medium band: they never page on their own.
"""

from __future__ import annotations

import math
from decimal import Decimal

from shopwatch.config import DetectionSettings
from shopwatch.detectors.entities import account_age_seconds
from shopwatch.detectors.history import DetectionInput
from shopwatch.detectors.model import ModelVerdict

_PLACES = Decimal("0.0001")
ACCOUNT_AGE_WEIGHT = 0.1
ACCOUNT_AGE_SCALE_DAYS = 7.0
LINKED_ACCOUNTS_STEP = Decimal("0.05")
LINKED_ACCOUNTS_CAP = Decimal("0.2")
SHARED_KINDS = ("device", "card", "email")


def risk_signals(data: DetectionInput, settings: DetectionSettings, verdict: ModelVerdict | None) -> dict[str, Decimal]:
    """Named contributions in 0..1, already weighted (the scorer combines them with the findings)."""
    tx = data.tx
    signals: dict[str, Decimal] = {}
    age = account_age_seconds(tx)
    if age is not None:
        fresh = ACCOUNT_AGE_WEIGHT * math.exp(-age / 86400 / ACCOUNT_AGE_SCALE_DAYS)
        signals["account_age"] = Decimal(fresh).quantize(_PLACES)
    views = data.views
    # a year, not the detectors' 30 days: a device another account used months ago is weak evidence, not none
    shared = max((len(views[k].accounts("1y")) for k in SHARED_KINDS if k in views), default=1)
    if shared > 1:
        signals["linked_accounts"] = min(LINKED_ACCOUNTS_CAP, LINKED_ACCOUNTS_STEP * (shared - 1))
    if verdict is not None:
        # the forest's score against its outlier threshold, squashed: 0.5 at the threshold, near 1 well past it
        isolation = 1 / (1 + math.exp(-(verdict.outlier_below - verdict.score) * 20))
        signals["model_isolation"] = (settings.model_signal_weight * Decimal(isolation)).quantize(_PLACES)
    return signals
