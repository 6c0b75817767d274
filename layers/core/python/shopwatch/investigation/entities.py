"""One entity (an account, device, card, IP or e-mail) as an analyst investigates it: what Shopwatch counted
about it, what it is linked to, a small link graph around it, its recent transactions and their alerts.

Everything is read from what detection already keeps (the entity items of StateTable, the transactions' customer
index, the alerts' customer index): nothing is scanned. A shared entity knows its accounts (capped at LINK_CAP,
then "at least"); an account knows its e-mails, devices, IPs and cards. The graph is two steps from the entity:
the accounts that share a device, and what else those accounts use, is how a ring shows itself. It is bounded
(GRAPH_NODES) and says how many nodes it left out.

Links are read as of the entity's last sighting (the link sets are trimmed relative to it), counts in windows as
of now: "linked within 30 days of when it was last seen" stays meaningful for an entity that went quiet.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from shopwatch.detectors.entities import (
    CUSTOMER_LINKED_KINDS,
    LINK_CAP,
    LONG_LINKED,
    NO_HISTORY,
    EntityHistory,
    EntityKey,
    entity_keys,
)
from shopwatch.domain.alert import Alert
from shopwatch.domain.clock import utcnow
from shopwatch.domain.input_rules import CONTROL_CLASS, normalized_email
from shopwatch.domain.transaction import Transaction
from shopwatch.errors import NotFound, ValidationFailed
from shopwatch.storage.alerts import AlertFilter, AlertRepository
from shopwatch.storage.customers import CustomerRepository
from shopwatch.storage.state import StateRepository
from shopwatch.triage.service import EARLIEST

ENTITY_KINDS = ("customer", "device", "card", "ip", "email")
MAX_VALUE = 254  # an e-mail's limit; the other identifiers are shorter
_VALUE = re.compile(rf"^[^{CONTROL_CLASS}]{{1,{MAX_VALUE}}}$")
RECENT_TRANSACTIONS = 50  # the entity's newest transactions shown
PER_ACCOUNT = 20  # newest transactions read per linked account to find the entity's own
ACCOUNTS_READ = 10  # linked accounts whose transactions and alerts are read (the newest links first is unknown)
ALERTS_PER_ACCOUNT = 20
GRAPH_NODES = 40
COUNT_WINDOWS = ("1h", "24h", "30d")


@dataclass(frozen=True)
class WindowCount:
    window: str
    transactions: int
    approved_amount: Decimal | None  # None: not counted at that window


@dataclass(frozen=True)
class Linked:
    kind: str
    values: tuple[str, ...]  # sorted
    at_least: bool  # the set reached LINK_CAP and stopped growing: there may be more


@dataclass(frozen=True)
class GraphNode:
    kind: str
    value: str


@dataclass(frozen=True)
class Graph:
    nodes: tuple[GraphNode, ...]  # the entity first
    edges: tuple[tuple[int, int], ...]  # indexes into nodes
    omitted: int  # nodes left out by the cap


@dataclass(frozen=True)
class ListTarget:
    """What a block or allow list of `list_kind` would hold for this entity (the lists API's kinds)."""

    list_kind: str
    value: str


@dataclass(frozen=True)
class EntityProfile:
    kind: str
    value: str
    first_seen: datetime | None
    last_seen: datetime | None
    transactions: int  # lifetime
    failed: int
    approved_amount: Decimal
    windows: tuple[WindowCount, ...]
    linked: tuple[Linked, ...]
    graph: Graph
    recent_transactions: tuple[Transaction, ...]  # newest first
    alerts: tuple[Alert, ...]  # newest first
    list_targets: tuple[ListTarget, ...]


def entity_key(kind: str, value: str) -> EntityKey:
    """The key an entity is stored under, from what a person typed or a link carried: a 400 for a kind without
    a page or a value no transaction could have carried; an e-mail in any case matches."""
    if kind not in ENTITY_KINDS:
        raise ValidationFailed(
            f"unknown entity kind {kind!r}", [{"field": "kind", "message": f"one of {', '.join(ENTITY_KINDS)}"}]
        )
    text = value.strip()
    if not _VALUE.fullmatch(text):
        raise ValidationFailed(
            "invalid entity value",
            [{"field": "value", "message": f"1 to {MAX_VALUE} characters without control characters"}],
        )
    return EntityKey(kind, normalized_email(text) if kind == "email" else text)


def _links_window(kind: str) -> str:
    return "1y" if kind in LONG_LINKED else "30d"


def linked_of(key: EntityKey, history: EntityHistory) -> tuple[Linked, ...]:
    """An account's e-mails, devices, IPs and cards; a shared entity's accounts (as of its last sighting)."""
    at = history.last_seen
    if at is None:
        return ()
    kinds = CUSTOMER_LINKED_KINDS if key.kind == "customer" else ("customer",)
    window = "30d" if key.kind == "customer" else _links_window(key.kind)
    found = []
    for kind in kinds:
        values = history.linked(kind, window, at)
        if values:
            found.append(Linked(kind, tuple(sorted(values)), len(values) >= LINK_CAP))
    return tuple(found)


def list_targets(key: EntityKey) -> tuple[ListTarget, ...]:
    """The lists' kinds for this entity: a card is listed by fingerprint, or by its BIN when it is keyed
    "<bin>/<customer>" (a BIN list blocks every card of that BIN: the page says so)."""
    if key.kind == "card":
        bin_, slash, _ = key.value.partition("/")
        return (ListTarget("card_bin", bin_),) if slash else (ListTarget("card_fingerprint", key.value),)
    return (ListTarget(key.kind, key.value),)


class EntityInvestigation:
    def __init__(
        self,
        state: StateRepository,
        customers: CustomerRepository,
        alerts: AlertRepository,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.state = state
        self.customers = customers
        self.alerts = alerts
        self.clock = clock

    def get(self, kind: str, value: str) -> EntityProfile:
        key = entity_key(kind, value)
        history = self.state.get_entities([key])[key]
        if history.first_seen is None:
            raise NotFound(f"Shopwatch has not seen {key.label}", {"kind": key.kind, "value": key.value})
        now = self.clock()
        linked = linked_of(key, history)
        accounts = [key.value] if key.kind == "customer" else _values(linked, "customer")
        transactions = self._transactions(key, accounts[:ACCOUNTS_READ])
        return EntityProfile(
            kind=key.kind,
            value=key.value,
            first_seen=history.first_seen,
            last_seen=history.last_seen,
            transactions=history.transactions,
            failed=history.failed,
            approved_amount=history.approved_amount,
            windows=tuple(_window_count(history, w, now) for w in COUNT_WINDOWS),
            linked=linked,
            graph=self._graph(key, linked),
            recent_transactions=tuple(transactions),
            alerts=tuple(self._alerts(key, accounts[:ACCOUNTS_READ], transactions, now)),
            list_targets=list_targets(key),
        )

    def _transactions(self, key: EntityKey, accounts: list[str]) -> list[Transaction]:
        """The entity's newest transactions: an account's own; a shared entity's among its accounts' newest."""
        if key.kind == "customer":
            return self.customers.recent_transactions(key.value, RECENT_TRANSACTIONS)
        found = [
            tx
            for account in accounts
            for tx in self.customers.recent_transactions(account, PER_ACCOUNT)
            if _carries(tx, key)
        ]
        found.sort(key=lambda tx: (tx.timestamp, tx.transaction_id), reverse=True)
        return found[:RECENT_TRANSACTIONS]

    def _alerts(
        self, key: EntityKey, accounts: list[str], transactions: list[Transaction], now: datetime
    ) -> list[Alert]:
        """An account's alerts; a shared entity's: its accounts' alerts that cover one of its transactions."""
        mine = {tx.transaction_id for tx in transactions}
        found: dict[str, Alert] = {}
        for account in accounts:
            page, _ = self.alerts.page(AlertFilter(EARLIEST, now, customer_id=account), None, ALERTS_PER_ACCOUNT)
            for alert in page:
                if key.kind == "customer" or mine.intersection(alert.transaction_ids):
                    found[alert.alert_id] = alert
        return sorted(found.values(), key=lambda a: (a.created_at, a.alert_id), reverse=True)

    def _graph(self, key: EntityKey, linked: tuple[Linked, ...]) -> Graph:
        """The entity, what it links to, and what those link to in turn (accounts ↔ devices, cards, IPs,
        e-mails), at most GRAPH_NODES nodes: the entity's own links first, then the second step's."""
        first = [EntityKey(group.kind, v) for group in linked for v in group.values]
        histories = self.state.get_entities(first) if first else {}
        nodes: dict[EntityKey, int] = {key: 0}
        edges: set[tuple[int, int]] = set()
        omitted: set[EntityKey] = set()

        def link(a: EntityKey, b: EntityKey) -> None:
            if b not in nodes:
                if len(nodes) >= GRAPH_NODES:
                    omitted.add(b)
                    return
                nodes[b] = len(nodes)
            if a in nodes:
                edges.add((min(nodes[a], nodes[b]), max(nodes[a], nodes[b])))

        for near in first:
            link(key, near)
        for near in first:
            for group in linked_of(near, histories.get(near, NO_HISTORY)):
                for value in group.values:
                    link(near, EntityKey(group.kind, value))
        return Graph(
            tuple(GraphNode(k.kind, k.value) for k in nodes), tuple(sorted(edges)), len(omitted - nodes.keys())
        )


def _values(linked: tuple[Linked, ...], kind: str) -> list[str]:
    return [v for group in linked if group.kind == kind for v in group.values]


def _carries(tx: Transaction, key: EntityKey) -> bool:
    found = entity_keys(tx).get(key.kind)
    return found is not None and found.value == key.value


def _window_count(history: EntityHistory, window: str, now: datetime) -> WindowCount:
    amount = history.total("a", window, now) if window != "1m" else None
    return WindowCount(window, int(history.total("c", window, now)), amount)
