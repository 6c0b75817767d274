"""The request bodies of ApiFunction's routes. Unknown fields are refused, as on POST /transactions; money
arrives as Decimal (the resolver parses JSON numbers with parse_float=Decimal) and is checked by the same
rule as every other way into the catalog."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from shopwatch.domain.alert import AlertStatus
from shopwatch.domain.severity import Severity
from shopwatch.domain.triage import FeedbackLabel


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AlertPatch(_Body):
    status: AlertStatus | None = Field(default=None, description="the next status; an illegal move is a 409")
    assignee: StrictStr | None = Field(default=None, max_length=128, description="null unassigns")
    by: StrictStr = Field(default="analyst", min_length=1, max_length=64, description="who makes the change")


class NoteIn(_Body):
    text: StrictStr = Field(min_length=1, max_length=1000)
    by: StrictStr = Field(default="analyst", min_length=1, max_length=64)


class FeedbackIn(_Body):
    label: FeedbackLabel
    comment: StrictStr | None = Field(default=None, max_length=1000)
    by: StrictStr = Field(default="analyst", min_length=1, max_length=64)


class LabelIn(_Body):
    label: FeedbackLabel
    source: StrictStr = Field(default="chargeback", min_length=1, max_length=64)
    by: StrictStr = Field(default="analyst", min_length=1, max_length=64)


class ProductIn(_Body):
    price: Decimal = Field(description="catalog unit price, > 0, at most 4 decimals")
    currency: StrictStr | None = Field(default=None, max_length=16, description="ISO 4217; default DEFAULT_CURRENCY")
    name: StrictStr | None = Field(default=None, max_length=256)


class ProductRow(ProductIn):
    sku: StrictStr = Field(min_length=1, max_length=64)


class ProductsIn(_Body):
    products: list[ProductRow] = Field(min_length=1, max_length=500)


# --- responses: documented in /openapi.json and checked by Powertools on the way out ---------------------
class ReasonOut(BaseModel):
    code: str
    message: str
    value: str | None = None
    expected: str | None = None


class WindowOut(BaseModel):
    start: str
    end: str


class AlertOut(BaseModel):
    alert_id: str
    detector: str
    severity: Severity
    risk_score: float = Field(ge=0, le=100)
    status: AlertStatus
    summary: str
    narrative: str | None
    customer_id: str | None
    customer_name: str | None
    subject: str
    transaction_ids: list[str]
    window: WindowOut
    reasons: list[ReasonOut]
    occurrences: int = Field(ge=1)
    assignee: str | None
    feedback: dict[str, str] | None
    notes: list[dict[str, str]]
    history: list[dict[str, str | None]]
    model_version: str | None
    created_at: str
    updated_at: str
    triaged_at: str | None


class AlertPage(BaseModel):
    alerts: list[AlertOut]
    next_token: str | None = Field(description="pass it back, with the same filters, for the next page")
