"""What Shopwatch knows about every entity a fraudster reuses: accounts, e-mails, devices, IPs (and their network)
and cards. Pure: the same update plan feeds DynamoDB and the in-memory state of training, replay and benchmarks.

Why time buckets: DynamoDB can keep exact sliding-window counts only as counters it can ADD to atomically. Each
entity item holds counters per time bucket (10 s buckets for the 1-minute window, 5 min for 1 hour, 1 h for
24 hours, 1 day for 30 days); a window's value is the sum of its buckets, so it is exact to one bucket width.
Buckets older than their window are removed by the next update (known from the item read before it), so a
busy entity's item stays bounded: at most ~200 small counters.

Why capped sets for distinct links (accounts per device, devices per account, ...): what a fraud analyst acts on
is 2, 3, 5 or 10 accounts on one device, exactly; beyond LINK_CAP the set stops growing and the count reads
"at least LINK_CAP". A HyperLogLog sketch would estimate large counts in constant space but is approximate
precisely where rings live (2-10) and cannot say which accounts; sets are exact there and name the accounts.
"""

from __future__ import annotations

import functools
import ipaddress
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from types import MappingProxyType

from shopwatch.domain.input_rules import normalized_email
from shopwatch.domain.transaction import Transaction

LINK_CAP = 25

# kind -> one-letter code used in attribute names of linked-entity sets
KIND_CODES = {"customer": "a", "email": "e", "device": "v", "ip": "i", "card": "c", "ipnet": "n"}
SHARED_KINDS = ("email", "device", "ip", "ipnet", "card")  # what several accounts may share
CUSTOMER_LINKED_KINDS = ("email", "device", "ip", "card")  # what one account may have several of


@dataclass(frozen=True)
class Granularity:
    code: str
    seconds: int
    keep: int  # buckets kept: the current one and keep - 1 before it

    def index(self, moment: datetime) -> int:
        return math.floor(moment.timestamp() / self.seconds)


SECONDS_10 = Granularity("s", 10, 7)  # 1 minute (60-70 s)
HOURS = Granularity("h", 3600, 25)  # 24 hours
DAYS = Granularity("d", 86400, 31)  # 30 days
YEARS = Granularity("y", 365 * 86400, 2)  # links only: who shared this entity within the last year or two
GRANULARITIES = {g.code: g for g in (SECONDS_10, HOURS, DAYS, YEARS)}
LAST_HOURS = Granularity("h", 3600, 2)  # the hour buckets read for "1 hour": this hour and the one before
# Why so few granularities: every bucket is an attribute that each update of the item carries and DynamoDB
# bills by size; the 1-hour window reads the hour buckets (1-2 h, exact to the bucket width) instead of
# keeping twelve 5-minute ones.
WINDOWS = {"1m": SECONDS_10, "1h": LAST_HOURS, "24h": HOURS, "30d": DAYS}
LINK_WINDOWS = {"1h": LAST_HOURS, "30d": DAYS, "1y": YEARS}
LINK_KEEP = {"h": LAST_HOURS.keep}  # hour link sets are only read for the last hour or two

# metric letter -> granularities it is counted at
METRICS = {
    "c": (SECONDS_10, HOURS, DAYS),  # transactions: 1 minute, 1 hour, 24 hours, 30 days
    "x": (HOURS,),  # failed or denied attempts: 1 hour, 24 hours
    "a": (HOURS, DAYS),  # approved amount: 1 hour, 24 hours, 30 days
    "n": (HOURS,),  # transactions by accounts younger than a day: 1 hour, 24 hours
}
_METRIC_CODES = {metric: frozenset(g.code for g in granularities) for metric, granularities in METRICS.items()}
# accounts per device, card and e-mail are kept for a year (weak evidence for the risk score); every other
# link for the hour and the 30 days the detectors read
LONG_LINKED = frozenset({"device", "card", "email"})
# A network keeps counters only: no detector reads which accounts used it (sharing is judged per IP; networks
# feed the new-account burst, a counter), and a carrier's /24 is the busiest item there is: 25 accounts in
# each of 31 day buckets would make it ~20 KB, billed on every write (twice, as busy items go inside the
# transaction), and copied by every read and update.
UNLINKED = frozenset({"ipnet"})


@dataclass(frozen=True, order=True)
class EntityKey:
    kind: str
    value: str

    @property
    def label(self) -> str:
        names = {"ipnet": "network", "card": "card", "customer": "account"}
        return f"{names.get(self.kind, self.kind)} {self.value}"


