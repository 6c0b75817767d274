"""StateTable: what the detectors learn (customer profiles, SKU statistics, recent activity), the catalog,
and the markers that make stream processing exactly-once.

Key layout (pk / sk):
    CUST#<customer>      / PROFILE          counters and countries of a customer (ADD only), and the account's
                                            entity buckets and links (the `customer` entity lives here)
    SKU#<sku>#<currency> / STATS            line quantities and a log-price histogram (ADD only)
    SKU#<sku>            / CATALOG          catalog price and name
    RECENT#<customer>    / <time>#<txn id>  one item per transaction, for velocity; expires after a day
    TXN#<txn id>         / DETECT#<part>    marker: this transaction's part was applied; holds the findings
    ENT#<kind>#<value>   / AGG              an entity's totals, time buckets and capped link sets
                                            (kinds: email, device, ip, ipnet, card)
Derived items carry `expires_at` (TTL).

Entity writes, chosen per write by what they cost (DynamoDB bills a transactional write twice):
- the account's buckets and links ride on the profile update every transaction makes anyway (inside the
  transaction, guarded by the marker; the profile's totals and first/last seen are the account's);
- another entity's update is a plain conditional UpdateItem after the transaction (1 unit per KB instead of
  2), made idempotent by the item itself: it ADDs an 8-character token of the transaction id to `T<hour>` (the
  hour the record was received) on the condition that the token is not there yet. A redelivered or replayed
  record finds its token and changes nothing; a lost answer retried finds it too; a crash between the
  transaction and these writes is finished by the redelivery (the marker's `entities_outside` names the kinds
  written outside; those whose item lacks the token are written then, planned from the items as they stand).
  Tokens live 26 hours, beyond the 24 h a stream keeps a record: no delivery, retry or dead-letter replay of a
  record can come later.
- a busy entity, whose tokens would make the plain write cost more than the transactional one (its item would
  pass the next KB: about 100 transactions in 26 hours), is updated inside the transaction instead, guarded by
  the marker, and adds no token; as its tokens expire it goes back to plain writes.

Hot keys: every entity is its own partition key, never a shared one (no "all devices" item, no date-keyed
item), so a hot device or IP heats only its own item and no other key's partition: DynamoDB's adaptive
capacity moves a busy item onto a partition of its own, where it takes up to 1,000 write units a second.
Items stay small (bounded buckets, capped link sets, tokens that expire), so a write costs 1-2 units: ~500-1,000
updates a second on one device or IP before DynamoDB throttles that item, and then only the stream records
touching it are retried (with_retries, then Lambda's retry of that record); other customers' writes go on.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from shopwatch.detectors.entities import KIND_CODES, NO_HISTORY, EntityHistory, EntityKey, EntityUpdate
from shopwatch.detectors.findings import Finding
from shopwatch.detectors.history import (
    NO_CUSTOMER,
    NO_SKU,
    CatalogEntry,
    CustomerDelta,
    CustomerHistory,
    PriceBin,
    RecentTransaction,
    SkuDelta,
    SkuHistory,
)
from shopwatch.detectors.model import ModelScore
from shopwatch.domain.clock import epoch_seconds, parse_iso, to_iso
from shopwatch.domain.transaction import Transaction
from shopwatch.storage.aws import client, with_retries
from shopwatch.storage.batch_reads import get_many
from shopwatch.storage.items import add_counters_action, from_attributes, to_attribute, to_attributes

PROFILE_RETENTION = timedelta(days=400)
RECENT_RETENTION = timedelta(days=1)
ENTITY_RETENTION = timedelta(days=400)  # as profiles: the year of links outlives the 30-day counters
MARKER_RETENTION = timedelta(days=7)  # far beyond the stream's 24 h retention and the records' maximum age
_BIN_ATTRIBUTE = re.compile(r"^p([bs])(m?)(\d+)$")  # pb<bin>: line count, ps<bin>: price sum; m = negative
TOKEN_HOURS = 26  # applied-transaction tokens kept: a stream keeps a record 24 h, every delivery comes within it
_TOKEN_ATTRIBUTE = re.compile(r"^T(-?\d+)$")
_CUSTOMER_TOTALS = frozenset({"transactions", "failed", "approved_amount"})  # the profile's own counters
KB = 1024


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def profile_key(customer_id: str) -> dict[str, Any]:
    return _key(f"CUST#{customer_id}", "PROFILE")


def sku_stats_key(sku: str, currency: str) -> dict[str, Any]:
    return _key(f"SKU#{sku}#{currency}", "STATS")


def catalog_key(sku: str) -> dict[str, Any]:
    return _key(f"SKU#{sku}", "CATALOG")


def entity_key(key: EntityKey) -> dict[str, Any]:
    """One item per entity, so that heat stays on the entity: a hot device or IP shares no partition key with
    anything else, and DynamoDB's adaptive capacity isolates a hot item on a partition of its own. The account
    (kind customer) is its profile item."""
    if key.kind == "customer":
        return profile_key(key.value)
    return _key(f"ENT#{key.kind}#{key.value}", "AGG")


@functools.lru_cache(maxsize=4096)
def applied_token(transaction_id: str) -> str:
    """8 characters (48 bits) naming a transaction on an entity item: a false match among the few dozen tokens
    one item holds has odds below 1e-12, and 8 bytes instead of a 36-character id keep the item small. Cached:
    each entity written outside the transaction asks for it twice (its condition, then the tokens learned)."""
    digest = hashlib.blake2b(transaction_id.encode(), digest_size=6).digest()
    return base64.b64encode(digest).decode()


def token_attribute(received_at: datetime) -> str:
    """Where an entity item keeps the tokens of the records received in that hour (the same on every delivery)."""
    if received_at.tzinfo is UTC:
        return _utc_token_attribute(received_at)
    return f"T{math.floor(received_at.timestamp() / 3600)}"


@functools.lru_cache(maxsize=4096)
def _utc_token_attribute(received_at: datetime) -> str:
    """Cached for UTC times (equal ones are one instant): each entity written outside asks twice per record."""
    return f"T{math.floor(received_at.timestamp() / 3600)}"


def marker_key(transaction_id: str, part: int) -> dict[str, Any]:
    return _key(f"TXN#{transaction_id}", f"DETECT#{part}")


def _bin_attributes(index: int) -> tuple[str, str]:
    suffix = f"m{-index}" if index < 0 else str(index)
    return f"pb{suffix}", f"ps{suffix}"


@dataclass(frozen=True)
class Marker:
    transaction_id: str
    part: int
    findings: tuple[Finding, ...] = ()
    risk_score: Decimal = Decimal(0)
    outside: tuple[str, ...] = ()  # entity kinds written after the transaction, each guarded by its token
    models: tuple[ModelScore, ...] = ()  # the champion's score and the challenger's (shadow), when they judged it
    rules: tuple[tuple[str, int, str], ...] = ()  # the analysts' rules it matched: (rule_id, version, mode)


@dataclass(frozen=True)
class AppliedTokens:
    """What an entity item says about the transactions applied to it outside a DynamoDB transaction, and how big
    it is (the cost of the next write)."""

    tokens: Mapping[str, frozenset[str]] = field(default_factory=dict)  # "T<hour>" -> tokens
    item_bytes: int = 0

    def holds(self, tx: Transaction) -> bool:
        return applied_token(tx.transaction_id) in self.tokens.get(token_attribute(tx.received_at), frozenset())

    def stale(self, now: datetime, keep: str) -> frozenset[str]:
        """Token sets older than TOKEN_HOURS (never `keep`, the one being written)."""
        current = math.floor(now.timestamp() / 3600)
        return frozenset(n for n in self.tokens if n != keep and int(n[1:]) <= current - TOKEN_HOURS)

    def token_bytes(self) -> int:
        return sum(len(n) + 8 * len(v) for n, v in self.tokens.items())

    def with_token(self, tx: Transaction, now: datetime, added_bytes: int) -> AppliedTokens:
        name = token_attribute(tx.received_at)
        tokens = {n: v for n, v in self.tokens.items() if n not in self.stale(now, name)}
        tokens[name] = tokens.get(name, frozenset()) | {applied_token(tx.transaction_id)}
        return AppliedTokens(tokens, self.item_bytes + added_bytes)


NO_TOKENS = AppliedTokens()  # an entity item not read or not there: shared (frozen, its mapping never written to)


def write_outside(tokens: AppliedTokens, update_bytes: int) -> bool:
    """Whether an entity update costs less (or the same) as a plain conditional write with its token than inside
    the transaction: 1 unit per KB of the item with its tokens, against 2 per KB without them."""
    base = max(0, tokens.item_bytes - tokens.token_bytes()) + update_bytes
    plain = math.ceil((base + tokens.token_bytes() + 20) / KB)
    return plain <= 2 * max(1, math.ceil(base / KB))


class StateRepository:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    # --- reads -----------------------------------------------------------------------------------------
    def get_markers(self, transaction_ids: list[str], parts: dict[str, int]) -> dict[tuple[str, int], Marker]:
        keys = [marker_key(t, p) for t in transaction_ids for p in range(parts.get(t, 1))]
        markers = {}
        # the batch's reads are safe to repeat: retried, one throttled read does not fail the whole batch (a
        # function error, which Lambda counts against the batch's retry attempts, then dead-letters)
        for item in with_retries(lambda: list(get_many(self.table_name, keys))):
            marker = _marker_from_item(item)
            markers[(marker.transaction_id, marker.part)] = marker
        return markers

    def get_profiles(self, customer_ids: list[str]) -> dict[str, CustomerHistory]:
        profiles = dict.fromkeys(customer_ids, NO_CUSTOMER)
        for item in get_many(self.table_name, [profile_key(c) for c in customer_ids]):
            profiles[item["pk"].removeprefix("CUST#")] = _profile_from_item(item)
        return profiles

    def get_sku_stats(self, skus: list[tuple[str, str]]) -> dict[tuple[str, str], SkuHistory]:
        stats = dict.fromkeys(skus, NO_SKU)
        wanted = {f"SKU#{sku}#{currency}": (sku, currency) for sku, currency in skus}
        for item in with_retries(lambda: list(get_many(self.table_name, [sku_stats_key(s, c) for s, c in skus]))):
            stats[wanted[item["pk"]]] = _sku_from_item(item)
        return stats

    def get_entities(self, keys: list[EntityKey]) -> dict[EntityKey, EntityHistory]:
        return self.get_customers_and_entities([], keys)[1]

    def get_customers_and_entities(
        self, customer_ids: list[str], keys: list[EntityKey]
    ) -> tuple[dict[str, CustomerHistory], dict[EntityKey, EntityHistory], dict[EntityKey, AppliedTokens]]:
        """Profiles, entity histories and the entities' applied tokens, in one BatchGetItem (an account's entity
        is its profile item, read once for both)."""
        customers = sorted(set(customer_ids) | {k.value for k in keys if k.kind == "customer"})
        others = [k for k in keys if k.kind != "customer"]
        wanted = {f"ENT#{k.kind}#{k.value}": k for k in others}
        profiles = dict.fromkeys(customers, NO_CUSTOMER)
        histories = dict.fromkeys(keys, NO_HISTORY)
        tokens: dict[EntityKey, AppliedTokens] = {}
        request = [profile_key(c) for c in customers] + [entity_key(k) for k in others]
        # a read is safe to repeat: retried here, one throttled read does not send the whole batch back
        for item in with_retries(lambda: list(get_many(self.table_name, request))):
            if item["sk"] == "PROFILE":
                customer = item["pk"].removeprefix("CUST#")
                profiles[customer] = _profile_from_item(item)
                histories[EntityKey("customer", customer)] = _entity_from_item(item, profiles[customer])
            else:
                key = wanted[item["pk"]]
                histories[key] = _entity_from_item(item)
                tokens[key] = _tokens_from_item(item)
        return {c: profiles[c] for c in customer_ids}, histories, tokens

    def get_catalog(self, skus: list[str]) -> dict[str, CatalogEntry]:
        return {
            item["pk"].removeprefix("SKU#"): CatalogEntry(
                sku=item["pk"].removeprefix("SKU#"),
                price=Decimal(item["price"]),
                currency=item["currency"],
                name=item.get("name"),
            )
            for item in with_retries(lambda: list(get_many(self.table_name, [catalog_key(s) for s in skus])))
        }

    def get_recent(self, customer_id: str, since: datetime, until: datetime) -> list[RecentTransaction]:
        recent: list[RecentTransaction] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :lo AND :hi",
            "ExpressionAttributeValues": {
                ":pk": {"S": f"RECENT#{customer_id}"},
                ":lo": {"S": to_iso(since)},
                ":hi": {"S": to_iso(until) + "~"},
            },
            "ConsistentRead": True,
        }
        while True:
            response = with_retries(lambda: client("dynamodb").query(**kwargs))
            for item in map(from_attributes, response.get("Items", [])):
                moment, _, tid = item["sk"].partition("#")
                recent.append(RecentTransaction(tid, parse_iso(moment), item["status"]))
            if "LastEvaluatedKey" not in response:
                return recent
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    # --- guarded writes (actions for write_atomically) -------------------------------------------------------
    def marker_action(self, marker: Marker, now: datetime) -> dict[str, Any]:
        item = {
            "pk": f"TXN#{marker.transaction_id}",
            "sk": f"DETECT#{marker.part}",
            "findings": json.dumps([f.to_dict() for f in marker.findings]),
            "risk_score": marker.risk_score,
            "processed_at": to_iso(now),
            "expires_at": epoch_seconds(now + MARKER_RETENTION),
        }
        if marker.outside:
            item["entities_outside"] = "".join(KIND_CODES[k] for k in marker.outside)
        if marker.models:
            item["models"] = json.dumps([m.to_dict() for m in marker.models])
        if marker.rules:
            item["rules"] = json.dumps([list(r) for r in marker.rules])
        return {
            "Put": {
                "TableName": self.table_name,
                "Item": to_attributes(item),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    def profile_action(
        self,
        customer_id: str,
        delta: CustomerDelta,
        customer_name: str | None,
        now: datetime,
        seen: dict[str, datetime] | None = None,
        entity: EntityUpdate | None = None,
    ) -> dict[str, Any]:
        """ADD this transaction's counters; SET `seen` ({"first_seen"|"last_seen": time}) when it moves them;
        with `entity` (the account's entity update), its buckets and links too (its totals and first/last seen
        are the profile's own: the same counts of the same transactions).

        The caller decides from the profile it read whether the time is a new first or last; ADDs stay
        exact in any order, and first/last seen are exact for records of one customer processed in order
        (the common case) and off by at most a race between shards otherwise.
        """
        adds = {
            "transactions": Decimal(delta.transactions),
            "approved": Decimal(delta.approved),
            "failed": Decimal(delta.failed),
            "amount_sum": delta.amount_sum,
            "amount_sumsq": delta.amount_sumsq,
            "quantity_lines": Decimal(delta.quantity_lines),
            "quantity_logsum": delta.quantity_logsum,
            "quantity_logsumsq": delta.quantity_logsumsq,
        }
        names = {f"#{k}": k for k in adds}
        values = {f":{k}": to_attribute(v) for k, v in adds.items()}
        clauses = [f"#{k} :{k}" for k in adds]
        if delta.countries:
            names["#countries"] = "countries"
            values[":countries"] = to_attribute(set(delta.countries))
            clauses.append("#countries :countries")
        sets = ["expires_at = :expires", "#kind = :kind"]  # `kind` puts the profile in the by-kind index
        names["#kind"] = "kind"
        values[":expires"] = to_attribute(epoch_seconds(now + PROFILE_RETENTION))
        values[":kind"] = to_attribute("customer")
        if customer_name:
            sets.append("customer_name = :name")
            values[":name"] = to_attribute(customer_name)
        for attribute, moment in (seen or {}).items():
            sets.append(f"{attribute} = :{attribute}")
            values[f":{attribute}"] = to_attribute(to_iso(moment))
        removes: list[str] = []
        if entity is not None:
            adds_of_entity = {n: v for n, v in entity.adds.items() if n not in _CUSTOMER_TOTALS}
            _entity_clauses(adds_of_entity, entity.link_adds, entity.removes, names, values, clauses, removes)
        expression = f"ADD {', '.join(clauses)} SET {', '.join(sets)}"
        if removes:
            expression += f" REMOVE {', '.join(removes)}"
        return {
            "Update": {
                "TableName": self.table_name,
                "Key": profile_key(customer_id),
                "UpdateExpression": expression,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
        }

    def sku_action(self, delta: SkuDelta, now: datetime) -> dict[str, Any]:
        adds: dict[str, Decimal] = {
            "lines": Decimal(delta.lines),
            "quantity_logsum": delta.quantity_logsum,
            "quantity_logsumsq": delta.quantity_logsumsq,
        }
        for index, price_bin in delta.price_bins.items():
            count_name, sum_name = _bin_attributes(index)
            adds |= {count_name: Decimal(price_bin.count), sum_name: price_bin.price_sum}
        key = sku_stats_key(delta.sku, delta.currency)
        return add_counters_action(self.table_name, key, adds, epoch_seconds(now + PROFILE_RETENTION))

    def entity_action(self, update: EntityUpdate, now: datetime, drop: frozenset[str] = frozenset()) -> dict[str, Any]:
        """ADD the counters and link-set members, REMOVE what fell out of its window (and `drop`: expired token
        sets), SET first/last seen. For TransactWriteItems: the marker guards it."""
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        adds: list[str] = []
        removes: list[str] = []
        sets = ["expires_at = :expires"]
        _entity_clauses(update.adds, update.link_adds, update.removes | drop, names, values, adds, removes)
        for attribute, moment in update.seen.items():
            sets.append(f"{attribute} = :{attribute}")
            values[f":{attribute}"] = to_attribute(to_iso(moment))
        values[":expires"] = to_attribute(epoch_seconds(now + ENTITY_RETENTION))
        expression = f"ADD {', '.join(adds)} SET {', '.join(sets)}"
        if removes:
            expression += f" REMOVE {', '.join(removes)}"
        return {
            "Update": {
                "TableName": self.table_name,
                "Key": entity_key(update.key),
                "UpdateExpression": expression,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
        }

    def guarded_entity_request(
        self, update: EntityUpdate, tx: Transaction, tokens: AppliedTokens, now: datetime
    ) -> dict[str, Any]:
        """`update` as a plain UpdateItem that applies once: it ADDs the transaction's token to the hour it was
        received, on the condition that the token is not there yet (and drops token sets past TOKEN_HOURS)."""
        name = token_attribute(tx.received_at)
        request = self.entity_action(update, now, drop=tokens.stale(now, name))["Update"]
        token = applied_token(tx.transaction_id)
        request["ExpressionAttributeNames"]["#tok"] = name
        request["ExpressionAttributeValues"][":tok"] = {"SS": [token]}
        request["ExpressionAttributeValues"][":token"] = {"S": token}
        request["UpdateExpression"] = request["UpdateExpression"].replace("ADD ", "ADD #tok :tok, ", 1)
        request["ConditionExpression"] = "NOT contains(#tok, :token)"
        return request

    def apply_guarded(self, update: EntityUpdate, tx: Transaction, tokens: AppliedTokens, now: datetime) -> bool:
        """Apply `update` outside a transaction, once: False when the item already holds the transaction's token
        (an earlier delivery, or an earlier attempt of this call whose answer was lost, applied it)."""
        request = self.guarded_entity_request(update, tx, tokens, now)
        try:
            with_retries(lambda: client("dynamodb").update_item(**request))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def recent_action(self, tx: Transaction, now: datetime) -> dict[str, Any]:
        """Written once, beside the marker. It lives a day after the later of the transaction and its
        processing: a shop replaying last month's orders (or a benchmark replaying 2011's) needs the recent
        activity it just wrote, and TTL would remove an item stamped a month ago within minutes."""
        item = {
            "pk": f"RECENT#{tx.customer_id}",
            "sk": f"{to_iso(tx.timestamp)}#{tx.transaction_id}",
            "status": tx.status,
            "expires_at": epoch_seconds(max(tx.timestamp, now) + RECENT_RETENTION),
        }
        return {"Put": {"TableName": self.table_name, "Item": to_attributes(item)}}

    def get_detection(self, transaction_id: str) -> list[Marker]:
        """What DetectFunction concluded about a transaction (one marker per part), while the markers live."""
        response = client("dynamodb").query(
            TableName=self.table_name,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :detect)",
            ExpressionAttributeValues={":pk": {"S": f"TXN#{transaction_id}"}, ":detect": {"S": "DETECT#"}},
            ConsistentRead=True,
        )
        return [_marker_from_item(item) for item in map(from_attributes, response.get("Items", []))]

    # --- catalog -----------------------------------------------------------------------------------------------
    def put_catalog_entry(self, entry: CatalogEntry) -> None:
        self.put_catalog_entries([entry])

    def put_catalog_entries(self, entries: list[CatalogEntry]) -> None:
        """The loaders' and tests' way in: CatalogRepository owns the item layout and the batch writes."""
        from shopwatch.storage.catalog import CatalogRecord, CatalogRepository  # it imports this module

        CatalogRepository(self.table_name).put_many([CatalogRecord(e) for e in entries])

    def get_profile_item(self, customer_id: str) -> dict[str, Any] | None:
        response = client("dynamodb").get_item(
            TableName=self.table_name, Key=profile_key(customer_id), ConsistentRead=True
        )
        return from_attributes(response["Item"]) if "Item" in response else None


def _entity_clauses(
    adds: Mapping[str, Decimal],
    link_adds: Mapping[str, frozenset[str]],
    removes: frozenset[str],
    names: dict[str, str],
    values: dict[str, Any],
    add_clauses: list[str],
    remove_clauses: list[str],
) -> None:
    """An entity update's ADD and REMOVE clauses, with placeholders of their own (#e.., #f.., #g..)."""
    for (name, value), (name_key, value_key, clause) in zip(adds.items(), _placeholders("e", len(adds)), strict=True):
        names[name_key], values[value_key] = name, {"N": str(value)}
        add_clauses.append(clause)
    for (name, members), (name_key, value_key, clause) in zip(
        link_adds.items(), _placeholders("f", len(link_adds)), strict=True
    ):
        names[name_key], values[value_key] = name, {"SS": sorted(members)}
        add_clauses.append(clause)
    for name, (name_key, _, _) in zip(sorted(removes), _placeholders("g", len(removes)), strict=True):
        names[name_key] = name
        remove_clauses.append(name_key)


