"""POST /rules/backtest's body and the backtest's answers (wire shapes: rules_spec, "Backtest").

What a JSON Schema cannot state is named in `x-` notes and applied by the server: `since` not after `until`,
at most 31 days between them, `until` not more than a day ahead (nothing is stored there yet), nothing before
2000 (nothing is stored there). Exactly one of `expression` and `rule_id`, and `version` only with a
`rule_id`, the schema states itself (oneOf, dependentRequired).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictStr, model_validator
from pydantic.json_schema import SkipJsonSchema

from shopwatch.backtest.period import MAX_PERIOD
from shopwatch.domain.clock import to_iso
from shopwatch.rules.definitions import ID_PATTERN
from shopwatch.rules.expressions import MAX_EXPRESSION_CHARS
from shopwatch.storage.backtests import BacktestJob, JobStatus


class BacktestIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "oneOf": [{"required": ["expression"]}, {"required": ["rule_id"]}],
            "dependentRequired": {"version": ["rule_id"]},
        },
    )
    expression: Annotated[
        Annotated[StrictStr, Field(min_length=1, max_length=MAX_EXPRESSION_CHARS)] | SkipJsonSchema[None],
        Field(
            description="a draft CEL expression (POST /rules/validate checks one); or give rule_id",
            json_schema_extra={"x-valid": "an expression POST /rules/validate accepts; else a 400 with its problems"},
        ),
    ] = None
    rule_id: Annotated[
        Annotated[StrictStr, Field(pattern=ID_PATTERN)] | SkipJsonSchema[None],
        Field(description="a saved rule; or give expression"),
    ] = None
    version: Annotated[
        Annotated[int, Field(ge=1)] | SkipJsonSchema[None],  # JSON Schema's integer: 238.0 is one
        Field(description="the rule's version; default its current one"),
    ] = None
    since: Annotated[
        AwareDatetime,
        Field(
            description="RFC 3339 with an offset: the first moment judged",
            json_schema_extra={"x-not-before": "2000-01-01T00:00:00Z", "x-not-after": "until"},
        ),
    ]
    until: Annotated[
        AwareDatetime,
        Field(
            description=f"RFC 3339 with an offset: the last moment judged; at most {MAX_PERIOD.days} days after since",
            json_schema_extra={
                "x-not-after": "since plus 31 days, and the time of receipt plus 1 day",
            },
        ),
    ]

    @model_validator(mode="after")
    def _one_target(self) -> BacktestIn:
        if (self.expression is None) == (self.rule_id is None):
            raise ValueError("give an expression or a rule_id, not both")
        if self.version is not None and self.rule_id is None:
            raise ValueError("a version needs its rule_id")
        return self


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DayMatches(_Out):
    day: str = Field(description="YYYY-MM-DD (UTC)")
    matches: int


class ExampleOut(_Out):
    transaction_id: str
    timestamp: str
    amount: str = Field(description="decimal string, in its currency")
    currency: str
    customer_id: str
    labelled: Literal["fraud", "legitimate"] | None
    alerted: bool = Field(description="an existing alert lists this transaction")


class BacktestResultOut(_Out):
    since: str
    until: str
    evaluated: int = Field(description="transactions of the period judged")
    matches: int
    matches_per_day: list[DayMatches] = Field(description="every day of the period, days without matches too")
    fraud: int = Field(description="matches labelled fraud (chargebacks, reports, alert feedback)")
    legitimate: int = Field(description="matches labelled legitimate")
    unlabelled: int
    precision: float | None = Field(description="fraud / labelled matches; null without labelled matches")
    recall: float | None = Field(description="fraud matched / fraud in the period; null without fraud")
    fraud_in_period: int
    overlap_with_alerts: int = Field(description="matches an existing alert lists")
    examples: list[ExampleOut] = Field(max_length=50, description="the first 50 matches in time order")
    errors: int = Field(description="transactions the expression failed on (a missing key, a division by zero): "
                        "counted as not matching, as in production")  # fmt: skip
    first_error: str | None = Field(description="the first failure: the transaction's id and the error")


class BacktestStarted(_Out):
    job_id: str
    status: Literal["running"]


_STATUS_NAMES: dict[JobStatus, Literal["running", "done", "failed"]] = {
    JobStatus.RUNNING: "running",
    JobStatus.DONE: "done",
    JobStatus.FAILED: "failed",
}


class BacktestJobOut(_Out):
    job_id: str
    status: Literal["running", "done", "failed"]
    progress: float = Field(ge=0, le=1, description="share of the period's transactions judged")
    requested_by: str
    created_at: str
    updated_at: str
    request: dict[str, Any]
    result: BacktestResultOut | None = None
    error: str | None = None

    @classmethod
    def from_job(cls, job: BacktestJob) -> BacktestJobOut:
        result = None if job.result is None else BacktestResultOut.model_validate(job.result)
        return cls(
            job_id=job.job_id,
            status=_STATUS_NAMES[job.status],
            progress=job.progress,
            requested_by=job.requested_by,
            created_at=to_iso(job.created_at),
            updated_at=to_iso(job.updated_at),
            request=job.request,
            result=result,
            error=job.error,
        )