@functools.lru_cache(maxsize=8192)
def ip_network(ip: str) -> str:
    """The /24 of an IPv4 address or the /64 of an IPv6 one: where one operator's addresses rotate. Cached:
    every entity detector asks for a transaction's keys, and parsing an address is most of their cost."""
    address = ipaddress.ip_address(ip)
    # the network from the parsed address's bits (parsing its text again, as ip_network does, costs as much
    # again); a scoped IPv6 address keeps that path, whose text carries the scope
    if address.version == 4:
        return str(ipaddress.IPv4Network((int(address) >> 8 << 8, 24)))
    if address.scope_id is None:
        return str(ipaddress.IPv6Network((int(address) >> 64 << 64, 64)))
    return str(ipaddress.ip_network(f"{address}/64", strict=False))


def card_value(tx: Transaction) -> str | None:
    """The provider's fingerprint, else the BIN within this account (a BIN alone is shared by millions)."""
    if tx.card_fingerprint:
        return tx.card_fingerprint
    if tx.card_bin:
        return f"{tx.card_bin}/{tx.customer_id}"
    return None


def entity_keys(tx: Transaction) -> dict[str, EntityKey]:
    """Every entity this transaction touches, by kind (the account always; the others when sent)."""
    return dict(_entity_keys(tx.customer_id, tx.email, tx.device_id, tx.ip, card_value(tx)))


@functools.lru_cache(maxsize=4096)
def _entity_keys(
    customer_id: str, email: str | None, device_id: str | None, ip: str | None, card: str | None
) -> tuple[tuple[str, EntityKey], ...]:
    """The keys from the identifiers alone, cached: a transaction's keys are asked for by the batch's prefetch,
    the update plan and the detectors' views, and every key is a frozen dataclass to build (a tuple, so that no
    caller can change what the next one gets)."""
    keys = [("customer", EntityKey("customer", customer_id))]
    if email:
        keys.append(("email", EntityKey("email", normalized_email(email))))
    if device_id:
        keys.append(("device", EntityKey("device", device_id)))
    if ip:
        keys.append(("ip", EntityKey("ip", ip)))
        keys.append(("ipnet", EntityKey("ipnet", ip_network(ip))))
    if card:
        keys.append(("card", EntityKey("card", card)))
    return tuple(keys)


def account_age_seconds(tx: Transaction) -> float | None:
    if tx.account_created_at is None:
        return None
    return max(0.0, (tx.timestamp - tx.account_created_at).total_seconds())


@dataclass(frozen=True)
class EntityHistory:
    """One entity's counters as stored: lifetime totals, time buckets and capped link sets."""

    transactions: int = 0
    failed: int = 0
    approved_amount: Decimal = Decimal(0)
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    buckets: Mapping[str, Decimal] = field(default_factory=dict)  # "<metric><gran><index>" -> value
    links: Mapping[str, frozenset[str]] = field(default_factory=dict)  # "L<kind><gran><index>" -> values

    def total(self, metric: str, window: str, at: datetime) -> Decimal:
        """Sum of `metric` over `window` ending at `at` (exact to one bucket width)."""
        granularity = WINDOWS[window]
        if granularity.code not in _METRIC_CODES[metric]:
            raise KeyError(f"metric {metric!r} is not kept for the {window} window")
        buckets = self.buckets
        names = _window_names(f"{metric}{granularity.code}", _indexes(at)[granularity.code], granularity.keep)
        return sum((buckets[name] for name in names if name in buckets), Decimal(0))

    def linked(self, kind: str, window: str, at: datetime) -> frozenset[str]:
        """Distinct entities of `kind` seen with this one within `window` (capped per bucket at LINK_CAP)."""
        granularity = LINK_WINDOWS[window]
        prefix = f"L{KIND_CODES[kind]}{granularity.code}"
        found: set[str] = set()
        for name in _window_names(prefix, _indexes(at)[granularity.code], granularity.keep):
            values = self.links.get(name)
            if values:
                found |= values
        return frozenset(found)


@functools.lru_cache(maxsize=16384)
def _window_names(prefix: str, current: int, keep: int) -> tuple[str, ...]:
    """The names of a window's buckets (or link sets): the current one and keep - 1 before it. Looked up rather
    than found by walking the item's ~50-200 names: a transaction reads ~12 windows of each of its entities.
    Cached: a transaction's entities share their windows, and so do the transactions of one bucket."""
    return tuple(f"{prefix}{index}" for index in range(current - keep + 1, current + 1))


# What an entity never seen holds, shared (frozen; nothing writes to its mappings, apply_update builds new ones):
# the batch's state asks for it per key and per update, and a frozen dataclass with two mappings is costly to build
NO_HISTORY = EntityHistory()


