"""Evaluating the published rules and lists on one transaction: which rules match, which lists hold one of its
entities, and what that decides.

Why one engine for ingest, DetectFunction and backtests: a backtest that judged a rule differently from
production would be worthless. Active rules decide, alert and score; shadow rules are evaluated the same way and
only reported. A rule that fails on a transaction (a missing map key, an overflow) does not match, and the
failure is reported with its rule, never raised: one bad rule must not stop a checkout.

Lists apply by themselves, by kind: a blocked entity means `block` and a high alert; an allowed one turns a
rule's `review` into `allow` and suppresses medium and lower alerts (critical ones never). A block list beats an
allow list, and a rule's `block` stands.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import cel_expr_python.cel as cel

from shopwatch.domain.severity import Severity
from shopwatch.domain.transaction import Transaction
from shopwatch.rules.definitions import (
    ALLOW_SUPPRESSES_UP_TO,
    MAX_SCORE,
    Decision,
    ListKind,
    ListMode,
    Rule,
    RuleList,
    RuleMode,
)
from shopwatch.rules.expressions import LISTED_BINDING, InvalidExpression, compile_expression, environment
from shopwatch.rules.facts import RuleFacts
from shopwatch.rules.reads import EVERYTHING, Reads, reads_of

# the transaction's fields each kind of list is matched against
_FIELDS: dict[ListKind, tuple[str, ...]] = {
    ListKind.EMAIL: ("email",),
    ListKind.DEVICE: ("device_id",),
    ListKind.IP: ("ip",),
    ListKind.CARD_BIN: ("card_bin",),
    ListKind.CARD_FINGERPRINT: ("card_fingerprint",),
    ListKind.CUSTOMER: ("customer_id",),
    ListKind.COUNTRY: ("country", "billing_country", "shipping_country"),
}


@dataclass(frozen=True)
class RuleMatch:
    rule_id: str
    version: int
    name: str
    mode: RuleMode
    severity: Severity | None
    decision: Decision | None
    score: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "version": self.version,
            "name": self.name,
            "mode": self.mode.value,
            "severity": self.severity.value if self.severity else None,
            "decision": self.decision.value if self.decision else None,
            "score": self.score,
        }


@dataclass(frozen=True)
class ListHit:
    name: str
    kind: ListKind
    mode: ListMode
    value: str


@dataclass(frozen=True)
class RuleVerdict:
    decision: Decision
    reasons: tuple[dict[str, Any], ...]
    matches: tuple[RuleMatch, ...]  # active and shadow
    list_hits: tuple[ListHit, ...]
    score_added: int
    errors: tuple[tuple[str, str], ...]  # (rule_id, message)

    @property
    def active(self) -> tuple[RuleMatch, ...]:
        return tuple(m for m in self.matches if m.mode is RuleMode.ACTIVE)

    @property
    def shadow(self) -> tuple[RuleMatch, ...]:
        return tuple(m for m in self.matches if m.mode is RuleMode.SHADOW)

    @property
    def blocked(self) -> tuple[ListHit, ...]:
        return tuple(h for h in self.list_hits if h.mode is ListMode.BLOCK)

    @property
    def allowed(self) -> bool:
        """An allow list holds one of its entities and no block list does."""
        return any(h.mode is ListMode.ALLOW for h in self.list_hits) and not self.blocked

    def suppresses(self, severity: Severity) -> bool:
        return self.allowed and severity <= ALLOW_SUPPRESSES_UP_TO


class ListMatcher:
    """One list's unexpired values, indexed for its kind: a set lookup, a few prefix lengths for BINs and
    networks (10,000 CIDR items cost a handful of set lookups, not 10,000 comparisons)."""

    def __init__(self, rule_list: RuleList, now: datetime) -> None:
        self.list = rule_list
        self.values: set[str] = set()
        self.networks: dict[int, set[ipaddress.IPv4Network | ipaddress.IPv6Network]] = {}
        for item in rule_list.active_items(now):
            if rule_list.kind is ListKind.IP and "/" in item.value:
                network = ipaddress.ip_network(item.value, strict=False)
                self.networks.setdefault(network.prefixlen, set()).add(network)
            else:
                self.values.add(_normalised(rule_list.kind, item.value))
        self.expiries = sorted(i.expires_at for i in rule_list.items if i.expires_at is not None and i.active(now))

    def holds(self, value: str) -> bool:
        kind = self.list.kind
        value = _normalised(kind, value)
        if value in self.values:
            return True
        if kind is ListKind.CARD_BIN:
            return any(value[:n] in self.values for n in range(6, len(value)))
        if kind is ListKind.IP and self.networks:
            try:
                address = ipaddress.ip_address(value)
            except ValueError:
                return False
            return any(
                ipaddress.ip_network((int(address) >> (address.max_prefixlen - p) << (address.max_prefixlen - p), p))
                in nets
                for p, nets in self.networks.items()
                if p <= address.max_prefixlen and nets and next(iter(nets)).version == address.version
            )
        return False


def _normalised(kind: ListKind, value: str) -> str:
    value = value.strip()
    if kind is ListKind.EMAIL:
        return value.lower()
    if kind is ListKind.COUNTRY:
        return value.upper()
    if kind is ListKind.IP and "/" not in value:
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            return value
    return value


class _Local(threading.local):
    matcher: Callable[[str, str], bool] | None  # set while an engine evaluates on this thread


_CURRENT = _Local()


def _current_listed(name: str, value: str) -> bool:
    matcher = getattr(_CURRENT, "matcher", None)
    return matcher(name, value) if matcher is not None else False


LISTED_BINDING.bind(_current_listed)  # per thread: the local stack serves ingest and detection side by side


class RuleEngine:
    """The published rules and lists, compiled once (the functions cache an engine and rebuild it when the rule
    set changes). A stored rule that no longer compiles is skipped and named in `broken`, not raised."""

    def __init__(self, rules: Iterable[Rule], lists: Sequence[RuleList], now: datetime) -> None:
        self.rules: list[tuple[Rule, Any]] = []
        self.broken: dict[str, str] = {}
        for rule in rules:
            if not rule.evaluated:
                continue
            try:
                self.rules.append((rule, compile_expression(rule.expression)))
            except InvalidExpression as invalid:
                self.broken[rule.rule_id] = str(invalid)
        self.lists = {rl.name: ListMatcher(rl, now) for rl in lists}
        self.reads = reads_of(r.expression for r, _ in self.rules)

    @property
    def decides(self) -> bool:
        """Whether anything here can change a checkout's answer (else ingest may skip reading aggregates)."""
        return bool(self.lists) or any(r.mode is RuleMode.ACTIVE and r.decision for r, _ in self.rules)

    @property
    def reads_entities(self) -> bool:
        return bool(self.reads.variables & {"account", "entities"})

    def listed(self, name: str, value: str) -> bool:
        matcher = self.lists.get(name)
        return matcher is not None and matcher.holds(value)

    def evaluate(self, facts: RuleFacts) -> RuleVerdict:
        hits = self._list_hits(facts.tx)
        matches: list[RuleMatch] = []
        errors: list[tuple[str, str]] = []
        if self.rules:
            _CURRENT.matcher = self.listed
            try:
                activation = environment().Activation(facts.data(self.reads))
                for rule, compiled in self.rules:
                    result = compiled.eval(activation)
                    if result.type() == cel.Type.ERROR:
                        errors.append((rule.rule_id, str(result.value())))
                    elif result.value() is True:
                        matches.append(
                            RuleMatch(
                                rule.rule_id,
                                rule.version,
                                rule.name,
                                rule.mode,
                                rule.severity,
                                rule.decision,
                                rule.score,
                            )
                        )
            finally:
                _CURRENT.matcher = None
        return _verdict(tuple(matches), tuple(hits), tuple(errors))

    def evaluate_one(self, compiled: Any, facts: RuleFacts, reads: Reads = EVERYTHING) -> bool:
        """Whether one compiled expression (a draft, for a backtest) matches, with this engine's lists; `reads`:
        what it reads (`reads_of([expression])`), every variable and field when not given. An expression that
        fails on these facts does not match, as in `evaluate` (`judge_one` says why)."""
        return self.judge_one(compiled, facts, reads)[0]

    def judge_one(self, compiled: Any, facts: RuleFacts, reads: Reads = EVERYTHING) -> tuple[bool, str | None]:
        """(matches, the evaluation's error or None): a backtest counts the transactions a draft fails on."""
        _CURRENT.matcher = self.listed
        try:
            result = compiled.eval(environment().Activation(facts.data(reads)))
        finally:
            _CURRENT.matcher = None
        if result.type() == cel.Type.ERROR:
            return False, str(result.value())
        return result.value() is True, None

    def _list_hits(self, tx: Transaction) -> list[ListHit]:
        hits = []
        for matcher in self.lists.values():
            for name in _FIELDS[matcher.list.kind]:
                value = getattr(tx, name)
                if value and matcher.holds(value):
                    hits.append(ListHit(matcher.list.name, matcher.list.kind, matcher.list.mode, value))
                    break
        return hits


