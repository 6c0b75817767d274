"""The service's dataclasses as the API's JSON, each mapped once (the response models in shopwatch_api.rules_models check them)."""

from __future__ import annotations

from typing import Any

from shopwatch.analytics.service import Window
from shopwatch.domain.clock import to_iso
from shopwatch.rules.analytics import RuleStats
from shopwatch.rules.changes import content
from shopwatch.rules.definitions import ListItem
from shopwatch.rules.expressions import ExpressionProblem
from shopwatch.rules.service import ItemsAdded, ListDetail, ListSummary, RuleDetail
from shopwatch.storage.rules import ListHead, RuleVersion, StoredRule


def rule_json(stored: StoredRule) -> dict[str, Any]:
    """The current version, with who made it, when the rule was created and when it last changed."""
    rule = stored.rule
    return {
        "rule_id": rule.rule_id,
        "version": rule.version,
        **content(rule),
        "author": rule.author,
        "created_at": to_iso(stored.first_created_at),
        "updated_at": to_iso(rule.created_at),
    }


def version_json(version: RuleVersion) -> dict[str, Any]:
    rule = version.rule
    return {
        "version": rule.version,
        "author": rule.author,
        "created_at": to_iso(rule.created_at),
        **content(rule),
        "diff": [change.to_json() for change in version.diff],
    }


def rule_detail_json(detail: RuleDetail) -> dict[str, Any]:
    return rule_json(detail.stored) | {"versions": [version_json(v) for v in detail.versions]}


def validation_json(problems: list[ExpressionProblem]) -> dict[str, Any]:
    return {"valid": not problems, "problems": [problem.to_json() for problem in problems]}


def rule_stats_json(window: Window, stats: list[RuleStats]) -> dict[str, Any]:
    return {
        "window": {"since": to_iso(window.since), "until": to_iso(window.until)},
        "rules": [
            {
                "rule_id": s.stored.rule.rule_id,
                "name": s.stored.rule.name,
                "mode": s.stored.rule.mode.value,
                "matches_per_day": [{"day": d.day, "mode": d.mode.value, "matches": d.matches} for d in s.per_day],
                "matches": s.matches,
                "shadow_matches": s.shadow_matches,
                "labelled_fraud": s.labelled_fraud,
                "labelled_legitimate": s.labelled_legitimate,
                "precision": s.precision,
            }
            for s in stats
        ],
    }


def _head_json(head: ListHead) -> dict[str, Any]:
    return {
        "name": head.name,
        "kind": head.kind.value,
        "mode": head.mode.value,
        "description": head.description,
        "updated_by": head.updated_by,
        "updated_at": to_iso(head.updated_at),
    }


def list_summary_json(summary: ListSummary) -> dict[str, Any]:
    return _head_json(summary.head) | {"items_count": summary.items_count}


def item_json(item: ListItem) -> dict[str, Any]:
    return {
        "value": item.value,
        "reason": item.reason,
        "added_by": item.added_by,
        "added_at": to_iso(item.added_at),
        "expires_at": to_iso(item.expires_at) if item.expires_at else None,
    }


def list_json(detail: ListDetail) -> dict[str, Any]:
    return _head_json(detail.head) | {"items_count": len(detail.items), "items": [item_json(i) for i in detail.items]}


def items_added_json(result: ItemsAdded) -> dict[str, Any]:
    return list_summary_json(result.summary) | {"added": result.added, "updated": result.updated}