@functools.lru_cache(maxsize=512)
def _placeholders(letter: str, count: int) -> tuple[tuple[str, str, str], ...]:
    """The first `count` placeholders of one letter: (#x<i>, :x<i>, "#x<i> :x<i>"), formatted once, not for
    every clause of every update."""
    return tuple((f"#{letter}{i}", f":{letter}{i}", f"#{letter}{i} :{letter}{i}") for i in range(count))


def _marker_from_item(item: dict[str, Any]) -> Marker:
    codes = {code: kind for kind, code in KIND_CODES.items()}
    return Marker(
        item["pk"].removeprefix("TXN#"),
        int(item["sk"].removeprefix("DETECT#")),
        tuple(Finding.from_dict(f) for f in json.loads(item.get("findings", "[]"))),
        Decimal(item.get("risk_score", 0)),
        tuple(codes[c] for c in item.get("entities_outside", "")),
        tuple(ModelScore.from_dict(m) for m in json.loads(item.get("models", "[]"))),
        tuple((r[0], int(r[1]), r[2]) for r in json.loads(item.get("rules", "[]"))),
    )


def _profile_from_item(item: dict[str, Any]) -> CustomerHistory:
    def number(name: str) -> Decimal:
        return Decimal(item.get(name, 0))

    return CustomerHistory(
        transactions=int(number("transactions")),
        approved=int(number("approved")),
        failed=int(number("failed")),
        amount_sum=number("amount_sum"),
        amount_sumsq=number("amount_sumsq"),
        quantity_lines=int(number("quantity_lines")),
        quantity_logsum=number("quantity_logsum"),
        quantity_logsumsq=number("quantity_logsumsq"),
        countries=frozenset(item.get("countries", set())),
        first_seen=parse_iso(item["first_seen"]) if "first_seen" in item else None,
        last_seen=parse_iso(item["last_seen"]) if "last_seen" in item else None,
    )


