"""The transaction contract (DESIGN §3): what a shop may send, and the normalised record Shopwatch stores.

`TransactionIn` is the wire model: strict types, unknown fields forbidden, every rule stated in its error
message. `Transaction` is what every later stage reads (stored item, stream image, detectors): defaults applied,
amount derived, country normalised, time in UTC.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, DecimalException
from enum import StrEnum
from typing import Annotated, Any

from boto3.dynamodb.types import DYNAMODB_CONTEXT
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonDict

from shopwatch.domain.clock import parse_iso, parse_rfc3339, to_iso
from shopwatch.domain.geography import COUNTRY_INPUTS, CURRENCY_INPUTS, country_from_input, currency_from_input
from shopwatch.domain.input_rules import (
    CONTROL_CLASS,
    DOT_SEGMENT,
    ONE_LINE_TEXT,
    SINGLE_LINE_TEXT,
    reject_card_number,
    reject_control_characters,
    reject_unaddressable,
)
from shopwatch.domain.money import CENT, decimal_string_pattern, round_cents, to_decimal

MAX_ITEMS = 500
MAX_METADATA_BYTES = 4096
MAX_METADATA_DEPTH = 8
MAX_QUANTITY = 1_000_000
MAX_AMOUNT = Decimal("1000000000000")  # 10^12: above any real basket, well inside DynamoDB's 38 digits
EARLIEST = datetime.fromisoformat("2000-01-01T00:00:00+00:00")
EARLIEST_ACCOUNT = datetime.fromisoformat("1990-01-01T00:00:00+00:00")
TRANSACTION_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"
# surrounding spaces are allowed and dropped (shops send addresses as typed; issue 16 matches them trimmed and
# case-folded); inside an address no space, no control character, one @
EMAIL_PATTERN = rf"^ *[^@\s{CONTROL_CLASS}]{{1,64}}@[^@\s{CONTROL_CLASS}]{{1,252}} *$"
_EMAIL = re.compile(EMAIL_PATTERN)
_CARD_BIN = re.compile(r"^[0-9]{6,8}$")
_METADATA_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # tab, LF and CR are text there
METADATA_TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"


class Status(StrEnum):
    APPROVED = "approved"
    FAILED = "failed"
    DENIED = "denied"
    REVERSED = "reversed"
    PENDING = "pending"


# --- what /openapi.json states about each field: the rules the validators below apply, and nothing more ------
# (issue 15: the schema is the server). Rules a JSON Schema cannot state are `x-` notes next to the field.
_LINE: JsonDict = {"pattern": SINGLE_LINE_TEXT}
_ADDRESSABLE: JsonDict = {"not": {"pattern": DOT_SEGMENT}}
_NO_CARD_NUMBER: JsonDict = {
    "x-refuses": "a full card number: 13 to 19 digits, alone or grouped by spaces or dashes, that pass the Luhn check"
}
_MOMENT: JsonDict = {"format": "date-time", "description": "RFC 3339 date-time with an offset (Z or +HH:MM)"}


def money_schema(places: int, description: str) -> dict[str, Any]:
    """A JSON number or a numeric string, >= 0, at most MAX_AMOUNT and `places` decimals (money.to_decimal)."""
    return {
        "anyOf": [
            {
                "type": "number",
                "minimum": 0,
                "maximum": int(MAX_AMOUNT),
                "multipleOf": float(Decimal(1).scaleb(-places)),
            },
            {"type": "string", "pattern": decimal_string_pattern(places, MAX_AMOUNT)},
        ],
        "description": f"{description}: a JSON number or a string of ASCII digits, >= 0, at most {places} decimals",
    }


Amount = Annotated[
    Decimal,
    BeforeValidator(lambda v: to_decimal(v, places=2, maximum=MAX_AMOUNT)),
    WithJsonSchema(money_schema(2, "the amount")),
]
UnitPrice = Annotated[
    Decimal,
    BeforeValidator(lambda v: to_decimal(v, places=4, maximum=MAX_AMOUNT)),
    WithJsonSchema(money_schema(4, "the price of one unit")),
]
# Long enums, named by `x-component`: ingest/openapi.py publishes each once under components/schemas.
COUNTRY_SCHEMA = {
    "type": "string",
    "enum": sorted(COUNTRY_INPUTS),
    "description": "ISO 3166-1 alpha-2 code (either case) or English name; stored as the code",
    "x-component": "CountryIn",
}
CURRENCY_SCHEMA = {
    "type": "string",
    "enum": sorted(CURRENCY_INPUTS),
    "description": "ISO 4217 code, in capitals or lower case; stored in capitals",
    "x-component": "CurrencyIn",
}
CountryText = Annotated[StrictStr, WithJsonSchema(COUNTRY_SCHEMA)]
CurrencyText = Annotated[StrictStr, WithJsonSchema(CURRENCY_SCHEMA)]
IpText = Annotated[
    StrictStr,
    WithJsonSchema({"type": "string", "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}], "maxLength": 45}),
]


def _whole_number(value: object) -> object:
    """A JSON number with no fraction as an int: JSON Schema's `integer` is any such number (1758.0, 1e3), and
    the body parser reads every number with a point or an exponent as a Decimal."""
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return int(value)
    return value


WholeNumber = Annotated[StrictInt, BeforeValidator(_whole_number)]


def _text(max_length: int, **schema: Any) -> Any:
    return Field(default=None, min_length=1, max_length=max_length, json_schema_extra=_LINE | schema)


class LineItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: StrictStr = Field(min_length=1, max_length=64, json_schema_extra=_LINE | _ADDRESSABLE)
    name: StrictStr | None = _text(256)
    quantity: WholeNumber = Field(
        description="units; negative for a return, never 0",
        json_schema_extra={"minimum": -MAX_QUANTITY, "maximum": MAX_QUANTITY, "not": {"const": 0}},
    )
    unit_price: UnitPrice

    @field_validator("sku")
    @classmethod
    def _sku_rule(cls, value: str) -> str:
        return reject_unaddressable(value)

    @field_validator("name")
    @classmethod
    def _name_rule(cls, value: str | None) -> str | None:
        return None if value is None else reject_control_characters(value)

    @field_validator("quantity")
    @classmethod
    def _quantity_rule(cls, quantity: int) -> int:
        if quantity == 0:
            raise ValueError("must not be 0 (negative quantities are returns)")
        if abs(quantity) > MAX_QUANTITY:
            raise ValueError(f"must be between -{MAX_QUANTITY} and {MAX_QUANTITY}")
        return quantity


class TransactionIn(BaseModel):
    """One transaction as a shop sends it. Validate with context={"now": aware datetime, "default_currency": str,
    "max_future_seconds": int}."""

    model_config = ConfigDict(extra="forbid")

    transaction_id: StrictStr = Field(pattern=TRANSACTION_ID_PATTERN, json_schema_extra=_ADDRESSABLE)
    customer_id: StrictStr = Field(
        min_length=1, max_length=128, json_schema_extra={"pattern": ONE_LINE_TEXT, **_ADDRESSABLE}
    )
    timestamp: StrictStr | None = Field(
        default=None,
        max_length=64,
        json_schema_extra=_MOMENT
        | {"x-not-before": to_iso(EARLIEST), "x-not-after": "the time of receipt plus MAX_FUTURE_SECONDS (300)"},
    )
    status: Status = Status.APPROVED
    amount: Amount | None = Field(
        default=None, json_schema_extra={"x-equals": "|sum of quantity x unit_price| of items (to a cent), if both"}
    )
    currency: CurrencyText | None = Field(default=None, description="ISO 4217; default DEFAULT_CURRENCY")
    items: list[LineItemIn] | None = Field(default=None, min_length=1, max_length=MAX_ITEMS)
    country: CountryText | None = None
    customer_name: StrictStr | None = _text(256)
    email: StrictStr | None = Field(default=None, max_length=254, json_schema_extra={"pattern": EMAIL_PATTERN})
    ip: IpText | None = None
    device_id: StrictStr | None = _text(128)
    payment_method: StrictStr | None = _text(64, **_NO_CARD_NUMBER)
    channel: StrictStr | None = _text(64)
    user_agent: StrictStr | None = _text(512)
    account_created_at: StrictStr | None = Field(
        default=None,
        max_length=64,
        description="when the shop's account was opened",
        json_schema_extra=_MOMENT
        | {"x-not-before": to_iso(EARLIEST_ACCOUNT), "x-not-after": "the transaction's timestamp (or its receipt)"},
    )
    card_bin: StrictStr | None = Field(
        default=None, description="the card's first 6 to 8 digits", json_schema_extra={"pattern": _CARD_BIN.pattern}
    )
    card_fingerprint: StrictStr | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="the payment provider's opaque card fingerprint",
        json_schema_extra=_LINE | _NO_CARD_NUMBER,
    )
    billing_country: CountryText | None = None
    shipping_country: CountryText | None = None
    metadata: dict[str, Any] | None = Field(
        default=None,
        json_schema_extra={
            "propertyNames": {"pattern": METADATA_TEXT},
            "x-text": f"every key and string, at any depth, matches {METADATA_TEXT}",
            "x-max-depth": MAX_METADATA_DEPTH,
            "x-max-bytes": f"{MAX_METADATA_BYTES} (as compact JSON, UTF-8)",
            "x-numbers": "what DynamoDB stores: at most 38 significant digits, magnitude 1E-130 to 1E+125",
        },
    )

    @field_validator("status", mode="before")
    @classmethod
    def _status_is_text(cls, value: object) -> object:
        if not isinstance(value, str):
            raise ValueError("must be one of approved, failed, denied, reversed, pending")
        return value

    @field_validator("transaction_id", "customer_id")
    @classmethod
    def _id_rule(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return reject_unaddressable(value)

    @field_validator("customer_name", "device_id", "channel", "user_agent")
    @classmethod
    def _text_rule(cls, value: str | None) -> str | None:
        return None if value is None else reject_control_characters(value)

    @field_validator("payment_method", "card_fingerprint")
    @classmethod
    def _card_text_rule(cls, value: str | None) -> str | None:
        return None if value is None else reject_card_number(reject_control_characters(value))

    @field_validator("card_bin")
    @classmethod
    def _card_bin_rule(cls, value: str | None) -> str | None:
        if value is not None and not _CARD_BIN.fullmatch(value):
            raise ValueError("must be the card's first 6 to 8 digits (never the full card number)")
        return value

    @field_validator("currency")
    @classmethod
    def _currency_rule(cls, value: str | None) -> str | None:
        return None if value is None else currency_from_input(value)

    @field_validator("country", "billing_country", "shipping_country")
    @classmethod
    def _country_rule(cls, value: str | None) -> str | None:
        return None if value is None else country_from_input(value)

    @field_validator("email")
    @classmethod
    def _email_rule(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not _EMAIL.fullmatch(value):  # no inner spaces, no control characters, one @ (matching later folds case)
            raise ValueError("must be an e-mail address")
        return value.strip(" ")

    @field_validator("ip")
    @classmethod
    def _ip_rule(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            if "%" in value:  # a zone index (fe80::1%eth0) names an interface of the sender's own host
                raise ValueError
            return str(ipaddress.ip_address(value))
        except ValueError:
            raise ValueError("must be an IPv4 or IPv6 address (dotted quad or RFC 4291 text, no zone)") from None

    @field_validator("metadata")
    @classmethod
    def _metadata_rule(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        if _depth(value) > MAX_METADATA_DEPTH:
            raise ValueError(f"must not nest deeper than {MAX_METADATA_DEPTH} levels")
        if _metadata_has_control(value):
            raise ValueError("text must not contain control characters other than tab and line breaks")
        bad = _unstorable_number(value)
        if bad is not None:
            raise ValueError(f"numbers must fit DynamoDB (38 digits, magnitude 1E-130 to 1E+125); got {bad}")
        size = len(json.dumps(value, default=str, separators=(",", ":")).encode())
        if size > MAX_METADATA_BYTES:
            raise ValueError(f"must be at most {MAX_METADATA_BYTES} bytes as JSON (got {size})")
        return value

    @field_validator("timestamp")
    @classmethod
    def _timestamp_rule(cls, value: str | None, info: Any) -> str | None:
        if value is None:
            return None
        moment = parse_rfc3339(value)
        context = info.context or {}
        now: datetime = context["now"]
        if moment > now + timedelta(seconds=context.get("max_future_seconds", 300)):
            raise ValueError("must not be more than 5 minutes in the future")
        if moment < EARLIEST:
            raise ValueError("must not be before 2000-01-01")
        return value

    @field_validator("account_created_at")
    @classmethod
    def _account_created_rule(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if parse_rfc3339(value) < EARLIEST_ACCOUNT:
            raise ValueError("must not be before 1990-01-01")
        return value

    @model_validator(mode="after")
    def _account_not_after_transaction(self, info: Any) -> TransactionIn:
        if self.account_created_at is None:
            return self
        context = info.context or {}
        moment = parse_rfc3339(self.timestamp) if self.timestamp else context["now"]
        if parse_rfc3339(self.account_created_at) > moment:
            raise ValueError("account_created_at must not be after the transaction's timestamp")
        return self

    @model_validator(mode="after")
    def _amount_rule(self) -> TransactionIn:
        if self.items is None:
            if self.amount is None:
                raise ValueError("amount is required when items are not given")
            return self
        derived = items_total(self.items)
        if self.amount is not None and abs(self.amount - derived) > CENT:
            raise ValueError(
                f"amount {self.amount} contradicts the items, whose quantity x unit_price add up to {derived}"
            )
        return self


def items_total(items: list[LineItemIn]) -> Decimal:
    """The transaction's value from its lines: |Σ quantity × unit_price| in cents (a basket of returns is a refund
    of that value; its negative quantities say it is a return)."""
    return round_cents(abs(sum((Decimal(i.quantity) * i.unit_price for i in items), Decimal(0))))


def _unstorable_number(value: object) -> str | None:
    """The first number DynamoDB could not store exactly (its own rule: 38 digits, exponent -130..125), as text;
    None when all fit."""
    if isinstance(value, dict):
        return next((n for n in map(_unstorable_number, value.values()) if n is not None), None)
    if isinstance(value, list):
        return next((n for n in map(_unstorable_number, value) if n is not None), None)
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    try:
        DYNAMODB_CONTEXT.create_decimal(Decimal(str(value)) if isinstance(value, float) else value)
    except (DecimalException, ValueError, TypeError):
        return str(value)[:40]
    return None


def _metadata_has_control(value: object) -> bool:
    if isinstance(value, dict):
        return any(_metadata_has_control(k) or _metadata_has_control(v) for k, v in value.items())
    if isinstance(value, list):
        return any(map(_metadata_has_control, value))
    return isinstance(value, str) and bool(_METADATA_CONTROL.search(value))


def _depth(value: object, level: int = 1) -> int:
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level)
    return level


OPTIONAL_TEXT = (  # the optional text fields, as stored and as the rules read them
    "country",
    "customer_name",
    "email",
    "ip",
    "device_id",
    "payment_method",
    "channel",
    "user_agent",
    "card_bin",
    "card_fingerprint",
    "billing_country",
    "shipping_country",
)


@dataclass(frozen=True)
class LineItem:
    sku: str
    quantity: int
    unit_price: Decimal
    name: str | None = None

    @property
    def label(self) -> str:
        return self.name or self.sku


@dataclass(frozen=True)
class Transaction:
    """A validated, normalised transaction: the stored item and the stream image share this shape."""

    transaction_id: str
    customer_id: str
    timestamp: datetime
    received_at: datetime
    status: str
    amount: Decimal
    currency: str
    items: tuple[LineItem, ...] = ()
    country: str | None = None
    customer_name: str | None = None
    email: str | None = None
    ip: str | None = None
    device_id: str | None = None
    payment_method: str | None = None
    channel: str | None = None
    user_agent: str | None = None
    account_created_at: datetime | None = None
    card_bin: str | None = None
    card_fingerprint: str | None = None
    billing_country: str | None = None
    shipping_country: str | None = None
    metadata: dict[str, Any] | None = field(default=None, hash=False, compare=False)

    @classmethod
    def from_input(cls, tx: TransactionIn, *, received_at: datetime, default_currency: str) -> Transaction:
        items = tuple(LineItem(i.sku, i.quantity, i.unit_price, i.name) for i in tx.items or ())
        return cls(
            transaction_id=tx.transaction_id,
            customer_id=tx.customer_id,
            timestamp=parse_rfc3339(tx.timestamp) if tx.timestamp else received_at,
            received_at=received_at,
            status=tx.status.value,
            amount=tx.amount if tx.amount is not None else items_total(tx.items or []),
            currency=tx.currency or default_currency,
            items=items,
            country=tx.country,
            customer_name=tx.customer_name,
            email=tx.email,
            ip=tx.ip,
            device_id=tx.device_id,
            payment_method=tx.payment_method,
            channel=tx.channel,
            user_agent=tx.user_agent,
            account_created_at=parse_rfc3339(tx.account_created_at) if tx.account_created_at else None,
            card_bin=tx.card_bin,
            card_fingerprint=tx.card_fingerprint,
            billing_country=tx.billing_country,
            shipping_country=tx.shipping_country,
            metadata=tx.metadata,
        )

    @property
    def customer_label(self) -> str:
        """How people name the customer: "Alice Johnson (1)" or "customer 1"."""
        return f"{self.customer_name} ({self.customer_id})" if self.customer_name else f"customer {self.customer_id}"

    def to_item(self) -> dict[str, Any]:
        """The DynamoDB item (absent optionals are left out, not stored as nulls)."""
        item: dict[str, Any] = {
            "transaction_id": self.transaction_id,
            "customer_id": self.customer_id,
            "timestamp": to_iso(self.timestamp),
            "received_at": to_iso(self.received_at),
            "status": self.status,
            "amount": self.amount,
            "currency": self.currency,
        }
        if self.items:
            item["items"] = [
                {"sku": i.sku, "quantity": i.quantity, "unit_price": i.unit_price}
                | ({"name": i.name} if i.name else {})
                for i in self.items
            ]
        for name in OPTIONAL_TEXT:
            value = getattr(self, name)
            if value is not None:
                item[name] = value
        if self.account_created_at is not None:
            item["account_created_at"] = to_iso(self.account_created_at)
        if self.metadata is not None:
            item["metadata"] = self.metadata
        return item

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Transaction:
        return cls(
            transaction_id=item["transaction_id"],
            customer_id=item["customer_id"],
            timestamp=parse_iso(item["timestamp"]),
            received_at=parse_iso(item["received_at"]),
            status=item["status"],
            amount=Decimal(item["amount"]),
            currency=item["currency"],
            items=tuple(
                LineItem(i["sku"], int(i["quantity"]), Decimal(i["unit_price"]), i.get("name"))
                for i in item.get("items", ())
            ),
            country=item.get("country"),
            customer_name=item.get("customer_name"),
            email=item.get("email"),
            ip=item.get("ip"),
            device_id=item.get("device_id"),
            payment_method=item.get("payment_method"),
            channel=item.get("channel"),
            user_agent=item.get("user_agent"),
            account_created_at=parse_iso(item["account_created_at"]) if item.get("account_created_at") else None,
            card_bin=item.get("card_bin"),
            card_fingerprint=item.get("card_fingerprint"),
            billing_country=item.get("billing_country"),
            shipping_country=item.get("shipping_country"),
            metadata=item.get("metadata"),
        )
