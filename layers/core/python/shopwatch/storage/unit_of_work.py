"""All-or-nothing writes with DynamoDB TransactWriteItems, and a plain account of why one was refused.

Why: a detected transaction's marker, its profile counters and its alert updates must land together or not
at all. Then a redelivered stream record either finds the marker (and changes nothing) or finds nothing
(and applies everything once).

Each action has a name its caller chose (("marker", transaction id), ("alert", alert id), ...), and a refusal
names the actions whose condition failed: callers ask "was it my marker?" by name, never by the position an
action happened to have in the list (which broke silently whenever a caller added an action in front).

Throttling is ridden out here, not by the caller: the SDK retries a throttled call, but not a transaction that
DynamoDB cancelled because one of its items was throttled (TransactionCanceledException, reasons
"ThrottlingError"), and not once its own attempts are spent. An escaped throttle fails the stream record; the
record is retried with every record after it, against one retry budget, so a busy table could dead-letter a
record nothing was wrong with (the fault suite's 5% throttling did, about one run in fifteen).
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from shopwatch.storage.aws import TRANSIENT_ERRORS, client

MAX_ACTIONS = 100
WRITE_ATTEMPTS = 8  # with the backoff below, at most ~6 s: well inside a stream function's timeout
# Cancellation reasons that say "try again" rather than "no": nothing of the transaction was applied
TRANSIENT_REASONS = frozenset({"ThrottlingError", "ProvisionedThroughputExceeded", "TransactionConflict"})


@dataclass(frozen=True)
class TransactionRefused(Exception):
    """The write was cancelled; `reasons[i]` is DynamoDB's code for action i ("None" when that one was fine),
    `names[i]` the name its caller gave action i."""

    reasons: tuple[str, ...]
    names: tuple[Hashable, ...] = ()

    def refused(self) -> list[Hashable]:
        """The names of the actions whose condition failed, in the order they were written."""
        names = self.names or tuple(range(len(self.reasons)))
        return [name for name, code in zip(names, self.reasons, strict=True) if code == "ConditionalCheckFailed"]

    def refused_of(self, kind: str) -> list[Any]:
        """For actions named (kind, key): the keys of those of `kind` whose condition failed."""
        return [name[1] for name in self.refused() if isinstance(name, tuple) and name[0] == kind]

    def only_transient(self) -> bool:
        """True when every refusal was throttling or a conflict: the same write may succeed when tried again."""
        refusals = {code for code in self.reasons if code not in ("None", None)}
        return bool(refusals) and refusals <= TRANSIENT_REASONS

    def __str__(self) -> str:
        return f"transaction cancelled: {', '.join(self.reasons)}"


class UnitOfWork:
    """The named actions of one TransactWriteItems, gathered by whoever plans the write."""

    def __init__(self) -> None:
        self.names: list[Hashable] = []
        self.actions: list[dict[str, Any]] = []

    def add(self, name: Hashable, action: dict[str, Any]) -> UnitOfWork:
        if name in self.names:
            raise ValueError(f"two actions named {name!r} in one unit of work")
        self.names.append(name)
        self.actions.append(action)
        return self

    def __len__(self) -> int:
        return len(self.actions)

    def commit(self, attempts: int = WRITE_ATTEMPTS) -> None:
        """write_atomically, whose refusal names this unit's actions."""
        write_atomically(self.actions, attempts=attempts, names=self.names)


def write_atomically(
    actions: list[dict[str, Any]], attempts: int = WRITE_ATTEMPTS, names: Sequence[Hashable] = ()
) -> None:
    """Apply up to 100 Put/Update/ConditionCheck actions atomically; raise TransactionRefused (naming the
    actions by `names`, else by position) on a cancel that is not throttling, and the ClientError when
    throttling outlasts `attempts`.

    One ClientRequestToken for the whole call: a repeat after an error whose outcome is unknown (an internal
    server error after the commit) is then answered "done" by DynamoDB instead of being applied twice. A
    transaction cancelled for throttling applied nothing, so its repeat gets a token of its own. Every caller's
    actions carry a condition besides (a marker, a cursor) that refuses a second application anyway."""
    if not actions:
        return
    if len(actions) > MAX_ACTIONS:
        raise ValueError(f"a DynamoDB transaction holds at most {MAX_ACTIONS} actions, got {len(actions)}")
    if names and len(names) != len(actions):
        raise ValueError(f"{len(names)} names for {len(actions)} actions")
    token = str(uuid.uuid4())
    for attempt in range(attempts):
        last = attempt == attempts - 1
        try:
            _write_once(actions, token)
            return
        except TransactionRefused as refused:
            if last or not refused.only_transient():
                raise TransactionRefused(refused.reasons, tuple(names)) from refused.__cause__
            token = str(uuid.uuid4())
        except ClientError as exc:
            if last or exc.response.get("Error", {}).get("Code") not in TRANSIENT_ERRORS:
                raise
        time.sleep(min(2.0, 0.05 * 2**attempt) * random.uniform(0.5, 1.0))  # noqa: S311 - jitter


def _write_once(actions: list[dict[str, Any]], token: str) -> None:
    try:
        client("dynamodb").transact_write_items(TransactItems=actions, ClientRequestToken=token)
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