_ENTITY_BUCKET = re.compile(r"^[cxan][sfhd]-?\d+$")


def _entity_from_item(item: dict[str, Any], profile: CustomerHistory | None = None) -> EntityHistory:
    """An entity item as its history; for an account, its profile item (totals and first/last seen are the
    profile's)."""
    buckets = {n: Decimal(v) for n, v in item.items() if _ENTITY_BUCKET.match(n)}
    links = {n: frozenset(v) for n, v in item.items() if n.startswith("L") and isinstance(v, set)}
    if profile is not None:
        return EntityHistory(
            transactions=profile.transactions,
            failed=profile.failed,
            approved_amount=profile.amount_sum,
            first_seen=profile.first_seen,
            last_seen=profile.last_seen,
            buckets=buckets,
            links=links,
        )
    return EntityHistory(
        transactions=int(item.get("transactions", 0)),
        failed=int(item.get("failed", 0)),
        approved_amount=Decimal(item.get("approved_amount", 0)),
        first_seen=parse_iso(item["first_seen"]) if "first_seen" in item else None,
        last_seen=parse_iso(item["last_seen"]) if "last_seen" in item else None,
        buckets=buckets,
        links=links,
    )


def _tokens_from_item(item: dict[str, Any]) -> AppliedTokens:
    tokens = {n: frozenset(v) for n, v in item.items() if _TOKEN_ATTRIBUTE.match(n) and isinstance(v, set)}
    return AppliedTokens(tokens, item_bytes(item))


