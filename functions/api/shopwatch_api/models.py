"""The request bodies of ApiFunction's routes (the responses are in shopwatch_api.responses). Unknown fields
are refused, as on POST /transactions; money arrives as Decimal (the resolver parses JSON numbers with parse_float=Decimal) and is checked by the same
rule as every other way into the catalog."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictStr,
    WithJsonSchema,
    model_validator,
)

from shopwatch.domain.alert import AlertStatus
from shopwatch.domain.geography import currency_from_input
from shopwatch.domain.input_rules import CONTROL_CLASS, DOT_SEGMENT, ONE_LINE_TEXT
from shopwatch.domain.money import decimal_string_pattern, to_decimal
from shopwatch.domain.transaction import CURRENCY_SCHEMA, MAX_AMOUNT
from shopwatch.domain.triage import FeedbackLabel

# One line of text that says something: no control characters or line breaks, and not blank, so a note of
# spaces or an analyst named "  " is refused like an empty one. Notes and comments may span lines.
ONE_LINE = ONE_LINE_TEXT
_CONTROL_BUT_BREAKS = CONTROL_CLASS.replace(r"\x00-\x1f", r"\x00-\x08\x0b\x0c\x0e-\x1f")
_LINES = rf"^[^{_CONTROL_BUT_BREAKS}]*[^{_CONTROL_BUT_BREAKS}\s][^{_CONTROL_BUT_BREAKS}]*$"
Text = Annotated[StrictStr, Field(pattern=ONE_LINE)]
Lines = Annotated[StrictStr, Field(pattern=_LINES, description="text; tabs and line breaks allowed")]
# Ids read back as one URL path segment: never "." or ".." as a segment (see input_rules.reject_unaddressable).
NO_DOT_SEGMENT = {"not": {"pattern": DOT_SEGMENT}}
SkuText = Annotated[
    StrictStr,
    Field(min_length=1, max_length=64, pattern=ONE_LINE, json_schema_extra=NO_DOT_SEGMENT),
]

# Catalog prices: JSON numbers or numeric strings of ASCII digits, > 0, at most 4 decimals (the same to_decimal
# every way into the catalog uses, whose one string form the pattern states).
_PRICE_STRING = decimal_string_pattern(4, MAX_AMOUNT)
Price = Annotated[
    Decimal,
    BeforeValidator(lambda v: to_decimal(v, places=4, maximum=MAX_AMOUNT)),
    Field(gt=0),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "exclusiveMinimum": 0, "maximum": int(MAX_AMOUNT), "multipleOf": 0.0001},
                {"type": "string", "pattern": _PRICE_STRING, "not": {"pattern": r"^0(\.0*)?$"}},
            ],
            "description": "catalog unit price, > 0, at most 4 decimals",
        }
    ),
]


Currency = Annotated[
    StrictStr,
    AfterValidator(currency_from_input),
    WithJsonSchema(CURRENCY_SCHEMA),
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _status_or_assignee(schema: dict[str, Any]) -> None:
    """The schema of a patch: status or assignee (or both) must be there, and status is never null."""
    schema["anyOf"] = [{"required": ["status"]}, {"required": ["assignee"]}]
    schema["properties"]["status"].pop("default", None)


class AlertPatch(_Body):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_status_or_assignee)

    status: AlertStatus = Field(default=None, description="the next status; an illegal move is a 409")  # type: ignore[assignment]
    assignee: Text | None = Field(default=None, max_length=128, description="null unassigns")

    @model_validator(mode="after")
    def _changes_something(self) -> Self:
        """A patch names a status or an assignee; `{}` moves nothing, so it is refused."""
        if not self.model_fields_set:
            raise ValueError("give status and/or assignee")
        return self


class NoteIn(_Body):
    text: Lines = Field(min_length=1, max_length=1000)


class FeedbackIn(_Body):
    label: FeedbackLabel
    comment: Lines | None = Field(default=None, max_length=1000)


class LabelIn(_Body):
    label: FeedbackLabel
    source: Text = Field(default="chargeback", min_length=1, max_length=64)


class LoginIn(_Body):
    """POST /auth/login. The history of every change records this user name (from the token, never a body)."""

    username: StrictStr = Field(min_length=1, max_length=128)
    password: StrictStr = Field(min_length=1, max_length=256)


class ProductIn(_Body):
    price: Price
    currency: Currency | None = Field(default=None, description="ISO 4217; default DEFAULT_CURRENCY")
    name: Text | None = Field(default=None, max_length=256)


class ProductRow(ProductIn):
    sku: SkuText


class ProductsIn(_Body):
    products: list[ProductRow] = Field(
        min_length=1, max_length=500, description="a sku given twice takes its last row, as a row-by-row load would"
    )


# --- POST /alerts/bulk (the queue's multi-select) ---------------------------------------------------------
class BulkAction(StrEnum):
    RESOLVE = "resolve"
    FALSE_POSITIVE = "false_positive"
    CONFIRMED_FRAUD = "confirmed_fraud"
    ASSIGN = "assign"


BULK_STATUS = {
    BulkAction.RESOLVE: AlertStatus.RESOLVED,
    BulkAction.FALSE_POSITIVE: AlertStatus.FALSE_POSITIVE,
    BulkAction.CONFIRMED_FRAUD: AlertStatus.CONFIRMED_FRAUD,
}
MAX_BULK = 100


def _bulk_rules(schema: dict[str, Any]) -> None:
    """The rules between fields, stated in the schema too: a status action needs a reason, assign an assignee
    (and only assign takes one)."""
    settle = sorted(a.value for a in BULK_STATUS)
    schema["properties"]["reason"].pop("default", None)  # absent, or a text: never null
    schema["allOf"] = [
        {"if": {"properties": {"action": {"enum": settle}}}, "then": {"required": ["reason"]}},
        {
            "if": {"properties": {"action": {"const": BulkAction.ASSIGN.value}}},
            "then": {"required": ["assignee"]},
            "else": {"not": {"required": ["assignee"]}},
        },
    ]


class BulkIn(_Body):
    """Several alerts changed alike; each one on its own, reported one by one."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_bulk_rules)

    alert_ids: list[Annotated[StrictStr, Field(min_length=1, max_length=64)]] = Field(
        min_length=1, max_length=MAX_BULK, json_schema_extra={"uniqueItems": True}
    )
    action: BulkAction
    reason: Text = Field(default=None, min_length=1, max_length=1000, description="why; required to settle")  # type: ignore[assignment]
    assignee: Text | None = Field(default=None, min_length=1, max_length=128, description="for assign; null unassigns")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if len(set(self.alert_ids)) != len(self.alert_ids):
            raise ValueError("alert_ids must be unique")
        if self.action in BULK_STATUS and self.reason is None:
            raise ValueError(f"action {self.action.value} needs a reason")
        if (self.action is BulkAction.ASSIGN) != ("assignee" in self.model_fields_set):
            raise ValueError("assignee goes with action assign, and only with it")
        return self
