"""All-or-nothing writes with DynamoDB TransactWriteItems, and a plain account of why one was refused.

Why: a detected transaction's marker, its profile counters and its alert updates must land together or not
at all. Then a redelivered stream record either finds the marker (and changes nothing) or finds nothing
(and applies everything once).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from shopwatch.storage.aws import client

MAX_ACTIONS = 100


@dataclass(frozen=True)
class TransactionRefused(Exception):
    """The write was cancelled; `reasons[i]` is DynamoDB's code for action i ("None" when that one was fine)."""

    reasons: tuple[str, ...]

    def failed_conditions(self) -> list[int]:
        return [i for i, code in enumerate(self.reasons) if code == "ConditionalCheckFailed"]

    def __str__(self) -> str:
        return f"transaction cancelled: {', '.join(self.reasons)}"


def write_atomically(actions: list[dict[str, Any]]) -> None:
    """Apply up to 100 Put/Update/ConditionCheck actions atomically; raise TransactionRefused on a cancel."""
    if not actions:
        return
    if len(actions) > MAX_ACTIONS:
        raise ValueError(f"a DynamoDB transaction holds at most {MAX_ACTIONS} actions, got {len(actions)}")
    try:
        client("dynamodb").transact_write_items(TransactItems=actions)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
            raise
        reasons = exc.response.get("CancellationReasons") or _reasons_from_message(exc, len(actions))
        raise TransactionRefused(tuple(r.get("Code", "None") if isinstance(r, dict) else r for r in reasons)) from exc


def _reasons_from_message(exc: ClientError, count: int) -> list[str]:
    """Older SDK paths put the reasons only in the message: "... reasons [None, ConditionalCheckFailed]"."""
    message = exc.response.get("Error", {}).get("Message", "")
    if "[" in message and "]" in message:
        inner = message[message.rindex("[") + 1 : message.rindex("]")]
        codes = [c.strip() for c in inner.split(",")]
        if len(codes) == count:
            return codes
    return ["Unknown"] * count
