"""What every detection benchmark on the local stack needs: wait for detection to drain, read what each
transaction got (its highest alert severity), count the messages people received, and score recall.

A transaction counts as paged when an alert at medium or above lists it (what the e-mail subscription
receives), and as alerted when any alert lists it. Alerts list at most their first 100 transactions (the
occurrences count stays exact), so a group larger than that undercounts; no benchmark here makes one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from infra.local.stack import LocalStack
from shopwatch.domain.alert import Alert
from shopwatch.domain.severity import Severity

PAGED = Severity.MEDIUM
ALERT_SUBSCRIPTIONS = {"AlertEmailSubscription": "email", "AlertSmsSubscription": "sms"}


def drain(stack: LocalStack, timeout: float = 7200.0) -> None:
    """Wait until every stream consumer (detection, aggregation, notification) has nothing left to do."""
    if not stack.wait_until_idle(timeout=timeout, settle=1.0):
        raise TimeoutError(f"detection did not drain within {timeout:.0f} s")


def severity_by_transaction(alerts: Iterable[Alert]) -> dict[str, Severity]:
    """Each listed transaction's highest alert severity."""
    found: dict[str, Severity] = {}
    for alert in alerts:
        for tid in alert.transaction_ids:
            if tid not in found or alert.severity > found[tid]:
                found[tid] = alert.severity
    return found


def detectors_by_transaction(alerts: Iterable[Alert], at_least: Severity = PAGED) -> dict[str, set[str]]:
    """The detectors whose alerts at `at_least` or above list each transaction."""
    found: dict[str, set[str]] = {}
    for alert in alerts:
        if alert.severity >= at_least:
            for tid in alert.transaction_ids:
                found.setdefault(tid, set()).add(alert.detector)
    return found


def messages_sent(deliveries: Iterable[dict[str, Any]]) -> Counter[str]:
    """E-mails and SMS the alert subscriptions received (the local outbox), by protocol, and `sms_held`: the
    e-mails whose SMS the budget held back (a replay compresses months into minutes, and the budget counts
    real time: held is what would have paged by SMS without it)."""
    sent: Counter[str] = Counter()
    for delivery in deliveries:
        protocol = ALERT_SUBSCRIPTIONS.get(delivery["subscription"])
        if protocol is not None:
            sent[protocol] += 1
        if protocol == "email" and delivery.get("attributes", {}).get("sms") == "held":
            sent["sms_held"] += 1
    return sent


@dataclass
class KindRecall:
    kind: str
    injected: int = 0
    caught: int = 0
    missed: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.caught / self.injected if self.injected else 0.0


def recall_by_kind(truth: list[dict[str, Any]], paged_by: dict[str, set[str]]) -> dict[str, KindRecall]:
    """An anomaly is caught when one of its transactions is paged by one of its expected detectors (by any
    detector when none is listed)."""
    kinds: dict[str, KindRecall] = {}
    for anomaly in truth:
        score = kinds.setdefault(anomaly["kind"], KindRecall(anomaly["kind"]))
        score.injected += 1
        expected = set(anomaly["expected_detectors"])
        if any(
            (paged_by.get(t, set()) & expected) if expected else paged_by.get(t) for t in anomaly["transaction_ids"]
        ):
            score.caught += 1
        else:
            score.missed.append(anomaly["anomaly_id"])
    return kinds


@dataclass(frozen=True)
class QuietScore:
    """How often the shop's own, real transactions page an analyst or raise any alert."""

    real: int
    paged: int
    alerted: int
    paged_by_detector: Counter[str]
    alerted_by_detector: Counter[str]

    @property
    def paged_share(self) -> float:
        return self.paged / self.real if self.real else 0.0

    @property
    def alerted_share(self) -> float:
        return self.alerted / self.real if self.real else 0.0


def quiet_score(real_ids: Iterable[str], alerts: list[Alert]) -> QuietScore:
    severities = severity_by_transaction(alerts)
    paged_by = detectors_by_transaction(alerts)
    real = list(real_ids)
    alerted_by = detectors_by_transaction(alerts, Severity.LOW)
    return QuietScore(
        real=len(real),
        paged=sum(1 for t in real if t in severities and severities[t] >= PAGED),
        alerted=sum(1 for t in real if t in severities),
        paged_by_detector=Counter(d for t in real for d in paged_by.get(t, ())),
        alerted_by_detector=Counter(d for t in real for d in alerted_by.get(t, ())),
    )
