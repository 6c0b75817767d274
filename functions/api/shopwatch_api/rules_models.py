"""The bodies the rules and lists routes take and give (only ApiFunction loads them). Each rule a JSON Schema can
state is stated here from the service's own constants, so /openapi.json promises what the server checks; what
none can state (an expression's types, a list value's form by the list's kind) is the service's 400."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    StrictStr,
    WithJsonSchema,
    model_validator,
)

from shopwatch.analytics.service import Window
from shopwatch.domain.clock import parse_rfc3339, to_iso
from shopwatch.domain.input_rules import ONE_LINE_TEXT
from shopwatch.domain.severity import Severity
from shopwatch.rules.analytics import RuleStats
from shopwatch.rules.changes import content
from shopwatch.rules.definitions import ListItem, ListKind, ListMode, RuleMode
from shopwatch.rules.expressions import ExpressionProblem
from shopwatch.rules.service import (
    DESCRIPTION_PATTERN,
    ID_PATTERN,
    MAX_DESCRIPTION,
    MAX_EXPRESSION,
    MAX_ITEMS_PER_REQUEST,
    MAX_NAME,
    MAX_REASON,
    RESERVED_IDS,
    ItemsAdded,
    ListDetail,
    ListSummary,
    RuleDetail,
)
from shopwatch.storage.rules import ListHead, RuleVersion, StoredRule

Timestamp = Annotated[str, Field(description="RFC 3339, UTC")]
Moment = Annotated[
    StrictStr,
    AfterValidator(parse_rfc3339),
    WithJsonSchema({"type": "string", "format": "date-time", "description": "RFC 3339 with an offset"}),
]
Name = Annotated[StrictStr, Field(min_length=1, max_length=MAX_NAME, pattern=ONE_LINE_TEXT)]
Description = Annotated[
    StrictStr, Field(max_length=MAX_DESCRIPTION, pattern=DESCRIPTION_PATTERN, description="text; line breaks allowed")
]
Expression = Annotated[
    StrictStr, Field(min_length=1, max_length=MAX_EXPRESSION, description="CEL over the documented variables")
]
Version = Annotated[int, Field(ge=1, le=99_999_999)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _an_outcome(schema: dict[str, Any]) -> None:
    """At least one outcome, each never null when given (absent is how a rule has none)."""
    schema["anyOf"] = [{"required": ["severity"]}, {"required": ["decision"]}, {"required": ["score"]}]
    for name in ("severity", "decision", "score"):
        schema["properties"][name].pop("default", None)


class RuleIn(_Body):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_an_outcome)

    name: Name
    description: Description = ""
    expression: Expression
    mode: RuleMode
    # typed without None so the schema refuses null; absent, they default to None
    severity: Severity = Field(default=None, description="raise an alert of this severity on a match")  # type: ignore[assignment]
    decision: Literal["review", "block"] = Field(default=None, description="the checkout's answer on a match")  # type: ignore[arg-type]
    score: int = Field(default=None, ge=1, le=100, description="added to the transaction's risk_score")  # type: ignore[assignment]

    @model_validator(mode="after")
    def _has_an_outcome(self) -> Self:
        if self.severity is None and self.decision is None and self.score is None:
            raise ValueError("give at least one outcome: severity, decision or score")
        return self


_RESERVED: list[JsonValue] = [*sorted(RESERVED_IDS)]


class NewRuleIn(RuleIn):
    rule_id: str | None = Field(
        default=None,
        pattern=ID_PATTERN,
        description="default: made from the name; a taken id is a 409",
        json_schema_extra={"not": {"enum": _RESERVED}},
    )


class RuleChangeIn(RuleIn):
    expected_version: Version | None = Field(
        default=None, description="the version this change was made on; another is a 409 (none: the current one)"
    )


class ModeIn(_Body):
    mode: RuleMode
    expected_version: Version | None = None


class RollbackIn(_Body):
    version: Version = Field(description="the version whose content becomes a new version")
    expected_version: Version | None = None


class ExpressionIn(_Body):
    expression: Annotated[StrictStr, Field(max_length=100_000)]


class ItemIn(_Body):
    value: Annotated[StrictStr, Field(min_length=1, max_length=254, description="by the list's kind")]
    reason: Annotated[StrictStr, Field(min_length=1, max_length=MAX_REASON, pattern=ONE_LINE_TEXT)]
    expires_at: Moment | None = Field(default=None, description="after now; the entry stops counting then")


class ListIn(_Body):
    kind: ListKind
    mode: ListMode
    description: Description = ""
    items: list[ItemIn] | None = Field(
        default=None, max_length=MAX_ITEMS_PER_REQUEST, description="given: they replace every entry"
    )


class ItemsIn(_Body):
    items: list[ItemIn] = Field(min_length=1, max_length=MAX_ITEMS_PER_REQUEST)


# --- responses -------------------------------------------------------------------------------------------------
class RuleOut(_Out):
    rule_id: str
    version: int
    name: str
    description: str
    expression: str
    mode: RuleMode
    severity: Severity | None
    decision: str | None
    score: int | None
    author: str = Field(description="who made the current version")
    created_at: Timestamp = Field(description="when the rule's first version was made")
    updated_at: Timestamp = Field(description="when the current version was made")

    @classmethod
    def from_stored(cls, stored: StoredRule) -> Self:
        """The current version, with who made it, when the rule was created and when it last changed."""
        return cls.model_validate(_rule_fields(stored))


def _rule_fields(stored: StoredRule) -> dict[str, Any]:
    rule = stored.rule
    return {
        "rule_id": rule.rule_id,
        "version": rule.version,
        **content(rule),
        "author": rule.author,
        "created_at": to_iso(stored.first_created_at),
        "updated_at": to_iso(rule.saved_at),
    }


class FieldChangeOut(_Out):
    field: str
    before: Any
    after: Any


class RuleVersionOut(_Out):
    version: int
    author: str
    created_at: Timestamp
    name: str
    description: str
    expression: str
    mode: RuleMode
    severity: Severity | None
    decision: str | None
    score: int | None
    diff: list[FieldChangeOut] = Field(description="what this version changed against the one before")

    @classmethod
    def from_version(cls, version: RuleVersion) -> RuleVersionOut:
        rule = version.rule
        return cls.model_validate(
            {
                "version": rule.version,
                "author": rule.author,
                "created_at": to_iso(rule.saved_at),
                **content(rule),
                "diff": [change.to_json() for change in version.diff],
            }
        )


class RuleDetailOut(RuleOut):
    versions: list[RuleVersionOut] = Field(description="newest first")

    @classmethod
    def from_detail(cls, detail: RuleDetail) -> RuleDetailOut:
        versions = [RuleVersionOut.from_version(v) for v in detail.versions]
        return cls.model_validate(_rule_fields(detail.stored) | {"versions": versions})


class ReferenceFieldOut(_Out):
    name: str
    type: str
    description: str
    optional: bool


class ReferenceEntryOut(_Out):
    name: str
    description: str
    fields: list[ReferenceFieldOut] | None = Field(default=None, description="a variable's fields")
    signature: str | None = Field(default=None, description="a function's signature")


class RuleReferenceOut(_Out):
    variables: list[ReferenceEntryOut] = Field(description="the variables and functions an expression may use")


class RulesOut(_Out):
    rules: list[RuleOut]


class ProblemOut(_Out):
    message: str
    line: int | None
    column: int | None


class ValidationOut(_Out):
    valid: bool
    problems: list[ProblemOut]

    @classmethod
    def from_problems(cls, problems: list[ExpressionProblem]) -> ValidationOut:
        return cls(valid=not problems, problems=[ProblemOut.model_validate(p.to_json()) for p in problems])


class DayMatchesOut(_Out):
    day: str
    mode: RuleMode
    matches: int


class RuleStatsOut(_Out):
    rule_id: str
    name: str
    mode: RuleMode
    matches_per_day: list[DayMatchesOut]
    matches: int = Field(description="while active")
    shadow_matches: int
    labelled_fraud: int
    labelled_legitimate: int
    precision: float | None = Field(description="fraud among the labelled matches; null without labels")

    @classmethod
    def from_stats(cls, stats: RuleStats) -> RuleStatsOut:
        rule = stats.stored.rule
        return cls(
            rule_id=rule.rule_id,
            name=rule.name,
            mode=rule.mode,
            matches_per_day=[DayMatchesOut(day=d.day, mode=d.mode, matches=d.matches) for d in stats.per_day],
            matches=stats.matches,
            shadow_matches=stats.shadow_matches,
            labelled_fraud=stats.labelled_fraud,
            labelled_legitimate=stats.labelled_legitimate,
            precision=stats.precision,
        )


class RuleStatsWindowOut(_Out):
    since: Timestamp
    until: Timestamp


class RuleAnalyticsOut(_Out):
    window: RuleStatsWindowOut
    rules: list[RuleStatsOut]

    @classmethod
    def from_stats(cls, window: Window, stats: list[RuleStats]) -> RuleAnalyticsOut:
        return cls(
            window=RuleStatsWindowOut(since=to_iso(window.since), until=to_iso(window.until)),
            rules=[RuleStatsOut.from_stats(s) for s in stats],
        )


class ListSummaryOut(_Out):
    name: str
    kind: ListKind
    mode: ListMode
    description: str
    items_count: int = Field(description="unexpired entries")
    updated_by: str
    updated_at: Timestamp

    @classmethod
    def from_summary(cls, summary: ListSummary) -> ListSummaryOut:
        return cls(**_head_fields(summary.head), items_count=summary.items_count)


def _head_fields(head: ListHead) -> dict[str, Any]:
    return {
        "name": head.name,
        "kind": head.kind,
        "mode": head.mode,
        "description": head.description,
        "updated_by": head.updated_by,
        "updated_at": to_iso(head.updated_at),
    }


class ListItemOut(_Out):
    value: str
    reason: str
    added_by: str
    added_at: Timestamp
    expires_at: Timestamp | None

    @classmethod
    def from_item(cls, item: ListItem) -> ListItemOut:
        return cls(
            value=item.value,
            reason=item.reason,
            added_by=item.added_by,
            added_at=to_iso(item.saved_at),
            expires_at=to_iso(item.expires_at) if item.expires_at else None,
        )


class ListOut(ListSummaryOut):
    items: list[ListItemOut]

    @classmethod
    def from_detail(cls, detail: ListDetail) -> ListOut:
        items = [ListItemOut.from_item(i) for i in detail.items]
        return cls(**_head_fields(detail.head), items_count=len(detail.items), items=items)


class ListsOut(_Out):
    lists: list[ListSummaryOut]


class ItemsAddedOut(ListSummaryOut):
    added: int = Field(description="values that were not on the list")
    updated: int = Field(description="values that were, now with the new reason and expiry")

    @classmethod
    def from_result(cls, result: ItemsAdded) -> ItemsAddedOut:
        summary = result.summary
        return cls(
            **_head_fields(summary.head), items_count=summary.items_count, added=result.added, updated=result.updated
        )
