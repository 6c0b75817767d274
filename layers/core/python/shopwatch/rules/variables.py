"""The variables a rule may read, as CEL types the checker knows: what an analyst can write is exactly what is
documented here (VARIABLES), and a typo (`tx.amout`) or a wrong type (`tx.amount > "500"`) is refused when the
rule is saved, with its position, not discovered at 3 a.m. as a rule that never matches.

Why protobuf messages built at run time: cel-cpp checks field types only on message types; a map of dynamic
values would accept `tx.amout` and fail every evaluation. The descriptors are written here once, in Python, so
there is no .proto file to compile and no generated code to keep in step.

Presence: every optional field of the contract is a proto3 `optional` field, so `has(tx.email)` says whether the
shop sent one; numbers default to 0 and strings to "" when absent, which is what a comparison then sees.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, timestamp_pb2

PACKAGE = "shopwatch.rules"
_F = descriptor_pb2.FieldDescriptorProto

# Detectors whose finding a rule may read (the per-transaction ones; windowed detectors judge minutes and days).
FINDING_DETECTORS = (
    "price",
    "velocity",
    "failed_payment",
    "geo",
    "quantity",
    "model",
    "new_account",
    "shared_identity",
    "entity_velocity",
    "country_mismatch",
)
ENTITY_KINDS = ("customer", "email", "device", "ip", "ipnet", "card")


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # string, double, int64, bool, timestamp, or a message name of this package
    description: str
    optional: bool = False  # has() tells presence
    repeated: bool = False


_ITEM = (
    Field("sku", "string", "the SKU"),
    Field("name", "string", "the product name, when sent", optional=True),
    Field("quantity", "int64", "units (negative for a return)"),
    Field("unit_price", "double", "the unit price in the transaction's currency"),
)
_TRANSACTION = (
    Field("transaction_id", "string", "the shop's id"),
    Field("customer_id", "string", "the shop's account id"),
    Field("timestamp", "timestamp", "when it happened"),
    Field("status", "string", "approved, failed, denied, reversed or pending"),
    Field("amount", "double", "the total in its currency"),
    Field("currency", "string", "ISO 4217 code"),
    Field("items", "Item", "the basket (sku, name, quantity, unit_price)", repeated=True),
    Field("country", "string", "ISO 3166-1 alpha-2 country", optional=True),
    Field("customer_name", "string", "the name the customer gave", optional=True),
    Field("email", "string", "the e-mail address", optional=True),
    Field("ip", "string", "the client's IP address", optional=True),
    Field("device_id", "string", "the shop's device fingerprint", optional=True),
    Field("payment_method", "string", "e.g. card, paypal", optional=True),
    Field("channel", "string", "e.g. web, app", optional=True),
    Field("user_agent", "string", "the browser's user agent", optional=True),
    Field("account_created_at", "timestamp", "when the account was opened", optional=True),
    Field("card_bin", "string", "the card's first 6-8 digits", optional=True),
    Field("card_fingerprint", "string", "the provider's card fingerprint", optional=True),
    Field("billing_country", "string", "ISO 3166-1 alpha-2", optional=True),
    Field("shipping_country", "string", "ISO 3166-1 alpha-2", optional=True),
)
_ACCOUNT = (
    Field(
        "age_seconds", "double", "seconds since the account was opened (has() is false when not sent)", optional=True
    ),
    Field("first_purchase", "bool", "no transaction of this account was seen before"),
    Field("transactions", "int64", "the account's transactions ever seen, this one included"),
    Field("emails_30d", "int64", "distinct e-mail addresses the account used in 30 days"),
    Field("devices_30d", "int64", "distinct devices the account used in 30 days"),
    Field("ips_30d", "int64", "distinct IP addresses the account used in 30 days"),
    Field("cards_30d", "int64", "distinct cards the account used in 30 days"),
)
_ENTITY = (
    Field("transactions", "int64", "transactions ever seen with this entity, this one included"),
    Field("transactions_1m", "int64", "transactions in the last minute"),
    Field("transactions_1h", "int64", "transactions in the last hour"),
    Field("transactions_24h", "int64", "transactions in the last 24 hours"),
    Field("transactions_30d", "int64", "transactions in the last 30 days"),
    Field("failed_1h", "int64", "failed or denied attempts in the last hour"),
    Field("failed_24h", "int64", "failed or denied attempts in the last 24 hours"),
    Field("amount_1h", "double", "approved amount in the last hour"),
    Field("amount_24h", "double", "approved amount in the last 24 hours"),
    Field("amount_30d", "double", "approved amount in the last 30 days"),
    Field("accounts_1h", "int64", "distinct accounts seen with it in the last hour (0 for the account itself)"),
    Field("accounts_30d", "int64", "distinct accounts in the last 30 days"),
    Field("accounts_1y", "int64", "distinct accounts in the last year"),
    Field("new_account_transactions_1h", "int64", "transactions by accounts younger than a day, last hour"),
    Field("new_account_transactions_24h", "int64", "the same over 24 hours"),
    Field("first_seen", "timestamp", "when it was first seen (has() is false for a new one)", optional=True),
    Field("age_seconds", "double", "seconds since it was first seen (0 when new)"),
)
_ENTITIES = tuple(
    Field(kind, "Entity", f"the {kind}'s aggregates (has() is false when the transaction has none)", optional=True)
    for kind in ENTITY_KINDS
)
_FINDINGS = tuple(
    Field(d, "double", f"the {d} detector's score 0-1 (0 when it found nothing)") for d in FINDING_DETECTORS
)
_SCORES = (
    Field("model", "double", "the model's anomaly 0-1 (0.5 at its outlier threshold)", optional=True),
    Field("risk", "double", "the risk score 0-100 before rules", optional=True),
)
MESSAGES = {
    "Item": _ITEM,
    "Transaction": _TRANSACTION,
    "Account": _ACCOUNT,
    "Entity": _ENTITY,
    "Entities": _ENTITIES,
    "Findings": _FINDINGS,
    "Scores": _SCORES,
}
# The variables: name -> (message, description)
VARIABLES = {
    "tx": ("Transaction", "the transaction, with the contract's field names; amounts are doubles, times timestamps"),
    "account": ("Account", "the customer's account: age, first purchase, distinct identities in 30 days"),
    "entities": ("Entities", "aggregates per entity kind: customer, email, device, ip, ipnet (/24 or /64), card"),
    "findings": ("Findings", "the built-in detectors' scores (DetectFunction and backtests; all 0 at ingest)"),
    "scores": ("Scores", "the model's anomaly and the risk score (DetectFunction and backtests; absent at ingest)"),
}
FUNCTIONS = (
    {
        "name": "listed",
        "signature": "listed(list_name: string, value: string) -> bool",
        "description": "whether value is on the named list now (e-mails compare case-insensitively, ip lists "
        "hold addresses and CIDR networks); false for an unknown list",
    },
)

_SCALARS = {"string": _F.TYPE_STRING, "double": _F.TYPE_DOUBLE, "int64": _F.TYPE_INT64, "bool": _F.TYPE_BOOL}


def _message(name: str, fields: tuple[Field, ...]) -> descriptor_pb2.DescriptorProto:
    message = descriptor_pb2.DescriptorProto(name=name)
    for number, f in enumerate(fields, start=1):
        proto = message.field.add(name=f.name, number=number)
        proto.label = _F.LABEL_REPEATED if f.repeated else _F.LABEL_OPTIONAL
        if f.type in _SCALARS:
            proto.type = _SCALARS[f.type]
        else:
            proto.type = _F.TYPE_MESSAGE
            proto.type_name = ".google.protobuf.Timestamp" if f.type == "timestamp" else f".{PACKAGE}.{f.type}"
        if f.optional and f.type in _SCALARS:  # messages have presence already; scalars need proto3 `optional`
            proto.proto3_optional = True
            proto.oneof_index = len(message.oneof_decl)
            message.oneof_decl.add(name=f"_{f.name}")
    return message


@functools.cache
def pool() -> descriptor_pool.DescriptorPool:
    """The descriptor pool with the rule messages, built once per process."""
    file = descriptor_pb2.FileDescriptorProto(
        name="shopwatch_rules.proto", package=PACKAGE, syntax="proto3", dependency=["google/protobuf/timestamp.proto"]
    )
    for name, fields in MESSAGES.items():
        file.message_type.append(_message(name, fields))
    built = descriptor_pool.DescriptorPool()
    built.AddSerializedFile(timestamp_pb2.DESCRIPTOR.serialized_pb)
    built.Add(file)
    return built


@functools.cache
def message_class(name: str) -> type:
    return message_factory.GetMessageClass(pool().FindMessageTypeByName(f"{PACKAGE}.{name}"))


def reference() -> list[dict[str, object]]:
    """The documented variables and functions, for GET /rules/reference and the dashboard's editor."""
    variables: list[dict[str, object]] = [
        {"name": variable, "description": description, "fields": _fields_doc(message)}
        for variable, (message, description) in VARIABLES.items()
    ]
    functions: list[dict[str, object]] = [
        {"name": f["name"], "description": f["description"], "signature": f["signature"]} for f in FUNCTIONS
    ]
    return variables + functions


def _fields_doc(message: str) -> list[dict[str, object]]:
    docs: list[dict[str, object]] = []
    for f in MESSAGES[message]:
        kind = f"list of {f.type}" if f.repeated else f.type
        docs.append({"name": f.name, "type": kind, "description": f.description, "optional": f.optional})
    return docs