@dataclass(frozen=True)
class EntityUpdate:
    """What one transaction changes on one entity's item: the plan DynamoDB and memory both apply."""

    key: EntityKey
    adds: Mapping[str, Decimal]  # counters and buckets to ADD
    link_adds: Mapping[str, frozenset[str]]  # link sets to ADD members to
    removes: frozenset[str]  # buckets and sets past their window
    seen: Mapping[str, datetime]  # first_seen / last_seen when this transaction moves them

    @functools.cached_property
    def added_bytes(self) -> int:
        """About what the update adds to its item: new bucket names and numbers, new link members. Cached (the
        update is frozen): where to write it and what its item weighs after are both judged by it."""
        buckets = sum(len(n) + 2 for n in self.adds)
        links = sum(len(n) + sum(len(v) for v in members) for n, members in self.link_adds.items())
        return buckets + links


def _stale(name: str, newest: datetime, current: Mapping[str, int] | None = None) -> bool:
    """A bucket or link set that is past its window as of the entity's newest transaction (`current`: each
    granularity's index at `newest`, when the caller has it)."""
    limit = _bucket_limit(name)
    if limit is None:
        return False
    code, first_stale_at = limit
    now = current[code] if current is not None else GRANULARITIES[code].index(newest)
    return first_stale_at <= now


@functools.lru_cache(maxsize=16384)
def _bucket_limit(name: str) -> tuple[str, int] | None:
    """A bucket's or link set's granularity and the index from which it is past its window (None: not one).
    Cached: every update checks every bucket and set of its item, and their names recur across entities."""
    link = name.startswith("L")
    body = name[2:] if link else name[1:]  # past "L" and the linked kind's code, or the metric letter
    granularity = GRANULARITIES.get(body[:1])
    if granularity is None:
        return None
    keep = LINK_KEEP.get(granularity.code, granularity.keep) if link else granularity.keep
    return granularity.code, int(body[1:]) + keep  # stale when index <= now - keep


def _indexes(moment: datetime) -> Mapping[str, int]:
    """Each granularity's bucket index at `moment`."""
    if moment.tzinfo is UTC:
        return _utc_indexes(moment)
    return {code: g.index(moment) for code, g in GRANULARITIES.items()}


@functools.lru_cache(maxsize=4096)
def _utc_indexes(moment: datetime) -> Mapping[str, int]:
    """Cached for UTC times (equal ones are one instant): a transaction's indexes name the buckets of each of
    its entities, and its entities' newest times are mostly its own. Read only, as it is shared."""
    return MappingProxyType({code: g.index(moment) for code, g in GRANULARITIES.items()})


@dataclass(frozen=True)
class _Counted:
    """What a transaction adds to every entity it touches, worked out once for all of them: the counters and
    the names of its own buckets and link sets (they depend on the transaction alone)."""

    totals: Mapping[str, Decimal]  # transactions, failed, approved_amount
    at: Mapping[str, int]  # each granularity's index at the transaction's time
    buckets: tuple[tuple[str, Decimal], ...]  # the transaction's bucket names and what each adds
    link_names: Mapping[tuple[str, str], str]  # (linked kind, granularity code) -> link set name


def _counted(tx: Transaction, failed_statuses: frozenset[str]) -> _Counted:
    approved = tx.status == "approved"
    failed = tx.status in failed_statuses
    age = account_age_seconds(tx)
    new_account = age is not None and age < 86400
    at = _indexes(tx.timestamp)
    values = {"c": Decimal(1), "x": Decimal(int(failed)), "a": tx.amount if approved else Decimal(0)}
    values["n"] = Decimal(int(new_account))
    totals: dict[str, Decimal] = {"transactions": Decimal(1)}
    if failed:
        totals["failed"] = Decimal(1)
    if approved and tx.amount:
        totals["approved_amount"] = tx.amount
    buckets = tuple(
        (f"{metric}{granularity.code}{at[granularity.code]}", values[metric])
        for metric, granularities in METRICS.items()
        if values[metric]
        for granularity in granularities
    )
    link_names = {
        (kind, g.code): f"L{KIND_CODES[kind]}{g.code}{at[g.code]}" for kind in KIND_CODES for g in (HOURS, DAYS, YEARS)
    }
    return _Counted(totals, at, buckets, link_names)


def plan_update(
    key: EntityKey, history: EntityHistory, tx: Transaction, links: Mapping[str, str], failed_statuses: frozenset[str]
) -> EntityUpdate:
    """The counters `tx` adds to `key`'s entity, with its links to other entities (kind -> value)."""
    return _plan_update(key, history, tx, links, _counted(tx, failed_statuses))


