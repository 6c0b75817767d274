"""The request bodies of ApiFunction's routes (the responses are in shopwatch.api_responses). Unknown fields
are refused, as on POST /transactions; money arrives as Decimal (the resolver parses JSON numbers with parse_float=Decimal) and is checked by the same
rule as every other way into the catalog."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StrictStr, model_validator

from shopwatch.domain.alert import AlertStatus
from shopwatch.domain.triage import FeedbackLabel

# Text that must say something: a note of spaces, or an analyst named "  ", is refused like an empty one.
Text = Annotated[StrictStr, Field(pattern=r"\S")]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AlertPatch(_Body):
    status: AlertStatus | None = Field(default=None, description="the next status (not null); an illegal move is a 409")
    assignee: StrictStr | None = Field(default=None, max_length=128, description="null unassigns")

    @model_validator(mode="after")
    def _changes_something(self) -> Self:
        """A patch names a status or an assignee; `status: null` moves nothing, so it is refused like `{}`."""
        if "status" in self.model_fields_set and self.status is None:
            raise ValueError("status cannot be null; give the next status")
        if not self.model_fields_set:
            raise ValueError("give status and/or assignee")
        return self


class NoteIn(_Body):
    text: Text = Field(min_length=1, max_length=1000)


class FeedbackIn(_Body):
    label: FeedbackLabel
    comment: Text | None = Field(default=None, max_length=1000)


class LabelIn(_Body):
    label: FeedbackLabel
    source: Text = Field(default="chargeback", min_length=1, max_length=64)


class LoginIn(_Body):
    """POST /auth/login. The history of every change records this user name (from the token, never a body)."""

    username: StrictStr = Field(min_length=1, max_length=128)
    password: StrictStr = Field(min_length=1, max_length=256)


class ProductIn(_Body):
    price: Decimal = Field(description="catalog unit price, > 0, at most 4 decimals")
    currency: StrictStr | None = Field(default=None, max_length=16, description="ISO 4217; default DEFAULT_CURRENCY")
    name: StrictStr | None = Field(default=None, max_length=256)


class ProductRow(ProductIn):
    sku: StrictStr = Field(min_length=1, max_length=64)


class ProductsIn(_Body):
    products: list[ProductRow] = Field(min_length=1, max_length=500)
