"""Alert triage: the list analysts work from, one alert, and every change they make to it.

Changes are read-modify-write over the alert's `version`: DetectFunction may be growing the same alert at
that moment, so a refused write is re-read and the analyst's change applied again to the newer alert (never
lost, never applied twice).
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from shopwatch.detectors.findings import DETECTOR_LABELS
from shopwatch.domain.alert import Alert, AlertStatus
from shopwatch.domain.severity import Severity
from shopwatch.errors import NotFound, ServiceUnavailable, ShopwatchError, ValidationFailed
from shopwatch.pagination import decode_token, encode_token, scope_of
from shopwatch.storage.alerts import AlertFilter, AlertOrder, AlertRepository

ALERT_ID = re.compile(r"^al_[0-9a-f]{24}$")
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
WRITE_ATTEMPTS = 5


@dataclass(frozen=True)
class AlertsPage:
    """One page of the feed: the alerts themselves (the API maps them to its response once) and the token of the
    next page, bound to the same filters."""

    alerts: list[Alert]
    next_token: str | None


@dataclass(frozen=True)
class AlertQuery:
    status: AlertStatus | None = None
    min_severity: Severity | None = None
    detector: str | None = None
    customer_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 50
    next_token: str | None = None
    order: AlertOrder = AlertOrder.NEWEST


@dataclass(frozen=True)
class EachOutcome:
    """What one alert of a bulk change came to: changed, unchanged (already so: a retried request), or refused
    with the error a single change would have answered (404 unknown, 409 illegal move)."""

    alert_id: str
    outcome: Literal["changed", "unchanged", "refused"]
    alert: Alert | None = None
    error: ShopwatchError | None = None


class TriageService:
    def __init__(self, alerts: AlertRepository) -> None:
        self.alerts = alerts

    def list(self, query: AlertQuery, now: datetime) -> AlertsPage:
        if query.detector is not None and query.detector not in DETECTOR_LABELS:
            raise ValidationFailed(
                f"unknown detector {query.detector!r}", {"field": "detector", "allowed": sorted(DETECTOR_LABELS)}
            )
        since, until = query.since or EARLIEST, query.until or now
        wanted = AlertFilter(
            since, until, query.status, query.min_severity, query.detector, query.customer_id, query.order
        )
        scope = scope_of(
            status=query.status, min_severity=query.min_severity, detector=query.detector,
            customer_id=query.customer_id, since=query.since, until=query.until,
            **({"order": query.order} if query.order is not AlertOrder.NEWEST else {}),
        )  # fmt: skip
        after = decode_token(query.next_token, scope)
        if since > until:  # an empty window: nothing matches (a refusal would be a rule no schema can state)
            return AlertsPage([], None)
        alerts, cursor = self.alerts.page(wanted, after, query.limit)
        return AlertsPage(alerts, encode_token(cursor, scope) if cursor else None)

    def get(self, alert_id: str) -> Alert:
        alert = self.alerts.get(alert_id) if ALERT_ID.match(alert_id) else None
        if alert is None:
            raise NotFound(f"no alert {alert_id}", {"alert_id": alert_id})
        return alert

    def change(self, alert_id: str, apply: Callable[[Alert], Alert]) -> Alert:
        """Apply an analyst's change to the newest version of the alert (re-read when a writer raced us)."""
        for _ in range(WRITE_ATTEMPTS):
            current = self.get(alert_id)
            changed = apply(current)
            if changed is current or self.alerts.save(changed):
                return changed
        raise ServiceUnavailable("the alert is changing too fast; retry the same request", {"alert_id": alert_id})

    def change_each(
        self, alert_ids: builtins.list[str], apply: Callable[[Alert], Alert]
    ) -> builtins.list[EachOutcome]:  # `list` here is the method above
        """`apply` to each alert on its own (one read-modify-write each), so one unknown id or illegal move
        refuses that alert only; `apply` returns the alert itself when it is already as asked, which makes a
        retried request change nothing twice."""
        return [self._change_one(alert_id, apply) for alert_id in alert_ids]

    def _change_one(self, alert_id: str, apply: Callable[[Alert], Alert]) -> EachOutcome:
        moved: list[bool] = []

        def tracked(current: Alert) -> Alert:
            changed = apply(current)
            moved.append(changed is not current)
            return changed

        try:
            alert = self.change(alert_id, tracked)
        except ShopwatchError as refusal:
            return EachOutcome(alert_id, "refused", error=refusal)
        return EachOutcome(alert_id, "changed" if moved[-1] else "unchanged", alert)