def _verdict(
    matches: tuple[RuleMatch, ...], hits: tuple[ListHit, ...], errors: tuple[tuple[str, str], ...]
) -> RuleVerdict:
    reasons: list[dict[str, Any]] = []
    decision = Decision.ALLOW
    score = 0
    blocked = [h for h in hits if h.mode is ListMode.BLOCK]
    allowed = [h for h in hits if h.mode is ListMode.ALLOW]
    for hit in blocked:
        decision = Decision.BLOCK
        score = MAX_SCORE
        reasons.append(
            {
                "kind": "list",
                "name": hit.name,
                "mode": hit.mode.value,
                "message": f"{hit.kind.value} on block list {hit.name}",
            }
        )
    for match in matches:
        if match.mode is not RuleMode.ACTIVE:
            continue
        if match.decision is not None and match.decision.rank > decision.rank:
            decision = match.decision
        score += match.score or 0
        reasons.append(
            {
                "kind": "rule",
                "id": match.rule_id,
                "version": match.version,
                "name": match.name,
                "message": f"rule {match.name} matched",
            }
        )
    if allowed and not blocked:
        if decision is Decision.REVIEW:
            decision = Decision.ALLOW
        reasons.extend(
            {"kind": "list", "name": h.name, "mode": h.mode.value, "message": f"{h.kind.value} on allow list {h.name}"}
            for h in allowed
        )
    return RuleVerdict(decision, tuple(reasons), matches, hits, min(MAX_SCORE, score), errors)
