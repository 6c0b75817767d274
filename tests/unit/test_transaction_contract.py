"""The transaction contract of DESIGN §3: every field's rule, with a clear message when it is broken."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from shopwatch.domain.transaction import Transaction, TransactionIn

NOW = datetime(2025, 9, 16, 16, 31, 0, tzinfo=UTC)


def validate(raw: dict) -> TransactionIn:
    return TransactionIn.model_validate(raw, context={"now": NOW, "max_future_seconds": 300})


def errors_of(raw: dict) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        validate(raw)
    return {".".join(map(str, e["loc"])) or "(transaction)": e["msg"] for e in caught.value.errors()}


def minimal(**fields: object) -> dict:
    return {"transaction_id": "t-1", "customer_id": "c-1", "amount": Decimal("10.00")} | fields


def normalized(raw: dict) -> Transaction:
    return Transaction.from_input(validate(raw), received_at=NOW, default_currency="USD")


def test_a_minimal_transaction_gets_the_documented_defaults():
    result = normalized(minimal())
    assert result.status == "approved"
    assert result.currency == "USD"
    assert result.timestamp == NOW
    assert result.amount == Decimal("10.00")


def test_amount_is_derived_from_items_when_absent():
    raw = minimal(
        amount=None,
        items=[
            {"sku": "A", "quantity": 3, "unit_price": Decimal("1.10")},
            {"sku": "B", "quantity": 1, "unit_price": 5},
        ],
    )
    raw.pop("amount")
    assert normalized(raw).amount == Decimal("8.30")


def test_amount_that_contradicts_the_items_is_rejected():
    errors = errors_of(
        minimal(amount=Decimal("9.00"), items=[{"sku": "A", "quantity": 1, "unit_price": Decimal("10.00")}])
    )
    assert "contradicts the items" in errors["(transaction)"]


def test_amount_within_a_cent_of_the_items_is_accepted():
    assert normalized(
        minimal(amount=Decimal("3.34"), items=[{"sku": "A", "quantity": 3, "unit_price": Decimal("1.1133")}])
    ).amount == Decimal("3.34")


def test_a_basket_of_returns_has_the_positive_refund_amount():
    raw = minimal(status="reversed", items=[{"sku": "A", "quantity": -2, "unit_price": Decimal("4.50")}])
    raw.pop("amount")
    assert normalized(raw).amount == Decimal("9.00")


def test_amount_or_items_is_required():
    raw = minimal()
    raw.pop("amount")
    assert "amount is required" in errors_of(raw)["(transaction)"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("transaction_id", "has space", "String should match pattern"),
        ("transaction_id", "x" * 129, "String should match pattern"),
        ("transaction_id", 921, "Input should be a valid string"),
        ("customer_id", "", "at least 1 character"),
        ("customer_id", "   ", "must not be blank"),
        ("customer_id", 17, "Input should be a valid string"),
        ("amount", Decimal("-1"), "greater than or equal to 0"),
        ("amount", Decimal("1.234"), "at most 2 decimal places"),
        ("amount", True, "must be a number"),
        ("amount", "ten", "must be a number"),
        ("amount", Decimal("1E+13"), "must not exceed"),
        ("amount", Decimal("NaN"), "must be a finite number"),
        ("status", "stolen", "Input should be"),
        ("status", 1, "must be one of"),
        ("currency", "XYZ", "ISO 4217"),
        ("country", "Atlantis", "ISO 3166-1"),
        ("email", "not-an-email", "e-mail address"),
        ("ip", "999.1.1.1", "IPv4 or IPv6"),
        ("customer_name", "x" * 10_240, "at most 256 characters"),
        ("timestamp", "2025-09-16 16:31", "RFC 3339"),
        ("timestamp", "2025-09-16T16:31:00", "RFC 3339"),
        ("timestamp", "2025-09-16T16:40:00Z", "more than 5 minutes in the future"),
        ("timestamp", "1999-12-31T23:59:59Z", "before 2000-01-01"),
        ("timestamp", "2025-02-30T10:00:00Z", "not a valid date"),
        ("metadata", {"blob": "x" * 5000}, "at most 4096 bytes"),
        ("metadata", {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": 1}}}}}}}}}, "nest deeper"),
        ("surprise", "field", "Extra inputs are not permitted"),
    ],
)
def test_each_field_rule_is_enforced_with_a_clear_message(field, value, message):
    errors = errors_of(minimal(**{field: value}))
    assert message in errors[field]


@pytest.mark.parametrize(
    ("line", "field", "message"),
    [
        ({"sku": "A", "quantity": 0, "unit_price": 1}, "quantity", "must not be 0"),
        ({"sku": "A", "quantity": 1.5, "unit_price": 1}, "quantity", "valid integer"),
        ({"sku": "A", "quantity": "2", "unit_price": 1}, "quantity", "valid integer"),
        ({"sku": "A", "quantity": 2_000_000, "unit_price": 1}, "quantity", "between"),
        ({"sku": "A", "quantity": 1, "unit_price": Decimal("-0.01")}, "unit_price", "greater than or equal to 0"),
        ({"sku": "A", "quantity": 1, "unit_price": Decimal("0.00001")}, "unit_price", "at most 4 decimal places"),
        ({"sku": "", "quantity": 1, "unit_price": 1}, "sku", "at least 1 character"),
        ({"sku": "A", "quantity": 1, "unit_price": 1, "colour": "red"}, "colour", "Extra inputs"),
        ({"sku": "A", "quantity": 1}, "unit_price", "Field required"),
    ],
)
def test_each_line_item_rule_is_enforced(line, field, message):
    errors = errors_of(minimal(amount=None, items=[line]) | {"amount": Decimal("1")})
    assert message in errors[f"items.0.{field}"]


def test_more_than_500_items_are_rejected():
    lines = [{"sku": f"S{i}", "quantity": 1, "unit_price": 1} for i in range(501)]
    raw = minimal(items=lines)
    raw.pop("amount")
    assert "at most 500 items" in errors_of(raw)["items"]


def test_an_empty_item_list_is_rejected():
    assert "at least 1 item" in errors_of(minimal(items=[]))["items"]


@pytest.mark.parametrize(
    ("given", "code"),
    [
        ("GB", "GB"),
        ("gb", "GB"),
        ("United Kingdom", "GB"),
        ("Germany", "DE"),
    ],
)
def test_country_codes_and_english_names_become_the_alpha2_code(given, code):
    assert normalized(minimal(country=given)).country == code


@pytest.mark.parametrize("given", ["united  kingdom", "EIRE", "USA", "Gb", " GB"])
def test_a_country_spelled_otherwise_than_the_published_enum_is_refused(given):
    """The schema lists the accepted values (CountryIn); the server takes exactly those (issue 15 part 6)."""
    with pytest.raises(ValidationError, match="ISO 3166-1"):
        normalized(minimal(country=given))


def test_timestamps_with_offsets_are_stored_in_utc():
    result = normalized(minimal(timestamp="2025-09-16T18:31:05.123456789+02:00"))
    assert result.timestamp == datetime(2025, 9, 16, 16, 31, 5, 123456, tzinfo=UTC)


def test_a_timestamp_up_to_five_minutes_ahead_is_accepted():
    assert normalized(minimal(timestamp="2025-09-16T16:35:59Z")).timestamp.minute == 35


def test_numeric_strings_are_read_as_exact_decimals():
    assert normalized(minimal(amount="0.10")).amount == Decimal("0.10")


def test_the_stored_item_round_trips_exactly():
    original = normalized(
        minimal(
            amount=None,
            items=[{"sku": "A", "name": "Mug", "quantity": 2, "unit_price": Decimal("3.3333")}],
            country="France",
            metadata={"cart": "x1", "nested": {"n": Decimal("1.5")}},
            customer_name="Zoë",
            ip="2001:db8::1",
        )
        | {"amount": Decimal("6.67")}
    )
    assert Transaction.from_item(original.to_item()) == original
    assert original.to_item()["timestamp"] == "2025-09-16T16:31:00.000000Z"


@pytest.mark.parametrize(("given", "quantity"), [(Decimal("1758.0"), 1758), (Decimal("1E+3"), 1000), (-2, -2)])
def test_a_quantity_is_any_json_number_without_a_fraction_as_json_schema_integer_says(given, quantity):
    """schemathesis found 1758.0 refused though the schema's `integer` allows it (issue 15, part 6)."""
    raw = minimal(amount=None, items=[{"sku": "A", "quantity": given, "unit_price": "1.00"}])
    assert normalized(raw).items[0].quantity == quantity


@pytest.mark.parametrize("given", [Decimal("1.5"), True, Decimal("0.0")])
def test_a_quantity_with_a_fraction_a_boolean_or_zero_is_refused(given):
    with pytest.raises(ValidationError):
        validate(minimal(amount=None, items=[{"sku": "A", "quantity": given, "unit_price": "1.00"}]))
