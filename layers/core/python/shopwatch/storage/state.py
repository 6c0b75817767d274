"""StateTable: what the detectors learn (customer profiles, SKU statistics, recent activity), the catalog,
and the markers that make stream processing exactly-once.

Key layout (pk / sk):
    CUST#<customer>      / PROFILE          counters and countries of a customer (ADD only)
    SKU#<sku>#<currency> / STATS            line quantities and a log-price histogram (ADD only)
    SKU#<sku>            / CATALOG          catalog price and name
    RECENT#<customer>    / <time>#<txn id>  one item per transaction, for velocity; expires after a day
    TXN#<txn id>         / DETECT#<part>    marker: this transaction's part was applied; holds the findings
    ENT#<kind>#<value>   / AGG              an entity's totals, time buckets and capped link sets
                                            (kinds: customer, email, device, ip, ipnet, card)
Derived items carry `expires_at` (TTL).
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from shopwatch.detectors.entities import EntityHistory, EntityKey, EntityUpdate
from shopwatch.detectors.findings import Finding
from shopwatch.detectors.history import (
    CatalogEntry,
    CustomerDelta,
    CustomerHistory,
    PriceBin,
    RecentTransaction,
    SkuDelta,
    SkuHistory,
)
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
    anything else, and DynamoDB's adaptive capacity isolates a hot item on a partition of its own."""
    return _key(f"ENT#{key.kind}#{key.value}", "AGG")


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