def _plan_update(
    key: EntityKey, history: EntityHistory, tx: Transaction, links: Mapping[str, str], counted: _Counted
) -> EntityUpdate:
    newest = max(filter(None, (history.last_seen, tx.timestamp)))
    # the transaction's own buckets can only be past their window when an entity has seen a later transaction
    current = counted.at if newest == tx.timestamp else _indexes(newest)
    late = current is not counted.at
    adds: dict[str, Decimal] = dict(counted.totals)
    for name, value in counted.buckets:
        if not (late and _stale(name, newest, current)):
            adds[name] = value
    link_adds: dict[str, frozenset[str]] = {}
    granularities = (HOURS, DAYS, YEARS) if key.kind in LONG_LINKED else (HOURS, DAYS)
    for kind, linked in links.items():
        for granularity in granularities:
            name = counted.link_names[(kind, granularity.code)]
            known = history.links.get(name, frozenset())
            if linked not in known and len(known) < LINK_CAP and not (late and _stale(name, newest, current)):
                link_adds[name] = frozenset({linked})
    removes = frozenset(n for n in (*history.buckets, *history.links) if _stale(n, newest, current))
    seen = {}
    if history.first_seen is None or tx.timestamp < history.first_seen:
        seen["first_seen"] = tx.timestamp
    if history.last_seen is None or tx.timestamp > history.last_seen:
        seen["last_seen"] = tx.timestamp
    return EntityUpdate(key, adds, link_adds, removes, seen)


def apply_update(history: EntityHistory, update: EntityUpdate) -> EntityHistory:
    """`update` applied in memory exactly as DynamoDB applies it."""
    removes = update.removes
    buckets = {n: v for n, v in history.buckets.items() if n not in removes} if removes else dict(history.buckets)
    links = {n: v for n, v in history.links.items() if n not in removes} if removes else dict(history.links)
    totals = {"transactions": history.transactions, "failed": history.failed}
    amount = history.approved_amount
    for name, value in update.adds.items():
        if name in totals:
            totals[name] += int(value)
        elif name == "approved_amount":
            amount += value
        else:
            buckets[name] = buckets.get(name, Decimal(0)) + value
    for name, members in update.link_adds.items():
        links[name] = links.get(name, frozenset()) | members
    return EntityHistory(
        transactions=totals["transactions"],
        failed=totals["failed"],
        approved_amount=amount,
        first_seen=update.seen.get("first_seen", history.first_seen),
        last_seen=update.seen.get("last_seen", history.last_seen),
        buckets=buckets,
        links=links,
    )


def plan_updates(
    tx: Transaction, histories: Mapping[EntityKey, EntityHistory], failed_statuses: frozenset[str]
) -> list[EntityUpdate]:
    """One update per entity `tx` touches: shared entities link to the account, the account to each of them."""
    keys = entity_keys(tx)
    counted = _counted(tx, failed_statuses)
    updates = []
    for kind, key in sorted(keys.items()):
        if kind == "customer":
            links = {k: keys[k].value for k in CUSTOMER_LINKED_KINDS if k in keys}
        elif kind in UNLINKED:
            links = {}
        else:
            links = {"customer": tx.customer_id}
        updates.append(_plan_update(key, histories.get(key, NO_HISTORY), tx, links, counted))
    return updates


@dataclass(frozen=True)
class EntityView:
    """What the entity detectors read about one entity as of just before a transaction, with it counted in."""

    key: EntityKey
    history: EntityHistory
    tx: Transaction

    def accounts(self, window: str) -> frozenset[str]:
        return self.history.linked("customer", window, self.tx.timestamp) | {self.tx.customer_id}

    def transactions(self, window: str) -> int:
        return int(self.history.total("c", window, self.tx.timestamp)) + 1

    def failures(self, window: str, failed_statuses: frozenset[str]) -> int:
        return int(self.history.total("x", window, self.tx.timestamp)) + int(self.tx.status in failed_statuses)

    def new_account_transactions(self, window: str) -> int:
        age = account_age_seconds(self.tx)
        mine = int(age is not None and age < 86400)
        return int(self.history.total("n", window, self.tx.timestamp)) + mine


def entity_views(tx: Transaction, histories: Mapping[EntityKey, EntityHistory]) -> dict[str, EntityView]:
    return {kind: EntityView(key, histories.get(key, NO_HISTORY), tx) for kind, key in entity_keys(tx).items()}


def keys_of(transactions: Iterable[Transaction]) -> list[EntityKey]:
    return sorted({key for tx in transactions for key in entity_keys(tx).values()})
