"""Schemathesis hooks for the suite's runs (loaded through SCHEMATHESIS_HOOKS).

/openapi.json states every rule the server applies that a JSON Schema can state. A few rules of POST
/transactions cannot be stated, and the schema names them in `x-` notes instead; generated *valid* data is kept
within those rules here, and only there (negative cases are never touched):
- `timestamp` is at most MAX_FUTURE_SECONDS after the moment the request arrives (`x-not-after`): "now" is not a
  constant a schema can hold;
- `account_created_at` is not after the transaction's timestamp (`x-not-after`): a comparison of two fields;
- `amount`, when `items` are given too, equals their total to a cent (`x-equals`): arithmetic;
- `payment_method` and `card_fingerprint` hold no full card number (`x-refuses`): the Luhn check;
- `metadata`'s nested text, depth, size and numbers (`x-text`, `x-max-depth`, `x-max-bytes`, `x-numbers`).
Each fix uses the server's own rule (shopwatch.domain), so the hook cannot drift from what it stands in for.
POST /rules/backtest's body has the same kind of rules (`x-valid`, `x-not-after`): an expression the CEL checker
accepts, since not after until, at most 31 days between them, nothing a day ahead; a valid body gets an
expression and a period within them (the last day).

Two answers are refusals though no check counts them as such:
- a `next_token` must be one the previous page gave, with the same filters (`x-issued-by`): a schema-valid token
  the server never issued is refused with a 400 naming `next_token`;
- a batch is judged transaction by transaction: an invalid one in a batch is refused in the 202's `rejected` list
  while the others are stored (the contract's partial acceptance), so a 202 that rejects a transaction is the
  server refusing the negative case.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import schemathesis
from pydantic import ValidationError

from shopwatch.config import IngestSettings
from shopwatch.domain.clock import parse_rfc3339, to_iso
from shopwatch.domain.input_rules import contains_card_number
from shopwatch.domain.money import round_cents
from shopwatch.domain.transaction import EARLIEST, EARLIEST_ACCOUNT, MAX_AMOUNT, TransactionIn

MARGIN = timedelta(minutes=1)  # the request is sent a moment after it is generated; the server's clock is ours


def _moment(text: Any) -> datetime | None:
    try:
        return parse_rfc3339(text) if isinstance(text, str) else None
    except ValueError:
        return None


def _within_time_rules(tx: dict[str, Any], now: datetime) -> None:
    timestamp = _moment(tx.get("timestamp"))
    latest = now + timedelta(seconds=IngestSettings.max_future_seconds) - MARGIN
    if timestamp is not None and not EARLIEST <= timestamp <= latest:
        timestamp = now - timedelta(hours=1)
        tx["timestamp"] = to_iso(timestamp)
    created = _moment(tx.get("account_created_at"))
    if created is not None and not EARLIEST_ACCOUNT <= created <= (timestamp or now - MARGIN):
        tx["account_created_at"] = to_iso(EARLIEST_ACCOUNT)


def _amount_matching_items(tx: dict[str, Any]) -> None:
    if tx.get("amount") is None or not isinstance(tx.get("items"), list):
        return
    try:
        total = round_cents(abs(sum(Decimal(str(i["quantity"])) * Decimal(str(i["unit_price"])) for i in tx["items"])))
    except (KeyError, TypeError, InvalidOperation):
        return
    if total <= MAX_AMOUNT:
        tx["amount"] = str(total)
    else:
        del tx["amount"]  # the items alone state it; the derived total has no maximum


def _metadata_the_server_takes(tx: dict[str, Any], now: datetime) -> None:
    if not isinstance(tx.get("metadata"), dict):
        return
    probe = {"transaction_id": "probe", "customer_id": "probe", "amount": 1, "metadata": tx["metadata"]}
    try:
        TransactionIn.model_validate(probe, context={"now": now})
    except ValidationError:
        tx["metadata"] = {}


def _within_unstatable_rules(tx: Any, now: datetime) -> None:
    if not isinstance(tx, dict):
        return
    _within_time_rules(tx, now)
    _amount_matching_items(tx)
    for name in ("payment_method", "card_fingerprint"):
        if isinstance(tx.get(name), str) and contains_card_number(tx[name]):
            tx[name] = "card"
    _metadata_the_server_takes(tx, now)


def _is_ingest(case: Any) -> bool:
    return case.operation.method.upper() == "POST" and case.operation.path == "/transactions"


def _is_backtest(case: Any) -> bool:
    return case.operation.method.upper() == "POST" and case.operation.path == "/rules/backtest"


def _within_backtest_rules(body: Any, now: datetime) -> None:
    if not isinstance(body, dict):
        return
    if "expression" in body:
        body["expression"] = "tx.amount > 100.0"
    body["since"], body["until"] = to_iso(now - timedelta(days=1)), to_iso(now)


@schemathesis.hook
def map_case(context, case):
    """Valid transactions and backtests kept within the rules the schema can only name (see the docstring)."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return case
    now = datetime.now(UTC)
    if _is_backtest(case):
        _within_backtest_rules(case.body, now)
        return case
    if not _is_ingest(case):
        return case
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("transactions"), list):
        for tx in body["transactions"]:
            _within_unstatable_rules(tx, now)
    else:
        _within_unstatable_rules(body, now)
    return case


def _error(response) -> Any:
    try:
        return json.loads(response.content)
    except (ValueError, TypeError):
        return None


def _refused_unissued_token(case, response) -> bool:
    if "next_token" not in (case.query or {}):
        return False
    body = _error(response)
    try:
        return body["error"]["details"] == {"field": "next_token"}
    except (KeyError, TypeError):
        return False


def _refused_in_batch(case, response) -> bool:
    """A 202 to a batch whose `rejected` list refuses a transaction for what it holds (not for repeating an id)."""
    if response.status_code != 202 or not _is_ingest(case) or "transactions" not in (case.body or {}):
        return False
    body = _error(response) or {}
    return any(
        not error.get("message", "").startswith("repeats the transaction_id")
        for rejected in body.get("rejected", [])
        for error in rejected.get("errors", [])
    )


@schemathesis.hook
def filter_failure(context, failure, case, response) -> bool:
    """Keep every failure but the two refusals the module's docstring names."""
    kind = type(failure).__name__
    if kind == "RejectedPositiveData" and _refused_unissued_token(case, response):
        return False
    return not (kind == "AcceptedNegativeData" and _refused_in_batch(case, response))