class StateRepository:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    # --- reads -----------------------------------------------------------------------------------------
    def get_markers(self, transaction_ids: list[str], parts: dict[str, int]) -> dict[tuple[str, int], Marker]:
        keys = [marker_key(t, p) for t in transaction_ids for p in range(parts.get(t, 1))]
        markers = {}
        for item in get_many(self.table_name, keys):
            tid, part = item["pk"].removeprefix("TXN#"), int(item["sk"].removeprefix("DETECT#"))
            findings = tuple(Finding.from_dict(f) for f in json.loads(item.get("findings", "[]")))
            markers[(tid, part)] = Marker(tid, part, findings, Decimal(item.get("risk_score", 0)))
        return markers

    def get_profiles(self, customer_ids: list[str]) -> dict[str, CustomerHistory]:
        profiles = {c: CustomerHistory() for c in customer_ids}
        for item in get_many(self.table_name, [profile_key(c) for c in customer_ids]):
            profiles[item["pk"].removeprefix("CUST#")] = _profile_from_item(item)
        return profiles

    def get_sku_stats(self, skus: list[tuple[str, str]]) -> dict[tuple[str, str], SkuHistory]:
        stats = {k: SkuHistory() for k in skus}
        wanted = {f"SKU#{sku}#{currency}": (sku, currency) for sku, currency in skus}
        for item in get_many(self.table_name, [sku_stats_key(s, c) for s, c in skus]):
            stats[wanted[item["pk"]]] = _sku_from_item(item)
        return stats

    def get_entities(self, keys: list[EntityKey]) -> dict[EntityKey, EntityHistory]:
        wanted = {f"ENT#{k.kind}#{k.value}": k for k in keys}
        found = {k: EntityHistory() for k in keys}
        # a read is safe to repeat: retried here, one throttled read does not send the whole batch back
        items = with_retries(lambda: list(get_many(self.table_name, [entity_key(k) for k in keys])))
        for item in items:
            found[wanted[item["pk"]]] = _entity_from_item(item)
        return found

    def get_catalog(self, skus: list[str]) -> dict[str, CatalogEntry]:
        return {
            item["pk"].removeprefix("SKU#"): CatalogEntry(
                sku=item["pk"].removeprefix("SKU#"),
                price=Decimal(item["price"]),
                currency=item["currency"],
                name=item.get("name"),
            )
            for item in get_many(self.table_name, [catalog_key(s) for s in skus])
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
            response = client("dynamodb").query(**kwargs)
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
    ) -> dict[str, Any]:
        """ADD this transaction's counters; SET `seen` ({"first_seen"|"last_seen": time}) when it moves them.

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
        return {
            "Update": {
                "TableName": self.table_name,
                "Key": profile_key(customer_id),
                "UpdateExpression": f"ADD {', '.join(clauses)} SET {', '.join(sets)}",
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

    def entity_action(self, update: EntityUpdate, now: datetime) -> dict[str, Any]:
        """ADD the counters and link-set members, REMOVE what fell out of its window, SET first/last seen."""
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        adds, sets, removes = [], ["expires_at = :expires"], []
        for i, (name, value) in enumerate(update.adds.items()):
            names[f"#a{i}"], values[f":a{i}"] = name, to_attribute(value)
            adds.append(f"#a{i} :a{i}")
        for i, (name, members) in enumerate(update.link_adds.items()):
            names[f"#l{i}"], values[f":l{i}"] = name, to_attribute(set(members))
            adds.append(f"#l{i} :l{i}")
        for i, name in enumerate(sorted(update.removes)):
            names[f"#r{i}"] = name
            removes.append(f"#r{i}")
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

    def recent_action(self, tx: Transaction) -> dict[str, Any]:
        """Idempotent by nature (same key, same content), so it needs no guard of its own."""
        item = {
            "pk": f"RECENT#{tx.customer_id}",
            "sk": f"{to_iso(tx.timestamp)}#{tx.transaction_id}",
            "status": tx.status,
            "expires_at": epoch_seconds(tx.timestamp + RECENT_RETENTION),
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
        markers = []
        for item in map(from_attributes, response.get("Items", [])):
            findings = tuple(Finding.from_dict(f) for f in json.loads(item.get("findings", "[]")))
            markers.append(
                Marker(transaction_id, int(item["sk"].removeprefix("DETECT#")), findings, Decimal(item["risk_score"]))
            )
        return markers

    # --- catalog -----------------------------------------------------------------------------------------------
    def put_catalog_entry(self, entry: CatalogEntry) -> None:
        client("dynamodb").put_item(TableName=self.table_name, Item=to_attributes(_catalog_item(entry)))

    def put_catalog_entries(self, entries: list[CatalogEntry]) -> None:
        """BatchWriteItem in 25s; what DynamoDB leaves unprocessed is sent again with backoff."""
        for start in range(0, len(entries), 25):
            requests = [{"PutRequest": {"Item": to_attributes(_catalog_item(e))}} for e in entries[start : start + 25]]
            pending = {self.table_name: requests}
            for attempt in range(8):
                pending = client("dynamodb").batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
                if not pending:
                    break
                time.sleep(min(0.05 * 2**attempt, 2.0))
            if pending:
                raise RuntimeError("DynamoDB left catalog writes unprocessed after 8 attempts")

    def get_profile_item(self, customer_id: str) -> dict[str, Any] | None:
        response = client("dynamodb").get_item(
            TableName=self.table_name, Key=profile_key(customer_id), ConsistentRead=True
        )
        return from_attributes(response["Item"]) if "Item" in response else None


def _catalog_item(entry: CatalogEntry) -> dict[str, Any]:
    item = {"pk": f"SKU#{entry.sku}", "sk": "CATALOG", "price": entry.price, "currency": entry.currency}
    if entry.name:
        item["name"] = entry.name
    return item


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


def _entity_from_item(item: dict[str, Any]) -> EntityHistory:
    return EntityHistory(
        transactions=int(item.get("transactions", 0)),
        failed=int(item.get("failed", 0)),
        approved_amount=Decimal(item.get("approved_amount", 0)),
        first_seen=parse_iso(item["first_seen"]) if "first_seen" in item else None,
        last_seen=parse_iso(item["last_seen"]) if "last_seen" in item else None,
        buckets={n: Decimal(v) for n, v in item.items() if _ENTITY_BUCKET.match(n)},
        links={n: frozenset(v) for n, v in item.items() if n.startswith("L") and isinstance(v, set)},
    )


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
