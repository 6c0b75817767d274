"""The contract's fraud signals (account age, card, user agent, billing and shipping countries) and the input rules
that keep unaddressable ids, control characters, non-ASCII digits and card numbers out of storage."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from shopwatch.domain.input_rules import contains_card_number, luhn_valid, normalized_email
from shopwatch.domain.transaction import EMAIL_PATTERN, Transaction
from shopwatch.ingest.service import field_errors
from tests.unit.test_transaction_contract import NOW, errors_of, minimal, validate

VISA_TEST_NUMBER = "4111111111111111"


def test_the_signals_are_stored_and_read_back_unchanged():
    raw = minimal(
        timestamp="2025-09-16T16:00:00Z",
        account_created_at="2025-09-16T17:59:00+02:00",
        user_agent="Mozilla/5.0 (X11; Linux x86_64)",
        card_bin="411111",
        card_fingerprint="fp_Xk29aB",
        billing_country="Germany",
        shipping_country="nl",
    )
    tx = Transaction.from_input(validate(raw), received_at=NOW, default_currency="USD")
    assert tx.account_created_at == datetime(2025, 9, 16, 15, 59, tzinfo=UTC)
    assert (tx.billing_country, tx.shipping_country) == ("DE", "NL")
    assert Transaction.from_item(tx.to_item()) == tx
    assert tx.to_item()["account_created_at"] == "2025-09-16T15:59:00.000000Z"


def test_an_account_opened_after_the_purchase_is_refused():
    errors = errors_of(minimal(timestamp="2025-09-16T16:00:00Z", account_created_at="2025-09-16T16:00:01Z"))
    assert "after the transaction" in errors["(transaction)"]


def test_without_a_timestamp_the_account_is_compared_with_the_time_received():
    assert "after" in errors_of(minimal(account_created_at="2025-09-16T16:35:00Z"))["(transaction)"]
    assert validate(minimal(account_created_at="2025-09-16T16:30:00Z")).account_created_at


@pytest.mark.parametrize("value", ["41111", "411111111", "4111 11", "٤١١١١١", "abcdef", VISA_TEST_NUMBER])
def test_a_card_bin_is_six_to_eight_ascii_digits(value):
    assert "first 6 to 8 digits" in errors_of(minimal(card_bin=value))["card_bin"]


@pytest.mark.parametrize("field", ["card_fingerprint", "payment_method"])
@pytest.mark.parametrize("pan", [VISA_TEST_NUMBER, "4111 1111 1111 1111", "visa 5555-5555-5555-4444 exp 12/29"])
def test_a_full_card_number_in_a_card_field_is_refused_without_repeating_it(field, pan):
    with pytest.raises(ValidationError) as caught:
        validate(minimal(**{field: pan}))
    answered = str(field_errors(caught.value))  # what the 400 carries back (and what ingest could log)
    assert "full card number" in answered
    assert "4111" not in answered and "5555" not in answered


def test_digits_that_fail_luhn_are_an_opaque_fingerprint_not_a_card():
    assert not luhn_valid("4111111111111112")
    assert validate(minimal(card_fingerprint="4111111111111112")).card_fingerprint == "4111111111111112"
    assert contains_card_number("x 378282246310005 y")  # a 15-digit Amex test number


def test_emails_lose_surrounding_space_and_match_case_insensitively():
    """Issue 16: addresses are matched trimmed and case-folded; the published pattern allows the padding, and
    a space, tab or line break inside (or a tab around) is still refused."""
    assert validate(minimal(email="  Alice@Example.COM ")).email == "Alice@Example.COM"
    assert normalized_email(" Alice@Example.COM ") == "alice@example.com"
    for bad in ("Alice @Example.COM", "\tAlice@Example.COM", "Alice@Example.COM\n"):
        assert "e-mail" in errors_of(minimal(email=bad))["email"]
    assert re.fullmatch(EMAIL_PATTERN, "  Alice@Example.COM ")


@pytest.mark.parametrize("field", ["billing_country", "shipping_country"])
def test_billing_and_shipping_countries_follow_the_country_rule(field):
    assert "ISO 3166-1" in errors_of(minimal(**{field: "Atlantis"}))[field]


def test_a_user_agent_is_at_most_512_characters():
    assert "512" in errors_of(minimal(user_agent="x" * 513))["user_agent"]


@pytest.mark.parametrize("amount", ["٣٠", "３０", "1٫5", "১০"])
def test_money_is_written_in_ascii_digits_only(amount):
    assert errors_of(minimal(amount=amount))["amount"].endswith("must be a number")


@pytest.mark.parametrize("price", ["٣", "３"])
def test_unit_prices_are_written_in_ascii_digits_only(price):
    raw = minimal(items=[{"sku": "A", "quantity": 1, "unit_price": price}])
    raw.pop("amount")
    assert "must be a number" in errors_of(raw)["items.0.unit_price"]


@pytest.mark.parametrize("identifier", [".", ".."])
def test_transaction_ids_that_a_url_cannot_address_are_refused(identifier):
    assert '"."' in errors_of(minimal(transaction_id=identifier))["transaction_id"]


@pytest.mark.parametrize("identifier", [".", "..", "../x", "a/../b", "a/."])
def test_customer_ids_with_dot_segments_are_refused(identifier):
    assert "path segments" in errors_of(minimal(customer_id=identifier))["customer_id"]


@pytest.mark.parametrize("identifier", ["Zoë Doe", "a b", "x/y", "guest#1", "a.b", "..a"])
def test_customer_ids_people_use_are_accepted(identifier):
    assert validate(minimal(customer_id=identifier)).customer_id == identifier


@pytest.mark.parametrize("sku", ["../../x", "..", "a\x00b"])
def test_skus_that_cannot_be_addressed_are_refused(sku):
    raw = minimal(items=[{"sku": sku, "quantity": 1, "unit_price": "1.00"}])
    raw.pop("amount")
    assert "items.0.sku" in errors_of(raw)


@pytest.mark.parametrize(
    "field", ["customer_id", "customer_name", "email", "device_id", "payment_method", "channel", "user_agent"]
)
@pytest.mark.parametrize("bad", ["a\x00b", "Mallory\r\nBcc: x@evil.example", "tab\there", "a\u2028b", "evil\u202etxt"])
def test_control_characters_are_refused_in_every_string_field(field, bad):
    value = f"{bad}@example.com" if field == "email" else bad
    assert field in errors_of(minimal(**{field: value}))


def test_control_characters_are_refused_in_line_item_names():
    raw = minimal(items=[{"sku": "A", "name": "Mug\x07", "quantity": 1, "unit_price": "1.00"}])
    raw.pop("amount")
    assert "items.0.name" in errors_of(raw)


def test_metadata_text_may_break_lines_but_not_hold_other_controls():
    assert validate(minimal(metadata={"note": "line one\nline two\tend"})).metadata
    assert "control characters" in errors_of(minimal(metadata={"note": "nul\x00"}))["metadata"]
    assert "control characters" in errors_of(minimal(metadata={"k\x1b": "v"}))["metadata"]


@pytest.mark.parametrize("field", ["amount", "card_bin"])
def test_a_trailing_newline_is_not_a_digit(field):
    """`$` in a Python pattern also matches before a final newline; the server's checks match the whole value."""
    value = "12.50\n" if field == "amount" else "411111\n"
    assert field in errors_of(minimal(**{field: value}))
