"""What a rule and a list are, once: the records the repositories store, the engine evaluates and the API shows.

A rule is immutable per version: an edit is a new version (the repository keeps every one with its author and
time), so a match recorded against "rule r, version 3" always means the expression that version had.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from shopwatch.domain.clock import parse_iso, to_iso
from shopwatch.domain.severity import Severity

ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"  # rule ids and list names: a DynamoDB key part and a URL segment
_ID = re.compile(ID_PATTERN)
MAX_RULES = 200  # active and shadow rules evaluated per transaction (the benchmark's 100 rules stay well inside)
MAX_LISTS = 50
MAX_LIST_ITEMS = 10_000  # per list; every function caches every list, so this bounds their memory (~1 MB a list)
MAX_SCORE = 100
BLOCK_LIST_SEVERITY = Severity.HIGH  # the alert a blocked entity opens
ALLOW_SUPPRESSES_UP_TO = Severity.MEDIUM  # an allowed entity's alerts up to this severity are not opened


class RuleMode(StrEnum):
    ACTIVE = "active"  # alerts, decides and scores
    SHADOW = "shadow"  # evaluated and counted; never alerts, decides or scores
    DISABLED = "disabled"  # not evaluated


class Decision(StrEnum):
    """What the checkout is told; a stronger decision wins (block over review over allow)."""

    ALLOW = "allow"
    REVIEW = "review"
    BLOCK = "block"

    @property
    def rank(self) -> int:
        return _DECISION_RANKS[self]


_DECISION_RANKS = {Decision.ALLOW: 0, Decision.REVIEW: 1, Decision.BLOCK: 2}


class ListKind(StrEnum):
    EMAIL = "email"
    DEVICE = "device"
    IP = "ip"  # an address or a CIDR network
    CARD_BIN = "card_bin"
    CARD_FINGERPRINT = "card_fingerprint"
    CUSTOMER = "customer"
    COUNTRY = "country"


class ListMode(StrEnum):
    BLOCK = "block"  # a listed entity: a block decision and a high alert
    ALLOW = "allow"  # a listed entity: medium and lower alerts suppressed (never critical ones)


def valid_id(text: str) -> bool:
    return bool(_ID.match(text))


@dataclass(frozen=True)
class Rule:
    rule_id: str
    version: int
    name: str
    description: str
    expression: str
    mode: RuleMode
    severity: Severity | None = None  # an alert of this severity when an active rule matches
    decision: Decision | None = None  # what the checkout is told when an active rule matches
    score: int | None = None  # added to risk_score (capped at 100) when an active rule matches
    author: str = ""
    created_at: datetime | None = None

    @property
    def evaluated(self) -> bool:
        return self.mode is not RuleMode.DISABLED

    @property
    def saved_at(self) -> datetime:
        """When this version was saved: every stored version has it; only a draft being built has none."""
        if self.created_at is None:
            raise ValueError(f"rule {self.rule_id} version {self.version} was never saved")
        return self.created_at

    def with_mode(self, mode: RuleMode) -> Rule:
        return replace(self, mode=mode)

    def to_json(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "version": self.version,
            "name": self.name,
            "description": self.description,
            "expression": self.expression,
            "mode": self.mode.value,
            "severity": self.severity.value if self.severity else None,
            "decision": self.decision.value if self.decision else None,
            "score": self.score,
            "author": self.author,
            "created_at": to_iso(self.created_at) if self.created_at else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Rule:
        return cls(
            rule_id=data["rule_id"],
            version=int(data["version"]),
            name=data["name"],
            description=data.get("description") or "",
            expression=data["expression"],
            mode=RuleMode(data["mode"]),
            severity=Severity(data["severity"]) if data.get("severity") else None,
            decision=Decision(data["decision"]) if data.get("decision") else None,
            score=int(data["score"]) if data.get("score") is not None else None,
            author=data.get("author") or "",
            created_at=parse_iso(data["created_at"]) if data.get("created_at") else None,
        )


@dataclass(frozen=True)
class ListItem:
    value: str  # normalised for its list's kind (e-mail lower-cased, a network in CIDR form)
    reason: str = ""
    added_by: str = ""
    added_at: datetime | None = None
    expires_at: datetime | None = None

    def active(self, now: datetime) -> bool:
        return self.expires_at is None or self.expires_at > now

    @property
    def saved_at(self) -> datetime:
        """When the entry was added: every stored entry has it; only one being built has none."""
        if self.added_at is None:
            raise ValueError(f"list entry {self.value!r} was never saved")
        return self.added_at

    def to_json(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "reason": self.reason,
            "added_by": self.added_by,
            "added_at": to_iso(self.added_at) if self.added_at else None,
            "expires_at": to_iso(self.expires_at) if self.expires_at else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ListItem:
        return cls(
            value=data["value"],
            reason=data.get("reason") or "",
            added_by=data.get("added_by") or "",
            added_at=parse_iso(data["added_at"]) if data.get("added_at") else None,
            expires_at=parse_iso(data["expires_at"]) if data.get("expires_at") else None,
        )


@dataclass(frozen=True)
class RuleList:
    name: str
    kind: ListKind
    mode: ListMode
    description: str = ""
    items: tuple[ListItem, ...] = field(default=(), hash=False)
    updated_by: str = ""
    updated_at: datetime | None = None

    def active_items(self, now: datetime) -> tuple[ListItem, ...]:
        return tuple(i for i in self.items if i.active(now))

    def to_json(self, *, with_items: bool = True) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind.value,
            "mode": self.mode.value,
            "description": self.description,
            "items_count": len(self.items),
            "updated_by": self.updated_by,
            "updated_at": to_iso(self.updated_at) if self.updated_at else None,
        }
        if with_items:
            body["items"] = [i.to_json() for i in self.items]
        return body

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RuleList:
        return cls(
            name=data["name"],
            kind=ListKind(data["kind"]),
            mode=ListMode(data["mode"]),
            description=data.get("description") or "",
            items=tuple(ListItem.from_json(i) for i in data.get("items") or ()),
            updated_by=data.get("updated_by") or "",
            updated_at=parse_iso(data["updated_at"]) if data.get("updated_at") else None,
        )
