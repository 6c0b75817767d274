"""The request bodies of ApiFunction's routes (the responses are in shopwatch.api_responses). Unknown fields
are refused, as on POST /transactions; money arrives as Decimal (the resolver parses JSON numbers with parse_float=Decimal) and is checked by the same
rule as every other way into the catalog."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from shopwatch.domain.alert import AlertStatus
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