def item_bytes(item: Mapping[str, Any]) -> int:
    """An item's size as DynamoDB bills it ("Item sizes and formats"): attribute names plus values (numbers
    about one byte per two significant digits, plus one)."""
    return sum(len(name.encode()) + _value_bytes(value) for name, value in item.items())


def _value_bytes(value: Any) -> int:
    if isinstance(value, bool) or value is None:
        return 1
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, bytes | bytearray):
        return len(value)
    if isinstance(value, int | Decimal):
        return math.ceil(len(Decimal(value).normalize().as_tuple().digits) / 2) + 1
    if isinstance(value, set | frozenset):
        return sum(_value_bytes(v) for v in value)
    if isinstance(value, list | tuple):
        return 3 + sum(_value_bytes(v) + 1 for v in value)
    if isinstance(value, dict):
        return 3 + sum(len(str(k).encode()) + _value_bytes(v) + 1 for k, v in value.items())
    raise TypeError(f"not a DynamoDB value: {type(value).__name__}")


def _sku_from_item(item: dict[str, Any]) -> SkuHistory:
    counts: dict[int, int] = {}
    sums: dict[int, Decimal] = {}
    for name, value in item.items():
        match = _BIN_ATTRIBUTE.match(name)
        if match:
            kind, negative, number = match.groups()
            index = -int(number) if negative else int(number)
            if kind == "b":
                counts[index] = int(value)
            else:
                sums[index] = Decimal(value)
    bins = {index: PriceBin(count, sums.get(index, Decimal(0))) for index, count in counts.items()}
    return SkuHistory(
        lines=int(item.get("lines", 0)),
        quantity_logsum=Decimal(item.get("quantity_logsum", 0)),
        quantity_logsumsq=Decimal(item.get("quantity_logsumsq", 0)),
        price_bins=bins,
    )
