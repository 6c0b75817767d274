"""What one version of a rule changed against the one before: the diff every version carries.

Why a list of field changes and not a text diff: the dashboard shows "mode: shadow → active" and the old and the
new expression side by side, and a reviewer asks "who changed the decision?" by field. Author, version and time
are not fields of the rule's content: they differ between any two versions and say nothing about what changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shopwatch.rules.definitions import Rule

# The content of a rule, in the order a diff lists it
CONTENT_FIELDS = ("name", "description", "expression", "mode", "severity", "decision", "score")


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: Any  # JSON values (None: the field was not set, or there was no version before)
    after: Any

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "before": self.before, "after": self.after}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FieldChange:
        return cls(data["field"], data.get("before"), data.get("after"))


def content(rule: Rule) -> dict[str, Any]:
    """The rule's content fields as JSON values."""
    data = rule.to_json()
    return {name: data.get(name) for name in CONTENT_FIELDS}


def rule_diff(before: Rule | None, after: Rule) -> tuple[FieldChange, ...]:
    """The fields whose value differs; against no rule (the first version) every field that is set (an empty
    description is not)."""
    new = content(after)
    if before is None:
        return tuple(FieldChange(name, None, new[name]) for name in CONTENT_FIELDS if new[name] not in (None, ""))
    old = content(before)
    return tuple(FieldChange(name, old[name], new[name]) for name in CONTENT_FIELDS if old[name] != new[name])
